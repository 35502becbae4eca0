#include "runtime/service/pipeline.hpp"

#include <algorithm>
#include <set>

#include "engine/explain.hpp"
#include "engine/report.hpp"
#include "engine/request_json.hpp"
#include "engine/sha256.hpp"
#include "runtime/service/audit.hpp"

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

policy_context::policy_context(compiled_policy policy, pipeline_limits limits)
    : m_policy(std::move(policy)), m_limits(limits), m_clock(*m_policy.graph, limits.poll_interval_ms),
      m_buffer(*m_policy.graph) {}

namespace {

constexpr std::string_view active_policy_key = "active_policy";
constexpr std::string_view next_task_key = "next_task";

outcome make(outcome_status s, std::string code, std::string message, json body = json::object()) {
  return outcome{s, std::move(code), std::move(message), std::move(body)};
}

// ---- keys

std::string index_key(std::string_view value, std::string_view id) {
  std::string k(value);
  k.push_back('\0');
  k.append(id);
  return k;
}
std::string due_key(std::int64_t due, std::string_view id) {
  // Offset so that negative instants sort before positive ones.
  return kv::be64(static_cast<std::uint64_t>(due) ^ (std::uint64_t{1} << 63)) + std::string(id);
}
std::int64_t due_of_key(std::string_view k) {
  return static_cast<std::int64_t>(*kv::read_be64(k) ^ (std::uint64_t{1} << 63));
}
std::string artifact_key(std::string_view task, std::string_view kind, std::uint32_t version) {
  std::string k(task);
  k.push_back('\0');
  k.append(kind);
  k.push_back('\0');
  k += kv::be32(version);
  return k;
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

// ---- tasks

result<std::optional<json>> load_task(kv::reader& r, std::string_view id) {
  auto raw = r.get(table::tasks, id);
  if (!raw) return std::move(raw).error();
  if (!*raw) return std::optional<json>{};
  json rec = json::parse(**raw, nullptr, false);
  if (rec.is_discarded() || !rec.is_object() || !rec.contains("task"))
    return store_error{store_errc::corrupt, 0, "tasks/" + std::string(id) + ": record is not valid JSON"};
  return std::optional<json>{std::move(rec)};
}

std::string str(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Keeps the secondary indexes in step with a task record: `before` is null for a new task.
result<void> write_task(kv::writer& w, const json* before, const json& after) {
  const std::string id = str(after, "id");
  const json& t = after["task"];
  auto reindex = [&](table tb, const std::string& old_v, const std::string& new_v, bool had, bool has) -> result<void> {
    if (had && has && old_v == new_v) return {};
    if (had)
      if (auto r = w.del(tb, index_key(old_v, id)); !r) return std::move(r).error();
    if (has)
      if (auto r = w.put(tb, index_key(new_v, id), {}); !r) return std::move(r).error();
    return {};
  };
  const json empty = json::object();
  const json& bt = before ? (*before)["task"] : empty;
  if (auto r = reindex(table::by_state, str(bt, "state"), str(t, "state"), before != nullptr, true); !r) return r;
  if (auto r = reindex(table::by_project, str(bt, "project"), str(t, "project"), before && !str(bt, "project").empty(),
                       !str(t, "project").empty());
      !r)
    return r;
  if (auto r = reindex(table::by_assignee, str(bt, "assignee"), str(t, "assignee"),
                       before && !str(bt, "assignee").empty(), !str(t, "assignee").empty());
      !r)
    return r;
  auto due = [](const json* rec) -> std::optional<std::int64_t> {
    if (!rec) return std::nullopt;
    const auto it = rec->find("due_at");
    if (it == rec->end() || !it->is_number_integer()) return std::nullopt;
    return it->get<std::int64_t>();
  };
  const auto old_due = due(before);
  const auto new_due = due(&after);
  if (old_due != new_due) {
    if (old_due)
      if (auto r = w.del(table::by_due, due_key(*old_due, id)); !r) return std::move(r).error();
    if (new_due)
      if (auto r = w.put(table::by_due, due_key(*new_due, id), {}); !r) return std::move(r).error();
  }
  return w.put(table::tasks, id, after.dump());
}

result<std::uint64_t> append_outbox(kv::writer& w, audit_head& head, json event) {
  const std::uint64_t seq = head.next_outbox;
  event["seq"] = seq;
  if (auto r = w.put(table::outbox, kv::be64(seq), event.dump()); !r) return std::move(r).error();
  ++head.next_outbox;
  return seq;
}

// ---- requests

json request_json(const json* event, std::int64_t now, const json& task, const json* actor) {
  json j = json::object();
  if (event) j["event"] = *event;
  j["now"] = now;
  j["task"] = task;
  if (actor && actor->is_object() && !actor->empty()) j["actor"] = *actor;
  return j;
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
  if (id.empty() || actor.contains("role")) return actor;
  for (const auto& a : g.policy().agents)
    if (a.name == id) return actor;
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
    if (g.policy().find_role(role) < 0) {
      error = "unknown role `" + role + "`";
      return std::optional<assignment>{};
    }
    auto a = assign_role(r, g, role);
    if (!a) return std::move(a).error();
    return std::optional<assignment>{*a};
  }
  const std::string id = s.rfind("agent:", 0) == 0 ? s.substr(6) : s;
  for (const auto& a : g.policy().agents)
    if (a.name == id) return std::optional<assignment>{assignment{a.name, role_name(g, a.role)}};
  auto raw = r.get(table::agents, id);
  if (!raw) return std::move(raw).error();
  if (*raw) {
    json rec = json::parse(**raw, nullptr, false);
    if (!rec.is_discarded()) return std::optional<assignment>{assignment{id, str(rec, "role")}};
  }
  error = "unknown agent `" + id + "` (neither in the policy nor registered)";
  return std::optional<assignment>{};
}

void set_assignment(json& task, const assignment& a) {
  task["assignee"] = a.agent;
  if (a.role.empty())
    task.erase("assignee_role");
  else
    task["assignee_role"] = a.role;
}

void set_assignment(engine::request& req, const engine::rule_graph& g, const assignment& a) {
  if (a.agent.empty())
    req.clear_assignee();
  else
    req.set_assignee(a.agent);
  req.set_assignee_role(a.role.empty() ? -1 : g.policy().find_role(a.role));
}

// ---- escalations

// Evaluates the escalation rules on `req` (whose `now` is set) and records the rules that started
// to hold since the last evaluation (edge-triggered: a rule that keeps holding fires once).
// Updates rec["escalations"] and rec["due_at"]. Returns the newly fired hits as JSON.
result<json> evaluate_escalations(kv::writer& w, policy_context& p, audit_head& head, json& rec,
                                  const engine::request& req, std::int64_t now, const json& input) {
  const engine::rule_graph& g = p.graph();
  json fired = json::array();
  const bool terminal = [&] {
    const std::int32_t s = req.state();
    return s >= 0 && g.policy().states[static_cast<std::size_t>(s)].terminal;
  }();
  std::set<std::string> before;
  if (const auto it = rec.find("escalations"); it != rec.end() && it->is_array())
    for (const auto& n : *it)
      if (n.is_string()) before.insert(n.get<std::string>());
  std::set<std::string> now_holding;
  if (!terminal) {
    const auto hits = engine::escalations(g, req, p.buffer());
    std::vector<engine::escalation_hit> fresh;
    for (const auto& h : hits) {
      const std::string& name = g.rule(h.rule).name;
      now_holding.insert(name);
      if (!before.count(name)) fresh.push_back(h);
    }
    if (!fresh.empty()) {
      json record = {{"kind", "escalation"},
                     {"at", now},
                     {"task", rec["id"]},
                     {"actor", nullptr},
                     {"event", nullptr},
                     {"effect", "escalate"},
                     {"policy", g.version()},
                     {"input", input},
                     {"output", escalation_output(g, hits)}};
      auto seq = append_audit(w, head, std::move(record));
      if (!seq) return std::move(seq).error();
      for (const auto& h : fresh) {
        const std::string target = engine::target_text(g, engine::resolve(g, req, h.to));
        json ev = {{"type", "task.escalated"}, {"at", now},         {"task", rec["id"]},
                   {"rule", g.rule(h.rule).name}, {"target", target}, {"audit_seq", *seq}};
        if (auto o = append_outbox(w, head, ev); !o) return std::move(o).error();
        fired.push_back({{"task", rec["id"]}, {"rule", g.rule(h.rule).name}, {"target", target}, {"audit_seq", *seq}});
      }
    }
  }
  rec["escalations"] = json(std::vector<std::string>(now_holding.begin(), now_holding.end()));
  const auto due = terminal ? std::nullopt : p.clock().next_due(req, now);
  rec["due_at"] = due ? json(*due) : json(nullptr);
  return fired;
}

// ---- idempotency

result<std::optional<outcome>> replayed(kv::reader& r, const std::string& key) {
  if (key.empty()) return std::optional<outcome>{};
  auto raw = r.get(table::idempotency, key);
  if (!raw) return std::move(raw).error();
  if (!*raw) return std::optional<outcome>{};
  json j = json::parse(**raw, nullptr, false);
  if (j.is_discarded()) return store_error{store_errc::corrupt, 0, "idempotency/" + key + ": malformed record"};
  outcome o;
  o.status = j["status"] == "denied" ? outcome_status::denied : outcome_status::applied;
  o.code = str(j, "code");
  o.message = str(j, "message");
  o.body = j["body"];
  o.body["replayed"] = true;
  return std::optional<outcome>{std::move(o)};
}

result<outcome> remember(kv::writer& w, const std::string& key, outcome o) {
  if (key.empty() || !o.acknowledged()) return o;
  json j = {{"status", to_string(o.status)}, {"code", o.code}, {"message", o.message}, {"body", o.body}};
  if (auto r = w.put(table::idempotency, key, j.dump()); !r) return std::move(r).error();
  return o;
}

// ---- create

result<outcome> apply_create(kv::writer& w, policy_context& p, audit_head& head, const create_op& op) {
  if (auto prior = replayed(w, op.idempotency_key); !prior || *prior) {
    if (!prior) return std::move(prior).error();
    return std::move(**prior);
  }
  const engine::rule_graph& g = p.graph();
  if (!op.task.is_object()) return make(outcome_status::invalid, "request.invalid", "task must be a JSON object");
  for (const auto& [key, value] : op.task.items()) {
    static const std::set<std::string> store_owned = {"id",        "state",      "mode",        "assignee",
                                                      "assignee_role", "attempts", "entered_at", "created_at",
                                                      "escalation_requested", "time_in_state", "age"};
    if (store_owned.count(key))
      return make(outcome_status::invalid, "request.invalid",
                  "/task/" + key + ": set by the store, not by the caller (routing, the plan gate and transitions own it)",
                  {{"errors", json::array({{{"pointer", "/task/" + key}, {"message", "set by the store"}}})}});
  }
  std::string id = op.id;
  if (id.empty()) {
    auto raw = w.get(table::meta, next_task_key);
    if (!raw) return std::move(raw).error();
    std::uint64_t n = 1;
    if (*raw) n = kv::read_be64(**raw).value_or(1);
    id = "T-" + std::to_string(n);
    if (auto r = w.put(table::meta, next_task_key, kv::be64(n + 1)); !r) return std::move(r).error();
  } else if (!valid_id(id)) {
    return make(outcome_status::invalid, "task.bad_id",
                "task id `" + id + "` is not 1-128 characters of letters, digits, `-`, `_`, `.`, `:`");
  }
  auto existing = w.get(table::tasks, id);
  if (!existing) return std::move(existing).error();
  if (*existing) return make(outcome_status::conflict, "task.exists", "task " + id + " already exists");

  json t = op.task;
  t["id"] = id;
  t["state"] = g.policy().states[static_cast<std::size_t>(g.initial_state())].name;
  t["mode"] = "direct";
  t["attempts"] = 0;
  t["entered_at"] = op.now;
  t["created_at"] = op.now;
  t["escalation_requested"] = false;

  auto actor = resolve_actor(w, g, op.actor);
  if (!actor) return std::move(actor).error();
  const json input = request_json(nullptr, op.now, t, &*actor);
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
  set_assignment(t, who);
  t["mode"] = engine::mode_name(gate_r.mode);
  set_assignment(req, g, who);
  req.set_mode(gate_r.mode);
  req.clear_actor();

  json rec = {{"id", id},
              {"version", 1},
              {"task", t},
              {"created_by", actor_id(*actor)},
              {"updated_at", op.now},
              {"policy", g.version()},
              {"intake", intake},
              {"visited", json::array({t["state"]})},
              {"escalations", json::array()},
              {"artifacts", json::object()}};

  json record = {{"kind", "intake"},     {"at", op.now},   {"task", id},           {"actor", actor_id(*actor)},
                 {"event", nullptr},     {"effect", "route"}, {"policy", g.version()}, {"input", input},
                 {"output", intake}};
  auto seq = append_audit(w, head, std::move(record));
  if (!seq) return std::move(seq).error();
  auto fired = evaluate_escalations(w, p, head, rec, req, op.now, request_json(nullptr, op.now, t, nullptr));
  if (!fired) return std::move(fired).error();
  if (auto r = write_task(w, nullptr, rec); !r) return std::move(r).error();
  json ev = {{"type", "task.created"}, {"at", op.now},        {"task", id},       {"assignee", t["assignee"]},
             {"mode", t["mode"]},      {"state", t["state"]}, {"audit_seq", *seq}};
  if (auto o = append_outbox(w, head, ev); !o) return std::move(o).error();
  return remember(w, op.idempotency_key,
                  make(outcome_status::applied, "task.created", "created " + id + " (" + str(t, "mode") + ", " +
                                                                    (who.agent.empty() ? "unassigned" : "assigned to " + who.agent) + ")",
                       {{"task", rec}, {"audit_seq", *seq}, {"escalations", *fired}}));
}

// ---- transition

result<outcome> apply_transition(kv::writer& w, policy_context& p, audit_head& head, const transition_op& op) {
  if (auto prior = replayed(w, op.idempotency_key); !prior || *prior) {
    if (!prior) return std::move(prior).error();
    return std::move(**prior);
  }
  const engine::rule_graph& g = p.graph();
  auto loaded = load_task(w, op.task_id);
  if (!loaded) return std::move(loaded).error();
  if (!*loaded) return make(outcome_status::not_found, "task.not_found", "no task " + op.task_id);
  json rec = std::move(**loaded);
  const std::uint64_t version = rec["version"].get<std::uint64_t>();
  if (op.expected_version != 0 && op.expected_version != version)
    return make(outcome_status::conflict, "task.version_conflict",
                "task " + op.task_id + " is at version " + std::to_string(version) + ", not " +
                    std::to_string(op.expected_version),
                {{"task", rec}});
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
  auto actor = resolve_actor(w, g, op.actor);
  if (!actor) return std::move(actor).error();
  const json event = op.event;
  const json input = request_json(&event, op.now, rec["task"], &*actor);
  auto built = engine::request_from_json(input, g);
  if (!built.ok())
    return make(outcome_status::invalid, "request.invalid", first_error(built.errors),
                {{"errors", errors_json(built.errors)}});
  engine::request& req = *built.value;
  const engine::decision d = engine::decide(g, req, p.buffer());
  const json output = transition_output(g, d);
  const std::string who = actor_id(*actor);

  json record = {{"kind", "transition"}, {"at", op.now},     {"task", op.task_id},    {"actor", who},
                 {"event", op.event},    {"effect", d.allowed ? "allow" : "deny"}, {"policy", g.version()},
                 {"input", input},       {"output", output}};
  auto seq = append_audit(w, head, std::move(record));
  if (!seq) return std::move(seq).error();

  if (!d.allowed) {
    std::string why = d.reasons.empty() ? "denied" : engine::reason_text(g, d.reasons.front());
    return remember(w, op.idempotency_key,
                    make(outcome_status::denied, "transition.denied",
                         op.event + " on " + op.task_id + " denied: " + why,
                         {{"task", rec}, {"decision", output}, {"audit_seq", *seq}}));
  }

  const json before = rec;
  json& t = rec["task"];
  const std::string from = str(t, "state");
  const std::string to = engine::state_name(g, d.target);
  t["state"] = to;
  req.set_state(d.target);
  if (to != from) {
    t["entered_at"] = op.now;
    req.set_entered_at(op.now);
    // `visited` lists states in the order the task first entered them. Going back to a state
    // first entered before the current one (a revision, a re-plan, a resumption) is one attempt.
    json& visited = rec["visited"];
    const auto at_to = std::find(visited.begin(), visited.end(), json(to));
    const auto at_from = std::find(visited.begin(), visited.end(), json(from));
    if (at_to == visited.end()) {
      visited.push_back(to);
    } else if (at_to < at_from) {
      t["attempts"] = t.value("attempts", 0) + 1;
      req.set_attempts(t["attempts"].get<std::int64_t>());
    }
  }
  if (reassigned) {
    set_assignment(t, *reassigned);
    set_assignment(req, g, *reassigned);
  }
  if (t.value("escalation_requested", false) && to != from) {
    // An explicit escalation request is answered by the next change of state.
    t["escalation_requested"] = false;
    req.set_escalation_requested(false);
  }
  rec["version"] = version + 1;
  rec["updated_at"] = op.now;

  json body = {{"decision", output}, {"audit_seq", *seq}};
  if (op.artifact) {
    const auto& a = *op.artifact;
    const std::string sha = engine::sha256_hex(a.content);
    auto have = w.get(table::blobs, sha);
    if (!have) return std::move(have).error();
    if (!*have)
      if (auto r = w.put(table::blobs, sha, a.content); !r) return std::move(r).error();
    json& versions = rec["artifacts"];
    const std::uint32_t v = versions.value(a.kind, 0u) + 1;
    versions[a.kind] = v;
    json ref = {{"task", op.task_id}, {"kind", a.kind}, {"version", v},        {"sha256", sha},
                {"size", a.content.size()}, {"at", op.now}, {"by", who}, {"event", op.event}, {"audit_seq", *seq}};
    if (auto r = w.put(table::artifacts, artifact_key(op.task_id, a.kind, v), ref.dump()); !r)
      return std::move(r).error();
    body["artifact"] = ref;
  }
  if (op.review) {
    json latest = nullptr;
    for (const auto& [kind, v] : rec["artifacts"].items())
      if (latest.is_null() || kind == "result") latest = {{"kind", kind}, {"version", v}};
    json review = {{"task", op.task_id}, {"by", who},        {"event", op.event}, {"verdict", to},
                   {"comment", *op.review}, {"artifact", latest}, {"at", op.now}, {"audit_seq", *seq}};
    if (auto r = w.put(table::reviews, index_key(op.task_id, kv::be64(*seq)), review.dump()); !r)
      return std::move(r).error();
    body["review"] = review;
  }
  req.set_event(-1);
  req.clear_actor();
  auto fired = evaluate_escalations(w, p, head, rec, req, op.now, request_json(nullptr, op.now, t, nullptr));
  if (!fired) return std::move(fired).error();
  if (auto r = write_task(w, &before, rec); !r) return std::move(r).error();

  json ev = {{"type", "task.transitioned"}, {"at", op.now},          {"task", op.task_id}, {"event", op.event},
             {"from", from},               {"to", to},              {"actor", who},       {"version", rec["version"]},
             {"assignee", t["assignee"]},  {"obligations", output["obligations"]}, {"audit_seq", *seq}};
  if (auto o = append_outbox(w, head, ev); !o) return std::move(o).error();
  body["task"] = rec;
  body["escalations"] = *fired;
  return remember(w, op.idempotency_key,
                  make(outcome_status::applied, "transition.applied",
                       op.task_id + ": " + from + " -> " + to + " on " + op.event, std::move(body)));
}

// ---- escalate

result<std::optional<json>> escalate_one(kv::writer& w, policy_context& p, audit_head& head, const std::string& id,
                                         std::int64_t now) {
  auto loaded = load_task(w, id);
  if (!loaded) return std::move(loaded).error();
  if (!*loaded) return std::optional<json>{};
  json rec = std::move(**loaded);
  const json before = rec;
  const json input = request_json(nullptr, now, rec["task"], nullptr);
  auto built = engine::request_from_json(input, p.graph());
  if (!built.ok())
    return store_error{store_errc::corrupt, 0, "tasks/" + id + ": stored task does not fit the policy: " +
                                                    first_error(built.errors)};
  auto fired = evaluate_escalations(w, p, head, rec, *built.value, now, input);
  if (!fired) return std::move(fired).error();
  if (rec != before)
    if (auto r = write_task(w, &before, rec); !r) return std::move(r).error();
  return std::optional<json>{std::move(*fired)};
}

result<outcome> apply_escalate(kv::writer& w, policy_context& p, audit_head& head, const escalate_op& op) {
  json fired = json::array();
  std::size_t checked = 0;
  auto take = [&](const json& hits) {
    for (const auto& h : hits) fired.push_back(h);
  };
  if (!op.task_id.empty()) {
    auto loaded = load_task(w, op.task_id);
    if (!loaded) return std::move(loaded).error();
    if (!*loaded) return make(outcome_status::not_found, "task.not_found", "no task " + op.task_id);
    if (op.request) {
      json rec = std::move(**loaded);
      const json before = rec;
      rec["task"]["escalation_requested"] = true;
      rec["version"] = rec["version"].get<std::uint64_t>() + 1;
      rec["updated_at"] = op.now;
      json record = {{"kind", "request"}, {"at", op.now},     {"task", op.task_id}, {"actor", actor_id(op.actor)},
                     {"event", nullptr},  {"effect", "request_escalation"}, {"policy", p.graph().version()}};
      if (auto s = append_audit(w, head, std::move(record)); !s) return std::move(s).error();
      if (auto r = write_task(w, &before, rec); !r) return std::move(r).error();
    }
    auto hits = escalate_one(w, p, head, op.task_id, op.now);
    if (!hits) return std::move(hits).error();
    checked = 1;
    take(**hits);
  } else {
    std::vector<std::string> due;
    const std::string start = due_key(std::numeric_limits<std::int64_t>::min(), "");
    auto s = w.scan(table::by_due, start, [&](std::string_view k, std::string_view) {
      if (k.size() < 8 || due_of_key(k) > op.now || due.size() >= op.limit) return false;
      due.emplace_back(k.substr(8));
      return true;
    });
    if (!s) return std::move(s).error();
    for (const auto& id : due) {
      auto hits = escalate_one(w, p, head, id, op.now);
      if (!hits) return std::move(hits).error();
      ++checked;
      if (*hits) take(**hits);
    }
  }
  // The next instant anything is due, so a scheduler knows when to come back.
  json next = nullptr;
  auto s = w.scan(table::by_due, due_key(std::numeric_limits<std::int64_t>::min(), ""),
                  [&](std::string_view k, std::string_view) {
                    if (k.size() >= 8) next = due_of_key(k);
                    return false;
                  });
  if (!s) return std::move(s).error();
  const std::size_t n = fired.size();
  return make(outcome_status::applied, "escalation.checked",
              std::to_string(checked) + " task(s) checked, " + std::to_string(n) + " escalation(s) fired",
              {{"now", op.now}, {"checked", checked}, {"fired", std::move(fired)}, {"next_due", next}});
}

// ---- agents

result<outcome> apply_register(kv::writer& w, policy_context& p, audit_head& head, const register_agent_op& op) {
  const engine::rule_graph& g = p.graph();
  if (!valid_id(op.id)) return make(outcome_status::invalid, "agent.bad_id", "agent id `" + op.id + "` is not valid");
  for (const auto& a : g.policy().agents)
    if (a.name == op.id)
      return make(outcome_status::conflict, "agent.exists", "agent " + op.id + " is declared by the policy");
  if (g.policy().find_role(op.role) < 0)
    return make(outcome_status::invalid, "agent.bad_role", "unknown role `" + op.role + "`");
  if (op.kind != "agent" && op.kind != "human" && op.kind != "operator")
    return make(outcome_status::invalid, "agent.bad_kind", "kind must be agent, human or operator");
  const std::int32_t parent = g.role_parent(g.policy().find_role(op.role));
  json rec = {{"id", op.id},          {"role", op.role}, {"kind", op.kind}, {"capabilities", op.capabilities},
              {"reports_to", parent >= 0 ? json(role_name(g, parent)) : json(nullptr)},
              {"source", "registered"}, {"at", op.now}};
  if (auto r = w.put(table::agents, op.id, rec.dump()); !r) return std::move(r).error();
  json record = {{"kind", "agent"},   {"at", op.now},         {"task", nullptr}, {"actor", nullptr},
                 {"event", nullptr},  {"effect", "register"}, {"policy", g.version()}, {"agent", rec}};
  auto seq = append_audit(w, head, std::move(record));
  if (!seq) return std::move(seq).error();
  return make(outcome_status::applied, "agent.registered", "registered " + op.id + " as " + op.role,
              {{"agent", rec}, {"audit_seq", *seq}});
}

}  // namespace

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
        if constexpr (std::is_same_v<T, create_op>) return apply_create(w, p, head, o);
        else if constexpr (std::is_same_v<T, transition_op>) return apply_transition(w, p, head, o);
        else if constexpr (std::is_same_v<T, escalate_op>) return apply_escalate(w, p, head, o);
        else return apply_register(w, p, head, o);
      },
      op);
}

