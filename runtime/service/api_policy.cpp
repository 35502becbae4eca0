// Routes: the active policy (show, dry-run evaluate, reload).
#include "engine/explain.hpp"
#include "engine/report.hpp"
#include "engine/request_json.hpp"
#include "engine/sha256.hpp"
#include "runtime/service/api_routes.hpp"

namespace agentos::runtime::api_detail {

namespace {

namespace fs = std::filesystem;

constexpr std::size_t max_bundle_files = 256;

api_response no_policy() {
  return api_error(503, "store.no_policy", "the store has no active policy");
}

api_response show_policy(const services& s, const call&) {
  const compiled_policy p = s.store.policy();
  if (!p.graph || !p.bundle) return no_policy();
  json files = json::array();
  for (const auto& [path, text] : p.bundle->files)
    files.push_back({{"path", path}, {"bytes", text.size()}, {"sha256", engine::sha256_hex(text)}});
  return {200,
          {{"name", p.graph->name()},
           {"declared_version", p.graph->declared_version()},
           {"version", p.graph->version()},
           {"entry", p.bundle->entry},
           {"files", std::move(files)},
           {"reload_source", s.policy_entry.empty() ? json(nullptr) : json(s.policy_entry.string())}},
          {}};
}

const char* verdict_name(engine::verdict v) {
  switch (v) {
    case engine::verdict::holds: return "holds";
    case engine::verdict::fails: return "fails";
    case engine::verdict::skipped: return "skipped";
  }
  return "fails";
}

json trace_json(const engine::rule_graph& g, const std::vector<engine::trace_entry>& entries) {
  json out = json::array();
  for (const auto& t : entries) {
    json e = {{"rule", g.rule(t.rule).name},
              {"kind", engine::to_string(g.rule(t.rule).kind)},
              {"verdict", verdict_name(t.result)},
              {"condition", t.condition.empty() ? json(nullptr) : json(t.condition)},
              {"why", t.why.empty() ? json(nullptr) : json(t.why)}};
    if (t.result == engine::verdict::skipped) e["would_hold"] = t.would_hold;
    out.push_back(std::move(e));
  }
  return out;
}

// The actor of a dry run: the caller unless the body names one; an id alone that the store
// registered gets the registered role, kind and capabilities, as a real transition would.
std::optional<api_response> evaluation_actor(const services& s, const call& c, const json& body,
                                             const engine::rule_graph& g, json& actor) {
  const auto a = body.find("actor");
  if (a == body.end() || a->is_null()) actor = c.actor;
  else if (a->is_string()) actor = {{"id", a->get<std::string>()}};
  else if (a->is_object()) actor = *a;
  else return api_error(400, "request.invalid", "`actor` must be an agent id or an actor object");
  const std::string id = actor.value("id", std::string());
  if (!id.empty() && !actor.contains("role") && g.find_agent(id) < 0) {
    auto rec = find_agent(s, id);
    if (!rec) return store_failure(rec.error());
    if (*rec) {
      actor["role"] = (**rec)["role"];
      if (!actor.contains("kind")) actor["kind"] = (**rec)["kind"];
      if (!actor.contains("capabilities")) actor["capabilities"] = (**rec)["capabilities"];
    }
  }
  // As a transition would: the skills hydrated into the actor's workspace count, unless the body
  // gives the capabilities outright.
  if (!actor.contains("capabilities")) add_hydrated_skills(actor, g, s.store.skills());
  return std::nullopt;
}

api_response evaluate(const services& s, const call& c) {
  json body;
  if (auto bad = parse_body(c.request.body, s.limits.max_json_depth, body)) return *bad;
  if (auto bad = only_fields(body, {"event", "task", "task_id", "actor", "assignment", "now"})) return *bad;
  const auto g = s.store.graph();
  if (!g) return no_policy();
  const auto event = body.find("event");
  if (event == body.end() || !event->is_string() || event->get<std::string>().empty())
    return api_error(400, "request.invalid", "`event` must be a non-empty string");
  const auto task = body.find("task");
  const auto task_id = body.find("task_id");
  const bool inline_task = task != body.end() && !task->is_null();
  const bool stored_task = task_id != body.end() && !task_id->is_null();
  if (inline_task == stored_task)
    return api_error(400, "request.invalid", "give either `task` (a task object) or `task_id` (a stored task), not both");
  json request = {{"event", *event}};
  if (inline_task) {
    if (!task->is_object()) return api_error(400, "request.invalid", "`task` must be an object");
    request["task"] = *task;
  } else {
    if (!task_id->is_string()) return api_error(400, "request.invalid", "`task_id` must be a string");
    const std::string id = task_id->get<std::string>();
    auto rec = s.store.task(id);
    if (!rec) return store_failure(rec.error());
    if (!*rec) return api_error(404, "task.not_found", "no task " + id);
    request["task"] = (**rec)["task"];
  }
  if (const auto now = body.find("now"); now != body.end() && !now->is_null()) {
    if (!now->is_number_integer() && !now->is_string())
      return api_error(400, "request.invalid", "`now` must be ms since the epoch or an RFC 3339 time");
    request["now"] = *now;
  } else {
    request["now"] = s.clock();
  }
  json actor;
  if (auto bad = evaluation_actor(s, c, body, *g, actor)) return *bad;
  request["actor"] = std::move(actor);
  // The assignment as given, else the task's assignee with the skills hydrated into its workspace
  // (as a transition would see it); without either, the engine derives it from the task.
  if (const auto a = body.find("assignment"); a != body.end()) {
    request["assignment"] = *a;
  } else if (const auto t = request.find("task"); t != request.end() && t->is_object()) {
    const auto who = t->find("assignee");
    if (who != t->end() && who->is_string() && !who->get<std::string>().empty()) {
      json holder = {{"id", *who}};
      if (const auto role = t->find("assignee_role"); role != t->end()) holder["role"] = *role;
      add_hydrated_skills(holder, *g, s.store.skills());
      if (holder.contains("capabilities")) request["assignment"] = std::move(holder);
    }
  }

  const auto built = engine::request_from_json(request, *g);
  if (!built.ok()) {
    json errors = json::array();
    for (const auto& e : built.errors) errors.push_back({{"pointer", e.pointer}, {"message", e.message}});
    return api_error(400, "request.invalid", "the request does not fit the active policy", {{"errors", std::move(errors)}});
  }
  engine::decision_buffer buffer(*g);
  const engine::decision d = engine::decide(*g, *built.value, buffer);
  const json decision = json::parse(engine::decision_json(*g, d, nullptr, false).dump());
  const engine::explanation x = engine::explain(*g, *built.value);
  json trace = {{"edges", trace_json(*g, x.edges)},
                {"forbids", trace_json(*g, x.forbids)},
                {"permits", trace_json(*g, x.permits)},
                {"obligations", trace_json(*g, x.obligation_rules)}};
  return {200,
          {{"dry_run", true},
           {"policy", g->version()},
           {"decision", decision},
           {"trace", std::move(trace)},
           {"explanation", engine::render_text(*g, x, nullptr)},
           {"request", std::move(request)}},
          {}};
}

// A bundle from a reload's body: {"entry": path, "files": {path: text, ...}}, paths relative.
std::optional<api_response> bundle_from_body(const json& body, policy_bundle& out) {
  const auto entry = body.find("entry");
  const auto files = body.find("files");
  if (entry == body.end() || !entry->is_string() || files == body.end() || !files->is_object())
    return api_error(400, "request.invalid",
                     "send {\"entry\": \"agent-os.policy\", \"files\": {\"agent-os.policy\": \"...\", ...}} or no body");
  if (files->size() > max_bundle_files)
    return api_error(400, "request.invalid", "at most " + std::to_string(max_bundle_files) + " files");
  for (const auto& [path, text] : files->items()) {
    const fs::path p(path);
    if (path.empty() || p.is_absolute() || path.find('\0') != std::string::npos || p.lexically_normal() != p)
      return api_error(400, "request.invalid", "`files`: `" + path + "` is not a plain relative path",
                       {{"field", "files"}, {"path", path}});
    if (!text.is_string()) return api_error(400, "request.invalid", "`files`: the text of `" + path + "` must be a string");
    out.files[path] = text.get<std::string>();
  }
  out.entry = entry->get<std::string>();
  if (!out.files.count(out.entry))
    return api_error(400, "request.invalid", "`entry` must name one of `files`", {{"field", "entry"}});
  return std::nullopt;
}

json warnings_of(const compiled_policy& p) {
  json out = json::array();
  for (const auto& d : p.diagnostics)
    if (d.value("severity", std::string()) != "error") out.push_back(d);
  return out;
}

api_response reload(const services& s, const call& c) {
  if (auto no = require_operator(s, c)) return *no;
  json body = json::object();
  if (!c.request.body.empty())
    if (auto bad = parse_body(c.request.body, s.limits.max_json_depth, body)) return *bad;
  if (auto bad = only_fields(body, {"entry", "files"})) return *bad;
  compiled_policy p;
  if (!body.empty()) {
    policy_bundle bundle;
    if (auto bad = bundle_from_body(body, bundle)) return *bad;
    p = compile_bundle(std::move(bundle));
  } else if (!s.policy_entry.empty()) {
    p = load_policy(s.policy_entry);
  } else {
    return api_error(400, "policy.no_source",
                     "the server was not started with a policy file: send the sources ({\"entry\", \"files\"})");
  }
  if (!p.graph)
    return api_error(422, "policy.invalid", "the policy has errors; the active policy is unchanged",
                     {{"diagnostics", p.diagnostics}, {"text", p.problems}});
  json warnings = warnings_of(p);
  api_response r = from_outcome(s.store.activate(std::move(p), s.clock()), 200);
  if (r.status == 200) r.body["warnings"] = std::move(warnings);
  return r;
}

}  // namespace

void add_policy_routes(route_table& routes) {
  routes.push_back({"GET", "/api/policy", true, show_policy});
  routes.push_back({"POST", "/api/policy/evaluate", true, evaluate});
  routes.push_back({"POST", "/api/policy/reload", true, reload});
}

}  // namespace agentos::runtime::api_detail
