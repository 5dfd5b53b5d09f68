#include "runtime/memory.hpp"

#include <malloc.h>
#include <sys/resource.h>

namespace poselift::runtime {

void keep_freed_memory_in_process() {
  mallopt(M_MMAP_MAX, 0);                 // large blocks from the heap, not fresh mappings
  mallopt(M_TRIM_THRESHOLD, 1 << 30);     // and no shrinking of the heap below 1 GiB free
}

double peak_memory_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // ru_maxrss is in KiB on Linux
}

}  // namespace poselift::runtime
