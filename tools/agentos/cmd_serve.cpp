// `agentos serve`: the operator API over HTTP (docs/api.md) on a data directory. Opens the store
// with the policy made active, loads the bearer tokens, listens, prints the URL, and on SIGTERM
// or SIGINT stops gracefully: no new connections, in-flight requests answered, the store closed
// (its writer finishes the queued work) before exit 0. --webhooks creates or updates webhook
// subscriptions from a file before serving. --paperclip turns on the projection into a Paperclip
// server (runtime/projection, docs/paperclip.md): its threads start once the server listens and
// stop before the API and the store close.
#include <pthread.h>
#include <sys/resource.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "listen_address.hpp"
#include "runtime/hydration/hydration.hpp"
#include "runtime/projection/drift.hpp"
#include "runtime/projection/projection_service.hpp"
#include "runtime/projection/reconciler.hpp"
#include "runtime/service/api.hpp"
#include "runtime/service/http_server.hpp"
#include "store_access.hpp"

namespace agentos::cli {

namespace {

struct serve_options {
  std::string policy = "policies/agent-os.policy";
  std::string data = default_data_dir;
  std::string listen = "127.0.0.1:8080";
  std::string tokens;
  long linger_us = 0;  // store_options::linger: off, as in the store
  std::string public_url;       // the callback URL's base in briefs; default http://HOST:PORT
  std::string signing_secrets;  // {"<actor id>": "<secret>"}: HMAC keys of signed callbacks
  bool require_signatures = false;
  std::string webhooks;
  std::string hydration;  // a hydration.json: agents' hydrated skills count as capabilities
  std::string paperclip;           // http://HOST:PORT of a Paperclip server: project into it
  std::string paperclip_company = "agentos";
  std::string paperclip_executor;  // the URL Paperclip's HTTP adapter calls for every agent
};

int run_serve(const serve_options& o) {
  runtime::http_options http;
  listen_address where;
  if (!parse_listen(o.listen, where)) {
    print_error("cli.usage", "--listen `" + o.listen + "`: expected HOST:PORT, e.g. 127.0.0.1:8080");
    return exit_usage;
  }
  http.address = where.host;
  http.port = where.port;
  std::string error;
  // The projection's options are checked before anything is opened, so a mistake costs no start-up.
  std::optional<runtime::projection::base_url> paperclip;
  if (!o.paperclip.empty()) {
    paperclip = runtime::projection::parse_base_url(o.paperclip, error);
    if (!paperclip) {
      print_error("cli.usage", "--paperclip " + error);
      return exit_usage;
    }
    if (o.paperclip_executor.empty()) {
      print_error("cli.usage",
                  "--paperclip needs --paperclip-executor URL: the URL Paperclip calls to wake an agent (the executor, "
                  "`agentos executor`)");
      return exit_usage;
    }
    if (o.paperclip_executor.rfind("http://", 0) != 0 && o.paperclip_executor.rfind("https://", 0) != 0) {
      print_error("cli.usage", "--paperclip-executor `" + o.paperclip_executor + "`: expected an http:// or https:// URL");
      return exit_usage;
    }
    if (o.paperclip_company.empty() || o.paperclip_company.size() > 200) {
      print_error("cli.usage", "--paperclip-company: expected a name of 1 to 200 characters");
      return exit_usage;
    }
  } else if (!o.paperclip_executor.empty() || o.paperclip_company != "agentos") {
    print_error("cli.usage", "--paperclip-executor and --paperclip-company need --paperclip URL");
    return exit_usage;
  }
  // Without --tokens, the data directory's tokens.json (what scripts/run.sh writes).
  const std::string token_file = o.tokens.empty() ? (std::filesystem::path(o.data) / "tokens.json").string() : o.tokens;
  auto tokens = runtime::bearer_tokens::load(token_file, error);
  if (!tokens) {
    print_error("cli.io", "--tokens: " + error +
                              (o.tokens.empty() ? " (give --tokens FILE, or create DATA/tokens.json: {\"<token>\": \"<actor id>\"})"
                                                : ""));
    return exit_usage;
  }
  std::optional<std::vector<runtime::webhook_spec>> webhooks;
  if (!o.webhooks.empty()) {
    webhooks = runtime::load_webhooks_file(o.webhooks, error);
    if (!webhooks) {
      print_error("cli.io", "--webhooks: " + error);
      return exit_usage;
    }
  }

  // Block the signals before any thread starts, so every thread inherits the mask and only
  // sigwait() below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  runtime::executor_settings executor;
  if (!o.public_url.empty()) {
    if (o.public_url.rfind("http://", 0) != 0 && o.public_url.rfind("https://", 0) != 0) {
      print_error("cli.usage", "--public-url `" + o.public_url + "`: expected an http:// or https:// URL");
      return exit_usage;
    }
    executor.public_base_url = o.public_url;
    while (executor.public_base_url.size() > 8 && executor.public_base_url.back() == '/')
      executor.public_base_url.pop_back();
  }
  if (!o.signing_secrets.empty()) {
    auto secrets = runtime::load_signing_secrets(o.signing_secrets, error);
    if (!secrets) {
      print_error("cli.io", "--signing-secrets: " + error);
      return exit_usage;
    }
    executor.signatures.secrets = std::move(*secrets);
  }
  if (o.require_signatures && executor.signatures.secrets.empty()) {
    print_error("cli.usage", "--require-signatures needs --signing-secrets with at least one secret");
    return exit_usage;
  }
  executor.signatures.required = o.require_signatures;

  int code = exit_ok;
  if (o.linger_us < 0 || o.linger_us > 100'000) {
    print_error("cli.usage", "--linger: expected microseconds from 0 to 100000");
    return exit_usage;
  }
  runtime::store_options store_options;
  store_options.linger = std::chrono::microseconds(o.linger_us);
  std::size_t hydrated_workspaces = 0;
  if (!o.hydration.empty()) {
    const auto loaded = runtime::hydration::load_config(o.hydration);
    if (!loaded.cfg) {
      for (const auto& e : loaded.errors) std::cerr << runtime::hydration::to_text(e) << "\n";
      return exit_usage;
    }
    hydrated_workspaces = loaded.cfg->workspaces.size();
    store_options.skills = runtime::workspace_skills(*loaded.cfg);
  }
  auto store = open_store(o.data, o.policy, store_access::write, code, store_options);
  if (!store) return code;
  const std::size_t token_count = tokens->size();
  runtime::api_options api_options;
  api_options.policy_entry = o.policy;  // POST /api/policy/reload reads this file (and its imports) again
  api_options.executor = std::move(executor);
  if (paperclip)  // POST /api/projection/check: the drift check while this process holds the store
    api_options.projection_check = [&s = *store, url = *paperclip] { return runtime::projection::drift_response(s, url); };
  runtime::api api(*store, std::move(*tokens), std::move(api_options));
  if (webhooks) {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    if (auto configured = api.webhooks().configure(*webhooks, now); !configured) {
      print_error("serve.webhooks", configured.error().message);
      return exit_usage;
    }
  }
  // Raise the descriptor limit to what the system allows (as nginx's worker_rlimit_nofile does),
  // and keep the connection cap under it with room for the store and the log.
  if (rlimit nofile{}; getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    if (nofile.rlim_cur < nofile.rlim_max) {
      nofile.rlim_cur = nofile.rlim_max;
      setrlimit(RLIMIT_NOFILE, &nofile);
      getrlimit(RLIMIT_NOFILE, &nofile);
    }
    if (nofile.rlim_cur != RLIM_INFINITY && nofile.rlim_cur > 128)
      http.max_connections = std::min<std::size_t>(http.max_connections, nofile.rlim_cur - 128);
  }
  runtime::http_server server(api, http);
  if (const std::string failed = server.start(); !failed.empty()) {
    print_error("serve.listen", failed);
    return exit_usage;
  }
  const bool v6 = http.address.find(':') != std::string::npos;
  const std::string base =
      "http://" + (v6 ? "[" + http.address + "]" : http.address) + ":" + std::to_string(server.port());
  api.default_public_base_url(base);
  std::cout << "agentos: serving " << o.data << " on " << base << " (" << token_count << " tokens";
  if (!o.hydration.empty()) std::cout << "; skills of " << hydrated_workspaces << " workspaces from " << o.hydration;
  std::cout << "; try GET /health)" << std::endl;

  // The reconciler handles Paperclip's activity on the projection thread, over a connection of
  // its own; declared before the service, so it outlives the thread that calls it.
  std::unique_ptr<runtime::projection::paperclip_client> reconcile_client;
  std::unique_ptr<runtime::projection::reconciler> reconciler;
  std::unique_ptr<runtime::projection::projection_service> projection;
  if (paperclip) {
    runtime::projection::projection_options po;
    po.paperclip = *paperclip;
    po.projector.company_name = o.paperclip_company;
    po.projector.executor_url = o.paperclip_executor;
    po.projector.public_url = o.public_url.empty() ? base : o.public_url;
    while (po.projector.public_url.size() > 8 && po.projector.public_url.back() == '/') po.projector.public_url.pop_back();
    reconcile_client = std::make_unique<runtime::projection::paperclip_client>(*paperclip, po.client);
    reconciler = std::make_unique<runtime::projection::reconciler>(*store, *reconcile_client);
    projection = std::make_unique<runtime::projection::projection_service>(*store, api.events(), std::move(po),
                                                                           reconciler.get());
    projection->start();
    std::cout << "agentos: projecting into Paperclip at " << paperclip->text << " (company \"" << o.paperclip_company
              << "\")" << std::endl;
  }

  int signal = 0;
  sigwait(&signals, &signal);
  std::cerr << "agentos: " << (signal == SIGTERM ? "SIGTERM" : "SIGINT") << ": stopping\n";
  server.stop();
  if (projection) projection->stop();
  // Leaving closes, in this order, the projection, the server, the api (its outbox notifier and
  // webhook workers, which use the store) and then the store (its writer finishes the queued work).
  return exit_ok;
}

}  // namespace

void register_serve(CLI::App& app, command_result& result) {
  auto o = std::make_shared<serve_options>();
  auto* cmd = app.add_subcommand("serve", "Serve the operator API over HTTP on a data directory (docs/api.md)");
  cmd->add_option("--policy,-p", o->policy, "The policy to make active")->capture_default_str();
  add_data_option(*cmd, o->data);
  cmd->add_option("--listen,-l", o->listen, "HOST:PORT to listen on (port 0: any free port)")->capture_default_str();
  cmd->add_option("--tokens", o->tokens,
                  "A JSON file {\"<token>\": \"<actor id>\", ...} of the accepted bearer tokens (default: DATA/tokens.json)");
  cmd->add_option("--linger", o->linger_us,
                  "Microseconds the store's writer may wait for as many writes as its last commit held before "
                  "committing (group commit; 0: off; docs/performance.md)")
      ->capture_default_str();
  cmd->add_option("--public-url", o->public_url,
                  "The base URL executors reach this server at, for the callback URL in briefs (default: "
                  "http://HOST:PORT of --listen)");
  cmd->add_option("--signing-secrets", o->signing_secrets,
                  "A JSON file {\"<actor id>\": \"<secret>\", ...}: HMAC-SHA256 keys for signed executor callbacks");
  cmd->add_flag("--require-signatures", o->require_signatures,
                "Refuse executor callbacks that are not signed (needs --signing-secrets)");
  cmd->add_option("--webhooks", o->webhooks,
                  "A JSON file [{\"id\", \"url\", \"secret\", \"events\"?}, ...] of webhooks to create or update "
                  "(docs/api-events.md)");
  cmd->add_option("--hydration", o->hydration,
                  "A hydration.json (docs/hydration.md): the skills hydrated into each agent's workspace count as its "
                  "capabilities, read at every transition");
  cmd->add_option("--paperclip", o->paperclip,
                  "http://HOST:PORT of a Paperclip server: project the org and the tasks into it and reconcile operator "
                  "actions back (docs/paperclip.md)");
  cmd->add_option("--paperclip-company", o->paperclip_company,
                  "The Paperclip company to project into, created or adopted by name")
      ->capture_default_str();
  cmd->add_option("--paperclip-executor", o->paperclip_executor,
                  "The URL Paperclip's HTTP adapter calls to wake an agent (required with --paperclip)");
  cmd->footer("Exit status: 0 after a graceful stop (SIGTERM, SIGINT); 1 for a policy with errors; 2 otherwise.");
  cmd->callback([o, &result] { result.exit_code = run_serve(*o); });
}

}  // namespace agentos::cli
