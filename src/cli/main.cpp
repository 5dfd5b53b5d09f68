// poselift command line: a thin layer mapping flags (including the original run_poseformer.py's
// flags) onto the library.
#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <fmt/format.h>

#include <iostream>

#include "cli/command.hpp"
#include "cli/original_args.hpp"
#include "cli/terminal.hpp"
#include "cli/usage_errors.hpp"
#include "engine/runtime.hpp"
#include "io/error.hpp"
#include "report/report.hpp"
#include "runtime/signals.hpp"
#include "runtime/blas.hpp"
#include "runtime/memory.hpp"

using namespace poselift;

int main(int argc, char** argv) {
  // Line-buffered stdout, so that a log of stdout and stderr together keeps their order (the
  // progress bars and warnings go to stderr).
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  poselift::runtime::use_cpu_specific_blas_kernels(argv);  // may restart the program once
  poselift::runtime::route_stop_signals();                // before any thread starts
  poselift::runtime::keep_freed_memory_in_process();
  cli::install_terminal_sink();
  CLI::App app{"poselift: 3D human pose lifting with PoseFormer, natively in C++.\n"
               "The original PoseFormer's command lines work with `python run_poseformer.py` replaced by `poselift`."};
  app.name("poselift");
  app.set_version_flag("--version", std::string("poselift ") + POSELIFT_VERSION);
  app.require_subcommand(1);

  std::vector<cli::Command> commands = {cli::add_info_command(app),  cli::add_evaluate_command(app),
                                        cli::add_forward_command(app), cli::add_bench_command(app),
                                        cli::add_train_command(app)};
  for (auto& command : cli::add_prepare_commands(app)) commands.push_back(std::move(command));
  commands.push_back(cli::add_render_command(app));
  commands.push_back(cli::add_infer_command(app));
  commands.push_back(cli::add_video_command(app));

  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  std::vector<std::string> names;
  for (const auto* sub : app.get_subcommands([](CLI::App*) { return true; })) names.push_back(sub->get_name());
  args = cli::translate_original_arguments(args, names);
  std::reverse(args.begin(), args.end());  // CLI11 takes a reversed vector

  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const CLI::App* command = &app;
    for (const CLI::App* sub = command->get_subcommands().empty() ? nullptr : command->get_subcommands().front(); sub;
         sub = sub->get_subcommands().empty() ? nullptr : sub->get_subcommands().front())
      command = sub;
    std::vector<std::string> extras = command->remaining();
    if (command != &app && extras.empty()) extras = app.remaining();
    if (dynamic_cast<const CLI::ExtrasError*>(&e) && !extras.empty())
      fmt::print(stderr, "poselift: error: {}\n", cli::unexpected_arguments_message(app, *command, extras));
    else
      fmt::print(stderr, "poselift: error: {}\n", e.what());
    fmt::print(stderr, "Run `poselift{}{} --help` for the options.\n", command == &app ? "" : " ",
               command == &app ? "" : command->get_name());
    return 2;
  }
  try {
    for (const auto& command : commands)
      if (command.app->parsed()) return command.run();
  } catch (const InputError& e) {
    fmt::print(stderr, "poselift: error: {}\n", e.what());
    return 2;
  } catch (const c10::Error& e) {
    fmt::print(stderr, "poselift: LibTorch error: {}\n", e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "poselift: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
