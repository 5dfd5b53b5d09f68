// Warnings from the library reach the user through a sink that the program installs (the CLI
// prints them on stderr); the library itself never prints. Without a sink they are dropped.
#pragma once

#include <functional>
#include <string>

namespace poselift::report {

using Sink = std::function<void(const std::string& message)>;

// Installs the sink for warnings (thread-safe; an empty function removes it).
void set_warning_sink(Sink sink);
// Passes one warning (a sentence without "WARNING:") to the sink.
void warn(const std::string& message);

}  // namespace poselift::report
