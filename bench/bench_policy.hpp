// The policy the decision benchmark measures, generated for a given number of permit/forbid rules
// and written twice: as agentic-os policy text and as an equivalent Cedar policy set, with the
// requests of both engines rendered from one engine-neutral description (bench_case). The
// measured requests and a seeded sample of random requests go to the Cedar driver with the
// decision agentos made for each, so the Cedar side proves on every one that the two policy sets
// decide alike (bench/cedar/bench.mjs fails loudly otherwise).
//
// Shape. Rules come in buckets of five, one bucket per (state, event) pair of a chain lifecycle
// st0 -> st1 -> … -> done (one unguarded edge per bucket). For bucket b, in state s on event e:
//   permit pB_role     task.state == s and actor.role == R(b) and task.priority >= P(b)
//   permit pB_label    task.state == s and actor.kind == human and "lK" in task.labels
//   permit pB_budget   task.state == s and task.risk <= medium and task.budget < D(b)
//   forbid fB_risk     task.state == s and task.risk == high and actor.kind == agent
//   forbid fB_self     task.state == s and actor.id == task.assignee
// so the rules read an int, an enum (ordered), a decimal, a string set, a role, the actor kind and
// a string equality between two request fields. A fixed routing table (16 routes and a fallback)
// and four gates serve the intake benchmarks; they are not part of the rule count.
//
// The Cedar encoding: an event is an action, the task is the resource (state, priority, risk as a
// string, budget as a Cedar decimal, labels, assignee), the actor is the principal (id, role,
// kind). Agentos also needs an edge for the (state, event) pair; Cedar has no lifecycle, so each
// event gets one extra forbid `unless { [states with an edge on it].contains(resource.state) }`.
// Header-only, used by bench/decide_bench.cpp only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace agentos::bench {

// A request in engine-neutral terms, rendered for each engine.
struct bench_case {
  std::string name;
  std::string state;
  std::string event;
  std::string actor_id;
  std::string actor_role;
  std::string actor_kind;  // agent | human | operator
  std::string assignee;    // "" when the task has none
  std::int64_t priority = 0;
  std::string risk;         // low | medium | high
  std::int64_t budget_cents = 0;
  std::vector<std::string> labels;
};

struct bench_policy {
  std::size_t rules = 0;  // permit and forbid rules in the agentos policy
  std::size_t buckets = 0;
  std::vector<std::string> states;  // st0 … and done (the last)
  std::vector<std::string> events;
  std::string policy_text;
  std::string cedar_text;
  std::size_t cedar_policies = 0;
  bench_case allow;           // two permits apply, no forbid
  bench_case deny_forbid;     // a forbid applies (permits are then not consulted)
  bench_case deny_no_permit;  // nothing applies: default deny
  bench_case intake;          // for route() and gate(): matches the last route, no gate holds
};

