#include "cli/usage_errors.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace poselift::cli {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

namespace {

std::vector<std::string> flag_names(const CLI::App& command) {
  std::vector<std::string> names;
  for (const CLI::Option* option : command.get_options()) {
    for (const auto& name : option->get_lnames()) names.push_back("--" + name);
    for (const auto& name : option->get_snames()) names.push_back("-" + name);
  }
  return names;
}

bool takes(const CLI::App& command, const std::string& flag) {
  const auto names = flag_names(command);
  return std::find(names.begin(), names.end(), flag) != names.end();
}

std::string command_path(const CLI::App& command) {
  std::string path = command.get_name();
  for (const CLI::App* parent = command.get_parent(); parent && parent->get_parent(); parent = parent->get_parent())
    path = parent->get_name() + " " + path;
  return path;
}

void collect_commands(const CLI::App& app, std::vector<const CLI::App*>& out) {
  // CLI11's filtered listing is not const; it only reads.
  for (const CLI::App* sub : const_cast<CLI::App&>(app).get_subcommands([](CLI::App*) { return true; })) {
    out.push_back(sub);
    collect_commands(*sub, out);
  }
}

}  // namespace

std::string unexpected_arguments_message(const CLI::App& app, const CLI::App& command,
                                         const std::vector<std::string>& extras) {
  const std::string name = command_path(command);
  std::vector<const CLI::App*> commands;
  collect_commands(app, commands);
  for (const std::string& extra : extras) {
    if (extra.size() < 2 || extra[0] != '-') continue;
    const std::string flag = extra.substr(0, extra.find('='));
    std::vector<std::string> owners;
    for (const CLI::App* other : commands)
      if (other != &command && takes(*other, flag)) owners.push_back(command_path(*other));
    if (!owners.empty()) {
      std::string hint = fmt::format("{} is an option of `poselift {}`", flag, owners.front());
      if (owners.front() == "render") hint += " (in the original's command line, add --render)";
      return fmt::format("`poselift {}` does not take {}: {}", name, flag, hint);
    }
    std::string best;
    std::size_t best_distance = 3;  // suggest only near misses
    for (const auto& known : flag_names(command)) {
      const std::size_t d = edit_distance(flag, known);
      if (d < best_distance) best_distance = d, best = known;
    }
    return fmt::format("`poselift {}`: unknown option {}{}", name, flag,
                       best.empty() ? "" : fmt::format(" (did you mean {}?)", best));
  }
  std::string list;
  for (const auto& e : extras) list += (list.empty() ? "" : " ") + e;
  return fmt::format("`poselift {}`: unexpected argument{} {}", name, extras.size() == 1 ? "" : "s", list);
}

}  // namespace poselift::cli
