// Routes: tasks (create, read, list, transition).
#include "runtime/service/api_routes.hpp"

namespace agentos::runtime::api_detail {

namespace {

// Pages in task id order (bytewise: T-1, T-10, T-2): `next` is the cursor for ?after= when more
// tasks match, else null. One more row than asked tells whether there are.
api_response list_tasks(const services& s, const call& c) {
  task_filter f;
  f.state = c.query_value("state");
  f.assignee = c.query_value("assignee");
  f.project = c.query_value("project");
  f.label = c.query_value("label");
  f.after = c.query_value("after");
  std::size_t limit = 0;
  if (auto bad = list_limit(c, s.limits, limit)) return *bad;
  f.limit = limit + 1;
  auto rows = s.store.tasks(f);
  if (!rows) return store_failure(rows.error());
  json next = nullptr;
  if (rows->size() > limit) {
    rows->resize(limit);
    next = rows->back()["id"];
  }
  return {200, {{"tasks", std::move(*rows)}, {"next", std::move(next)}}, {}};
}

api_response create_task(const services& s, const call& c) {
  json body;
  if (auto bad = parse_body(c.request.body, s.limits.max_json_depth, body)) return *bad;
  if (auto bad = only_fields(body, {"id", "task"})) return *bad;
  create_op op;
  if (const auto id = body.find("id"); id != body.end() && !id->is_null()) {
    if (!id->is_string()) return api_error(400, "request.invalid", "`id` must be a string");
    op.id = id->get<std::string>();
  }
  const auto task = body.find("task");
  if (task == body.end() || !task->is_object())
    return api_error(400, "request.invalid", "`task` must be an object (the task's project, labels, attributes)");
  if (const std::size_t size = task->dump().size(); size > s.limits.max_task_bytes)
    return api_error(400, "task.too_large",
                     "`task` is " + std::to_string(size) + " bytes of JSON; the limit is " +
                         std::to_string(s.limits.max_task_bytes) + " (put long material in an artifact)",
                     {{"size", size}, {"limit", s.limits.max_task_bytes}});
  op.task = *task;
  if (auto refused = require_member(s, c)) return *refused;
  op.actor = c.actor;
  op.now = s.clock();
  keyed(c, op);
  return from_outcome(s.store.apply(std::move(op)), 201);
}

api_response get_task(const services& s, const call& c) {
  const std::string& id = c.params[0];
  auto rec = s.store.task_json(id);  // written straight to text: the hot read builds no json value
  if (!rec) return store_failure(rec.error());
  if (!*rec) return api_error(404, "task.not_found", "no task " + id);
  return json_text(200, std::move(**rec));
}

api_response transition_task(const services& s, const call& c) {
  json body;
  if (auto bad = parse_body(c.request.body, s.limits.max_json_depth, body)) return *bad;
  if (auto bad = only_fields(body, {"event", "expected_version", "comment", "assign_to", "artifact"})) return *bad;
  const auto event = body.find("event");
  if (event == body.end() || !event->is_string() || event->get<std::string>().empty())
    return api_error(400, "request.invalid", "`event` must be a non-empty string");
  std::optional<std::uint64_t> expected;
  std::optional<std::string> comment, assign_to;
  if (auto bad = optional_version(body, expected)) return *bad;
  if (auto bad = optional_string(body, "comment", comment)) return *bad;
  if (auto bad = optional_string(body, "assign_to", assign_to)) return *bad;
  std::optional<artifact_input> artifact;
  if (const auto a = body.find("artifact"); a != body.end() && !a->is_null()) {
    if (!a->is_object() || !a->contains("kind") || !a->contains("content") || !(*a)["kind"].is_string() ||
        !(*a)["content"].is_string() || a->size() != 2)
      return api_error(400, "request.invalid", "`artifact` must be {\"kind\": string, \"content\": string}");
    artifact = artifact_input{(*a)["kind"].get<std::string>(), (*a)["content"].get<std::string>()};
  }
  return act_on_task(s, c, expected, [&](const task_record&, operation& op) -> std::optional<api_response> {
    transition_op t = new_transition(s, c, event->get<std::string>());
    t.review = comment;
    t.assign_to = assign_to.value_or("");
    t.artifact = artifact;
    op = std::move(t);
    return std::nullopt;
  });
}

}  // namespace

void add_task_routes(route_table& routes) {
  routes.push_back({"GET", "/api/tasks", true, list_tasks});
  routes.push_back({"POST", "/api/tasks", true, create_task, true});
  routes.push_back({"GET", "/api/tasks/{id}", true, get_task});
  routes.push_back({"POST", "/api/tasks/{id}/transitions", true, transition_task, true});
}

}  // namespace agentos::runtime::api_detail
