// Routes: tasks (create, read, list, transition).
#include "runtime/service/api_routes.hpp"

namespace agentos::runtime::api_detail {

namespace {

api_response list_tasks(const services& s, const call& c) {
  task_filter f;
  f.state = c.query_value("state");
  f.assignee = c.query_value("assignee");
  f.project = c.query_value("project");
  if (auto bad = list_limit(c, s.limits, f.limit)) return *bad;
  auto rows = s.store.tasks(f);
  if (!rows) return store_failure(rows.error());
  return {200, {{"tasks", std::move(*rows)}}, {}};
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
  op.task = *task;
  op.actor = c.actor;
  op.now = s.clock();
  return from_outcome(s.store.apply(std::move(op)), 201);
}

api_response get_task(const services& s, const call& c) {
  const std::string& id = c.params[0];
  auto rec = s.store.task(id);
  if (!rec) return store_failure(rec.error());
  if (!*rec) return api_error(404, "task.not_found", "no task " + id);
  return {200, std::move(**rec), {}};
}

api_response transition_task(const services& s, const call& c) {
  json body;
  if (auto bad = parse_body(c.request.body, s.limits.max_json_depth, body)) return *bad;
  if (auto bad = only_fields(body, {"event", "expected_version", "comment", "assign_to", "artifact"})) return *bad;
  transition_op op;
  op.task_id = c.params[0];
  const auto event = body.find("event");
  if (event == body.end() || !event->is_string() || event->get<std::string>().empty())
    return api_error(400, "request.invalid", "`event` must be a non-empty string");
  op.event = event->get<std::string>();
  if (const auto v = body.find("expected_version"); v != body.end() && !v->is_null()) {
    if (!v->is_number_unsigned()) return api_error(400, "request.invalid", "`expected_version` must be a whole number");
    op.expected_version = v->get<std::uint64_t>();
  }
  if (const auto cm = body.find("comment"); cm != body.end() && !cm->is_null()) {
    if (!cm->is_string()) return api_error(400, "request.invalid", "`comment` must be a string");
    op.review = cm->get<std::string>();
  }
  if (const auto a = body.find("assign_to"); a != body.end() && !a->is_null()) {
    if (!a->is_string()) return api_error(400, "request.invalid", "`assign_to` must be a string");
    op.assign_to = a->get<std::string>();
  }
  if (const auto a = body.find("artifact"); a != body.end() && !a->is_null()) {
    if (!a->is_object() || !a->contains("kind") || !a->contains("content") || !(*a)["kind"].is_string() ||
        !(*a)["content"].is_string() || a->size() != 2)
      return api_error(400, "request.invalid", "`artifact` must be {\"kind\": string, \"content\": string}");
    op.artifact = artifact_input{(*a)["kind"].get<std::string>(), (*a)["content"].get<std::string>()};
  }
  op.actor = c.actor;
  op.now = s.clock();
  const outcome o = s.store.apply(std::move(op));
  api_response r = from_outcome(o, 200);
  if (o.status == outcome_status::applied && !r.body.contains("decision")) r.body["decision"] = o.decision();
  return r;
}

}  // namespace

void add_task_routes(route_table& routes) {
  routes.push_back({"GET", "/api/tasks", true, list_tasks});
  routes.push_back({"POST", "/api/tasks", true, create_task});
  routes.push_back({"GET", "/api/tasks/{id}", true, get_task});
  routes.push_back({"POST", "/api/tasks/{id}/transitions", true, transition_task});
}

}  // namespace agentos::runtime::api_detail
