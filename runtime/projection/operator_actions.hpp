// What an operator's change in Paperclip means for the backend: a pure translation of one change
// seen on a projected issue (a status, an assignee, a plan approval's decision, a board comment)
// into the one lifecycle transition to submit as the operator agent, or a refusal with its
// reasons. No I/O and no clock (`now` comes in), so the rules are unit-tested over the shipped
// policy; the reconciler (reconciler.hpp) does the reading, submitting and reverting. The rules,
// with examples, are in docs/paperclip.md ("Reconciliation"). Thread safe: it holds only the
// operator's id.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/graph.hpp"
#include "runtime/service/pipeline.hpp"
#include "runtime/service/task_record.hpp"

namespace agentos::runtime::projection {

// The status was set to `status` (one of paperclip_statuses, status.hpp).
struct status_change {
  std::string status;
};

// The issue was assigned to the agentos agent `agent` (the reconciler has looked the Paperclip
// agent up in the mapping); empty: the issue was unassigned.
struct assignee_change {
  std::string agent;
};

enum class approval_decision : std::uint8_t { approved, revision_requested, rejected };

// The board decided the plan approval of the task; `note` is the decision note, if any.
struct approval_change {
  approval_decision decision = approval_decision::approved;
  std::string note;
};

// A board comment on the issue.
struct comment_change {
  std::string body;
};

using operator_change = std::variant<status_change, assignee_change, approval_change, comment_change>;

enum class action_kind : std::uint8_t {
  submit,          // `op` is the transition to submit; the policy decides it
  refuse,          // nothing is submitted: the change cannot be read as one event (`reasons`)
  agree,           // the backend already is where the change puts it: nothing to do
  not_reconciled,  // the change has no backend meaning in this policy and stays in Paperclip only
};
[[nodiscard]] std::string_view to_string(action_kind k);

struct operator_action {
  action_kind kind = action_kind::refuse;
  transition_op op;                  // when kind == submit
  std::vector<std::string> reasons;  // refuse, not_reconciled: one line each, for a person
};

// The first agent of kind `operator` the policy declares, or "" when it declares none.
[[nodiscard]] std::string policy_operator(const engine::rule_graph& g);

class operator_actions {
 public:
  // `operator_agent` acts for every board action (the shipped policy's operator is `alex`).
  explicit operator_actions(std::string operator_agent = "alex");

  [[nodiscard]] const std::string& operator_agent() const { return m_operator; }

  // The operation for `change` on `task`, decided against `g`'s lifecycle (guards evaluated on
  // the task as the operator). A submitted transition carries the operator as actor, `now`, and
  // the task's version as expected_version, so a change read against a task that has moved on
  // since is a version conflict rather than an event applied to the wrong state.
  //
  // Status changes: the candidates are the events on edges out of the task's state (the edge
  // decide() would take) whose target maps to the status. One: it is submitted. Several: refused
  // as ambiguous, naming them. None: the first event (edges out of the task's state first, then
  // anywhere in the lifecycle) with an edge into a state that maps to the status is submitted
  // all the same, so that the policy denies it with its own reasons and the denial is audited;
  // refused only when no event leads to the status at all.
  [[nodiscard]] operator_action translate(const engine::rule_graph& g, const task_record& task,
                                          const operator_change& change, std::int64_t now) const;

 private:
  std::string m_operator;
};

}  // namespace agentos::runtime::projection
