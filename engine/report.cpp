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

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the pending run of characters that need no escape
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xf]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

namespace {

void append_name_or_null(std::string& out, const std::string& name) {
  if (name.empty())
    out += "null";
  else
    append_json_string(out, name);
}

}  // namespace

void append_decision_json(std::string& out, const engine::rule_graph& graph, const engine::decision& d) {
  out += d.allowed ? "{\"allowed\":true,\"effect\":\"allow\",\"from\":" : "{\"allowed\":false,\"effect\":\"deny\",\"from\":";
  append_name_or_null(out, state_name(graph, d.from));
  out += ",\"event\":";
  append_name_or_null(out, event_name(graph, d.event));
  out += ",\"target\":";
  append_name_or_null(out, state_name(graph, d.target));
  out += ",\"edge\":";
  if (d.edge == engine::no_rule)
    out += "null";
  else
    append_json_string(out, graph.rule(d.edge).name);
  out += ",\"matched\":[";
  for (std::size_t i = 0; i < d.matched.size(); ++i) {
    if (i) out.push_back(',');
    append_json_string(out, graph.rule(d.matched[i]).name);
  }
  out += "],\"reasons\":[";
  for (std::size_t i = 0; i < d.reasons.size(); ++i) {
    const engine::deny_reason& r = d.reasons[i];
    if (i) out.push_back(',');
    out += "{\"kind\":";
    append_json_string(out, kind_id(r.kind));
    out += ",\"rule\":";
    if (r.rule == engine::no_rule)
      out += "null";
    else
      append_json_string(out, graph.rule(r.rule).name);
    out += ",\"message\":";
    append_json_string(out, r.message);
    out.push_back('}');
  }
  out += "],\"obligations\":[";
  for (std::size_t i = 0; i < d.obligations.size(); ++i) {
    const engine::obligation_hit& o = d.obligations[i];
    if (i) out.push_back(',');
    out += o.action == ast::obligation_action_kind::notify ? "{\"action\":\"notify\",\"target\":"
                                                           : "{\"action\":\"require_review\",\"target\":";
    append_json_string(out, engine::target_text(graph, o.who));
    out += ",\"rule\":";
    append_json_string(out, graph.rule(o.rule).name);
    out.push_back('}');
  }
  out += "],\"version\":";
  append_json_string(out, d.version);
  out.push_back('}');
}

ordered_json decision_json(const engine::rule_graph& graph, const engine::decision& d,
                           const dsl::source_manager* sources, bool with_escalations) {
  std::string core;
  append_decision_json(core, graph, d);
  ordered_json j = ordered_json::parse(core);
  if (sources != nullptr) {
    j["matched"] = ordered_json::array();
    for (const engine::rule_id id : d.matched) j["matched"].push_back(rule_json(graph, id, sources));
  }
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
