// Each subcommand registers itself on the CLI11 app and returns its exit code through `exit_code`.
// Exit codes follow the house convention: 0 success, 1 findings (errors, failing tests, a file that
// would change), 2 usage or I/O errors; `eval --fail-on-deny` adds 3 for a denied transition.
#pragma once

#include <CLI/CLI.hpp>

namespace agentos::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_findings = 1;
inline constexpr int exit_usage = 2;
inline constexpr int exit_denied = 3;

struct command_result {
  int exit_code = exit_ok;
};

void register_check(CLI::App& app, command_result& result);
void register_fmt(CLI::App& app, command_result& result);
void register_eval(CLI::App& app, command_result& result);
void register_test(CLI::App& app, command_result& result);
void register_graph(CLI::App& app, command_result& result);

}  // namespace agentos::cli