result<bool> activate(kv::writer& w, policy_context& p, audit_head& head, std::int64_t now) {
  const engine::rule_graph& g = p.graph();
  auto active = w.get(table::meta, active_policy_key);
  if (!active) return std::move(active).error();
  if (*active && **active == g.version()) return false;
  auto known = w.get(table::policies, g.version());
  if (!known) return std::move(known).error();
  if (!*known) {
    json rec = {{"version", g.version()}, {"declared_version", g.declared_version()},
                {"name", g.policy().name},  {"bundle", p.policy().bundle->to_json()}, {"first_activated", now}};
    if (auto r = w.put(table::policies, g.version(), rec.dump()); !r) return std::move(r).error();
  }
  if (auto r = w.put(table::meta, active_policy_key, g.version()); !r) return std::move(r).error();
  for (const auto& a : g.policy().agents) {
    const std::int32_t parent = g.role_parent(a.role);
    json rec = {{"id", a.name},
                {"role", role_name(g, a.role)},
                {"kind", a.kind == ast::actor_kind_value::agent   ? "agent"
                         : a.kind == ast::actor_kind_value::human ? "human"
                                                                  : "operator"},
                {"capabilities", a.capabilities},
                {"reports_to", parent >= 0 ? json(role_name(g, parent)) : json(nullptr)},
                {"source", "policy"},
                {"policy", g.version()}};
    if (auto r = w.put(table::agents, a.name, rec.dump()); !r) return std::move(r).error();
  }
  json record = {{"kind", "policy"}, {"at", now},           {"task", nullptr},       {"actor", nullptr},
                 {"event", nullptr}, {"effect", "activate"}, {"policy", g.version()}, {"previous", *active ? json(std::string(**active)) : json(nullptr)}};
  if (auto s = append_audit(w, head, std::move(record)); !s) return std::move(s).error();
  return true;
}

}  // namespace agentos::runtime
