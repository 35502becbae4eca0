#include "engine/report.hpp"

#include "engine/explain.hpp"

namespace agentos::engine {

namespace ast = dsl::ast;
using nlohmann::ordered_json;

std::string state_name(const engine::rule_graph& graph, std::int32_t state) {
  if (state < 0 || state >= graph.state_count()) return {};
  return graph.policy().states[static_cast<std::size_t>(state)].name;
}

std::string event_name(const engine::rule_graph& graph, std::int32_t event) {
  if (event < 0 || event >= graph.event_count()) return {};
  return graph.policy().events[static_cast<std::size_t>(event)];
}

std::string mode_name(std::int32_t mode) { return mode == engine::mode_plan_first ? "plan_first" : "direct"; }

std::string obligation_text(const engine::rule_graph& graph, const engine::obligation_hit& o) {
  const std::string who = engine::target_text(graph, o.who);
  return o.action == ast::obligation_action_kind::notify ? "notify " + who : "require review by " + who;
}

std::string reason_text(const engine::rule_graph& graph, const engine::deny_reason& r) {
  switch (r.kind) {
    case engine::deny_kind::forbidden:
      return "forbidden by " + graph.rule(r.rule).name + ": " + std::string(r.message);
    case engine::deny_kind::guard_false: return "guard false on " + graph.rule(r.rule).name;
    default: return std::string(r.message);
  }
}

namespace {

ordered_json name_or_null(const std::string& name) { return name.empty() ? ordered_json(nullptr) : ordered_json(name); }

// Stable identifiers for JSON (engine::to_string gives the human texts, which are the messages).
std::string_view kind_id(engine::deny_kind k) {
  switch (k) {
    case engine::deny_kind::wrong_policy: return "wrong_policy";
    case engine::deny_kind::no_transition: return "no_transition";
    case engine::deny_kind::guard_false: return "guard_false";
    case engine::deny_kind::forbidden: return "forbidden";
    case engine::deny_kind::no_permit: return "no_permit";
  }
  return "unknown";
}

ordered_json target_json(const engine::rule_graph& graph, const engine::target_ref& t) {
  return engine::target_text(graph, t);
}

}  // namespace

ordered_json rule_json(const engine::rule_graph& graph, engine::rule_id id, const dsl::source_manager* sources) {
  const engine::rule_entry& r = graph.rule(id);
  if (sources == nullptr) return r.name;
  ordered_json j;
  j["name"] = r.name;
  j["kind"] = std::string(engine::to_string(r.kind));
  if (r.where.valid() && r.where.file < sources->size()) {
    const dsl::source& src = sources->get(r.where.file);
    const dsl::line_col at = src.position(r.where.begin);
    j["file"] = src.name();
    j["line"] = at.line;
    j["column"] = at.column;
  } else {
    j["file"] = nullptr;
    j["line"] = nullptr;
    j["column"] = nullptr;
  }
  return j;
}

ordered_json decision_json(const engine::rule_graph& graph, const engine::decision& d,
                           const dsl::source_manager* sources, bool with_escalations) {
  ordered_json j;
  j["allowed"] = d.allowed;
  j["effect"] = d.allowed ? "allow" : "deny";
  j["from"] = name_or_null(state_name(graph, d.from));
  j["event"] = name_or_null(event_name(graph, d.event));
  j["target"] = name_or_null(state_name(graph, d.target));
  j["edge"] = d.edge == engine::no_rule ? ordered_json(nullptr) : ordered_json(graph.rule(d.edge).name);
  j["matched"] = ordered_json::array();
  for (const engine::rule_id id : d.matched) j["matched"].push_back(rule_json(graph, id, sources));
  j["reasons"] = ordered_json::array();
  for (const engine::deny_reason& r : d.reasons) {
    ordered_json reason;
    reason["kind"] = std::string(kind_id(r.kind));
    reason["rule"] = r.rule == engine::no_rule ? ordered_json(nullptr) : ordered_json(graph.rule(r.rule).name);
    reason["message"] = std::string(r.message);
    j["reasons"].push_back(std::move(reason));
  }
  j["obligations"] = ordered_json::array();
  for (const engine::obligation_hit& o : d.obligations) {
    ordered_json ob;
    ob["action"] = o.action == ast::obligation_action_kind::notify ? "notify" : "require_review";
    ob["target"] = target_json(graph, o.who);
    ob["rule"] = graph.rule(o.rule).name;
    j["obligations"].push_back(std::move(ob));
  }
  j["version"] = std::string(d.version);
  if (d.route) {
    ordered_json route;
    route["rule"] = d.route->routed() ? ordered_json(graph.rule(d.route->rule).name) : ordered_json(nullptr);
    route["target"] = d.route->routed() ? target_json(graph, d.route->to) : ordered_json(nullptr);
    route["fallback"] = d.route->fallback;
    j["route"] = std::move(route);
  }
  if (d.gate) {
    j["mode"] = mode_name(d.gate->mode);
    j["gates"] = ordered_json::array();
    for (const engine::rule_id id : d.gate->held) j["gates"].push_back(graph.rule(id).name);
  }
  if (with_escalations) {
    j["escalations"] = ordered_json::array();
    for (const engine::escalation_hit& h : d.escalations) {
      ordered_json e;
      e["rule"] = graph.rule(h.rule).name;
      e["target"] = target_json(graph, h.to);
      j["escalations"].push_back(std::move(e));
    }
  }
  return j;
}

}  // namespace agentos::engine
