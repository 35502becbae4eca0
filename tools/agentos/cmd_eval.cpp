// `agentos eval --policy FILE [--request FILE|-]`: decide one request against a policy and print
// the decision as JSON (or, with --explain, the engine's human trace). The request JSON is the one
// engine/request_json.hpp reads; every problem in it is reported with its JSON pointer. Like
// `opa eval`, a decision is a successful run whatever its effect; --fail-on-deny makes a denied
// transition exit 3 so shell scripts can branch on it.
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "commands.hpp"
#include "engine/report.hpp"
#include "store_access.hpp"
#include "engine/explain.hpp"
#include "engine/request_json.hpp"
#include "policy_loading.hpp"

namespace agentos::cli {

namespace {

struct eval_options {
  std::string policy;
  std::string request = "-";
  std::string format;  // "" = json, or text when --explain
  bool explain = false;
  bool intake = false;
  bool escalations = false;
  bool fail_on_deny = false;
};

int run_eval(const eval_options& o) {
  const std::string format = o.format.empty() ? (o.explain ? "text" : "json") : o.format;
  if (format != "json" && format != "text") {
    std::cerr << "agentos eval: unknown format `" << o.format << "` (use json or text)\n";
    return exit_usage;
  }
  // Read the request before loading the policy, so a usage mistake is reported first and fast.
  std::string text;
  const std::string request_name = o.request == "-" ? "<stdin>" : o.request;
  if (!read_input(o.request, text)) {
    std::cerr << "agentos eval: cannot read request " << request_name << "\n";
    return exit_usage;
  }
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::cerr << "agentos eval: " << request_name << " is not valid JSON: " << e.what() << "\n";
    return exit_usage;
  }

  policy_loader loader;
  const loaded_policy& policy = loader.load(o.policy);
  if (!policy.graph) {
    std::cerr << "agentos eval: " << policy.problem << "\n";
    return policy.exit_code;
  }
  const engine::rule_graph& graph = *policy.graph;

  const auto built = engine::request_from_json(json, graph);
  if (!built.ok()) {
    std::cerr << "agentos eval: " << request_name << " is not a valid request for policy " << graph.name() << ":\n";
    for (const auto& e : built.errors) {
      std::cerr << "  " << (e.pointer.empty() ? "(the whole request)" : e.pointer) << ": " << e.message << "\n";
    }
    return exit_usage;
  }
  const engine::request& req = *built.value;

  engine::decision_buffer buffer(graph);
  const engine::decision d = engine::decide(graph, req, buffer, {o.intake, o.intake, o.escalations});

  if (format == "text") {
    const auto x = engine::explain(graph, req, {true, o.intake, o.escalations});
    std::cout << engine::render_text(graph, x, &loader.sources());
  } else {
    auto out = decision_json(graph, d, &loader.sources(), o.escalations);
    if (o.explain) {
      const auto x = engine::explain(graph, req, {true, o.intake, o.escalations});
      out["explanation"] = engine::render_text(graph, x, &loader.sources());
    }
    std::cout << out.dump(2) << "\n";
  }
  return o.fail_on_deny && !d.allowed ? exit_denied : exit_ok;
}

}  // namespace

void register_eval(CLI::App& app, command_result& result) {
  auto opts = std::make_shared<eval_options>();
  auto* cmd = app.add_subcommand("eval", "Decide one request against a policy and print the decision");
  cmd->add_option("--policy,-p", opts->policy, "The policy's entry file")->required();
  cmd->add_option("--request,-r", opts->request, "The request JSON file, or `-` for stdin")->capture_default_str();
  cmd->add_flag("--explain", opts->explain,
                "Print the human trace of every rule considered (with --format json: add it as \"explanation\")");
  cmd->add_flag("--intake", opts->intake, "Also run routing and the plan gate (adds route, mode and gates)");
  cmd->add_flag("--escalations", opts->escalations, "Also list the escalation rules that fire at the request's `now`");
  cmd->add_option("--format", opts->format, "Output: json (default) or text (the trace; default with --explain)");
  cmd->add_flag("--fail-on-deny", opts->fail_on_deny, "Exit 3 when the transition is denied");
  cmd->footer(
      "The request and decision JSON shapes are documented in docs/cli.md.\n"
      "Exit status: 0 when a decision was made, allowed or denied (like `opa eval`); 3 for a denied\n"
      "transition with --fail-on-deny; 1 when the policy has errors (diagnostics on stderr); 2 on\n"
      "usage errors, an unreadable file, or a request that is not valid JSON or does not fit the\n"
      "policy (each problem printed with its JSON pointer).");
  cmd->callback([opts, &result] { result.exit_code = run_eval(*opts); });
}

}  // namespace agentos::cli
