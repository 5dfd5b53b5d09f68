// PyTorch `torch.save` files, read and written without LibTorch: the pickled object tree with
// tensors as references into raw storages. Read: both formats, told apart by their first bytes:
// the zip archive of torch >= 1.6 and the legacy stream of earlier releases (and of
// `_use_new_zipfile_serialization=False`: pickles followed by the raw storages; VideoPose3D's
// published checkpoints). Views into other storages (legacy files of PyTorch < 0.4) and the tar
// container of the first releases are refused. Written: the zip format.
// LibTorch's own torch::pickle_load cannot read training checkpoints (OrderedDict with
// _metadata, numpy RandomState, ...); this reader can, and the model layer turns the
// references into tensors.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/ndarray.hpp"
#include "io/pyvalue.hpp"

namespace poselift::io {

// A tensor inside a checkpoint: a strided view of one storage.
struct TensorRef : Extension {
  DType dtype = DType::Float32;
  std::string storage_key;
  std::int64_t storage_offset = 0;  // in elements
  std::vector<std::int64_t> sizes, strides;
  bool requires_grad = false;
  std::string type_name() const override { return "torch.Tensor"; }
};

// A tensor to write: contiguous values.
struct TensorData : Extension {
  NdArray values;
  std::string type_name() const override { return "torch.Tensor"; }
};

struct TorchFile {
  std::string source;
  ValuePtr root;
  std::map<std::string, std::vector<std::uint8_t>> storages;  // key -> raw little-endian bytes

  // The values of a referenced tensor, contiguous (bounds checked against the storage).
  NdArray materialize(const TensorRef& ref, const std::string& what) const;
};

// `root` with every tensor reference replaced by its values (an Array value), for consumers that
// want plain data. Each distinct value is resolved once and shared values stay shared, so a
// pickle that references one structure many times (a "billion laughs") costs what the pickle
// holds, not the tree it unfolds to. References to the same storage are materialized each
// time: their total beyond `max_bytes` is refused (0: twice the storages' bytes + 64 MiB).
// Error messages name the dict key above the tensor ("checkpoint" at the top).
ValuePtr resolve_tensor_refs(const TorchFile& file, const ValuePtr& root, std::uint64_t max_bytes = 0);

// Null when `value` is not a tensor.
const TensorRef* as_tensor_ref(const Value& value);

// Either format. Every size and count the file declares is checked against the bytes present
// before anything is allocated; each referenced storage must be present (and, in the legacy
// format, listed once with the element count its tensors declare). Malformed input throws
// InputError naming `source` (the path) and what was wrong. Tensor views are checked against
// their storage when materialized.
TorchFile read_torch_file(const std::string& path);
TorchFile parse_torch_file(const std::uint8_t* data, std::size_t size, const std::string& source);

// Writes `root` (dicts, lists, numbers, strings, TensorData values, OrderedDict objects ...)
// as a torch.save zip that Python's torch.load reads. Atomic (temporary file + rename).
void write_torch_file(const std::string& path, const Value& root);

// Helpers to build values for the writer.
ValuePtr make_tensor_value(NdArray values);
ValuePtr make_ordered_dict(std::vector<std::pair<ValuePtr, ValuePtr>> entries);

}  // namespace poselift::io
