#include "io/zip_archive.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <atomic>
#include <cerrno>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <unordered_map>

#include "io/error.hpp"
#include "io/input_limits.hpp"

namespace poselift::io {

namespace {

// Deflate cannot expand data more than ~1032:1; a member claiming more is corrupt (and would
// make us allocate memory for data that cannot be there).
constexpr std::uint64_t kMaxDeflateRatio = 1032;
// The smallest zip is its end-of-central-directory record; libzip would take an empty file for
// an empty archive, NumPy (rightly) does not.
constexpr std::uint64_t kMinZipSize = 22;


std::string libzip_message(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string message = zip_error_strerror(&error);
  zip_error_fini(&error);
  return message;
}

std::string libzip_message(zip_error_t* error) { return zip_error_strerror(error); }

std::string temporary_name(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

// Data written to disk for good before the rename makes it visible.
void sync_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ZipReader

struct ZipReader::Impl {
  zip_t* archive = nullptr;
  std::vector<std::uint8_t> memory;  // the bytes of an archive opened from memory
  std::uint64_t archive_size = 0;
  std::uint64_t budget = 0;  // decompressed bytes the remaining reads may produce
  std::uint64_t budget_total = 0;
  std::unordered_map<std::string, zip_uint64_t> index;  // first entry of each name

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (archive) zip_discard(archive);  // read-only: nothing to write back
  }
};

ZipReader::ZipReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ZipReader::ZipReader(ZipReader&&) noexcept = default;
ZipReader& ZipReader::operator=(ZipReader&&) noexcept = default;
ZipReader::~ZipReader() = default;

namespace {

std::vector<std::string> list_entries(zip_t* archive, std::unordered_map<std::string, zip_uint64_t>& index,
                                      const std::string& source) {
  const zip_int64_t count = zip_get_num_entries(archive, 0);
  if (count < 0) throw InputError(source + ": cannot list the zip entries");
  std::vector<std::string> names;
  names.reserve(static_cast<std::size_t>(count));
  for (zip_int64_t i = 0; i < count; ++i) {
    const char* name = zip_get_name(archive, static_cast<zip_uint64_t>(i), 0);
    if (!name)
      throw InputError(source + ": zip entry " + std::to_string(i) + " has no readable name (" +
                       libzip_message(zip_get_error(archive)) + ")");
    names.emplace_back(name);
    index.emplace(names.back(), static_cast<zip_uint64_t>(i));
  }
  return names;
}

}  // namespace

ZipReader ZipReader::open_file(const std::string& path) {
  std::error_code size_error;
  const auto file_size = std::filesystem::file_size(path, size_error);
  if (size_error) throw InputError(path + ": cannot open (" + size_error.message() + ")");
  if (file_size < kMinZipSize)
    throw InputError(path + ": not a zip archive (only " + std::to_string(file_size) + " bytes)");
  auto impl = std::make_unique<Impl>();
  impl->archive_size = file_size;
  impl->budget = impl->budget_total = decompression_budget(file_size);
  int error = 0;
  impl->archive = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (!impl->archive) throw InputError(path + ": not a readable zip archive (" + libzip_message(error) + ")");
  std::vector<std::string> names = list_entries(impl->archive, impl->index, path);
  ZipReader reader(std::move(impl));
  reader.names_ = std::move(names);
  reader.source_ = path;
  return reader;
}

ZipReader ZipReader::open_memory(const std::uint8_t* data, std::size_t size, const std::string& source) {
  if (size < kMinZipSize) throw InputError(source + ": not a zip archive (only " + std::to_string(size) + " bytes)");
  auto impl = std::make_unique<Impl>();
  impl->memory.assign(data, data + size);  // owned: the reader may outlive the caller's buffer
  impl->archive_size = size;
  impl->budget = impl->budget_total = decompression_budget(size);
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* zip_source =
      zip_source_buffer_create(impl->memory.empty() ? nullptr : impl->memory.data(), impl->memory.size(), 0, &error);
  if (!zip_source) {
    const std::string message = libzip_message(&error);
    zip_error_fini(&error);
    throw InputError(source + ": cannot read zip data (" + message + ")");
  }
  impl->archive = zip_open_from_source(zip_source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (!impl->archive) {
    zip_source_free(zip_source);  // still ours when opening failed
    const std::string message = libzip_message(&error);
    zip_error_fini(&error);
    throw InputError(source + ": not a readable zip archive (" + message + ")");
  }
  zip_error_fini(&error);
  std::vector<std::string> names = list_entries(impl->archive, impl->index, source);
  ZipReader reader(std::move(impl));
  reader.names_ = std::move(names);
  reader.source_ = source;
  return reader;
}

bool ZipReader::contains(const std::string& name) const { return impl_->index.count(name) != 0; }

void ZipReader::set_budget(std::uint64_t total_bytes) { impl_->budget = impl_->budget_total = total_bytes; }
std::uint64_t ZipReader::budget_left() const { return impl_->budget; }
std::uint64_t ZipReader::archive_size() const { return impl_->archive_size; }

namespace {

zip_stat_t stat_entry(zip_t* archive, zip_uint64_t index, const std::string& where) {
  zip_stat_t stat;
  zip_stat_init(&stat);
  if (zip_stat_index(archive, index, 0, &stat) != 0)
    throw InputError(where + ": cannot read the zip entry (" + libzip_message(zip_get_error(archive)) + ")");
  if (!(stat.valid & ZIP_STAT_SIZE)) throw InputError(where + ": zip entry without a size");
  return stat;
}

}  // namespace

std::uint64_t ZipReader::size_of(const std::string& name) const {
  auto found = impl_->index.find(name);
  if (found == impl_->index.end()) throw InputError(source_ + ": no member '" + name + "'");
  return stat_entry(impl_->archive, found->second, source_ + ":" + name).size;
}

std::vector<std::uint8_t> ZipReader::read(const std::string& name, std::uint64_t max_bytes) const {
  auto found = impl_->index.find(name);
  if (found == impl_->index.end()) throw InputError(source_ + ": no member '" + name + "'");
  const std::string where = source_ + ":" + name;
  const zip_stat_t stat = stat_entry(impl_->archive, found->second, where);

  if ((stat.valid & ZIP_STAT_ENCRYPTION_METHOD) && stat.encryption_method != ZIP_EM_NONE)
    throw InputError(where + ": encrypted zip entries are not supported");
  const int method = (stat.valid & ZIP_STAT_COMP_METHOD) ? stat.comp_method : ZIP_CM_STORE;
  if (method != ZIP_CM_STORE && method != ZIP_CM_DEFLATE)
    throw InputError(where + ": unsupported zip compression method " + std::to_string(method) +
                     " (stored and deflate are supported)");
  if (stat.size > max_bytes)
    throw InputError(where + ": entry of " + std::to_string(stat.size) + " bytes exceeds the limit of " +
                     std::to_string(max_bytes));
  // Check the declared sizes against the archive before allocating for them.
  if (stat.valid & ZIP_STAT_COMP_SIZE) {
    if (stat.comp_size > impl_->archive_size)
      throw InputError(where + ": entry declares " + std::to_string(stat.comp_size) +
                       " compressed bytes in an archive of " + std::to_string(impl_->archive_size));
    const std::uint64_t plausible =
        method == ZIP_CM_STORE ? stat.comp_size : saturating_add(saturating_mul(stat.comp_size, kMaxDeflateRatio), 1024);
    if (stat.size > plausible)
      throw InputError(where + ": entry declares " + std::to_string(stat.size) + " bytes from " +
                       std::to_string(stat.comp_size) + " compressed bytes (corrupt zip)");
  } else if (stat.size > saturating_add(saturating_mul(impl_->archive_size, kMaxDeflateRatio), 1024)) {
    throw InputError(where + ": entry declares an implausible size of " + std::to_string(stat.size) + " bytes");
  }
  // Charged before inflating: the declared size is what read() allocates (more data is refused).
  if (stat.size > impl_->budget)
    throw InputError(where + ": " + std::to_string(stat.size) + " bytes would take the archive's decompressed data "
                     "past its limit of " + std::to_string(impl_->budget_total) + " bytes (" +
                     std::to_string(impl_->budget_total - impl_->budget) + " already read; set " +
                     kMaxInputBytesVariable + " to allow more)");
  impl_->budget -= stat.size;

  zip_file_t* file = zip_fopen_index(impl_->archive, found->second, 0);
  if (!file) throw InputError(where + ": cannot open the zip entry (" + libzip_message(zip_get_error(impl_->archive)) + ")");
  struct Closer {
    zip_file_t* file;
    ~Closer() { zip_fclose(file); }
  } closer{file};
  auto read_error = [&](const char* doing) {
    zip_error_t* error = zip_file_get_error(file);
    if (zip_error_code_zip(error) == ZIP_ER_CRC)
      return InputError(where + ": CRC mismatch, the entry data is corrupt");
    return InputError(where + ": " + doing + " (" + libzip_message(error) + ")");
  };

  std::vector<std::uint8_t> out(static_cast<std::size_t>(stat.size));
  std::uint64_t done = 0;
  while (done < stat.size) {
    const std::uint64_t chunk = std::min<std::uint64_t>(stat.size - done, 1u << 30);
    const zip_int64_t got = zip_fread(file, out.data() + done, chunk);
    if (got < 0) throw read_error("cannot read the entry");
    if (got == 0) break;
    done += static_cast<std::uint64_t>(got);
  }
  if (done != stat.size)
    throw InputError(where + ": entry truncated after " + std::to_string(done) + " of " + std::to_string(stat.size) +
                     " bytes");
  // libzip verifies the CRC when the stream reaches its end, so read once more to get there.
  std::uint8_t extra;
  const zip_int64_t got = zip_fread(file, &extra, 1);
  if (got < 0) throw read_error("cannot finish reading the entry");
  if (got > 0) throw InputError(where + ": entry holds more data than its declared size (corrupt zip)");
  return out;
}

// ---------------------------------------------------------------------------------------------
// ZipWriter

struct ZipWriter::Impl {
  std::string path;
  std::string temp_path;
  zip_t* archive = nullptr;
  std::size_t entries = 0;
  bool finished = false;   // the temporary file is complete
  bool committed = false;  // and renamed into place
  // libzip reads the sources only in zip_close(): the buffers must live until then. Deques keep
  // element addresses stable while growing.
  std::deque<std::vector<std::uint8_t>> vector_buffers;
  std::deque<std::string> string_buffers;
};

ZipWriter::ZipWriter(std::string path) : impl_(std::make_unique<Impl>()) {
  impl_->path = std::move(path);
  impl_->temp_path = temporary_name(impl_->path);
  int error = 0;
  impl_->archive = zip_open(impl_->temp_path.c_str(), ZIP_CREATE | ZIP_EXCL, &error);
  if (!impl_->archive)
    throw InputError(impl_->path + ": cannot create the zip archive (" + libzip_message(error) + ")");
}

ZipWriter::~ZipWriter() {
  if (impl_->archive) zip_discard(impl_->archive);
  if (!impl_->committed) ::unlink(impl_->temp_path.c_str());  // usually absent: libzip writes on close
}

namespace {

void add_entry(zip_t* archive, const std::string& path, const std::string& name, const void* data, std::size_t size,
               bool compress) {
  if (!archive) throw InputError(path + ": zip archive already committed");
  zip_source_t* zip_source = zip_source_buffer(archive, size ? data : nullptr, size, 0);
  if (!zip_source) throw InputError(path + ": cannot add '" + name + "' (" + zip_strerror(archive) + ")");
  const zip_int64_t index = zip_file_add(archive, name.c_str(), zip_source, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
  if (index < 0) {
    zip_source_free(zip_source);
    throw InputError(path + ": cannot add '" + name + "' (" + zip_strerror(archive) + ")");
  }
  const auto entry = static_cast<zip_uint64_t>(index);
  if (zip_set_file_compression(archive, entry, compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) != 0)
    throw InputError(path + ": cannot set the compression of '" + name + "' (" + zip_strerror(archive) + ")");
  // A fixed timestamp (1980-01-01, the zip epoch, as np.savez writes) keeps outputs reproducible.
  std::tm epoch{};
  epoch.tm_year = 80;
  epoch.tm_mday = 1;
  epoch.tm_isdst = -1;
  const std::time_t stamp = std::mktime(&epoch);
  if (stamp != static_cast<std::time_t>(-1)) zip_file_set_mtime(archive, entry, stamp, 0);
}

}  // namespace

void ZipWriter::add(const std::string& name, std::vector<std::uint8_t> data, bool compress) {
  impl_->vector_buffers.push_back(std::move(data));
  const auto& buffer = impl_->vector_buffers.back();
  add_entry(impl_->archive, impl_->path, name, buffer.data(), buffer.size(), compress);
  ++impl_->entries;
}

void ZipWriter::add(const std::string& name, const std::string& data, bool compress) {
  add(name, std::string(data), compress);
}

void ZipWriter::add(const std::string& name, std::string&& data, bool compress) {
  impl_->string_buffers.push_back(std::move(data));
  const auto& buffer = impl_->string_buffers.back();
  add_entry(impl_->archive, impl_->path, name, buffer.data(), buffer.size(), compress);
  ++impl_->entries;
}

void ZipWriter::commit() {
  finish();
  publish();
}

const std::string& ZipWriter::path() const { return impl_->path; }

void ZipWriter::finish() {
  if (!impl_->archive) throw InputError(impl_->path + ": zip archive already finished");
  if (impl_->entries == 0) {
    // libzip writes no file for an empty archive; NumPy writes the bare end-of-directory record.
    zip_discard(impl_->archive);
    impl_->archive = nullptr;
    const std::string record = std::string("PK\x05\x06", 4) + std::string(18, '\0');
    std::ofstream out(impl_->temp_path, std::ios::binary | std::ios::trunc);
    out.write(record.data(), static_cast<std::streamsize>(record.size()));
    out.close();
    if (!out) {
      ::unlink(impl_->temp_path.c_str());
      throw InputError(impl_->path + ": cannot write the zip archive");
    }
  } else {
    if (zip_close(impl_->archive) != 0) {
      const std::string message = zip_strerror(impl_->archive);
      zip_discard(impl_->archive);
      impl_->archive = nullptr;
      ::unlink(impl_->temp_path.c_str());
      throw InputError(impl_->path + ": cannot write the zip archive (" + message + ")");
    }
    impl_->archive = nullptr;
  }
  impl_->vector_buffers.clear();
  impl_->string_buffers.clear();
  ::chmod(impl_->temp_path.c_str(), 0644);  // libzip creates its temporary file private (0600)
  sync_file(impl_->temp_path);
  impl_->finished = true;
}

void ZipWriter::publish() {
  if (!impl_->finished || impl_->committed) throw InputError(impl_->path + ": zip archive not ready to publish");
  if (::rename(impl_->temp_path.c_str(), impl_->path.c_str()) != 0) {
    const int error = errno;
    ::unlink(impl_->temp_path.c_str());
    impl_->finished = false;
    throw InputError(impl_->path + ": cannot move the written archive into place (" + errno_message(error) + ")");
  }
  impl_->committed = true;
}

}  // namespace poselift::io