namespace detail {

inline const std::vector<std::string>& roles() {
  static const std::vector<std::string> r = {"lead", "reviewer", "engineer", "analyst", "ops", "designer"};
  return r;
}
inline const std::vector<std::string>& risks() {
  static const std::vector<std::string> r = {"low", "medium", "high"};
  return r;
}

// The per-bucket parameters, shared by both renderings.
struct bucket_params {
  std::size_t state = 0;
  std::size_t event = 0;
  std::string role;
  std::int64_t min_priority = 0;
  std::string label;
  std::int64_t max_budget_cents = 0;  // exclusive
};

inline std::string cents_text(std::int64_t cents) {
  std::string frac = std::to_string(cents % 100);
  if (frac.size() < 2) frac.insert(0, "0");
  return std::to_string(cents / 100) + "." + frac;
}

class splitmix {
 public:
  explicit splitmix(std::uint64_t seed) : m_state(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (m_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }

 private:
  std::uint64_t m_state;
};

struct layout {
  std::size_t buckets = 0;
  std::size_t events = 0;
  std::size_t states = 0;  // non-terminal
};

inline layout layout_for(std::size_t rules) {
  layout l;
  l.buckets = rules / 5 == 0 ? 1 : rules / 5;
  while (l.events * l.events < l.buckets) ++l.events;
  l.states = (l.buckets + l.events - 1) / l.events;
  return l;
}

inline bucket_params params(const layout& l, std::size_t b) {
  bucket_params p;
  p.state = b / l.events;
  p.event = b % l.events;
  p.role = roles()[b % roles().size()];
  p.min_priority = static_cast<std::int64_t>(1 + b % 5);
  p.label = "l" + std::to_string(b % 13);
  p.max_budget_cents = static_cast<std::int64_t>(10'000 + (b % 50) * 1'000);  // 100.00 … 590.00
  return p;
}

}  // namespace detail

inline bench_policy make_bench_policy(std::size_t rules) {
  using namespace detail;
  const layout l = layout_for(rules);
  bench_policy out;
  out.rules = l.buckets * 5;
  out.buckets = l.buckets;
  for (std::size_t s = 0; s < l.states; ++s) out.states.push_back("st" + std::to_string(s));
  out.states.push_back("done");
  for (std::size_t e = 0; e < l.events; ++e) out.events.push_back("ev" + std::to_string(e));

  std::string& p = out.policy_text;
  std::string& c = out.cedar_text;
  p += "// Generated by bench/bench_policy.hpp: " + std::to_string(out.rules) + " permit/forbid rules.\n";
  p += "policy decide_bench version \"1\"\n\norg {\n";
  p += "  role lead\n  role reviewer reports_to lead\n  role engineer reports_to reviewer\n";
  p += "  role analyst reports_to lead\n  role ops reports_to lead\n  role designer reports_to reviewer\n}\n\n";
  p += "task {\n  priority: int = 0\n  risk: enum { low, medium, high } = low\n  budget: decimal = 0.00\n}\n\n";
  p += "lifecycle {\n  states ";
  for (std::size_t s = 0; s < out.states.size(); ++s) p += (s ? ", " : "") + out.states[s];
  p += "\n  initial st0\n  terminal done\n";
  // One edge per bucket: st<s> -> st<s+1> (or done) on ev<e>.
  std::vector<std::vector<std::string>> edge_states(l.events);
  for (std::size_t b = 0; b < l.buckets; ++b) {
    const bucket_params bp = params(l, b);
    p += "  " + out.states[bp.state] + " -> " + out.states[bp.state + 1] + " on " + out.events[bp.event] + "\n";
    edge_states[bp.event].push_back(out.states[bp.state]);
  }
  p += "}\n\nrouting {\n";
  for (std::size_t i = 0; i < 16; ++i) {
    p += "  route rt" + std::to_string(i) + " when \"r" + std::to_string(i) + "\" in task.labels and task.priority >= " +
         std::to_string(i % 5) + " -> role " + roles()[i % roles().size()] + "\n";
  }
  p += "  otherwise -> role lead\n}\n\n";
  p += "gate g_risk when task.risk == high because \"high risk is planned first\"\n";
  p += "gate g_prod when \"production\" in task.labels because \"production changes are planned first\"\n";
  p += "gate g_budget when task.budget >= 5000.00 because \"large budgets are planned first\"\n";
  p += "gate g_urgent when task.priority >= 100 and task.risk >= medium because \"urgent risky work\"\n\n";

  for (std::size_t b = 0; b < l.buckets; ++b) {
    const bucket_params bp = params(l, b);
    const std::string n = std::to_string(b);
    const std::string& st = out.states[bp.state];
    const std::string& ev = out.events[bp.event];
    const std::string on = " on " + ev + " when task.state == " + st;
    p += "permit p" + n + "_role" + on + " and actor.role == " + bp.role +
         " and task.priority >= " + std::to_string(bp.min_priority) + "\n";
    p += "permit p" + n + "_label" + on + " and actor.kind == human and \"" + bp.label + "\" in task.labels\n";
    p += "permit p" + n + "_budget" + on + " and task.risk <= medium and task.budget < " +
         cents_text(bp.max_budget_cents) + "\n";
    p += "forbid f" + n + "_risk" + on + " and task.risk == high and actor.kind == agent because \"agents do not move high-risk work\"\n";
    p += "forbid f" + n + "_self" + on + " and actor.id == task.assignee because \"no one approves their own work\"\n";

    const std::string scope = "(principal, action == Action::\"" + ev + "\", resource)\nwhen { resource.state == \"" + st + "\" && ";
    c += "@id(\"p" + n + "_role\")\npermit " + scope + "principal.role == \"" + bp.role +
         "\" && resource.priority >= " + std::to_string(bp.min_priority) + " };\n";
    c += "@id(\"p" + n + "_label\")\npermit " + scope + "principal.kind == \"human\" && resource.labels.contains(\"" +
         bp.label + "\") };\n";
    c += "@id(\"p" + n + "_budget\")\npermit " + scope + "[\"low\", \"medium\"].contains(resource.risk) && resource.budget.lessThan(decimal(\"" +
         cents_text(bp.max_budget_cents) + "\")) };\n";
    c += "@id(\"f" + n + "_risk\")\nforbid " + scope + "resource.risk == \"high\" && principal.kind == \"agent\" };\n";
    c += "@id(\"f" + n + "_self\")\nforbid " + scope + "principal.id == resource.assignee };\n";
    out.cedar_policies += 5;
  }
  // The lifecycle, for Cedar: an event is refused in a state no edge leaves on it.
  for (std::size_t e = 0; e < l.events; ++e) {
    c += "@id(\"edge_" + out.events[e] + "\")\nforbid (principal, action == Action::\"" + out.events[e] +
         "\", resource)\nunless { [";
    for (std::size_t k = 0; k < edge_states[e].size(); ++k) c += (k ? ", \"" : "\"") + edge_states[e][k] + "\"";
    c += "].contains(resource.state) };\n";
    ++out.cedar_policies;
  }

  // The measured requests, in the middle bucket.
  const bucket_params mid = params(l, l.buckets / 2);
  bench_case& a = out.allow;
  a.name = "allow";
  a.state = out.states[mid.state];
  a.event = out.events[mid.event];
  a.actor_id = "agent_7";
  a.actor_role = mid.role;
  a.actor_kind = "agent";
  a.assignee = "agent_3";
  a.priority = 9;
  a.risk = "low";
  a.budget_cents = 5'025;
  a.labels = {"customer", "backend"};
  out.deny_forbid = a;
  out.deny_forbid.name = "deny_forbid";
  out.deny_forbid.risk = "high";
  bench_case& d = out.deny_no_permit;
  d = a;
  d.name = "deny_no_permit";
  d.actor_role = roles()[(l.buckets / 2 + 1) % roles().size()];
  d.actor_kind = "human";
  d.priority = 0;
  d.risk = "high";
  d.labels = {};
  bench_case& in = out.intake;
  in = a;
  in.name = "intake";
  in.state = "st0";
  in.labels = {"r15", "customer"};
  return out;
}

// `count` requests drawn with a fixed seed: mostly in a bucket's own (state, event), some in any
// state on any event (so "no transition" is exercised too), with random actors and attributes.
inline std::vector<bench_case> sample_cases(const bench_policy& policy, std::uint64_t seed, std::size_t count) {
  using namespace detail;
  const layout l = layout_for(policy.rules);
  splitmix rng(seed);
  std::vector<bench_case> out;
  static const char* const kinds[] = {"agent", "human", "operator"};
  for (std::size_t i = 0; i < count; ++i) {
    bench_case c;
    c.name = "sample_" + std::to_string(i);
    const bucket_params bp = params(l, rng.below(l.buckets));
    if (rng.below(100) < 80) {
      c.state = policy.states[bp.state];
      c.event = policy.events[bp.event];
    } else {
      c.state = policy.states[rng.below(policy.states.size())];
      c.event = policy.events[rng.below(policy.events.size())];
    }
    c.actor_id = "agent_" + std::to_string(rng.below(4));
    c.actor_role = roles()[rng.below(roles().size())];
    c.actor_kind = kinds[rng.below(3)];
    c.assignee = rng.below(10) == 0 ? "" : "agent_" + std::to_string(rng.below(4));
    c.priority = static_cast<std::int64_t>(rng.below(10));
    c.risk = risks()[rng.below(3)];
    c.budget_cents = static_cast<std::int64_t>(rng.below(80'000));
    if (rng.below(2)) c.labels.push_back(bp.label);
    if (rng.below(2)) c.labels.push_back("l" + std::to_string(rng.below(13)));
    if (rng.below(2)) c.labels.push_back("customer");
    out.push_back(std::move(c));
  }
  return out;
}

// The request as `agentos eval` reads it (engine/request_json.hpp).
inline nlohmann::json agentos_json(const bench_case& c) {
  nlohmann::json task = {{"id", "T-1"},
                         {"state", c.state},
                         {"labels", c.labels},
                         {"assignee", c.assignee},
                         {"priority", c.priority},
                         {"risk", c.risk},
                         {"budget", detail::cents_text(c.budget_cents)}};
  return {{"event", c.event},
          {"now", 0},
          {"task", std::move(task)},
          {"actor", {{"id", c.actor_id}, {"role", c.actor_role}, {"kind", c.actor_kind}}}};
}

// The same request as a cedar-wasm authorization call (without the policy set id).
inline nlohmann::json cedar_call(const bench_case& c) {
  const nlohmann::json principal = {{"type", "Agent"}, {"id", c.actor_id}};
  const nlohmann::json resource = {{"type", "Task"}, {"id", "T-1"}};
  nlohmann::json entities = nlohmann::json::array();
  entities.push_back({{"uid", principal},
                      {"attrs", {{"id", c.actor_id}, {"role", c.actor_role}, {"kind", c.actor_kind}}},
                      {"parents", nlohmann::json::array()}});
  entities.push_back(
      {{"uid", resource},
       {"attrs",
        {{"state", c.state},
         {"priority", c.priority},
         {"risk", c.risk},
         {"budget", {{"__extn", {{"fn", "decimal"}, {"arg", detail::cents_text(c.budget_cents)}}}}},
         {"labels", c.labels},
         {"assignee", c.assignee}}},
       {"parents", nlohmann::json::array()}});
  return {{"principal", principal},
          {"action", {{"type", "Action"}, {"id", c.event}}},
          {"resource", resource},
          {"context", nlohmann::json::object()},
          {"entities", std::move(entities)}};
}

}  // namespace agentos::bench
