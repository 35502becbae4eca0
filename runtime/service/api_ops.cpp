// Routes: the operator's actions on tasks (reviews, assignment, cancellation, escalation, the
// escalation sweep) and what a task has accumulated (artifacts, reviews). Every action is an
// operation of the store's pipeline, so the policy decides it and the audit log records it; the
// scope rule (api_scope.cpp) runs first. docs/api.md, "Operator routes".
#include <array>
#include <limits>

#include "engine/sha256.hpp"
#include "runtime/service/api_routes.hpp"

namespace agentos::runtime::api_detail {

namespace {

constexpr std::array<std::string_view, 4> review_decisions = {"approve_plan", "request_plan_revision", "accept_result",
                                                              "request_revision"};

// A body that may be empty (an action with nothing to say): empty or whitespace reads as {}.
std::optional<api_response> parse_optional_body(const services& s, const call& c, json& out) {
  if (c.request.body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    out = json::object();
    return std::nullopt;
  }
  return parse_body(c.request.body, s.limits.max_json_depth, out);
}

// The task in params[0] exists (else the 404).
std::optional<api_response> require_task(const services& s, const call& c) {
  auto rec = s.store.task(c.params[0]);
  if (!rec) return store_failure(rec.error());
  if (!*rec) return api_error(404, "task.not_found", "no task " + c.params[0]);
  return std::nullopt;
}

// ---- actions

api_response review(const services& s, const call& c) {
  json body;
  if (auto bad = parse_body(c.request.body, s.limits.max_json_depth, body)) return *bad;
  if (auto bad = only_fields(body, {"decision", "comment", "expected_version"})) return *bad;
  const auto d = body.find("decision");
  const bool known =
      d != body.end() && d->is_string() &&
      std::find(review_decisions.begin(), review_decisions.end(), d->get<std::string>()) != review_decisions.end();
  if (!known)
    return api_error(400, "request.invalid",
                     "`decision` must be one of approve_plan, request_plan_revision, accept_result, request_revision");
  std::optional<std::string> comment;
  std::optional<std::uint64_t> expected;
  if (auto bad = optional_string(body, "comment", comment)) return *bad;
  if (auto bad = optional_version(body, expected)) return *bad;
  return act_on_task(s, c, expected, [&](const task_record&, operation& op) -> std::optional<api_response> {
    transition_op t = new_transition(s, c, d->get<std::string>());
    t.review = comment.value_or("");  // a review is recorded even without a comment
    op = std::move(t);
    return std::nullopt;
  });
}

api_response assign(const services& s, const call& c) {
  json body;
  if (auto bad = parse_body(c.request.body, s.limits.max_json_depth, body)) return *bad;
  if (auto bad = only_fields(body, {"assignee", "expected_version"})) return *bad;
  std::optional<std::string> assignee;
  std::optional<std::uint64_t> expected;
  if (auto bad = optional_string(body, "assignee", assignee)) return *bad;
  if (!assignee || assignee->empty())
    return api_error(400, "request.invalid", "`assignee` must be \"agent:ID\", \"role:NAME\" or an agent id");
  if (auto bad = optional_version(body, expected)) return *bad;
  return act_on_task(s, c, expected, [&](const task_record& task, operation& op) -> std::optional<api_response> {
    const auto g = s.store.graph();
    if (!g) return api_error(503, "store.no_policy", "the store has no active policy");
    transition_op t = new_transition(s, c, assignment_event(*g, task));
    t.assign_to = *assignee;
    op = std::move(t);
    return std::nullopt;
  });
}

api_response cancel(const services& s, const call& c) {
  json body;
  if (auto bad = parse_optional_body(s, c, body)) return *bad;
  if (auto bad = only_fields(body, {"reason", "expected_version"})) return *bad;
  std::optional<std::string> reason;
  std::optional<std::uint64_t> expected;
  if (auto bad = optional_string(body, "reason", reason)) return *bad;
  if (auto bad = optional_version(body, expected)) return *bad;
  return act_on_task(s, c, expected, [&](const task_record&, operation& op) -> std::optional<api_response> {
    transition_op t = new_transition(s, c, "cancel");
    t.review = reason;  // the reason is kept as a review of the task when the cancel is allowed
    op = std::move(t);
    return std::nullopt;
  });
}

api_response escalate(const services& s, const call& c) {
  json body;
  if (auto bad = parse_optional_body(s, c, body)) return *bad;
  if (auto bad = only_fields(body, {})) return *bad;
  return act_on_task(s, c, std::nullopt, [&](const task_record&, operation& op) -> std::optional<api_response> {
    escalate_op e;
    e.task_id = c.params[0];
    e.request = true;
    e.actor = c.actor;
    e.now = s.clock();
    keyed(c, e);
    op = std::move(e);
    return std::nullopt;
  });
}

api_response sweep(const services& s, const call& c) {
  json body;
  if (auto bad = parse_optional_body(s, c, body)) return *bad;
  if (auto bad = only_fields(body, {"limit"})) return *bad;
  if (auto refused = require_operator(s, c)) return *refused;
  escalate_op e;
  if (const auto l = body.find("limit"); l != body.end() && !l->is_null()) {
    if (!l->is_number_unsigned() || l->get<std::uint64_t>() == 0 || l->get<std::uint64_t>() > e.limit)
      return api_error(400, "request.invalid", "`limit` must be a whole number from 1 to " + std::to_string(e.limit));
    e.limit = l->get<std::size_t>();
  }
  e.actor = c.actor;
  e.now = s.clock();
  keyed(c, e);
  return from_outcome(s.store.apply(std::move(e)), 200);
}

// ---- reads

api_response artifacts(const services& s, const call& c) {
  if (auto missing = require_task(s, c)) return *missing;
  auto rows = s.store.artifacts(c.params[0]);
  if (!rows) return store_failure(rows.error());
  json out = json::array();
  for (const auto& a : *rows)
    out.push_back({{"kind", a.value("kind", "")},
                   {"version", a.value("version", 0)},
                   {"sha256", a.value("sha256", "")},
                   {"size", a.value("size", 0)},
                   {"created_at", a.value("at", std::int64_t{0})},
                   {"created_by", a.value("by", "")},
                   {"event", a.value("event", "")}});
  return {200, {{"task", c.params[0]}, {"artifacts", std::move(out)}}, {}};
}

api_response artifact(const services& s, const call& c) {
  const std::string& kind = c.params[1];
  const auto version = parse_count(c.params[2]);
  if (!version || *version == 0 || *version > std::numeric_limits<std::uint32_t>::max())
    return api_error(400, "request.invalid", "the artifact version must be a whole number from 1");
  if (auto missing = require_task(s, c)) return *missing;
  auto content = s.store.artifact_content(c.params[0], kind, static_cast<std::uint32_t>(*version));
  if (!content) return store_failure(content.error());
  if (!*content)
    return api_error(404, "artifact.not_found",
                     c.params[0] + " has no artifact " + kind + " version " + std::to_string(*version));
  const std::string& text = **content;
  return {200,
          {{"task", c.params[0]},
           {"kind", kind},
           {"version", *version},
           {"sha256", engine::sha256_hex(text)},
           {"size", text.size()},
           {"content", text}},
          {}};
}

api_response reviews(const services& s, const call& c) {
  if (auto missing = require_task(s, c)) return *missing;
  auto rows = s.store.reviews(c.params[0]);
  if (!rows) return store_failure(rows.error());
  return {200, {{"task", c.params[0]}, {"reviews", std::move(*rows)}}, {}};
}

}  // namespace

void add_ops_routes(route_table& routes) {
  routes.push_back({"POST", "/api/tasks/{id}/reviews", true, review, true});
  routes.push_back({"GET", "/api/tasks/{id}/reviews", true, reviews});
  routes.push_back({"POST", "/api/tasks/{id}/assign", true, assign, true});
  routes.push_back({"POST", "/api/tasks/{id}/cancel", true, cancel, true});
  routes.push_back({"POST", "/api/tasks/{id}/escalate", true, escalate, true});
  routes.push_back({"POST", "/api/escalations/sweep", true, sweep, true});
  routes.push_back({"GET", "/api/tasks/{id}/artifacts", true, artifacts});
  routes.push_back({"GET", "/api/tasks/{id}/artifacts/{kind}/{version}", true, artifact});
}

}  // namespace agentos::runtime::api_detail
