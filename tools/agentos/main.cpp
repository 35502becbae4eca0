#include <iostream>

#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"agentos: policy compiler and runtime for governed teams of AI agents"};
  app.set_version_flag("--version", std::string("agentos ") + AGENTOS_VERSION);
  app.require_subcommand(1);
  agentos::cli::command_result result;
  agentos::cli::register_check(app, result);
  agentos::cli::register_fmt(app, result);
  agentos::cli::register_eval(app, result);
  agentos::cli::register_test(app, result);
  agentos::cli::register_graph(app, result);
  agentos::cli::register_task(app, result);
  agentos::cli::register_store(app, result);
  agentos::cli::register_audit(app, result);
  agentos::cli::register_serve(app, result);
  agentos::cli::register_hydrate(app, result);
  agentos::cli::register_executor(app, result);
  agentos::cli::register_projection(app, result);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return agentos::cli::exit_usage;
  }
  return result.exit_code;
}
