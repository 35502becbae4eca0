// Random well-typed policies and random requests for the differential test. Policies are text,
// so they go through the real parser and checker; every expression form the language has is
// generated (paths of every type, literals, bare symbols, constant and non-constant set literals,
// int/decimal mixing, role relations, and/or/not nesting). Values come from small pools so
// conditions go both ways, and strings include some the policy never mentions.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine/graph.hpp"
#include "engine/request.hpp"

namespace agentos::engine::testing {

class random_policy {
 public:
  explicit random_policy(std::uint64_t seed) : m_rng(seed) {}

  std::string generate() {
    m_roles = pick(1, 5);
    m_agents = pick(0, 4);
    m_states = pick(2, 7);
    m_events = pick(1, 5);
    m_members = pick(1, 4);
    std::string out = "policy rnd version \"1\"\n";
    out += "org {\n";
    for (int r = 0; r < m_roles; ++r) {
      out += "  role r" + std::to_string(r);
      if (r > 0 && chance(0.7)) out += " reports_to r" + std::to_string(pick(0, r - 1));
      out += "\n";
    }
    for (int a = 0; a < m_agents; ++a) {
      out += "  agent ag" + std::to_string(a) + " role r" + std::to_string(pick(0, m_roles - 1));
      if (chance(0.3)) out += std::string(" kind ") + (chance(0.5) ? "human" : "operator");
      if (chance(0.5)) out += " capabilities { \"c0\", \"c" + std::to_string(pick(1, 3)) + "\" }";
      out += "\n";
    }
    out += "}\n";
    out += "task {\n";
    out += "  s: string " + presence("\"x\"", "\"\"") + "\n";
    out += "  n: int " + presence("2", "-1") + "\n";
    out += "  d: decimal " + presence("1.5", "2") + "\n";
    out += "  b: bool " + presence("true", "false") + "\n";
    out += "  w: duration " + presence("1h", "30m") + "\n";
    out += std::string("  t: timestamp ") + (chance(0.5) ? "optional" : "required") + "\n";
    out += "  e: enum {";
    for (int m = 0; m < m_members; ++m) out += (m ? ", m" : " m") + std::to_string(m);
    out += " } " + presence("m0", "m" + std::to_string(m_members - 1)) + "\n";
    out += "  tags: set<string> " + presence("{ \"x\", \"y\" }", "{}") + "\n";
    out += "}\n";
    out += "lifecycle {\n  states ";
    for (int s = 0; s < m_states; ++s) out += (s ? ", st" : "st") + std::to_string(s);
    out += "\n  initial st0\n  terminal st" + std::to_string(m_states - 1) + "\n";
    m_group = m_states > 2 && chance(0.5);
    if (m_group) out += "  group grp = { st0, st1 }\n";
    // Every event gets at least one transition so rules may name it.
    for (int e = 0; e < m_events; ++e) out += transition(e);
    for (int k = pick(0, 6); k > 0; --k) out += transition(pick(0, m_events - 1));
    out += "}\n";
    std::string routes;
    for (int k = pick(0, 4); k > 0; --k) routes += "  route rt" + std::to_string(m_rule++) + " when " + expr(2) + " -> " + route_target() + "\n";
    if (chance(0.7)) routes += "  otherwise -> " + route_target() + "\n";
    if (!routes.empty()) out += "routing {\n" + routes + "}\n";
    for (int k = pick(0, 3); k > 0; --k) {
      out += "gate g" + std::to_string(m_rule++) + " when " + expr(2);
      if (chance(0.5)) out += " because \"gate reason\"";
      out += "\n";
    }
    for (int k = pick(0, 10); k > 0; --k) {
      out += "permit p" + std::to_string(m_rule++) + " on " + events();
      if (chance(0.85)) out += " when " + rule_condition();
      out += "\n";
    }
    for (int k = pick(0, 5); k > 0; --k) {
      out += "forbid f" + std::to_string(m_rule++) + " on " + events();
      if (chance(0.9)) out += " when " + rule_condition();
      out += " because \"reason " + std::to_string(k) + "\"\n";
    }
    for (int k = pick(0, 3); k > 0; --k) out += "escalate x" + std::to_string(m_rule++) + " when " + expr(2) + " -> " + target() + "\n";
    for (int k = pick(0, 3); k > 0; --k) {
      out += "obligation o" + std::to_string(m_rule++) + " on " + events();
      if (chance(0.6)) out += " when " + expr(2);
      out += " then " + action();
      if (chance(0.4)) out += ", " + action();
      out += "\n";
    }
    return out;
  }

