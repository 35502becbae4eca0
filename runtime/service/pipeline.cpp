#include "runtime/service/pipeline.hpp"

#include <algorithm>
#include <limits>
#include <set>
#include <unordered_map>

#include "engine/explain.hpp"
#include "engine/report.hpp"
#include "engine/request_json.hpp"
#include "engine/sha256.hpp"
#include "runtime/service/audit.hpp"
#include "runtime/service/keys.hpp"
#include "runtime/service/task_record.hpp"

namespace agentos::runtime {

namespace ast = dsl::ast;
using kv::table;

std::string_view to_string(outcome_status s) {
  switch (s) {
    case outcome_status::applied: return "applied";
    case outcome_status::denied: return "denied";
    case outcome_status::conflict: return "conflict";
    case outcome_status::not_found: return "not_found";
    case outcome_status::invalid: return "invalid";
    case outcome_status::failed: return "failed";
  }
  return "failed";
}


outcome make_outcome(outcome_status status, std::string code, std::string message, json body) {
  outcome o;
  o.status = status;
  o.code = std::move(code);
  o.message = std::move(message);
  o.body = std::move(body);
  return o;
}

namespace {

outcome make(outcome_status s, std::string code, std::string message, json body = json::object()) {
  return make_outcome(s, std::move(code), std::move(message), std::move(body));
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == ':';
  });
}

