#include "engine/request_json.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/units.hpp"

namespace agentos::engine {

namespace ast = dsl::ast;
using nlohmann::json;

namespace {

class builder {
 public:
  builder(const rule_graph& g, request& r) : m_graph(g), m_req(r) {}

  std::vector<request_error> errors;

  void error(std::string pointer, std::string message) { errors.push_back({std::move(pointer), std::move(message)}); }

  std::string names(const std::vector<std::string>& all) const {
    std::string out;
    for (std::size_t i = 0; i < all.size() && i < 12; ++i) {
      if (i > 0) out += ", ";
      out += all[i];
    }
    if (all.size() > 12) out += ", ...";
    return out;
  }

  std::optional<std::string> string_at(const json& v, const std::string& ptr) {
    if (!v.is_string()) {
      error(ptr, "expected a string, got " + std::string(v.type_name()));
      return std::nullopt;
    }
    return v.get<std::string>();
  }

  std::optional<std::int64_t> integer_at(const json& v, const std::string& ptr) {
    if (!v.is_number_integer()) {
      error(ptr, "expected an integer, got " + std::string(v.type_name()));
      return std::nullopt;
    }
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
      error(ptr, "integer out of range");
      return std::nullopt;
    }
    return v.get<std::int64_t>();
  }

  std::optional<std::int64_t> timestamp_at(const json& v, const std::string& ptr) {
    if (v.is_number_integer()) return integer_at(v, ptr);
    if (v.is_string()) {
      if (auto t = parse_timestamp(v.get<std::string>())) return t;
      error(ptr, "expected an RFC 3339 timestamp such as \"2025-01-31T09:30:00Z\", got \"" + v.get<std::string>() + "\"");
      return std::nullopt;
    }
    error(ptr, "expected a timestamp (milliseconds since the epoch, or an RFC 3339 string), got " +
                   std::string(v.type_name()));
    return std::nullopt;
  }

  std::optional<std::int64_t> duration_at(const json& v, const std::string& ptr) {
    if (v.is_number_integer()) return integer_at(v, ptr);
    if (v.is_string()) {
      if (auto d = parse_duration(v.get<std::string>())) return d;
      error(ptr, "expected a duration such as \"1h30m\" or \"500ms\", got \"" + v.get<std::string>() + "\"");
      return std::nullopt;
    }
    error(ptr, "expected a duration (milliseconds, or a string such as \"24h\"), got " + std::string(v.type_name()));
    return std::nullopt;
  }

  std::optional<std::int64_t> decimal_at(const json& v, const std::string& ptr) {
    if (v.is_number_integer()) {
      const auto i = integer_at(v, ptr);
      if (!i) return std::nullopt;
      std::int64_t out = 0;
      if (__builtin_mul_overflow(*i, std::int64_t{1'000'000}, &out)) {
        error(ptr, "decimal out of range");
        return std::nullopt;
      }
      return out;
    }
    if (v.is_number_float()) {
      const double d = v.get<double>() * 1e6;
      if (!std::isfinite(d) || std::fabs(d) > 9.2e18) {
        error(ptr, "decimal out of range");
        return std::nullopt;
      }
      return static_cast<std::int64_t>(std::llround(d));
    }
    if (v.is_string()) {
      if (auto d = parse_decimal(v.get<std::string>())) return d;
      error(ptr, "expected a decimal with at most six places such as \"12.50\", got \"" + v.get<std::string>() + "\"");
      return std::nullopt;
    }
    error(ptr, "expected a decimal (a number, or a string such as \"12.50\"), got " + std::string(v.type_name()));
    return std::nullopt;
  }