  // A random request for a graph compiled from a generated policy.
  request make_request(const rule_graph& g) {
    request r(g);
    r.set_state(pick(0, g.state_count() - 1));
    if (chance(0.95)) r.set_event(pick(0, g.event_count() - 1));
    r.set_mode(pick(0, 1));
    r.set_id(one_of({"T1", "x", ""}));
    r.set_project(one_of({"x", "y", "proj", ""}));
    r.set_labels(strings());
    const int assignee = pick(-1, static_cast<int>(g.agent_count()));
    if (assignee >= 0 && assignee < g.agent_count()) {
      r.set_assignee("ag" + std::to_string(assignee));
    } else if (assignee == -1) {
      r.set_assignee(one_of({"stranger", "x"}));
    }
    r.set_assignee_role(pick(-1, g.role_count() - 1));
    r.set_attempts(pick(0, 4));
    r.set_now(hours(pick(0, 72)));
    r.set_entered_at(hours(pick(0, 48)));
    r.set_created_at(hours(pick(0, 24)));
    r.set_escalation_requested(chance(0.3));
    if (chance(0.9)) {
      const int who = pick(0, g.agent_count());
      const std::string id = who < g.agent_count() ? "ag" + std::to_string(who) : one_of({"stranger", "x", "ag0"});
      r.set_actor(id, pick(-1, g.role_count() - 1), pick(0, 2));
      r.set_capabilities(capabilities());
    }
    const auto attr = [&](const char* name) { return g.find_attribute(name); };
    if (chance(0.8)) r.set_attribute(attr("s"), std::string_view(one_of({"x", "y", "", "ag0", "proj", "zzz"})));
    if (chance(0.8)) r.set_attribute(attr("n"), std::int64_t{pick(-2, 4)});
    if (chance(0.8)) {
      static const std::int64_t decimals[] = {0, 500'000, 1'000'000, 1'500'000, 2'000'000, 2'500'000, -1'000'000};
      r.set_attribute(attr("d"), decimals[pick(0, 6)]);
    }
    if (chance(0.8)) r.set_attribute(attr("b"), std::int64_t{pick(0, 1)});
    if (chance(0.8)) r.set_attribute(attr("w"), std::int64_t{pick(0, 4) * 1'800'000});
    r.set_attribute(attr("t"), hours(pick(0, 72)));
    if (chance(0.8)) r.set_attribute(attr("e"), std::int64_t{pick(0, m_members - 1)});
    if (chance(0.8)) {
      auto s = strings();
      r.set_attribute(attr("tags"), std::span<const std::string_view>(s));
    }
    return r;
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(m_rng); }
  bool chance(double p) { return std::bernoulli_distribution(p)(m_rng); }
  static std::int64_t hours(int h) { return std::int64_t{h} * 3'600'000; }
  std::string one_of(std::initializer_list<const char*> items) {
    return *(items.begin() + pick(0, static_cast<int>(items.size()) - 1));
  }
  std::vector<std::string_view> strings() {
    static const std::string_view pool[] = {"x", "y", "prod", "c0", "unknown", "a b"};
    std::vector<std::string_view> out;
    for (const auto& s : pool) {
      if (chance(0.3)) out.push_back(s);
    }
    return out;
  }
  std::vector<std::string_view> capabilities() {
    static const std::string_view pool[] = {"c0", "c1", "c2", "c3", "other"};
    std::vector<std::string_view> out;
    for (const auto& s : pool) {
      if (chance(0.4)) out.push_back(s);
    }
    return out;
  }
  std::string presence(const std::string& def1, const std::string& def2) {
    switch (pick(0, 3)) {
      case 0: return "optional";
      case 1: return "required";
      case 2: return "= " + def1;
      default: return "= " + def2;
    }
  }
  std::string state() { return "st" + std::to_string(pick(0, m_states - 1)); }
  std::string event_name(int e) { return "ev" + std::to_string(e); }
  std::string role() { return "r" + std::to_string(pick(0, m_roles - 1)); }
  std::string transition(int e) {
    std::string from;
    const int k = pick(0, 9);
    if (k == 0) from = "*";
    else if (k == 1 && m_group) from = "grp";
    else from = "st" + std::to_string(pick(0, m_states - 2));  // mostly from non-terminal states
    std::string out = "  " + from + " -> " + state() + " on " + event_name(e);
    if (chance(0.5)) out += " when " + expr(2);
    return out + "\n";
  }
  std::string events() {
    std::string out;
    const int first = pick(0, m_events - 1);
    for (int k = 0; k < m_events; ++k) {
      const int e = (first + k) % m_events;
      if (k == 0 || chance(0.3)) out += (out.empty() ? "" : ", ") + event_name(e);
    }
    return out;
  }
  std::string route_target() {
    if (m_agents > 0 && chance(0.3)) return "agent ag" + std::to_string(pick(0, m_agents - 1));
    return "role " + role();
  }
  std::string target() {
    switch (pick(0, 3)) {
      case 0: return "parent";
      case 1: return "operator";
      case 2: return route_target();
      default: return "role " + role();
    }
  }
  std::string action() { return (chance(0.5) ? "notify " : "require review by ") + target(); }

  std::string member() { return "m" + std::to_string(pick(0, m_members - 1)); }
  std::string string_lit() { return "\"" + one_of({"x", "y", "prod", "c0", "", "ag0", "never"}) + "\""; }
  std::string decimal_lit() { return one_of({"0.5", "1.0", "1.5", "2.5", "-1.0", "0.0"}); }
  std::string cmp() { return one_of({"==", "!=", "<", "<=", ">", ">="}); }
  std::string eq() { return one_of({"==", "!="}); }

  // Often as real policies write them: first who or what the rule is about (`actor.role == r`,
  // `task.e in { … }`), which the rule index keys on, then anything.
  std::string rule_condition() {
    if (!chance(0.6)) return expr(3);
    std::string key;
    switch (pick(0, 7)) {
      case 0: key = "actor.role == " + role(); break;
      case 1: key = "task.e == " + member(); break;
      case 2: key = "task.e in { " + member() + ", " + member() + " }"; break;
      case 3: key = "task.s == " + string_lit(); break;
      case 4: key = "actor.kind == " + one_of({"agent", "human", "operator"}); break;
      case 5: key = std::to_string(pick(0, 3)) + " == task.n"; break;
      case 6: key = "{ \"ag0\", " + string_lit() + " } contains actor.id"; break;
      default: key = "actor.id in { \"ag0\", " + string_lit() + " }"; break;
    }
    if (chance(0.3)) key += " and " + key;
    return chance(0.3) ? key : key + " and " + expr(2);
  }

  std::string expr(int depth) {
    if (depth > 0 && chance(0.4)) {
      switch (pick(0, 2)) {
        case 0: return expr(depth - 1) + " and " + expr(depth - 1);
        case 1: return "(" + expr(depth - 1) + " or " + expr(depth - 1) + ")";
        default: return "not (" + expr(depth - 1) + ")";
      }
    }
    return atom();
  }

  std::string atom() {
    switch (pick(0, 33)) {
      case 0: return "task.n " + cmp() + " " + std::to_string(pick(-1, 3));
      case 1: return "task.n " + cmp() + " task.attempts";
      case 2: return "task.n " + cmp() + " " + decimal_lit();
      case 3: return "task.d " + cmp() + " " + decimal_lit();
      case 4: return "task.d " + cmp() + " " + std::to_string(pick(-1, 3));
      case 5: return "task.d " + cmp() + " task.n";
      case 6: return "task.d in { 1, 2.5, " + decimal_lit() + " }";
      case 7: return "task.e " + cmp() + " " + member();
      case 8: return "task.e " + std::string(chance(0.5) ? "in" : "not in") + " { " + member() + ", " + member() + " }";
      case 9: return "task.s " + eq() + " " + string_lit();
      case 10: return "actor.id " + eq() + " task.assignee";
      case 11: return "task.s in { " + string_lit() + ", task.project }";
      case 12: return string_lit() + " in task.labels";
      case 13: return "task.tags contains " + string_lit();
      case 14: return "{ \"c0\", " + string_lit() + " } subset actor.capabilities";
      case 15: return "task.labels subset task.tags";
      case 16: return "task.tags " + eq() + " { \"x\", \"y\" }";
      case 17: return "actor.role parent_of task.assignee_role";
      case 18: return "actor.role ancestor_of task.assignee_role";
      case 19: return "actor.role " + eq() + " " + role();
      case 20: return "task.assignee_role in { " + role() + ", " + role() + " }";
      case 21: return role() + " parent_of actor.role";
      case 22: return "task.state " + eq() + " " + state();
      case 23: return "task.state " + std::string(chance(0.5) ? "in" : "not in") + " { " + state() + ", " + state() + " }";
      case 24: return "event " + eq() + " " + event_name(pick(0, m_events - 1));
      case 25: return "task.mode " + cmp() + " " + one_of({"direct", "plan_first"});
      case 26: return "actor.kind " + eq() + " " + one_of({"agent", "human", "operator"});
      case 27: return "task.time_in_state " + cmp() + " " + one_of({"1h", "24h", "30m", "2d"});
      case 28: return "task.age " + cmp() + " task.w";
      case 29: return "now " + cmp() + " task.t";
      case 30: return chance(0.5) ? "task.b" : "task.escalation_requested";
      case 31: return "task.b " + eq() + " " + one_of({"true", "false"});
      case 32: return "task.n in { task.attempts, " + std::to_string(pick(0, 3)) + " }";
      default: return "task.d in { task.n, " + decimal_lit() + " }";
    }
  }

  std::mt19937_64 m_rng;
  int m_roles = 1, m_agents = 0, m_states = 2, m_events = 1, m_members = 1, m_rule = 0;
  bool m_group = false;
};

// A random request for any graph: values drawn per declared type, strings from the policy's own
// literals and agent names plus some it never mentions.
inline request random_request(std::mt19937_64& rng, const rule_graph& g) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto chance = [&](double p) { return std::bernoulli_distribution(p)(rng); };
  std::vector<std::string> pool{"", "unknown", "zzz"};
  for (std::size_t i = 0; i < g.constant_count(); ++i) {
    const value& c = g.constant(static_cast<std::int32_t>(i));
    if (c.kind == value_kind::string) pool.emplace_back(c.as_text().view);
    if (c.kind == value_kind::string_set) {
      for (std::uint32_t k = 0; k < c.size; ++k) pool.emplace_back(c.texts[k].view);
    }
  }
  const auto& p = g.policy();
  for (const auto& a : p.agents) {
    pool.push_back(a.name);
    for (const auto& c : a.capabilities) pool.push_back(c);
  }
  auto str = [&]() -> std::string_view { return pool[static_cast<std::size_t>(pick(0, static_cast<int>(pool.size()) - 1))]; };
  auto strs = [&]() {
    std::vector<std::string_view> out;
    for (int k = pick(0, 3); k > 0; --k) out.push_back(str());
    return out;
  };
  // Scalars near the thresholds policies tend to use.
  static const std::int64_t ints[] = {-1, 0, 1, 2, 3, 5, 10, 100, 499, 500, 501, 1000, 10000, 10001};
  auto scalar = [&]() { return ints[pick(0, 13)]; };
  request r(g);
  r.set_state(pick(0, g.state_count() - 1));
  if (chance(0.95)) r.set_event(pick(0, g.event_count() - 1));
  r.set_mode(pick(0, 1));
  r.set_id(str());
  r.set_project(str());
  r.set_labels(strs());
  if (chance(0.8)) r.set_assignee(p.agents.empty() || chance(0.2) ? str() : std::string_view(p.agents[static_cast<std::size_t>(pick(0, static_cast<int>(p.agents.size()) - 1))].name));
  r.set_assignee_role(pick(-1, g.role_count() - 1));
  r.set_attempts(pick(0, 5));
  const std::int64_t hour = 3'600'000;
  r.set_now(pick(0, 24 * 10) * hour);
  r.set_entered_at(pick(0, 24 * 5) * hour);
  r.set_created_at(pick(0, 24 * 5) * hour);
  r.set_escalation_requested(chance(0.2));
  if (chance(0.9)) {
    const bool declared = !p.agents.empty() && chance(0.7);
    if (declared) {
      const auto& a = p.agents[static_cast<std::size_t>(pick(0, static_cast<int>(p.agents.size()) - 1))];
      r.set_actor(a.name, chance(0.9) ? a.role : pick(-1, g.role_count() - 1), static_cast<std::int32_t>(a.kind));
    } else {
      r.set_actor(str(), pick(-1, g.role_count() - 1), pick(0, 2));
    }
    r.set_capabilities(strs());
  }
  for (std::int32_t i = 0; i < g.attribute_count(); ++i) {
    if (chance(0.2)) continue;  // leave at its default
    const auto& a = p.attributes[static_cast<std::size_t>(i)];
    switch (a.kind) {
      case dsl::ast::type_kind::string: r.set_attribute(i, str()); break;
      case dsl::ast::type_kind::string_set: {
        auto s = strs();
        r.set_attribute(i, std::span<const std::string_view>(s));
        break;
      }
      case dsl::ast::type_kind::bool_: r.set_attribute(i, std::int64_t{pick(0, 1)}); break;
      case dsl::ast::type_kind::enum_: r.set_attribute(i, std::int64_t{pick(0, static_cast<int>(a.members.size()) - 1)}); break;
      case dsl::ast::type_kind::decimal: r.set_attribute(i, scalar() * 1'000'000 + (chance(0.3) ? 500'000 : 0)); break;
      case dsl::ast::type_kind::duration:
      case dsl::ast::type_kind::timestamp: r.set_attribute(i, pick(0, 24 * 10) * hour); break;
      default: r.set_attribute(i, scalar()); break;
    }
  }
  return r;
}

}  // namespace agentos::engine::testing
