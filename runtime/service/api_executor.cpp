// Routes: the executor protocol (docs/api-executor.md). An executor reads its task's brief and
// writes back once, through the callback, with the fixed markers; the store's pipeline (and so
// the policy) decides whether the submission is taken.
#include <mutex>

#include "engine/sha256.hpp"
#include "runtime/service/api_routes.hpp"
#include "runtime/service/executor_protocol.hpp"

namespace agentos::runtime::api_detail {

struct executor_state {
  explicit executor_state(executor_settings s)
      : settings(std::move(s)), verifier(settings.signatures), base_url(settings.public_base_url) {}

  std::string callback_url() const {
    std::lock_guard lock(mutex);
    return base_url + std::string(callback_path);
  }

  static constexpr std::string_view callback_path = "/api/executions/callback";
  const executor_settings settings;
  signature_verifier verifier;
  mutable std::mutex mutex;
  std::string base_url;  // guarded by mutex
};

void default_public_base_url(executor_state& s, std::string url) {
  std::lock_guard lock(s.mutex);
  if (s.settings.public_base_url.empty()) s.base_url = std::move(url);
}

namespace {

// The assignee as the engine reads an actor: an agent of the policy by id; a registered one with
// its role, kind and capabilities (which the store keeps); null when there is no assignee.
result<json> assignee_actor(const services& s, const engine::rule_graph& g, const std::string& assignee) {
  if (assignee.empty()) return json(nullptr);
  if (g.find_agent(assignee) >= 0) return json{{"id", assignee}};
  auto agents = s.store.agents();
  if (!agents) return std::move(agents).error();
  for (const auto& a : *agents)
    if (a.value("id", "") == assignee && a.value("source", "") == "registered")
      return json{{"id", assignee}, {"role", a["role"]}, {"kind", a["kind"]}, {"capabilities", a["capabilities"]}};
  return json(nullptr);
}

api_response get_brief(const executor_state& st, const services& s, const call& c) {
  const std::string& id = c.params[0];
  auto rec = s.store.task(id);
  if (!rec) return store_failure(rec.error());
  if (!*rec) return api_error(404, "task.not_found", "no task " + id);
  const auto graph = s.store.graph();
  if (!graph) return api_error(503, "store.no_policy", "the store has no active policy");
  brief_options o;
  o.callback_url = st.callback_url();
  o.signatures_required = st.verifier.required();
  o.now = s.clock();
  auto actor = assignee_actor(s, *graph, (**rec)["task"].value("assignee", ""));
  if (!actor) return store_failure(actor.error());
  o.assignee = std::move(*actor);
  add_hydrated_skills(o.assignee, *graph, s.store.skills());  // the dry run sees what a write-back would
  return {200, execution_brief(*graph, **rec, o), {}};
}

api_response callback(executor_state& st, const services& s, const call& c) {
  const std::int64_t now = s.clock();
  // The signature covers the bytes as sent, so it is checked before anything reads them.
  if (auto refused = st.verifier.check({c.actor_id, c.request.signature_timestamp, c.request.signature,
                                        c.request.method, c.request.target, c.request.body},
                                       now))
    return api_error(refused->status, refused->code, refused->message);

  json body;
  if (auto bad = parse_body(c.request.body, s.limits.max_json_depth, body)) return *bad;
  if (auto bad = only_fields(body, {"task_id", "body"})) return *bad;
  const auto task = body.find("task_id");
  if (task == body.end() || !task->is_string() || task->get<std::string>().empty())
    return api_error(400, "request.invalid", "`task_id` must be a non-empty string");
  const auto text = body.find("body");
  if (text == body.end() || !text->is_string())
    return api_error(400, "request.invalid", "`body` must be a string: the executor's text with one marked block");
  const std::string task_id = task->get<std::string>();
  const std::string& content = text->get_ref<const std::string&>();

  marker_parse parsed = parse_markers(content, task_id, st.settings.max_content_bytes);
  if (!parsed.ok()) {
    // Refused before any transition: the pipeline audits the refusal so it is on the record like
    // every other denial.
    protocol_denial_op op;
    op.task_id = task_id;
    op.actor = c.actor;
    op.now = now;
    op.reason = {{"code", parsed.error.code}, {"message", parsed.error.message}, {"line", parsed.error.line}};
    op.input = {{"size", content.size()}, {"sha256", engine::sha256_hex(content)}};
    const outcome o = s.store.apply(std::move(op));
    if (o.status != outcome_status::denied) return from_outcome(o, 200);
    json reason = {{"kind", "protocol"}, {"rule", nullptr}, {"code", parsed.error.code},
                   {"message", parsed.error.message}, {"line", parsed.error.line}};
    json details = {{"reasons", json::array({std::move(reason)})}};
    if (o.body.contains("task")) details["task"] = o.body["task"];
    if (o.body.contains("audit_seq")) details["audit_seq"] = o.body["audit_seq"];
    return api_error(422, o.code, o.message, std::move(details));
  }

  marker_block& b = *parsed.block;
  transition_op op;
  op.task_id = task_id;
  op.event = std::string(submit_event(b.kind));
  op.actor = c.actor;
  op.now = now;
  op.expected_version = b.version;
  op.artifact = artifact_input{std::string(to_string(b.kind)), std::move(b.content)};
  const outcome o = s.store.apply(std::move(op));
  api_response r = from_outcome(o, 200);
  if (o.status == outcome_status::applied && !r.body.contains("decision")) r.body["decision"] = o.decision();
  return r;
}

}  // namespace

std::shared_ptr<executor_state> add_executor_routes(route_table& routes, executor_settings settings) {
  auto st = std::make_shared<executor_state>(std::move(settings));
  routes.push_back({"GET", "/api/tasks/{id}/brief", true,
                    [st](const services& s, const call& c) { return get_brief(*st, s, c); }});
  routes.push_back({"POST", std::string(executor_state::callback_path), true,
                    [st](const services& s, const call& c) { return callback(*st, s, c); }});
  return st;
}

}  // namespace agentos::runtime::api_detail
