#include "cli/original_args.hpp"

#include <algorithm>
#include <map>

namespace poselift::cli {

std::vector<std::string> translate_original_arguments(const std::vector<std::string>& args,
                                                  const std::vector<std::string>& subcommands) {
  static const std::map<std::string, std::string> long_names = {
      {"-str", "--subjects-train"},   {"-ste", "--subjects-test"},
      {"-sun", "--subjects-unlabeled"}, {"-lr", "--learning-rate"},
      {"-lrd", "--lr-decay"},          {"-drop", "--dropout"},
      {"-no-da", "--no-data-augmentation"}, {"-no-tta", "--no-test-time-augmentation"},
      {"-frame", "--number-of-frames"}, {"-arc", "--architecture"},
      {"-ch", "--channels"},           {"-frame-kept", "--frames-kept"},
      {"-coeff-kept", "--coefficients-kept"}, {"-cs", "--width"},
      {"-dep", "--depth"},
  };
  std::vector<std::string> out;
  out.reserve(args.size() + 1);
  for (const auto& arg : args) {
    // "-lr=0.1" style too.
    const auto eq = arg.find('=');
    const std::string flag = arg.substr(0, eq);
    auto it = long_names.find(flag);
    if (it != long_names.end())
      out.push_back(eq == std::string::npos ? it->second : it->second + arg.substr(eq));
    else
      out.push_back(arg);
  }
  if (out.empty()) return out;
  const std::string& first = out.front();
  const bool first_is_subcommand = std::find(subcommands.begin(), subcommands.end(), first) != subcommands.end();
  const bool is_global_flag = first == "--help" || first == "-h" || first == "--version";
  if (!first_is_subcommand && !is_global_flag && !first.empty() && first[0] == '-') {
    auto has = [&](const std::string& name) {
      return std::any_of(out.begin(), out.end(), [&](const std::string& a) {
        return a == name || a.rfind(name + "=", 0) == 0;
      });
    };
    // As run_poseformer.py: --render renders (even with --evaluate naming the checkpoint).
    const char* command = has("--render") ? "render" : has("--evaluate") ? "evaluate" : "train";
    out.insert(out.begin(), command);
  }
  return out;
}

}  // namespace poselift::cli
