#include "runtime/projection/operator_actions.hpp"

#include <optional>

#include "engine/decide.hpp"
#include "engine/report.hpp"
#include "engine/request_json.hpp"
#include "runtime/projection/status.hpp"

namespace agentos::runtime::projection {

namespace {

// The task as the engine sees it, with the operator as actor: guards are evaluated on exactly
// what the pipeline would evaluate them on (the operator's role and kind come from the org).
engine::request_result operator_request(const engine::rule_graph& g, const task_record& task,
                                        const std::string& operator_agent, std::int64_t now) {
  std::string task_text;
  append_request_task_json(task_text, task);
  const json input = {{"now", now}, {"task", json::parse(task_text)}, {"actor", {{"id", operator_agent}}}};
  return engine::request_from_json(input, g);
}

operator_action refuse(std::vector<std::string> reasons) {
  operator_action a;
  a.kind = action_kind::refuse;
  a.reasons = std::move(reasons);
  return a;
}

class translator {
 public:
  translator(const engine::rule_graph& g, const task_record& task, const std::string& operator_agent,
             std::int64_t now)
      : m_g(g), m_task(task), m_operator(operator_agent), m_now(now) {}

  operator_action operator()(const status_change& c) {
    if (!is_paperclip_status(c.status))
      return refuse({"`" + c.status + "` is not a Paperclip status agentos knows"});
    const std::int32_t state = m_g.find_state(m_task.state);
    if (state < 0)
      return refuse({"the task's state `" + m_task.state + "` is not a state of the active policy"});
    if (status_of(state) == c.status) return agreed();

    auto req = operator_request(m_g, m_task, m_operator, m_now);
    if (!req.ok()) {
      std::vector<std::string> reasons;
      for (const auto& e : req.errors) reasons.push_back("the task cannot be evaluated: " + e.pointer + ": " + e.message);
      return refuse(std::move(reasons));
    }
    engine::decision_buffer buffer(m_g);
    engine::request& r = *req.value;
    r.set_state(state);

    // Events whose edge from here (the one decide() takes) ends in a state shown as the status.
    std::vector<std::pair<std::int32_t, std::int32_t>> candidates;  // event, target
    for (std::int32_t e = 0; e < m_g.event_count(); ++e) {
      if (m_g.edges(state, e).empty()) continue;
      r.set_event(e);
      const engine::decision d = engine::decide(m_g, r, buffer);
      if (d.edge != engine::no_rule && status_of(d.target) == c.status) candidates.emplace_back(e, d.target);
    }
    if (candidates.size() == 1) return submit(engine::event_name(m_g, candidates.front().first));
    if (candidates.size() > 1) {
      std::string names;
      for (const auto& [e, to] : candidates) {
        if (!names.empty()) names += ", ";
        names += engine::event_name(m_g, e) + " (to " + engine::state_name(m_g, to) + ")";
      }
      return refuse({"ambiguous: from " + m_task.state + ", `" + c.status + "` can mean " + names +
                     "; decide the plan approval or use agentos instead"});
    }

    // No event takes the task there from where it is. Submit the nearest one that leads to the
    // status anyway: the policy's denial (no transition, a guard) is the authoritative reason,
    // and it is audited like every decision.
    if (auto e = event_into(c.status, state)) return submit(engine::event_name(m_g, *e));
    for (std::int32_t s = 0; s < m_g.state_count(); ++s)
      if (auto e = event_into(c.status, s)) return submit(engine::event_name(m_g, *e));
    return refuse({"the lifecycle has no event that leads to " + c.status});
  }

  operator_action operator()(const assignee_change& c) {
    if (c.agent.empty())
      return refuse({"an agentos task is never unassigned: assign the issue to another agent, or cancel it"});
    if (c.agent == m_task.assignee) return agreed();
    operator_action a = submit(assignment_event(m_g, m_task));
    a.op.assign_to = "agent:" + c.agent;
    return a;
  }

  operator_action operator()(const approval_change& c) {
    operator_action a = submit(c.decision == approval_decision::approved ? "approve_plan" : "request_plan_revision");
    a.op.review = c.note;  // recorded as the review of the plan when the decision is allowed
    return a;
  }

  operator_action operator()(const comment_change& c) {
    // A comment is backend state only where the policy says so, with an event of that name; a
    // comment is never turned into a review or a transition the policy did not declare.
    if (m_g.find_event("comment") < 0) {
      operator_action a;
      a.kind = action_kind::not_reconciled;
      a.reasons.push_back("the policy has no `comment` event: the comment stays in Paperclip");
      return a;
    }
    operator_action a = submit("comment");
    a.op.review = c.body;
    return a;
  }

 private:
  // The first event with an edge from `from` into a state shown as `status`.
  std::optional<std::int32_t> event_into(const std::string& status, std::int32_t from) const {
    for (std::int32_t e = 0; e < m_g.event_count(); ++e)
      for (const auto& edge : m_g.edges(from, e))
        if (status_of(edge.to) == status) return e;
    return std::nullopt;
  }

  std::string_view status_of(std::int32_t state) const { return paperclip_status(m_g, engine::state_name(m_g, state)); }

  operator_action submit(std::string event) const {
    operator_action a;
    a.kind = action_kind::submit;
    a.op.task_id = m_task.id;
    a.op.event = std::move(event);
    a.op.actor = {{"id", m_operator}};
    a.op.now = m_now;
    a.op.expected_version = m_task.version;
    return a;
  }

  static operator_action agreed() {
    operator_action a;
    a.kind = action_kind::agree;
    return a;
  }

  const engine::rule_graph& m_g;
  const task_record& m_task;
  const std::string& m_operator;
  std::int64_t m_now;
};

}  // namespace

std::string_view to_string(action_kind k) {
  switch (k) {
    case action_kind::submit: return "submit";
    case action_kind::refuse: return "refuse";
    case action_kind::agree: return "agree";
    case action_kind::not_reconciled: return "not_reconciled";
  }
  return "refuse";
}

std::string policy_operator(const engine::rule_graph& g) {
  for (const auto& a : g.policy().agents)
    if (a.kind == dsl::ast::actor_kind_value::operator_) return a.name;
  return {};
}

operator_actions::operator_actions(std::string operator_agent) : m_operator(std::move(operator_agent)) {}

operator_action operator_actions::translate(const engine::rule_graph& g, const task_record& task,
                                            const operator_change& change, std::int64_t now) const {
  return std::visit(translator(g, task, m_operator, now), change);
}

}  // namespace agentos::runtime::projection
