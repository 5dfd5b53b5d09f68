// Error type shared by every poselift module.
#pragma once

#include <stdexcept>
#include <string>

namespace poselift {

// Raised for any bad input (malformed file, missing key, wrong shape, bad flag value).
// The message is one line that names the file, the field and what was expected; the CLI
// prints it and exits with code 2.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace poselift
