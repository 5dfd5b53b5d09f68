// Messages for command lines that CLI11 cannot parse: an unknown or misspelt flag gets the
// closest known one, and a flag of another command names that command.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace poselift::cli {

// The message for arguments `extras` that `command` does not take (in command-line order).
std::string unexpected_arguments_message(const CLI::App& app, const CLI::App& command,
                                         const std::vector<std::string>& extras);

// Levenshtein distance (for "did you mean").
std::size_t edit_distance(const std::string& a, const std::string& b);

}  // namespace poselift::cli
