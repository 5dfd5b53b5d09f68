// NumPy .npy and .npz files, read and written natively.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/ndarray.hpp"
#include "io/pickle.hpp"
#include "io/pyvalue.hpp"

namespace poselift::io {

class ZipWriter;

// One array of an .npy stream. Object arrays (dtype 'O', allow_pickle) come back as
// `object` (the unpickled value: the array's single element for 0-d arrays, else a List of
// the elements in C order) with `array` empty.
struct NpyContent {
  NdArray array;
  ValuePtr object;  // non-null only for object arrays
  bool is_object() const { return object != nullptr; }
};

// Parses a whole .npy byte stream (versions 1, 2, 3; little/big endian; C/Fortran order).
NpyContent parse_npy(const std::uint8_t* data, std::size_t size, const std::string& source);
// Same, with the budget for an object array's pickle given (default: unpickle_budget(size)).
NpyContent parse_npy(const std::uint8_t* data, std::size_t size, const std::string& source,
                     const UnpickleLimits& pickle_limits);
NpyContent read_npy(const std::string& path);

// Serialises a numeric array as .npy version 1 (2 when the header needs it).
std::string serialize_npy(const NdArray& array);
// Serialises an object value as a 0-d object array (what np.save does with a dict).
std::string serialize_npy_object(const Value& value);
// Writes atomically (temporary file in the same folder + rename).
void write_npy(const std::string& path, const NdArray& array);

// An .npz archive: member name (without ".npy") -> content, in archive order. Members whose
// name does not end in ".npy" (not arrays) are skipped; errors name "<archive>:<member>.npy".
struct NpzFile {
  std::vector<std::string> names;
  std::map<std::string, NpyContent> members;
  const NpyContent& at(const std::string& name, const std::string& source) const;  // throws naming the key
  bool contains(const std::string& name) const { return members.count(name) != 0; }
};

// All members are held at once, so they share one budget: the archive's decompressed bytes
// are bounded by decompression_budget (input_limits.hpp) or `max_decompressed_bytes` when
// non-zero, and the values of object members by one unpickle budget for the archive.
NpzFile read_npz(const std::string& path, std::uint64_t max_decompressed_bytes = 0);
NpzFile parse_npz(const std::uint8_t* data, std::size_t size, const std::string& source,
                  std::uint64_t max_decompressed_bytes = 0);

// Members to write: numeric arrays or object values.
struct NpzMember {
  std::string name;
  NdArray array;
  ValuePtr object;  // when set, written as a 0-d object array
};
// Writes atomically; `compress` = np.savez_compressed (deflate), else stored.
void write_npz(const std::string& path, const std::vector<NpzMember>& members, bool compress = true);

// Several .npz files that belong together (a dataset's 3D and 2D files), all or none: add()
// writes each in full to a temporary file beside its path (where a full disk fails), commit()
// then renames them all into place. A batch destroyed uncommitted removes its temporary files;
// when a rename fails, the files this batch already renamed are removed again.
class NpzBatch {
 public:
  NpzBatch();
  ~NpzBatch();
  NpzBatch(const NpzBatch&) = delete;
  NpzBatch& operator=(const NpzBatch&) = delete;

  void add(const std::string& path, const std::vector<NpzMember>& members, bool compress = true);
  void commit();

 private:
  std::vector<std::unique_ptr<ZipWriter>> writers_;
};

}  // namespace poselift::io
