// Thin RAII layer over libzip for the readers of .npz and PyTorch checkpoint files.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/file.hpp"  // write_file_atomic, read_file: users of this header still find them here

namespace poselift::io {

class ZipReader {
 public:
  // Opens from a file or from memory (fuzzing); errors throw InputError naming `source`.
  static ZipReader open_file(const std::string& path);
  static ZipReader open_memory(const std::uint8_t* data, std::size_t size, const std::string& source);
  ZipReader(ZipReader&&) noexcept;
  ZipReader& operator=(ZipReader&&) noexcept;
  ~ZipReader();

  const std::vector<std::string>& names() const { return names_; }
  bool contains(const std::string& name) const;
  std::uint64_t size_of(const std::string& name) const;
  // Whole member, CRC checked; an entry larger than `max_bytes` is refused. Every read draws
  // on one budget for the whole archive (input_limits.hpp: decompression_budget of the archive's
  // size, unless set_budget changes it): a member that would take the total past it is refused
  // before it is inflated, so a small archive cannot expand to gigabytes.
  std::vector<std::uint8_t> read(const std::string& name, std::uint64_t max_bytes = 1ull << 34) const;
  void set_budget(std::uint64_t total_bytes);
  std::uint64_t budget_left() const;
  std::uint64_t archive_size() const;
  const std::string& source() const { return source_; }

 private:
  struct Impl;
  explicit ZipReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::vector<std::string> names_;
  std::string source_;
};

class ZipWriter {
 public:
  // Writes to `path` through a temporary file renamed by commit(); a writer destroyed
  // without commit() removes the temporary file, so no half-written output remains.
  explicit ZipWriter(std::string path);
  ~ZipWriter();
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;

  void add(const std::string& name, std::vector<std::uint8_t> data, bool compress);
  void add(const std::string& name, const std::string& data, bool compress);
  void add(const std::string& name, std::string&& data, bool compress);  // takes the buffer, no copy
  // Finishes the archive and renames it into place; throws InputError naming the path on failure.
  void commit();
  // commit() in two steps, for files that must appear together: finish() writes the whole
  // temporary file (the step that fails on a full disk), publish() renames it into place.
  void finish();
  void publish();
  const std::string& path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};


}  // namespace poselift::io
