// `agentos executor`: the executor Paperclip's HTTP adapter wakes (docs/paperclip.md, "The
// executor"). Loads the agents' tokens, listens, prints its URL, and for each wake reads the
// task's brief and writes back through the executor protocol as the woken agent; follows the
// server's event stream for the tasks it was woken for. SIGTERM or SIGINT: stop listening,
// abandon the job in flight, exit 0.
#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>

#include "commands.hpp"
#include "listen_address.hpp"
#include "runtime/projection/executor.hpp"
#include "runtime/projection/wake_server.hpp"
#include "runtime/service/request_signatures.hpp"
#include "store_access.hpp"

namespace agentos::cli {

namespace {

struct executor_cli_options {
  std::string listen = "127.0.0.1:8090";
  std::string agentos = "http://127.0.0.1:8080";
  std::string tokens;
  std::string signing_secrets;
  std::uint64_t max_body = std::uint64_t{1} << 20;
  long timeout_ms = 10'000;
  std::size_t attempts = 6;
  bool no_follow = false;
};

int run_executor(const executor_cli_options& o) {
  namespace projection = runtime::projection;
  listen_address where;
  if (!parse_listen(o.listen, where)) {
    print_error("cli.usage", "--listen `" + o.listen + "`: expected HOST:PORT, e.g. 127.0.0.1:8090");
    return exit_usage;
  }
  if (o.max_body < 1024 || o.max_body > (std::uint64_t{64} << 20)) {
    print_error("cli.usage", "--max-body: expected 1024 to 67108864 bytes");
    return exit_usage;
  }
  if (o.timeout_ms < 100 || o.timeout_ms > 600'000) {
    print_error("cli.usage", "--timeout: expected 100 to 600000 ms");
    return exit_usage;
  }
  if (o.attempts < 1 || o.attempts > 100) {
    print_error("cli.usage", "--attempts: expected 1 to 100");
    return exit_usage;
  }
  std::string error;
  auto url = projection::parse_agentos_url(o.agentos, error);
  if (!url) {
    print_error("cli.usage", "--agentos " + error);
    return exit_usage;
  }
  auto tokens = projection::load_agent_tokens(o.tokens, error);
  if (!tokens) {
    print_error("cli.io", "--tokens: " + error);
    return exit_usage;
  }
  projection::executor_options options;
  options.agentos = std::move(*url);
  options.tokens = std::move(*tokens);
  options.timeout = std::chrono::milliseconds(o.timeout_ms);
  options.max_attempts = o.attempts;
  options.follow_events = !o.no_follow;
  if (!o.signing_secrets.empty()) {
    auto secrets = runtime::load_signing_secrets(o.signing_secrets, error);
    if (!secrets) {
      print_error("cli.io", "--signing-secrets: " + error);
      return exit_usage;
    }
    options.secrets.insert(secrets->begin(), secrets->end());
  }
  if (const char* secret = std::getenv("AGENTOS_SIGNING_SECRET"); secret != nullptr && *secret != '\0') {
    if (std::string_view(secret).size() < runtime::min_secret_bytes) {
      print_error("cli.usage", "AGENTOS_SIGNING_SECRET is shorter than " + std::to_string(runtime::min_secret_bytes) +
                                   " bytes (the server refuses such secrets)");
      return exit_usage;
    }
    options.default_secret = secret;
  }
  // Lines from the worker thread and the io thread, whole.
  auto log_mutex = std::make_shared<std::mutex>();
  options.log = [log_mutex](const std::string& line) {
    std::lock_guard lock(*log_mutex);
    std::cout << line << std::endl;
  };
  const std::size_t agents = options.tokens.size();
  const std::string server_url = o.agentos;

  // Block the signals before any thread starts, so only sigwait() below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  projection::executor worker(std::move(options));
  projection::wake_server_options server_options;
  server_options.address = where.host;
  server_options.port = where.port;
  server_options.body_limit = o.max_body;
  projection::wake_server server(worker, server_options);
  if (const std::string failed = server.start(); !failed.empty()) {
    print_error("executor.listen", failed);
    return exit_usage;
  }
  const bool v6 = where.host.find(':') != std::string::npos;
  std::cout << "agentos executor: listening on http://" << (v6 ? "[" + where.host + "]" : where.host) << ":"
            << server.port() << " for " << server_url << " (" << agents << " agents with tokens)" << std::endl;

  int signal = 0;
  sigwait(&signals, &signal);
  std::cerr << "agentos executor: " << (signal == SIGTERM ? "SIGTERM" : "SIGINT") << ": stopping\n";
  server.stop();
  worker.stop();
  return exit_ok;
}

}  // namespace

void register_executor(CLI::App& app, command_result& result) {
  auto o = std::make_shared<executor_cli_options>();
  auto* cmd = app.add_subcommand(
      "executor", "Run the executor that Paperclip's HTTP adapter wakes: reads each woken task's brief and writes back "
                  "through the executor protocol, without a model (docs/paperclip.md)");
  cmd->add_option("--listen,-l", o->listen, "HOST:PORT to listen on for wakes (port 0: any free port)")
      ->capture_default_str();
  cmd->add_option("--agentos", o->agentos, "The agentos server's base URL (http://HOST:PORT[/PREFIX])")->capture_default_str();
  cmd->add_option("--tokens", o->tokens,
                  "A JSON file {\"<token>\": \"<actor id>\", ...} (the format of serve --tokens): the agents it acts "
                  "for, each with its token")
      ->required();
  cmd->add_option("--signing-secrets", o->signing_secrets,
                  "A JSON file {\"<actor id>\": \"<secret>\", ...}: sign each agent's callbacks with its secret (else "
                  "with AGENTOS_SIGNING_SECRET when set)");
  cmd->add_option("--max-body", o->max_body, "The largest wake body accepted, in bytes (larger: 413)")->capture_default_str();
  cmd->add_option("--timeout", o->timeout_ms, "Milliseconds for each request to the agentos server")->capture_default_str();
  cmd->add_option("--attempts", o->attempts,
                  "Attempts at a job while the agentos server does not answer (1 s, 2 s, 4 s ... apart, at most 30 s)")
      ->capture_default_str();
  cmd->add_flag("--no-follow", o->no_follow,
                "Do not follow the server's event stream: a task whose wake came before the change that caused it "
                "(an approval not yet reconciled) waits for its next wake");
  cmd->footer(
      "Environment: AGENTOS_SIGNING_SECRET, the signing secret of every agent not in --signing-secrets.\n"
      "Exit status: 0 after a graceful stop (SIGTERM, SIGINT); 2 for a bad option, a tokens or secrets file that "
      "cannot be read, or an address it cannot listen on.");
  cmd->callback([o, &result] { result.exit_code = run_executor(*o); });
}

}  // namespace agentos::cli
