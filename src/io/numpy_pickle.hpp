// numpy's pickled objects, rebuilt by the pickle VM (io/pickle.hpp) as an extension:
//   numpy.core.multiarray._reconstruct + BUILD (ndarray, matrix) -> Array, big-endian and
//   Fortran data converted; an object-dtype ndarray -> List of its elements in C order;
//   numpy.core.multiarray.scalar -> Int / Float / Bool (BigInt above int64), object scalars
//   -> the element itself; numpy.core.numeric._frombuffer (protocol 5, in-band buffers) ->
//   Array. numpy._core.* (NumPy 2) is read as numpy.core.*. numpy.dtype itself stays an Object
//   "numpy.dtype" (args + BUILD state); arrays of dtypes NdArray lacks stay opaque Objects.
// Array data is checked against the bytes present and charged to the pickle's budget before it
// is copied. (The writer's side, numpy's _reconstruct form, is Pickler in io/pickle.hpp.)
#pragma once

#include "io/pickle.hpp"

namespace poselift::io {

UnpickleExtension numpy_unpickle_extension();

// `hooks` with numpy_unpickle_extension() added last: what poselift's readers (.npy/.npz
// object arrays, checkpoints) pass to unpickle().
UnpickleHooks with_numpy(UnpickleHooks hooks = {});

}  // namespace poselift::io
