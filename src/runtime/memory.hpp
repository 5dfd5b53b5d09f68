// The allocator's behaviour for PoseFormer's allocation pattern.
#pragma once

namespace poselift::runtime {

// Keeps freed memory inside the process: PoseFormer allocates and frees tensors of tens of MiB
// at every layer, and glibc's default would return each to the kernel (munmap) and page-fault
// it in again on the next pass -- about a third of CPU time at batch 64. Call once at start.
void keep_freed_memory_in_process();

// The process's peak resident memory so far, in MiB.
double peak_memory_mib();

}  // namespace poselift::runtime
