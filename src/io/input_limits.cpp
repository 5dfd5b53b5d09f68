#include "io/input_limits.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "io/error.hpp"

namespace poselift::io {

std::uint64_t max_input_bytes_override() {
  const char* text = std::getenv(kMaxInputBytesVariable);
  if (!text || !*text) return 0;
  const std::string value(text);
  auto bad = [&]() {
    return InputError(std::string(kMaxInputBytesVariable) + ": expected a positive byte count such as 4294967296 or "
                      "4G, found '" + value.substr(0, 40) + "'");
  };
  std::uint64_t number = 0;
  std::size_t i = 0;
  for (; i < value.size() && value[i] >= '0' && value[i] <= '9'; ++i)
    if (__builtin_mul_overflow(number, 10u, &number) ||
        __builtin_add_overflow(number, static_cast<std::uint64_t>(value[i] - '0'), &number))
      throw bad();
  if (i == 0) throw bad();
  unsigned shift = 0;
  if (i < value.size()) {
    switch (value[i]) {
      case 'k': case 'K': shift = 10; break;
      case 'm': case 'M': shift = 20; break;
      case 'g': case 'G': shift = 30; break;
      case 't': case 'T': shift = 40; break;
      default: throw bad();
    }
    if (++i != value.size()) throw bad();
  }
  if (number == 0 || (shift && number > (UINT64_MAX >> shift))) throw bad();
  return number << shift;
}

std::uint64_t decompression_budget(std::uint64_t archive_size) {
  if (const std::uint64_t forced = max_input_bytes_override()) return forced;
  return std::max<std::uint64_t>(std::uint64_t{1} << 30, saturating_mul(archive_size, 64));
}

std::uint64_t unpickle_budget(std::uint64_t pickle_size, std::uint64_t file_size) {
  if (const std::uint64_t forced = max_input_bytes_override()) return forced;
  return std::max({std::uint64_t{256} << 20, saturating_mul(pickle_size, 4), saturating_mul(file_size, 64)});
}

}  // namespace poselift::io