  std::optional<std::vector<std::string>> strings_at(const json& v, const std::string& ptr) {
    if (!v.is_array()) {
      error(ptr, "expected an array of strings, got " + std::string(v.type_name()));
      return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (auto s = string_at(v[i], ptr + "/" + std::to_string(i))) {
        out.push_back(*s);
      } else {
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return out;
  }

  template <typename Find>
  std::optional<std::int32_t> name_at(const json& v, const std::string& ptr, std::string_view what, Find find,
                                      const std::vector<std::string>& known) {
    auto s = string_at(v, ptr);
    if (!s) return std::nullopt;
    const std::int32_t i = find(*s);
    if (i < 0) {
      error(ptr, "unknown " + std::string(what) + " `" + *s + "`" + (known.empty() ? "" : " (known: " + names(known) + ")"));
      return std::nullopt;
    }
    return i;
  }

  std::optional<std::int32_t> actor_kind_at(const json& v, const std::string& ptr) {
    auto s = string_at(v, ptr);
    if (!s) return std::nullopt;
    if (*s == "agent") return kind_agent;
    if (*s == "human") return kind_human;
    if (*s == "operator") return kind_operator;
    error(ptr, "unknown actor kind `" + *s + "` (expected agent, human or operator)");
    return std::nullopt;
  }

  std::vector<std::string> state_names() const {
    std::vector<std::string> out;
    for (const auto& s : m_graph.policy().states) out.push_back(s.name);
    return out;
  }
  std::vector<std::string> role_names() const {
    std::vector<std::string> out;
    for (const auto& r : m_graph.policy().roles) out.push_back(r.name);
    return out;
  }

  std::optional<std::int32_t> role_at(const json& v, const std::string& ptr) {
    return name_at(v, ptr, "role", [&](std::string_view n) { return m_graph.find_role(n); }, role_names());
  }

  void attribute(std::int32_t index, const json& v, const std::string& ptr) {
    const dsl::attribute_info& a = m_graph.policy().attributes[static_cast<std::size_t>(index)];
    m_set_attributes.push_back(index);
    if (v.is_null()) {
      m_req.clear_attribute(index);
      return;
    }
    switch (a.kind) {
      case ast::type_kind::string:
        if (auto s = string_at(v, ptr)) m_req.set_attribute(index, std::string_view(*s));
        return;
      case ast::type_kind::int_:
        if (auto i = integer_at(v, ptr)) m_req.set_attribute(index, *i);
        return;
      case ast::type_kind::decimal:
        if (auto d = decimal_at(v, ptr)) m_req.set_attribute(index, *d);
        return;
      case ast::type_kind::bool_:
        if (!v.is_boolean()) {
          error(ptr, "expected true or false, got " + std::string(v.type_name()));
        } else {
          m_req.set_attribute(index, std::int64_t{v.get<bool>() ? 1 : 0});
        }
        return;
      case ast::type_kind::duration:
        if (auto d = duration_at(v, ptr)) m_req.set_attribute(index, *d);
        return;
      case ast::type_kind::timestamp:
        if (auto t = timestamp_at(v, ptr)) m_req.set_attribute(index, *t);
        return;
      case ast::type_kind::enum_: {
        auto s = string_at(v, ptr);
        if (!s) return;
        for (std::size_t m = 0; m < a.members.size(); ++m) {
          if (a.members[m] == *s) {
            m_req.set_attribute(index, static_cast<std::int64_t>(m));
            return;
          }
        }
        error(ptr, "`" + *s + "` is not a member of " + a.name + " (expected " + names(a.members) + ")");
        return;
      }
      case ast::type_kind::string_set:
        if (auto list = strings_at(v, ptr)) {
          std::vector<std::string_view> views(list->begin(), list->end());
          m_req.set_attribute(index, std::span<const std::string_view>(views));
        }
        return;
      default: error(ptr, "attribute `" + a.name + "` has a type requests cannot set"); return;
    }
  }

  void task(const json& t) {
    if (!t.is_object()) {
      error("/task", "expected an object, got " + std::string(t.type_name()));
      return;
    }
    bool role_given = false;
    std::optional<std::string> assignee;
    for (const auto& [key, v] : t.items()) {
      const std::string ptr = "/task/" + key;
      if (key == "id") {
        if (auto s = string_at(v, ptr)) m_req.set_id(*s);
      } else if (key == "project") {
        if (auto s = string_at(v, ptr)) m_req.set_project(*s);
      } else if (key == "state") {
        if (auto s = name_at(v, ptr, "state", [&](std::string_view n) { return m_graph.find_state(n); }, state_names())) {
          m_req.set_state(*s);
        }
      } else if (key == "mode") {
        auto s = string_at(v, ptr);
        if (s && *s == "direct") {
          m_req.set_mode(mode_direct);
        } else if (s && *s == "plan_first") {
          m_req.set_mode(mode_plan_first);
        } else if (s) {
          error(ptr, "unknown mode `" + *s + "` (expected direct or plan_first)");
        }
      } else if (key == "labels") {
        if (auto list = strings_at(v, ptr)) {
          std::vector<std::string_view> views(list->begin(), list->end());
          m_req.set_labels(std::span<const std::string_view>(views));
        }
      } else if (key == "assignee") {
        if (v.is_null()) {
          m_req.clear_assignee();
        } else if (auto s = string_at(v, ptr)) {
          m_req.set_assignee(*s);
          assignee = *s;
        }
      } else if (key == "assignee_role") {
        role_given = true;
        if (v.is_null()) {
          m_req.set_assignee_role(-1);
        } else if (auto r = role_at(v, ptr)) {
          m_req.set_assignee_role(*r);
        }
      } else if (key == "attempts") {
        if (auto i = integer_at(v, ptr)) m_req.set_attempts(*i);
      } else if (key == "entered_at") {
        if (auto ts = timestamp_at(v, ptr)) m_req.set_entered_at(*ts);
      } else if (key == "created_at") {
        if (auto ts = timestamp_at(v, ptr)) m_req.set_created_at(*ts);
      } else if (key == "escalation_requested") {
        if (!v.is_boolean()) {
          error(ptr, "expected true or false, got " + std::string(v.type_name()));
        } else {
          m_req.set_escalation_requested(v.get<bool>());
        }
      } else if (key == "attributes") {
        if (!v.is_object()) {
          error(ptr, "expected an object of attribute values, got " + std::string(v.type_name()));
          continue;
        }
        for (const auto& [name, av] : v.items()) attribute_named(name, av, ptr + "/" + name);
      } else if (key == "time_in_state" || key == "age") {
        error(ptr, "`" + key + "` is derived from `now` and the task's timestamps; it cannot be given");
      } else {
        attribute_named(key, v, ptr);
      }
    }
    if (assignee && !role_given) {
      if (const std::int32_t agent = m_graph.find_agent(*assignee); agent >= 0) {
        m_req.set_assignee_role(m_graph.policy().agents[static_cast<std::size_t>(agent)].role);
      }
    }
  }

  void attribute_named(const std::string& name, const json& v, const std::string& ptr) {
    const std::int32_t index = m_graph.find_attribute(name);
    if (index < 0) {
      std::vector<std::string> known;
      for (const auto& a : m_graph.policy().attributes) known.push_back(a.name);
      error(ptr, "unknown task attribute `" + name + "`" + (known.empty() ? "" : " (declared: " + names(known) + ")"));
      return;
    }
    attribute(index, v, ptr);
  }

  // An actor or an assignment: `{"id", "role"?, "kind"?, "capabilities"?}`. An id the policy
  // declares as an agent takes its role, kind and capabilities from the org unless given.
  void party(const json& a, const std::string& where, bool actor) {
    if (a.is_null()) return;
    if (!a.is_object()) {
      error(where, "expected an object, got " + std::string(a.type_name()));
      return;
    }
    if (!a.contains("id")) {
      error(where, std::string(actor ? "an actor" : "an assignment") + " needs an `id`");
      return;
    }
    const auto id = string_at(a["id"], where + "/id");
    if (!id) return;
    const std::int32_t agent = m_graph.find_agent(*id);
    const dsl::agent_info* declared = agent >= 0 ? &m_graph.policy().agents[static_cast<std::size_t>(agent)] : nullptr;
    std::int32_t role = declared ? declared->role : -1;
    std::int32_t kind = declared ? static_cast<std::int32_t>(declared->kind) : kind_agent;
    std::vector<std::string> caps = declared ? declared->capabilities : std::vector<std::string>{};
    for (const auto& [key, v] : a.items()) {
      const std::string ptr = where + "/" + key;
      if (key == "id") continue;
      if (key == "role") {
        if (v.is_null()) {
          role = -1;
        } else if (auto r = role_at(v, ptr)) {
          role = *r;
        }
      } else if (key == "kind") {
        if (auto k = actor_kind_at(v, ptr)) kind = *k;
      } else if (key == "capabilities") {
        if (auto list = strings_at(v, ptr)) caps = *list;
      } else {
        error(ptr, "unknown " + std::string(actor ? "actor" : "assignment") + " field `" + key +
                       "` (expected id, role, kind, capabilities)");
      }
    }
    std::vector<std::string_view> views(caps.begin(), caps.end());
    if (actor) {
      m_req.set_actor(*id, role, kind);
      m_req.set_capabilities(std::span<const std::string_view>(views));
    } else {
      m_req.set_assignment(*id, role, kind);
      m_req.set_assignment_capabilities(std::span<const std::string_view>(views));
    }
  }

  void required_attributes() {
    const auto& attrs = m_graph.policy().attributes;
    for (std::size_t i = 0; i < attrs.size(); ++i) {
      if (attrs[i].how != ast::presence::required) continue;
      const bool given = std::find(m_set_attributes.begin(), m_set_attributes.end(), static_cast<std::int32_t>(i)) !=
                         m_set_attributes.end();
      if (!given || m_req.attribute(static_cast<std::int32_t>(i)).is_absent()) {
        error("/task/" + attrs[i].name, "required attribute `" + attrs[i].name + "` is missing");
      }
    }
  }

 private:
  const rule_graph& m_graph;
  request& m_req;
  std::vector<std::int32_t> m_set_attributes;
};

}  // namespace

request_result request_from_json(const json& j, const rule_graph& graph) {
  request_result result;
  request req(graph);
  builder b(graph, req);
  if (!j.is_object()) {
    b.error("", "a request is a JSON object, got " + std::string(j.type_name()));
    result.errors = std::move(b.errors);
    return result;
  }
  bool assignment_given = false;
  for (const auto& [key, v] : j.items()) {
    const std::string ptr = "/" + key;
    if (key == "event") {
      if (v.is_null()) continue;
      std::vector<std::string> known(graph.policy().events.begin(), graph.policy().events.end());
      if (auto e = b.name_at(v, ptr, "event", [&](std::string_view n) { return graph.find_event(n); }, known)) {
        req.set_event(*e);
      }
    } else if (key == "now") {
      if (auto t = b.timestamp_at(v, ptr)) req.set_now(*t);
    } else if (key == "task") {
      b.task(v);
    } else if (key == "actor") {
      b.party(v, "/actor", true);
    } else if (key == "assignment") {
      b.party(v, "/assignment", false);
      assignment_given = true;  // null: explicitly nobody
    } else {
      b.error(ptr, "unknown request field `" + key + "` (expected event, now, task, actor, assignment)");
    }
  }
  if (!assignment_given) req.assignment_from_task();
  b.required_attributes();
  result.errors = std::move(b.errors);
  if (result.errors.empty()) result.value.emplace(std::move(req));
  return result;
}

std::vector<request_error> set_assignment_json(request& req, const rule_graph& graph, const json& assignment) {
  if (assignment.is_null()) {
    req.clear_assignment();
    return {};
  }
  builder b(graph, req);
  b.party(assignment, "/assignment", false);
  return std::move(b.errors);
}

}  // namespace agentos::engine