bool valid_kind(std::string_view k) {
  if (k.empty() || k.size() > 64 || !(k[0] >= 'a' && k[0] <= 'z')) return false;
  return std::all_of(k.begin(), k.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    std::uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (std::size_t k = 1; k < n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n;
  }
  return true;
}

// ---- names

std::string role_name(const engine::rule_graph& g, std::int32_t role) {
  const auto& roles = g.policy().roles;
  return role >= 0 && static_cast<std::size_t>(role) < roles.size() ? roles[static_cast<std::size_t>(role)].name
                                                                    : std::string();
}

std::string actor_id(const json& actor) {
  if (actor.is_object() && actor.contains("id") && actor["id"].is_string()) return actor["id"].get<std::string>();
  return {};
}

// ---- the task cache

std::string str(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

struct policy_context::cache {
  struct entry {
    task_record rec;
    std::unique_ptr<engine::request> base;  // the task's attributes, built once
  };
  std::unordered_map<std::string, entry> map;
  static constexpr std::size_t capacity = 16384;
};

policy_context::policy_context(compiled_policy policy, pipeline_limits limits, std::shared_ptr<const skill_source> skills)
    : m_policy(std::move(policy)), m_limits(limits), m_clock(*m_policy.graph, limits.poll_interval_ms),
      m_buffer(*m_policy.graph), m_cache(std::make_unique<cache>()), m_skills(std::move(skills)) {}
policy_context::~policy_context() = default;
void policy_context::forget(std::string_view task_id) { m_cache->map.erase(std::string(task_id)); }
void policy_context::forget_all() { m_cache->map.clear(); }

namespace {

using cache_entry = policy_context::cache::entry;

// Builds a request from JSON (the slow path: cache misses, unusual actors, replay).
engine::request_result request_from_text(const std::string& text, const engine::rule_graph& g) {
  return engine::request_from_json(json::parse(text), g);
}

std::string request_text(const std::string* event, std::int64_t now, const task_record& t, const std::string* actor,
                         const std::string* assignment = nullptr) {
  std::string out = "{";
  if (event) {
    out += "\"event\":";
    engine::append_json_string(out, *event);
    out.push_back(',');
  }
  out += "\"now\":" + std::to_string(now) + ",\"task\":";
  append_request_task_json(out, t);
  if (actor && !actor->empty() && *actor != "{}") {
    out += ",\"actor\":";
    out += *actor;
  }
  if (assignment && !assignment->empty()) {
    out += ",\"assignment\":";
    out += *assignment;
  }
  out.push_back('}');
  return out;
}

// The cached entry for a task, loading and decoding it on a miss. null when there is no task.
result<cache_entry*> load_task(kv::reader& r, policy_context& p, const std::string& id) {
  auto& map = p.tasks().map;
  if (auto it = map.find(id); it != map.end()) return &it->second;
  auto raw = r.get(table::tasks, id);
  if (!raw) return std::move(raw).error();
  if (!*raw) return static_cast<cache_entry*>(nullptr);
  auto rec = decode_task(**raw);
  if (!rec) return store_error{store_errc::corrupt, 0, "tasks/" + id + ": record is malformed"};
  auto built = request_from_text(request_text(nullptr, 0, *rec, nullptr), p.graph());
  if (!built.ok())
    return store_error{store_errc::invalid, 0,
                       "tasks/" + id + ": stored task does not fit the active policy: " + built.errors[0].pointer + ": " +
                           built.errors[0].message};
  if (map.size() >= policy_context::cache::capacity) map.clear();
  auto& e = map[id];
  e.rec = std::move(*rec);
  e.base = std::make_unique<engine::request>(std::move(*built.value));
  return &e;
}

// The fields the secondary indexes are keyed on, as they were before a change.
struct indexed {
  std::string state, project, assignee;
  std::optional<std::int64_t> due_at;
};
indexed indexed_fields(const task_record& t) { return {t.state, t.project, t.assignee, t.due_at}; }

// The due index is lazy: an entry moves only when the task comes due earlier than it. A task due
// later than its entry (the usual case after a transition: entered_at moved forward) keeps the
// entry; the sweep finds it early, sees due_at, and moves it. A closed task's entry is dropped by
// the sweep. So most transitions write no due-index page, and `indexed_due` is always where the
// entry really is.
result<void> reindex_due(kv::writer& w, task_record& t) {
  if (!t.due_at || (t.indexed_due && *t.indexed_due <= *t.due_at)) return {};
  if (t.indexed_due)
    if (auto r = w.del(table::by_due, keys::due(*t.indexed_due, t.id)); !r) return std::move(r).error();
  if (auto r = w.put(table::by_due, keys::due(*t.due_at, t.id), {}); !r) return std::move(r).error();
  t.indexed_due = t.due_at;
  return {};
}

// Keeps the secondary indexes in step: `before` is null for a new task.
result<void> write_task(kv::writer& w, const indexed* before, task_record& after) {
  const std::string& id = after.id;
  auto reindex = [&](table tb, const std::string* old_v, const std::string& new_v) -> result<void> {
    if (old_v && *old_v == new_v) return {};
    if (old_v && !old_v->empty())
      if (auto r = w.del(tb, keys::index(*old_v, id)); !r) return std::move(r).error();
    if (!new_v.empty())
      if (auto r = w.put(tb, keys::index(new_v, id), {}); !r) return std::move(r).error();
    return {};
  };
  if (auto r = reindex(table::by_state, before ? &before->state : nullptr, after.state); !r) return r;
  if (auto r = reindex(table::by_project, before ? &before->project : nullptr, after.project); !r) return r;
  if (auto r = reindex(table::by_assignee, before ? &before->assignee : nullptr, after.assignee); !r) return r;
  if (auto r = reindex_due(w, after); !r) return r;
  return w.put(table::tasks, id, encode(after));
}

result<std::uint64_t> append_outbox_text(kv::writer& w, audit_head& head, std::string_view fields) {
  const std::uint64_t seq = head.next_outbox;
  std::string value = "{\"seq\":" + std::to_string(seq) + ",";
  value += fields;
  value.push_back('}');
  if (auto r = w.put(table::outbox, kv::be64(seq), value); !r) return std::move(r).error();
  ++head.next_outbox;
  return seq;
}

result<std::uint64_t> append_outbox(kv::writer& w, audit_head& head, const json& event) {
  const std::string text = event.dump();
  return append_outbox_text(w, head, std::string_view(text).substr(1, text.size() - 2));
}

json errors_json(const std::vector<engine::request_error>& errors) {
  json out = json::array();
  for (const auto& e : errors) out.push_back({{"pointer", e.pointer}, {"message", e.message}});
  return out;
}

std::string first_error(const std::vector<engine::request_error>& errors) {
  if (errors.empty()) return "invalid request";
  return (errors[0].pointer.empty() ? "" : errors[0].pointer + ": ") + errors[0].message +
         (errors.size() > 1 ? " (and " + std::to_string(errors.size() - 1) + " more)" : "");
}

// Registered agents (not the policy's own, which the engine knows) supply role, kind and
// capabilities for an actor given by id alone.
result<json> resolve_actor(kv::reader& r, const engine::rule_graph& g, const json& actor) {
  if (!actor.is_object()) return actor;
  const std::string id = actor_id(actor);
  if (id.empty() || actor.contains("role") || g.find_agent(id) >= 0) return actor;
  auto raw = r.get(table::agents, id);
  if (!raw) return std::move(raw).error();
  if (!*raw) return actor;
  json rec = json::parse(**raw, nullptr, false);
  if (rec.is_discarded() || str(rec, "source") != "registered") return actor;
  json out = actor;
  out["role"] = rec["role"];
  if (!out.contains("kind")) out["kind"] = rec["kind"];
  if (!out.contains("capabilities")) out["capabilities"] = rec["capabilities"];
  return out;
}

// ---- assignment

struct assignment {
  std::string agent;  // "" when the role has no agent
  std::string role;   // "" when unresolved
};

// The agent a role's work goes to: the first agent the policy declares with that role, else the
// first registered one (by id).
result<assignment> assign_role(kv::reader& r, const engine::rule_graph& g, const std::string& role) {
  for (const auto& a : g.policy().agents)
    if (role_name(g, a.role) == role) return assignment{a.name, role};
  std::string found;
  auto s = r.scan(table::agents, {}, [&](std::string_view k, std::string_view v) {
    json rec = json::parse(v, nullptr, false);
    if (!rec.is_discarded() && str(rec, "source") == "registered" && str(rec, "role") == role) {
      found = std::string(k);
      return false;
    }
    return true;
  });
  if (!s) return std::move(s).error();
  return assignment{found, role};
}

result<assignment> assign_target(kv::reader& r, const engine::rule_graph& g, const engine::target_ref& t) {
  const auto& agents = g.policy().agents;
  switch (t.kind) {
    case ast::target_kind::agent:
      if (t.index >= 0 && static_cast<std::size_t>(t.index) < agents.size()) {
        const auto& a = agents[static_cast<std::size_t>(t.index)];
        return assignment{a.name, role_name(g, a.role)};
      }
      return assignment{};
    case ast::target_kind::role:
    case ast::target_kind::parent:
      if (t.index < 0) return assignment{};
      return assign_role(r, g, role_name(g, t.index));
    case ast::target_kind::operator_:
      for (const auto& a : agents)
        if (a.kind == ast::actor_kind_value::operator_) return assignment{a.name, role_name(g, a.role)};
      return assignment{};
  }
  return assignment{};
}

// "agent:ID", "role:NAME" or a bare agent id (policy or registered).
result<std::optional<assignment>> parse_assign_to(kv::reader& r, const engine::rule_graph& g, const std::string& s,
                                                  std::string& error) {
  if (s.rfind("role:", 0) == 0) {
    const std::string role = s.substr(5);
    if (g.find_role(role) < 0) {
      error = "unknown role `" + role + "`";
      return std::optional<assignment>{};
    }
    auto a = assign_role(r, g, role);
    if (!a) return std::move(a).error();
    return std::optional<assignment>{*a};
  }
  const std::string id = s.rfind("agent:", 0) == 0 ? s.substr(6) : s;
  if (const std::int32_t a = g.find_agent(id); a >= 0)
    return std::optional<assignment>{assignment{id, role_name(g, g.policy().agents[static_cast<std::size_t>(a)].role)}};
  auto raw = r.get(table::agents, id);
  if (!raw) return std::move(raw).error();
  if (*raw) {
    json rec = json::parse(**raw, nullptr, false);
    if (!rec.is_discarded()) return std::optional<assignment>{assignment{id, str(rec, "role")}};
  }
  error = "unknown agent `" + id + "` (neither in the policy nor registered)";
  return std::optional<assignment>{};
}

// ---- the request for a decision

// The task's fields into `req` (whose attributes come from the cached base).
void stamp(engine::request& req, const engine::rule_graph& g, const task_record& t) {
  req.set_id(t.id);
  req.set_project(t.project);
  std::vector<std::string_view> labels(t.labels.begin(), t.labels.end());
  req.set_labels(labels);
  req.set_state(g.find_state(t.state));
  req.set_mode(t.mode == "plan_first" ? engine::mode_plan_first : engine::mode_direct);
  if (t.assignee.empty())
    req.clear_assignee();
  else
    req.set_assignee(t.assignee);
  req.set_assignee_role(t.assignee_role.empty() ? -1 : g.find_role(t.assignee_role));
  req.set_attempts(t.attempts);
  req.set_entered_at(t.entered_at);
  req.set_created_at(t.created_at);
  req.set_escalation_requested(t.escalation_requested);
  req.assignment_from_task();
}

// An actor the fast path can set directly: {"id": X} with X an agent the policy declares.
bool stamp_actor(engine::request& req, const engine::rule_graph& g, const json& actor) {
  if (!actor.is_object() || actor.size() != 1) return false;
  const std::string id = actor_id(actor);
  const std::int32_t a = g.find_agent(id);
  if (a < 0) return false;
  const auto& agent = g.policy().agents[static_cast<std::size_t>(a)];
  req.set_actor(id, agent.role, static_cast<std::int32_t>(agent.kind));
  std::vector<std::string_view> caps(agent.capabilities.begin(), agent.capabilities.end());
  req.set_capabilities(caps);
  return true;
}

// The assignment object for a transition's request: none when the task alone implies it (no new
// holder, and no hydrated skills known for the assignee); a JSON null when the task goes to
// nobody (a role without agents); else the holder with its role, and its capabilities when it has
// hydrated skills (role, kind and capabilities otherwise come from the org or the registration).
result<std::optional<json>> assignment_of(kv::reader& r, const engine::rule_graph& g, const std::string& agent,
                                          const std::string& role, bool handed_over,
                                          const std::optional<std::vector<std::string>>& hydrated) {
  if (!handed_over && !hydrated) return std::optional<json>{};
  if (agent.empty()) return std::optional<json>{json(nullptr)};
  auto party = resolve_actor(r, g, json{{"id", agent}});
  if (!party) return std::move(party).error();
  json a = std::move(*party);
  a["role"] = role.empty() ? json(nullptr) : json(role);
  if (hydrated) add_capabilities(a, g, *hydrated);
  return std::optional<json>{std::move(a)};
}

// ---- escalations

// Evaluates the escalation rules on `req` (whose `now` is set) and records the rules that started
// to hold since the last evaluation (edge-triggered: a rule that keeps holding fires once).
// Updates rec.escalations and rec.due_at; appends the newly fired hits to `fired`.
result<void> evaluate_escalations(kv::writer& w, policy_context& p, audit_head& head, task_record& rec,
                                  const engine::request& req, std::int64_t now, json* fired) {
  const engine::rule_graph& g = p.graph();
  const std::int32_t s = req.state();
  const bool terminal = s >= 0 && g.policy().states[static_cast<std::size_t>(s)].terminal;
  std::vector<std::string> holding;
  if (!terminal) {
    const auto hits = engine::escalations(g, req, p.buffer());
    std::vector<engine::escalation_hit> fresh;
    for (const auto& h : hits) {
      const std::string& name = g.rule(h.rule).name;
      holding.push_back(name);
      if (std::find(rec.escalations.begin(), rec.escalations.end(), name) == rec.escalations.end())
        fresh.push_back(h);
    }
    if (!fresh.empty()) {
      json input = json::parse(request_text(nullptr, now, rec, nullptr));
      json record = {{"kind", "escalation"},
                     {"at", now},
                     {"task", rec.id},
                     {"actor", nullptr},
                     {"event", nullptr},
                     {"effect", "escalate"},
                     {"policy", g.version()},
                     {"input", std::move(input)},
                     {"output", escalation_output(g, hits)}};
      auto seq = append_audit(w, head, record);
      if (!seq) return std::move(seq).error();
      for (const auto& h : fresh) {
        const std::string target = engine::target_text(g, engine::resolve(g, req, h.to));
        json ev = {{"type", "task.escalated"}, {"at", now},         {"task", rec.id},
                   {"rule", g.rule(h.rule).name}, {"target", target}, {"audit_seq", *seq}};
        if (auto o = append_outbox(w, head, ev); !o) return std::move(o).error();
        if (fired) fired->push_back({{"task", rec.id}, {"rule", g.rule(h.rule).name}, {"target", target}, {"audit_seq", *seq}});
      }
    }
  }
  std::sort(holding.begin(), holding.end());
  rec.escalations = std::move(holding);
  rec.due_at = terminal ? std::nullopt : p.clock().next_due(req, now);
  return {};
}

// ---- idempotency

// The outcome first recorded under `key`; with `request`, a record made for another request is a
// conflict (the key was reused), not a replay.
result<std::optional<outcome>> replayed(kv::reader& r, const std::string& key, const std::string& request) {
  if (key.empty()) return std::optional<outcome>{};
  auto raw = r.get(table::idempotency, key);
  if (!raw) return std::move(raw).error();
  if (!*raw) return std::optional<outcome>{};
  json j = json::parse(**raw, nullptr, false);
  if (j.is_discarded()) return store_error{store_errc::corrupt, 0, "idempotency/" + key + ": malformed record"};
  if (const std::string first = str(j, "request"); !request.empty() && first != request)
    return std::optional<outcome>{make(outcome_status::conflict, "idempotency.key_reused",
                                       "the idempotency key was first used for another request (" +
                                           (first.empty() ? std::string("one without a description") : first) + ")",
                                       {{"first_request", first}, {"request", request}})};
  outcome o;
  o.status = j["status"] == "denied" ? outcome_status::denied : outcome_status::applied;
  o.code = str(j, "code");
  o.message = str(j, "message");
  o.body = j["body"];
  o.body["replayed"] = true;
  return std::optional<outcome>{std::move(o)};
}

result<outcome> remember(kv::writer& w, const std::string& key, const std::string& request, outcome o) {
  if (key.empty() || !o.acknowledged()) return o;
  json j = {{"status", to_string(o.status)}, {"code", o.code}, {"message", o.message}, {"body", o.body}};
  if (!request.empty()) j["request"] = request;
  if (auto r = w.put(table::idempotency, key, j.dump()); !r) return std::move(r).error();
  return o;
}

outcome::task_brief brief_of(const task_record& t) { return {t.id, t.state, {}, t.assignee, t.version}; }

// ---- create

result<outcome> apply_create(kv::writer& w, policy_context& p, audit_head& head, const create_op& op) {
  if (auto prior = replayed(w, op.idempotency_key, op.idempotency_request); !prior || *prior) {
    if (!prior) return std::move(prior).error();
    return std::move(**prior);
  }
  const engine::rule_graph& g = p.graph();
  if (!op.task.is_object()) return make(outcome_status::invalid, "request.invalid", "task must be a JSON object");
  static const std::set<std::string> store_owned = {"id",         "state",      "mode",        "assignee",
                                                    "assignee_role", "attempts", "entered_at", "created_at",
                                                    "escalation_requested", "time_in_state", "age"};
  task_record rec;
  json attributes = json::object();
  for (const auto& [key, value] : op.task.items()) {
    if (store_owned.count(key))
      return make(outcome_status::invalid, "request.invalid",
                  "/task/" + key + ": set by the store, not by the caller (routing, the plan gate and transitions own it)",
                  {{"errors", json::array({{{"pointer", "/task/" + key}, {"message", "set by the store"}}})}});
    if (key == "project") {
      if (!value.is_string()) return make(outcome_status::invalid, "request.invalid", "/task/project: expected a string");
      rec.project = value.get<std::string>();
      if (rec.project.find('\0') != std::string::npos)  // the index entry is `project \0 id`
        return make(outcome_status::invalid, "request.invalid", "/task/project: a project name cannot hold U+0000 (NUL)");
    } else if (key == "labels") {
      if (!value.is_array()) return make(outcome_status::invalid, "request.invalid", "/task/labels: expected an array of strings");
      for (const auto& l : value) {
        if (!l.is_string()) return make(outcome_status::invalid, "request.invalid", "/task/labels: expected an array of strings");
        rec.labels.push_back(l.get<std::string>());
      }
    } else if (key == "attributes") {
      if (!value.is_object()) return make(outcome_status::invalid, "request.invalid", "/task/attributes: expected an object");
      for (const auto& [k, v] : value.items()) attributes[k] = v;
    } else {
      attributes[key] = value;
    }
  }
  std::string id = op.id;
  if (id.empty()) {
    auto raw = w.get(table::meta, keys::next_task);
    if (!raw) return std::move(raw).error();
    std::uint64_t n = 1;
    if (*raw) n = kv::read_be64(**raw).value_or(1);
    id = "T-" + std::to_string(n);
    if (auto r = w.put(table::meta, keys::next_task, kv::be64(n + 1)); !r) return std::move(r).error();
  } else if (!valid_id(id)) {
    return make(outcome_status::invalid, "task.bad_id",
                "task id `" + id + "` is not 1-128 characters of letters, digits, `-`, `_`, `.`, `:`");
  }
  auto existing = w.get(table::tasks, id);
  if (!existing) return std::move(existing).error();
  if (*existing) return make(outcome_status::conflict, "task.exists", "task " + id + " already exists");

  rec.id = id;
  rec.state = g.policy().states[static_cast<std::size_t>(g.initial_state())].name;
  rec.entered_at = rec.created_at = rec.updated_at = op.now;
  rec.attributes = attributes.dump();
  rec.policy = g.version();

  auto actor = resolve_actor(w, g, op.actor);
  if (!actor) return std::move(actor).error();
  rec.created_by = actor_id(*actor);
  const std::string actor_text = actor->is_object() && !actor->empty() ? actor->dump() : std::string();
  json input = json::parse(request_text(nullptr, op.now, rec, &actor_text));
  auto built = engine::request_from_json(input, g);
  if (!built.ok())
    return make(outcome_status::invalid, "request.invalid", first_error(built.errors),
                {{"errors", errors_json(built.errors)}});
  engine::request& req = *built.value;
  const engine::route_result route = engine::route(g, req, p.buffer());
  const engine::gate_result gate_r = engine::gate(g, req, p.buffer());
  const json intake = intake_output(g, route, gate_r);

  assignment who;
  if (route.routed()) {
    auto a = assign_target(w, g, engine::resolve(g, req, route.to));
    if (!a) return std::move(a).error();
    who = *a;
  }
  rec.assignee = who.agent;
  rec.assignee_role = who.role;
  rec.mode = engine::mode_name(gate_r.mode);
  rec.intake = intake.dump();
  rec.visited = {rec.state};
  stamp(req, g, rec);
  req.clear_actor();

  json record = {{"kind", "intake"},  {"at", op.now},      {"task", id},           {"actor", rec.created_by},
                 {"event", nullptr},  {"effect", "route"}, {"policy", g.version()}, {"input", std::move(input)},
                 {"output", intake}};
  auto seq = append_audit(w, head, record);
  if (!seq) return std::move(seq).error();
  json fired = json::array();
  if (auto r = evaluate_escalations(w, p, head, rec, req, op.now, &fired); !r) return std::move(r).error();
  if (auto r = write_task(w, nullptr, rec); !r) return std::move(r).error();
  json ev = {{"type", "task.created"}, {"at", op.now},    {"task", id},       {"assignee", rec.assignee},
             {"mode", rec.mode},       {"state", rec.state}, {"audit_seq", *seq}};
  if (auto o = append_outbox(w, head, ev); !o) return std::move(o).error();
  json body = {{"task", to_json(rec)}, {"audit_seq", *seq}, {"escalations", std::move(fired)}};
  const std::string message = "created " + id + " (" + rec.mode + ", " +
                              (who.agent.empty() ? std::string("unassigned") : "assigned to " + who.agent) + ")";
  // Cache it: the next transitions on a new task are the common case.
  auto& map = p.tasks().map;
  if (map.size() >= policy_context::cache::capacity) map.clear();
  auto& e = map[id];
  e.rec = std::move(rec);
  e.base = std::make_unique<engine::request>(std::move(req));
  return remember(w, op.idempotency_key, op.idempotency_request,
                  make(outcome_status::applied, "task.created", message, std::move(body)));
}

// ---- transition

result<outcome> apply_transition(kv::writer& w, policy_context& p, audit_head& head, const transition_op& op) {
  if (auto prior = replayed(w, op.idempotency_key, op.idempotency_request); !prior || *prior) {
    if (!prior) return std::move(prior).error();
    return std::move(**prior);
  }
  const engine::rule_graph& g = p.graph();
  auto loaded = load_task(w, p, op.task_id);
  if (!loaded) return std::move(loaded).error();
  if (*loaded == nullptr) return make(outcome_status::not_found, "task.not_found", "no task " + op.task_id);
  cache_entry& entry = **loaded;
  task_record& rec = entry.rec;
  if (op.expected_version != 0 && op.expected_version != rec.version) {
    outcome stale = make(outcome_status::conflict, "task.version_conflict",
                         "task " + op.task_id + " is at version " + std::to_string(rec.version) + ", not " +
                             std::to_string(op.expected_version));
    stale.brief = brief_of(rec);
    return stale;
  }
  if (op.artifact) {
    const auto& a = *op.artifact;
    if (!valid_kind(a.kind))
      return make(outcome_status::invalid, "artifact.bad_kind",
                  "artifact kind `" + a.kind + "` is not a lowercase name ([a-z][a-z0-9_]*, at most 64)");
    if (a.content.size() > p.limits().max_artifact_bytes)
      return make(outcome_status::invalid, "artifact.too_large",
                  "artifact is " + std::to_string(a.content.size()) + " bytes; the limit is " +
                      std::to_string(p.limits().max_artifact_bytes));
    if (!valid_utf8(a.content))
      return make(outcome_status::invalid, "artifact.not_utf8", "artifact content is not valid UTF-8 text");
  }
  std::optional<assignment> reassigned;
  if (!op.assign_to.empty()) {
    std::string error;
    auto a = parse_assign_to(w, g, op.assign_to, error);
    if (!a) return std::move(a).error();
    if (!*a) return make(outcome_status::invalid, "request.bad_assignee", error);
    reassigned = *a;
  }
  const std::int32_t event = g.find_event(op.event);
  if (event < 0)
    return make(outcome_status::invalid, "request.invalid", "/event: unknown event `" + op.event + "`",
                {{"errors", json::array({{{"pointer", "/event"}, {"message", "unknown event `" + op.event + "`"}}})}});

  // The request: the fast path stamps the cached task into a fresh request; an actor the policy
  // does not declare, or one with hydrated skills, goes through the JSON path, which resolves and
  // validates it.
  // Each workspace is read once: the holder's skills are the actor's when they are one agent.
  const skill_source* skills = p.skills();
  const std::string& holder_id = reassigned ? reassigned->agent : rec.assignee;
  const std::optional<std::vector<std::string>> actor_skills =
      skills ? skills->skills_of(actor_id(op.actor)) : std::nullopt;
  const std::optional<std::vector<std::string>> holder_skills =
      !skills || holder_id.empty()       ? std::nullopt
      : holder_id == actor_id(op.actor) ? actor_skills
                                        : skills->skills_of(holder_id);
  std::optional<engine::request> fast;
  engine::request_result slow;
  engine::request* req_ptr = nullptr;
  fast.emplace(g);
  const bool fast_actor = !actor_skills && stamp_actor(*fast, g, op.actor);
  result<json> actor = fast_actor ? result<json>(json()) : resolve_actor(w, g, op.actor);
  if (!actor) return std::move(actor).error();
  if (actor_skills && actor->is_object()) add_capabilities(*actor, g, *actor_skills);
  const json& actor_json = fast_actor ? op.actor : *actor;
  std::string actor_text;
  if (fast_actor) {
    actor_text = "{\"id\":";
    engine::append_json_string(actor_text, actor_id(op.actor));
    actor_text.push_back('}');
  } else if (actor_json.is_object() && !actor_json.empty()) {
    actor_text = actor_json.dump();
  }
  if (fast_actor) {
    fast->borrow_attributes(*entry.base);
    stamp(*fast, g, rec);
    fast->set_event(event);
    fast->set_now(op.now);
    req_ptr = &*fast;
  } else {
    slow = request_from_text(request_text(&op.event, op.now, rec, &actor_text), g);
    if (!slow.ok())
      return make(outcome_status::invalid, "request.invalid", first_error(slow.errors),
                  {{"errors", errors_json(slow.errors)}});
    req_ptr = &*slow.value;
  }
  engine::request& req = *req_ptr;
  // The assignment: the new holder when the event names one, else the assignee. Given in the
  // request (and so on the record) when it is not what the task alone implies.
  auto holder = assignment_of(w, g, holder_id, reassigned ? reassigned->role : rec.assignee_role,
                              reassigned.has_value(), holder_skills);
  if (!holder) return std::move(holder).error();
  std::string assignment_text;
  if (*holder) {
    if (auto errors = engine::set_assignment_json(req, g, **holder); !errors.empty())
      return make(outcome_status::invalid, "request.invalid", first_error(errors), {{"errors", errors_json(errors)}});
    assignment_text = (*holder)->dump();
  }
  const engine::decision d = engine::decide(g, req, p.buffer());
  const std::string who = actor_id(actor_json);

  // The audit record, written as text: inputs (the request), outputs (the decision), version.
  std::string fields;
  fields.reserve(1024 + rec.attributes.size());
  fields += "\"kind\":\"transition\",\"at\":" + std::to_string(op.now) + ",\"task\":";
  engine::append_json_string(fields, op.task_id);
  fields += ",\"actor\":";
  if (who.empty())
    fields += "null";
  else
    engine::append_json_string(fields, who);
  fields += ",\"event\":";
  engine::append_json_string(fields, op.event);
  fields += d.allowed ? ",\"effect\":\"allow\",\"policy\":" : ",\"effect\":\"deny\",\"policy\":";
  engine::append_json_string(fields, g.version());
  fields += ",\"input\":";
  fields += request_text(&op.event, op.now, rec, &actor_text, &assignment_text);
  fields += ",\"output\":";
  const std::size_t output_at = fields.size();
  engine::append_decision_json(fields, g, d);
  auto seq = append_audit_text(w, head, fields);
  if (!seq) return std::move(seq).error();

  if (!d.allowed) {
    std::string why = d.reasons.empty() ? "denied" : engine::reason_text(g, d.reasons.front());
    outcome denied = make(outcome_status::denied, "transition.denied", op.event + " on " + op.task_id + " denied: " + why);
    denied.brief = brief_of(rec);
    denied.audit_seq = *seq;
    denied.decision_text = fields.substr(output_at);
    if (!op.idempotency_key.empty()) finish_body(denied);
    return remember(w, op.idempotency_key, op.idempotency_request, std::move(denied));
  }

  // Allowed: from here on the cached record changes; any failure forgets it.
  const indexed before = indexed_fields(rec);
  auto fail = [&](store_error e) -> result<outcome> {
    p.forget(op.task_id);
    return e;
  };
  const std::string to = engine::state_name(g, d.target);
  const std::string& from = before.state;
  rec.state = to;
  req.set_state(d.target);
  if (to != from) {
    rec.entered_at = op.now;
    req.set_entered_at(op.now);
    // `visited` lists states in the order the task first entered them. Going back to a state
    // first entered before the current one (a revision, a re-plan, a resumption) is one attempt.
    const auto at_to = std::find(rec.visited.begin(), rec.visited.end(), to);
    const auto at_from = std::find(rec.visited.begin(), rec.visited.end(), from);
    if (at_to == rec.visited.end()) {
      rec.visited.push_back(to);
    } else if (at_to < at_from) {
      ++rec.attempts;
      req.set_attempts(rec.attempts);
    }
    if (rec.escalation_requested) {
      // An explicit escalation request is answered by the next change of state.
      rec.escalation_requested = false;
      req.set_escalation_requested(false);
    }
  }
  if (reassigned) {
    rec.assignee = reassigned->agent;
    rec.assignee_role = reassigned->role;
    if (rec.assignee.empty())
      req.clear_assignee();
    else
      req.set_assignee(rec.assignee);
    req.set_assignee_role(rec.assignee_role.empty() ? -1 : g.find_role(rec.assignee_role));
  }
  // From here on the request describes the task as stored (for the escalations evaluated on it),
  // so an assignment given explicitly goes back to what the task implies, as the audit's replay
  // will read it (without one, it already is).
  if (*holder) req.assignment_from_task();
  rec.version += 1;
  rec.updated_at = op.now;

  json body;
  if (op.artifact) {
    const auto& a = *op.artifact;
    const std::string sha = engine::sha256_hex(a.content);
    auto have = w.get(table::blobs, sha);
    if (!have) return fail(std::move(have).error());
    if (!*have)
      if (auto r = w.put(table::blobs, sha, a.content); !r) return fail(std::move(r).error());
    const std::uint32_t v = rec.artifact_version(a.kind) + 1;
    rec.set_artifact_version(a.kind, v);
    std::string ref = "{\"task\":";
    engine::append_json_string(ref, op.task_id);
    ref += ",\"kind\":\"" + a.kind + "\",\"version\":" + std::to_string(v) + ",\"sha256\":\"" + sha +
           "\",\"size\":" + std::to_string(a.content.size()) + ",\"at\":" + std::to_string(op.now) + ",\"by\":";
    engine::append_json_string(ref, who);
    ref += ",\"event\":";
    engine::append_json_string(ref, op.event);
    ref += ",\"audit_seq\":" + std::to_string(*seq) + "}";
    if (auto r = w.put(table::artifacts, keys::artifact(op.task_id, a.kind, v), ref); !r)
      return fail(std::move(r).error());
    body["artifact"] = {{"kind", a.kind}, {"version", v}, {"sha256", sha}, {"size", a.content.size()}};
  }
  if (op.review) {
    json latest = nullptr;
    for (const auto& [kind, v] : rec.artifacts)
      if (latest.is_null() || kind == "result") latest = {{"kind", kind}, {"version", v}};
    json review = {{"task", op.task_id}, {"by", who},       {"event", op.event}, {"verdict", to},
                   {"comment", *op.review}, {"artifact", latest}, {"at", op.now}, {"audit_seq", *seq}};
    if (auto r = w.put(table::reviews, keys::index(op.task_id, kv::be64(*seq)), review.dump()); !r)
      return fail(std::move(r).error());
    body["review"] = std::move(review);
  }
  req.set_event(-1);
  req.clear_actor();
  json fired = json::array();
  if (auto r = evaluate_escalations(w, p, head, rec, req, op.now, &fired); !r) return fail(std::move(r).error());
  if (auto r = write_task(w, &before, rec); !r) return fail(std::move(r).error());

  std::string ev = "\"type\":\"task.transitioned\",\"at\":" + std::to_string(op.now) + ",\"task\":";
  engine::append_json_string(ev, op.task_id);
  ev += ",\"event\":";
  engine::append_json_string(ev, op.event);
  ev += ",\"from\":";
  engine::append_json_string(ev, from);
  ev += ",\"to\":";
  engine::append_json_string(ev, to);
  ev += ",\"actor\":";
  engine::append_json_string(ev, who);
  ev += ",\"version\":" + std::to_string(rec.version) + ",\"assignee\":";
  engine::append_json_string(ev, rec.assignee);
  ev += ",\"audit_seq\":" + std::to_string(*seq);
  if (!d.obligations.empty()) {
    // The decision text's obligations array, verbatim.
    const std::string_view out = std::string_view(fields).substr(output_at);
    const auto begin = out.find("\"obligations\":");
    const auto end = out.find("],\"version\":", begin);
    if (begin != std::string_view::npos && end != std::string_view::npos) {
      ev.push_back(',');
      ev += out.substr(begin, end + 1 - begin);
    }
  }
  if (auto o = append_outbox_text(w, head, ev); !o) return fail(std::move(o).error());
  if (!fired.empty()) body["escalations"] = std::move(fired);
  outcome done = make(outcome_status::applied, "transition.applied", op.task_id + ": " + from + " -> " + to + " on " + op.event,
                      body.is_null() ? json::object() : std::move(body));
  done.brief = brief_of(rec);
  done.brief->from = from;
  done.audit_seq = *seq;
  done.decision_text = fields.substr(output_at);
  if (!op.idempotency_key.empty()) {  // what is remembered is the whole body
    finish_body(done);
    done.body["decision"] = done.decision();
  }
  return remember(w, op.idempotency_key, op.idempotency_request, std::move(done));
}

// ---- escalate

result<void> unindex_due(kv::writer& w, task_record& t) {
  if (!t.indexed_due) return {};
  if (auto r = w.del(table::by_due, keys::due(*t.indexed_due, t.id)); !r) return std::move(r).error();
  t.indexed_due.reset();
  return {};
}

// Evaluates one task's escalation rules at `now`. From the sweep (`swept`), the task's index
// entry has come due: it is moved to the task's next due instant (or dropped when there is none)
// whether or not anything fired. Returns the hits that fired, or nullopt for a missing task.
result<std::optional<json>> escalate_one(kv::writer& w, policy_context& p, audit_head& head, const std::string& id,
                                         std::int64_t now, bool swept) {
  auto loaded = load_task(w, p, id);
  if (!loaded) return std::move(loaded).error();
  if (*loaded == nullptr) return std::optional<json>{};
  cache_entry& entry = **loaded;
  task_record& rec = entry.rec;
  const indexed before = indexed_fields(rec);
  const std::vector<std::string> escalations_before = rec.escalations;
  const std::optional<std::int64_t> indexed_before = rec.indexed_due;
  auto fail = [&](store_error e) -> result<std::optional<json>> {
    p.forget(id);
    return e;
  };
  json fired = json::array();
  // An entry that came due before the task did (the lazy index) is only moved on.
  const bool evaluate = !swept || (rec.due_at && *rec.due_at <= now);
  if (evaluate) {
    engine::request req(p.graph());
    req.borrow_attributes(*entry.base);
    stamp(req, p.graph(), rec);
    req.set_now(now);
    if (auto r = evaluate_escalations(w, p, head, rec, req, now, &fired); !r) return fail(std::move(r).error());
  }
  if (swept)
    if (auto r = unindex_due(w, rec); !r) return fail(std::move(r).error());
  if (rec.escalations != escalations_before || rec.due_at != before.due_at || rec.indexed_due != indexed_before)
    if (auto r = write_task(w, &before, rec); !r) return fail(std::move(r).error());
  return std::optional<json>{std::move(fired)};
}

result<outcome> apply_escalate(kv::writer& w, policy_context& p, audit_head& head, const escalate_op& op) {
  if (auto prior = replayed(w, op.idempotency_key, op.idempotency_request); !prior || *prior) {
    if (!prior) return std::move(prior).error();
    return std::move(**prior);
  }
  json fired = json::array();
  std::optional<outcome::task_brief> requested;  // the task an explicit request changed
  std::uint64_t request_seq = 0;
  std::size_t checked = 0;
  auto take = [&](const json& hits) {
    for (const auto& h : hits) fired.push_back(h);
  };
  if (!op.task_id.empty()) {
    auto loaded = load_task(w, p, op.task_id);
    if (!loaded) return std::move(loaded).error();
    if (*loaded == nullptr) return make(outcome_status::not_found, "task.not_found", "no task " + op.task_id);
    if (op.request) {
      task_record& rec = (*loaded)->rec;
      const indexed before = indexed_fields(rec);
      rec.escalation_requested = true;
      rec.version += 1;
      rec.updated_at = op.now;
      json record = {{"kind", "request"}, {"at", op.now},     {"task", op.task_id}, {"actor", actor_id(op.actor)},
                     {"event", nullptr},  {"effect", "request_escalation"}, {"policy", p.graph().version()}};
      auto s = append_audit(w, head, record);
      auto r = s ? write_task(w, &before, rec) : result<void>(s.error());
      if (!r) {
        p.forget(op.task_id);
        return std::move(r).error();
      }
      requested = brief_of(rec);
      request_seq = *s;
    }
    auto hits = escalate_one(w, p, head, op.task_id, op.now, false);
    if (!hits) return std::move(hits).error();
    checked = 1;
    take(**hits);
  } else {
    std::vector<std::pair<std::int64_t, std::string>> due;
    const std::string start = keys::due(std::numeric_limits<std::int64_t>::min(), "");
    auto s = w.scan(table::by_due, start, [&](std::string_view k, std::string_view) {
      if (k.size() < 8 || keys::due_instant(k) > op.now || due.size() >= op.limit) return false;
      due.emplace_back(keys::due_instant(k), std::string(k.substr(8)));
      return true;
    });
    if (!s) return std::move(s).error();
    for (const auto& [at, id] : due) {
      auto loaded = load_task(w, p, id);
      if (!loaded) return std::move(loaded).error();
      if (*loaded == nullptr || (*loaded)->rec.indexed_due != at) {
        // An entry that belongs to no task (or not where the task says): drop it.
        if (auto r = w.del(table::by_due, keys::due(at, id)); !r) return std::move(r).error();
        continue;
      }
      const bool due_now = (*loaded)->rec.due_at && *(*loaded)->rec.due_at <= op.now;
      auto hits = escalate_one(w, p, head, id, op.now, true);
      if (!hits) return std::move(hits).error();
      if (due_now) ++checked;
      if (*hits) take(**hits);
    }
  }
  // The next instant anything is due, so a scheduler knows when to come back.
  json next = nullptr;
  auto s = w.scan(table::by_due, keys::due(std::numeric_limits<std::int64_t>::min(), ""),
                  [&](std::string_view k, std::string_view) {
                    if (k.size() >= 8) next = keys::due_instant(k);
                    return false;
                  });
  if (!s) return std::move(s).error();
  const std::size_t n = fired.size();
  outcome done = make(outcome_status::applied, "escalation.checked",
                      std::to_string(checked) + " task(s) checked, " + std::to_string(n) + " escalation(s) fired",
                      {{"now", op.now}, {"checked", checked}, {"fired", std::move(fired)}, {"next_due", next}});
  done.brief = std::move(requested);
  done.audit_seq = request_seq;
  if (!op.idempotency_key.empty()) finish_body(done);
  return remember(w, op.idempotency_key, op.idempotency_request, std::move(done));
}

// ---- agents

const char* kind_name(ast::actor_kind_value k) {
  return k == ast::actor_kind_value::agent ? "agent" : k == ast::actor_kind_value::human ? "human" : "operator";
}

result<outcome> apply_register(kv::writer& w, policy_context& p, audit_head& head, const register_agent_op& op) {
  const engine::rule_graph& g = p.graph();
  if (!valid_id(op.id)) return make(outcome_status::invalid, "agent.bad_id", "agent id `" + op.id + "` is not valid");
  if (g.find_agent(op.id) >= 0)
    return make(outcome_status::conflict, "agent.exists", "agent " + op.id + " is declared by the policy");
  if (g.find_role(op.role) < 0) return make(outcome_status::invalid, "agent.bad_role", "unknown role `" + op.role + "`");
  if (op.kind != "agent" && op.kind != "human" && op.kind != "operator")
    return make(outcome_status::invalid, "agent.bad_kind", "kind must be agent, human or operator");
  const std::int32_t parent = g.role_parent(g.find_role(op.role));
  json rec = {{"id", op.id},          {"role", op.role}, {"kind", op.kind}, {"capabilities", op.capabilities},
              {"reports_to", parent >= 0 ? json(role_name(g, parent)) : json(nullptr)},
              {"source", "registered"}, {"at", op.now}};
  if (auto r = w.put(table::agents, op.id, rec.dump()); !r) return std::move(r).error();
  json record = {{"kind", "agent"},  {"at", op.now},         {"task", nullptr},       {"actor", nullptr},
                 {"event", nullptr}, {"effect", "register"}, {"policy", g.version()}, {"agent", rec}};
  auto seq = append_audit(w, head, record);
  if (!seq) return std::move(seq).error();
  return make(outcome_status::applied, "agent.registered", "registered " + op.id + " as " + op.role,
              {{"agent", rec}, {"audit_seq", *seq}});
}

// ---- tokens

// An agent the policy declares or the store registered.
result<bool> agent_exists(kv::reader& r, const engine::rule_graph& g, const std::string& id) {
  if (g.find_agent(id) >= 0) return true;
  auto raw = r.get(table::agents, id);
  if (!raw) return std::move(raw).error();
  if (!*raw) return false;
  const json rec = json::parse(**raw, nullptr, false);
  return !rec.is_discarded() && str(rec, "source") == "registered";
}

bool valid_sha256_hex(std::string_view h) {
  return h.size() == 64 &&
         std::all_of(h.begin(), h.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// A token is named in records and answers by the first 16 hex digits of its hash: enough to tell
// tokens apart, useless for presenting one.
std::string token_id(std::string_view hash) { return std::string(hash.substr(0, 16)); }

result<outcome> apply_issue_token(kv::writer& w, policy_context& p, audit_head& head, const issue_token_op& op) {
  const engine::rule_graph& g = p.graph();
  if (!valid_sha256_hex(op.token_hash))
    return make(outcome_status::invalid, "token.bad_hash", "a token is stored as its SHA-256 in lowercase hex");
  json body = json::object();
  if (op.register_agent) {
    if (op.register_agent->id != op.agent)
      return make(outcome_status::invalid, "request.invalid", "the token is for another agent than the one registered");
    auto taken = agent_exists(w, g, op.agent);
    if (!taken) return std::move(taken).error();
    if (*taken) return make(outcome_status::conflict, "agent.exists", "agent " + op.agent + " already exists");
    auto registered = apply_register(w, p, head, *op.register_agent);
    if (!registered || registered->status != outcome_status::applied) return registered;
    body["agent"] = std::move(registered->body["agent"]);
  } else {
    auto known = agent_exists(w, g, op.agent);
    if (!known) return std::move(known).error();
    if (!*known)
      return make(outcome_status::not_found, "agent.not_found",
                  "no agent " + op.agent + " (neither in the policy nor registered)");
  }
  auto existing = w.get(table::tokens, op.token_hash);
  if (!existing) return std::move(existing).error();
  if (*existing) return make(outcome_status::conflict, "token.exists", "that token is already issued");

  json revoked = json::array();
  if (op.rotate) {
    const std::string prefix = keys::prefix(op.agent);
    std::vector<std::string> hashes;
    auto s = kv::scan_prefix(w, table::tokens_by_agent, prefix, [&](std::string_view k, std::string_view) {
      hashes.emplace_back(k.substr(prefix.size()));
      return true;
    });
    if (!s) return std::move(s).error();
    for (const auto& h : hashes) {
      if (auto r = w.del(table::tokens, h); !r) return std::move(r).error();
      if (auto r = w.del(table::tokens_by_agent, keys::index(op.agent, h)); !r) return std::move(r).error();
      revoked.push_back(token_id(h));
    }
  }
  const json rec = {{"agent", op.agent}, {"token_id", token_id(op.token_hash)}, {"created_at", op.now}};
  if (auto r = w.put(table::tokens, op.token_hash, rec.dump()); !r) return std::move(r).error();
  if (auto r = w.put(table::tokens_by_agent, keys::index(op.agent, op.token_hash), {}); !r) return std::move(r).error();
  json record = {{"kind", "token"},
                 {"at", op.now},
                 {"task", nullptr},
                 {"actor", op.by.empty() ? json(nullptr) : json(op.by)},
                 {"event", nullptr},
                 {"effect", op.rotate ? "rotate" : "issue"},
                 {"policy", g.version()},
                 {"agent", op.agent},
                 {"token_id", token_id(op.token_hash)},
                 {"revoked", revoked}};
  auto seq = append_audit(w, head, record);
  if (!seq) return std::move(seq).error();
  body["agent_id"] = op.agent;
  body["token_id"] = token_id(op.token_hash);
  body["revoked"] = std::move(revoked);
  body["audit_seq"] = *seq;
  return make(outcome_status::applied, op.rotate ? "token.rotated" : "token.issued",
              "issued a token to " + op.agent, std::move(body));
}

// ---- protocol denials

result<outcome> apply_protocol_denial(kv::writer& w, policy_context& p, audit_head& head, const protocol_denial_op& op) {
  auto loaded = load_task(w, p, op.task_id);
  if (!loaded) return std::move(loaded).error();
  if (*loaded == nullptr) return make(outcome_status::not_found, "task.not_found", "no task " + op.task_id);
  json record = {{"kind", "protocol"},
                 {"at", op.now},
                 {"task", op.task_id},
                 {"actor", actor_id(op.actor)},
                 {"event", nullptr},
                 {"effect", "deny"},
                 {"policy", p.graph().version()},
                 {"input", op.input},
                 {"reason", op.reason}};
  auto seq = append_audit(w, head, record);
  if (!seq) return std::move(seq).error();
  outcome denied = make(outcome_status::denied, str(op.reason, "code"),
                        "write-back to " + op.task_id + " refused: " + str(op.reason, "message"));
  denied.brief = brief_of((*loaded)->rec);
  denied.audit_seq = *seq;
  return denied;
}

}  // namespace

void finish_body(outcome& o) {
  if (o.brief) {
    json t = {{"id", o.brief->id}, {"version", o.brief->version}, {"state", o.brief->state}, {"assignee", o.brief->assignee}};
    if (!o.brief->from.empty()) t["from"] = o.brief->from;
    o.body["task"] = std::move(t);
    o.brief.reset();
  }
  if (o.audit_seq != 0 && !o.body.contains("audit_seq")) o.body["audit_seq"] = o.audit_seq;
  if (o.status == outcome_status::denied && !o.decision_text.empty() && !o.body.contains("decision"))
    o.body["decision"] = json::parse(o.decision_text);
}

json outcome::decision() const {
  if (!decision_text.empty()) return json::parse(decision_text);
  if (const auto it = body.find("decision"); it != body.end()) return *it;
  return nullptr;
}

result<audit_head> read_head(kv::reader& r) {
  audit_head h;
  auto last = r.last(table::audit);
  if (!last) return std::move(last).error();
  if (*last) {
    const auto seq = kv::read_be64((*last)->first);
    if (!seq || (*last)->second.size() < 64)
      return store_error{store_errc::corrupt, 0, "audit: the last record is malformed"};
    h.next_seq = *seq + 1;
    h.last_hash = std::string((*last)->second.substr(0, 64));
  }
  auto out = r.last(table::outbox);
  if (!out) return std::move(out).error();
  if (*out) h.next_outbox = kv::read_be64((*out)->first).value_or(0) + 1;
  return h;
}

result<outcome> apply(kv::writer& w, policy_context& p, audit_head& head, const operation& op) {
  return std::visit(
      [&](const auto& o) -> result<outcome> {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, create_op>) {
          return apply_create(w, p, head, o);
        } else if constexpr (std::is_same_v<T, transition_op>) {
          return apply_transition(w, p, head, o);
        } else if constexpr (std::is_same_v<T, escalate_op>) {
          return apply_escalate(w, p, head, o);
        } else if constexpr (std::is_same_v<T, register_agent_op>) {
          return apply_register(w, p, head, o);
        } else if constexpr (std::is_same_v<T, issue_token_op>) {
          return apply_issue_token(w, p, head, o);
        } else if constexpr (std::is_same_v<T, protocol_denial_op>) {
          return apply_protocol_denial(w, p, head, o);
        } else {
          static_assert(std::is_same_v<T, record_op>);
          return o.write(w);
        }
      },
      op);
}

result<bool> activate(kv::writer& w, policy_context& p, audit_head& head, std::int64_t now) {
  const engine::rule_graph& g = p.graph();
  auto active = w.get(table::meta, keys::active_policy);
  if (!active) return std::move(active).error();
  if (*active && **active == g.version()) return false;
  const json previous = *active ? json(std::string(**active)) : json(nullptr);
  auto known = w.get(table::policies, g.version());
  if (!known) return std::move(known).error();
  if (!*known) {
    json rec = {{"version", g.version()}, {"declared_version", g.declared_version()},
                {"name", g.policy().name},  {"bundle", p.policy().bundle->to_json()}, {"first_activated", now}};
    if (auto r = w.put(table::policies, g.version(), rec.dump()); !r) return std::move(r).error();
  }
  if (auto r = w.put(table::meta, keys::active_policy, g.version()); !r) return std::move(r).error();
  for (const auto& a : g.policy().agents) {
    const std::int32_t parent = g.role_parent(a.role);
    json rec = {{"id", a.name},
                {"role", role_name(g, a.role)},
                {"kind", kind_name(a.kind)},
                {"capabilities", a.capabilities},
                {"reports_to", parent >= 0 ? json(role_name(g, parent)) : json(nullptr)},
                {"source", "policy"},
                {"policy", g.version()}};
    if (auto r = w.put(table::agents, a.name, rec.dump()); !r) return std::move(r).error();
  }
  json record = {{"kind", "policy"}, {"at", now},           {"task", nullptr},       {"actor", nullptr},
                 {"event", nullptr}, {"effect", "activate"}, {"policy", g.version()}, {"previous", previous}};
  if (auto s = append_audit(w, head, record); !s) return std::move(s).error();
  return true;
}

}  // namespace agentos::runtime
