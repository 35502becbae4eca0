// Who may act through the API, before the policy is asked (docs/api.md, "Who may act"): the
// token's owner must belong to the org; an operator acts on any task; any other member only on
// a task it is assigned, whose assignee's role is below its own in the chart, or whose assignee's
// role is a peer of its own (another role under the same parent: QA beside the engineer it
// verifies; the same role is not a peer). A refusal is a
// 403 and writes nothing, not even an audit record: the policy decides everything finer (422).
#include "runtime/service/api_routes.hpp"

namespace agentos::runtime::api_detail {

namespace {

api_response forbidden(const std::string& message, json details = json::object()) {
  return api_error(403, "auth.forbidden", message, std::move(details));
}

// True when `role` is a strict ancestor of `below` in the chart.
bool above(const engine::rule_graph& g, std::int32_t role, std::int32_t below) {
  if (role < 0 || below < 0) return false;
  std::int32_t r = g.role_parent(below);
  for (std::int32_t steps = 0; r >= 0 && steps < g.role_count(); ++steps, r = g.role_parent(r))
    if (r == role) return true;
  return false;
}

// The scope rule for a member that is not an operator.
std::optional<api_response> out_of_scope(const services& s, const call& c, const org_member& who, const task_record& task) {
  if (who.kind == "operator") return std::nullopt;
  const std::string& assignee = task.assignee;
  if (!assignee.empty() && assignee == c.actor_id) return std::nullopt;
  const std::string& assignee_role = task.assignee_role;
  const auto g = s.store.graph();
  if (g) {
    const std::int32_t mine = g->find_role(who.role), theirs = g->find_role(assignee_role);
    if (above(*g, mine, theirs)) return std::nullopt;
    if (mine >= 0 && theirs >= 0 && mine != theirs && g->role_parent(mine) >= 0 &&
        g->role_parent(mine) == g->role_parent(theirs))
      return std::nullopt;  // a peer role (not the same role: an engineer does not act on another's task)
  }
  const std::string& id = task.id;
  return forbidden(c.actor_id + " (role " + who.role + ") may not act on " + id + ": it is assigned to " +
                       (assignee.empty() ? std::string("nobody") : assignee) +
                       (assignee_role.empty() ? std::string() : " (role " + assignee_role + ")") +
                       ", neither to this actor nor below or beside its role",
                   {{"task", id}, {"assignee", assignee}, {"assignee_role", assignee_role}, {"role", who.role}});
}

std::optional<api_response> not_a_member(const call& c) {
  return forbidden(c.actor_id +
                   " is not in the org (neither an agent of the active policy nor registered): it may read, not act");
}

}  // namespace

result<std::optional<org_member>> member_of(const services& s, const std::string& id) {
  // The active policy's agents, then the registered ones (a policy's agents that a newer policy
  // dropped stay in the table, but they are no longer in the org).
  auto agent = find_agent(s, id);
  if (!agent) return std::move(agent).error();
  if (!*agent) return std::optional<org_member>{};
  const json& a = **agent;
  return std::optional<org_member>{org_member{a.value("kind", std::string("agent")), a.value("role", std::string())}};
}

std::optional<api_response> require_member(const services& s, const call& c) {
  auto who = member_of(s, c.actor_id);
  if (!who) return store_failure(who.error());
  if (!*who) return not_a_member(c);
  return std::nullopt;
}

std::optional<api_response> require_operator(const services& s, const call& c) {
  auto who = member_of(s, c.actor_id);
  if (!who) return store_failure(who.error());
  if (!*who || (*who)->kind != "operator")
    return forbidden("only an operator (kind operator in the org) may do this; " + c.actor_id + " is not one");
  return std::nullopt;
}

transition_op new_transition(const services& s, const call& c, std::string event) {
  transition_op op;
  op.task_id = c.params[0];
  op.event = std::move(event);
  op.actor = c.actor;
  op.now = s.clock();
  keyed(c, op);
  return op;
}

api_response act_on_task(const services& s, const call& c, std::optional<std::uint64_t> expected_version,
                         const task_operation& build) {
  const std::uint64_t wanted = expected_version.value_or(0);  // 0 means "whatever it is", as in the store
  auto who = member_of(s, c.actor_id);
  if (!who) return store_failure(who.error());
  if (!*who) return *not_a_member(c);
  const std::string& id = c.params[0];
  constexpr int attempts = 8;
  outcome o;
  bool transition = false;
  for (int attempt = 1;; ++attempt) {
    const bool last = attempt == attempts;
    auto read = s.store.record(id);
    if (!read) return store_failure(read.error());
    if (!*read) return api_error(404, "task.not_found", "no task " + id);
    const task_record& task = **read;
    const std::uint64_t version = task.version;
    // The client has seen a later version than this read did: read again rather than check scope
    // on an older task.
    if (wanted > version && !last) continue;
    if (auto refused = out_of_scope(s, c, **who, task)) return *refused;
    operation op;
    if (auto refused = build(task, op)) return *refused;
    auto* t = std::get_if<transition_op>(&op);
    transition = t != nullptr;
    if (t) t->expected_version = wanted != 0 ? wanted : version;
    o = s.store.apply(std::move(op));
    // Our own pin lost a race with another writer: check the task again as it is now.
    if (transition && wanted == 0 && o.status == outcome_status::conflict && o.code == "task.version_conflict" &&
        !last)
      continue;
    break;
  }
  api_response r = from_outcome(o, 200);
  if (transition && o.status == outcome_status::applied && !r.body.contains("decision"))
    r.body["decision"] = o.decision();
  return r;
}

}  // namespace agentos::runtime::api_detail
