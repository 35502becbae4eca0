// Each subcommand registers itself on the CLI11 app and returns its exit code through `exit_code`.
// Exit codes follow the house convention: 0 success, 1 findings (errors, failing tests, a file that
// would change, store or audit problems), 2 usage, I/O and store errors; 3 a denied transition
// (`eval --fail-on-deny`, the task commands); 4 a conflict (a stale --expect-version, an id in use).
#pragma once

#include <CLI/CLI.hpp>

namespace agentos::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_findings = 1;
inline constexpr int exit_usage = 2;
inline constexpr int exit_denied = 3;
inline constexpr int exit_conflict = 4;

struct command_result {
  int exit_code = exit_ok;
};

void register_check(CLI::App& app, command_result& result);
void register_fmt(CLI::App& app, command_result& result);
void register_eval(CLI::App& app, command_result& result);
void register_test(CLI::App& app, command_result& result);
void register_graph(CLI::App& app, command_result& result);
void register_task(CLI::App& app, command_result& result);
void register_store(CLI::App& app, command_result& result);
void register_audit(CLI::App& app, command_result& result);
void register_serve(CLI::App& app, command_result& result);
void register_hydrate(CLI::App& app, command_result& result);
void register_executor(CLI::App& app, command_result& result);
void register_projection(CLI::App& app, command_result& result);

}  // namespace agentos::cli
