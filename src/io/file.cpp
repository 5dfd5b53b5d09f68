#include "io/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "io/error.hpp"

namespace poselift::io {

std::string errno_message(int error) { return std::error_code(error, std::generic_category()).message(); }

void write_file_atomic(const std::string& path, const std::string& data) {
  std::string pattern = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) throw InputError(path + ": cannot create a file beside it (" + errno_message(errno) + ")");
  const std::string temp_path = pattern;
  auto fail = [&](const char* doing, int error) {
    ::close(fd);
    ::unlink(temp_path.c_str());
    return InputError(path + ": cannot " + doing + " (" + errno_message(error) + ")");
  };
  std::size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw fail("write", errno);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, 0644) != 0) throw fail("set permissions", errno);  // mkstemp makes it 0600
  if (::fsync(fd) != 0) throw fail("flush to disk", errno);
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(temp_path.c_str());
    throw InputError(path + ": cannot close (" + errno_message(error) + ")");
  }
  if (::rename(temp_path.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp_path.c_str());
    throw InputError(path + ": cannot move the written file into place (" + errno_message(error) + ")");
  }
}

namespace {

// Opens `path` and checks its size against `max_bytes` before anything is allocated.
std::uint64_t open_bounded(std::ifstream& in, const std::string& path, std::uint64_t max_bytes) {
  in.open(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open (" + errno_message(errno) + ")");
  std::error_code size_error;
  const auto size = std::filesystem::file_size(path, size_error);
  if (size_error) throw InputError(path + ": cannot open (" + size_error.message() + ")");
  if (size > max_bytes)
    throw InputError(path + ": file of " + std::to_string(size) + " bytes exceeds the limit of " +
                     std::to_string(max_bytes) + " bytes");
  return size;
}

template <class Buffer>
Buffer read_bounded(const std::string& path, std::uint64_t max_bytes) {
  std::ifstream in;
  const std::uint64_t size = open_bounded(in, path, max_bytes);
  Buffer bytes(static_cast<std::size_t>(size), 0);
  if (size && !in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size)))
    throw InputError(path + ": cannot read " + std::to_string(size) + " bytes");
  return bytes;
}

}  // namespace

std::vector<std::uint8_t> read_file(const std::string& path, std::uint64_t max_bytes) {
  return read_bounded<std::vector<std::uint8_t>>(path, max_bytes);
}

std::string read_text_file(const std::string& path, std::uint64_t max_bytes) {
  return read_bounded<std::string>(path, max_bytes);
}

}  // namespace poselift::io
