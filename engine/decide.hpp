// Deciding: a transition (decide), and the intake and escalation entry points (route, gate,
// escalations). Every function is pure over (graph, request): no clock, no I/O, so a decision
// replays exactly from its inputs and the policy version. Results are views into a caller-owned
// decision_buffer, valid until the buffer's next use; once the buffer has been fitted to a graph
// (it fits itself on first use), deciding allocates nothing. A buffer belongs to one thread at a
// time; the graph and the request may be shared by any number of threads.
//
// Semantics of decide (docs/language.md states them for users):
//   1. The edge is the first transition from the task's state on the event, in source order,
//      whose guard holds. None: deny, "no transition" (no edge at all) or "guard false" (one
//      reason per edge whose guard failed).
//   2. Every forbid bound to the event whose condition holds denies, each with its reason; forbid
//      overrides permit, so permits are not consulted then.
//   3. Otherwise the transition needs a permit bound to the event whose condition holds (every
//      such permit is reported); none: deny, "no permit matched" (default deny).
//   4. Allowed iff 1–3 all pass. Obligations bound to the event whose condition holds are
//      reported only for an allowed transition.
// Permits and forbids are evaluated even when step 1 fails, so a denial lists all its reasons.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "engine/detail/vm.hpp"
#include "engine/graph.hpp"
#include "engine/request.hpp"

namespace agentos::engine {

enum class deny_kind : std::uint8_t {
  wrong_policy,   // the request was built for another policy version
  no_transition,  // no edge leaves the state on the event (or the state/event is unknown)
  guard_false,    // `rule` is an edge whose guard did not hold
  forbidden,      // `rule` is a forbid that applies; message is its reason
  no_permit,      // no permit applies (default deny)
};

[[nodiscard]] std::string_view to_string(deny_kind k);

struct deny_reason {
  deny_kind kind = deny_kind::no_permit;
  rule_id rule = no_rule;
  std::string_view message;  // the forbid's reason, or a fixed text; owned by the graph / static
};

struct obligation_hit {
  rule_id rule = no_rule;
  dsl::ast::obligation_action_kind action = dsl::ast::obligation_action_kind::notify;
  target_ref who;  // `parent` resolved against the task's assignee role
};

struct escalation_hit {
  rule_id rule = no_rule;
  target_ref to;  // `parent` resolved against the task's assignee role
};

struct route_result {
  rule_id rule = no_rule;  // the route or fallback that matched; no_rule when nothing did
  target_ref to;
  bool fallback = false;
  [[nodiscard]] bool routed() const { return rule != no_rule; }
};

struct gate_result {
  std::int32_t mode = mode_direct;  // plan_first when any gate held
  std::span<const rule_id> held;    // every gate that held, in source order
};

struct decision {
  bool allowed = false;
  std::int32_t from = -1;
  std::int32_t event = -1;
  std::int32_t target = -1;  // the chosen edge's target state (set even when a forbid denies)
  rule_id edge = no_rule;
  std::span<const rule_id> matched;  // the edge, every forbid that applied, every permit that applied
  std::span<const deny_reason> reasons;
  std::span<const obligation_hit> obligations;
  std::string_view version;
  // Filled when decide_options ask for them.
  std::optional<route_result> route;
  std::optional<gate_result> gate;
  std::span<const escalation_hit> escalations;
};

struct decide_options {
  bool route = false;        // also run route() on the request
  bool gate = false;         // also run gate()
  bool escalations = false;  // also run escalations()
};

class decision_buffer {
 public:
  decision_buffer() = default;
  explicit decision_buffer(const rule_graph& graph) { fit(graph); }
  // Reserves what `graph` can need; a no-op when the buffer is already big enough.
  void fit(const rule_graph& graph);

 private:
  friend decision decide(const rule_graph&, const request&, decision_buffer&, const decide_options&);
  friend route_result route(const rule_graph&, const request&, decision_buffer&);
  friend gate_result gate(const rule_graph&, const request&, decision_buffer&);
  friend std::span<const escalation_hit> escalations(const rule_graph&, const request&, decision_buffer&);

  detail::vm_scratch m_vm;
  std::vector<rule_id> m_matched;
  std::vector<deny_reason> m_reasons;
  std::vector<obligation_hit> m_obligations;
  std::vector<rule_id> m_gates;
  std::vector<escalation_hit> m_escalations;
};

[[nodiscard]] decision decide(const rule_graph& graph, const request& req, decision_buffer& buffer,
                              const decide_options& options = {});

// Intake: the first route (decision order) whose condition holds, else the fallback.
[[nodiscard]] route_result route(const rule_graph& graph, const request& req, decision_buffer& buffer);
// Intake: plan_first when any gate holds, with every gate that held.
[[nodiscard]] gate_result gate(const rule_graph& graph, const request& req, decision_buffer& buffer);
// The escalation rules that fire for the task at the request's `now`, in source order.
[[nodiscard]] std::span<const escalation_hit> escalations(const rule_graph& graph, const request& req,
                                                          decision_buffer& buffer);

// A target with `parent` resolved for this request (the assignee role's parent, or -1).
[[nodiscard]] target_ref resolve(const rule_graph& graph, const request& req, target_ref t);

}  // namespace agentos::engine
