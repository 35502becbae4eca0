// The transition pipeline: every change to a task is one of these operations, applied inside one
// (possibly nested) write transaction of the store. apply() loads what it needs, builds the
// engine request with `now` and the active policy, decides, and on allow writes the task, its
// indexes, artifacts, reviews, the audit record and the outbox events; on deny it writes only the
// audit record of the denial. It is written against kv::writer, so it does not know which
// database backs it, and it never reads a clock: `now` comes with the operation, which is what
// makes every recorded decision replayable.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/clock.hpp"
#include "engine/decide.hpp"
#include "runtime/service/skills.hpp"
#include "runtime/service/policy_bundle.hpp"
#include "runtime/store/kv.hpp"

namespace agentos::runtime {

using json = nlohmann::json;

struct artifact_input {
  std::string kind;     // plan, result, draft, ... : [a-z][a-z0-9_]*
  std::string content;  // UTF-8 text (JSON, Markdown, ...)
};

// Creates a task: runs routing and the plan gate and records both decisions.
struct create_op {
  std::string id;             // empty: the store numbers it T-1, T-2, ...
  json task = json::object();  // project, labels and attributes, as in a request's "task"
  json actor = json::object(); // who asks: {"id": ...} (role/kind from the org when omitted)
  std::int64_t now = 0;
  std::string idempotency_key;  // a retry with the same key returns the first outcome
  // What the key stands for (the API: method, path and the body's SHA-256). When given, a retry
  // whose request differs is refused (conflict `idempotency.key_reused`) instead of replayed.
  std::string idempotency_request;
};

// Moves a task on `event`, decided by the graph.
struct transition_op {
  std::string task_id;
  std::string event;
  json actor = json::object();
  std::int64_t now = 0;
  std::uint64_t expected_version = 0;  // 0: the current version, whatever it is
  std::optional<artifact_input> artifact;  // stored (content-addressed) when allowed
  std::string assign_to;               // "agent:ID", "role:NAME" or an agent id; applied when allowed
  std::optional<std::string> review;   // records a review (comment) of the latest artifact when allowed
  std::string idempotency_key;
  std::string idempotency_request;
};

// Evaluates escalation rules at `now`: one task, or every task the due-time index says is due.
struct escalate_op {
  std::int64_t now = 0;
  std::string task_id;     // empty: sweep the due index
  bool request = false;    // first set task.escalation_requested on task_id (an explicit request)
  json actor = json::object();
  std::size_t limit = 100'000;  // most tasks to examine in one sweep
  std::string idempotency_key;
  std::string idempotency_request;
};

// Registers an agent beside those the policy declares (id, role, kind, capabilities).
struct register_agent_op {
  std::string id;
  std::string role;
  std::string kind = "agent";
  std::vector<std::string> capabilities;
  std::int64_t now = 0;
};

// Issues a bearer token to an agent the policy declares or the store has registered. The store
// keeps only the token's SHA-256 (tokens, tokens_by_agent). With `rotate`, the agent's other
// issued tokens are revoked in the same transaction; with `register_agent`, the agent is first
// registered (conflict when the id is already taken), so an agent never exists half-made.
struct issue_token_op {
  std::string agent;
  std::string token_hash;  // sha256 hex of the token: the token itself never reaches the store
  bool rotate = false;
  std::optional<register_agent_op> register_agent;
  std::string by;  // who asked (for the audit record)
  std::int64_t now = 0;
};

// Refuses an executor's write-back that never reached the policy (its markers were missing or
// malformed, docs/api-executor.md): writes only an audit record (kind "protocol", effect
// "deny") with what was received and why, and answers `denied`. The task is untouched.
struct protocol_denial_op {
  std::string task_id;
  json actor = json::object();
  std::int64_t now = 0;
  json reason = json::object();  // {"code", "message", "line"}
  json input = json::object();   // what was received, e.g. {"size", "sha256"}
};

enum class outcome_status : std::uint8_t {
  applied,    // committed (for a transition: allowed and written)
  denied,     // the graph denied it: the task is unchanged, the denial is audited
  conflict,   // stale expected_version, or a task id that exists
  not_found,  // no such task
  invalid,    // malformed input: nothing written
  failed,     // the store failed (full disk, I/O error, ...): nothing written, nothing acknowledged
};
[[nodiscard]] std::string_view to_string(outcome_status s);

struct outcome {
  outcome_status status = outcome_status::failed;
  std::string code;     // stable identifier: "task.version_conflict", "request.invalid", "store.no_space", ...
  std::string message;  // one line for a person
  json body = json::object();  // task, decision, audit_seq, errors ... (docs/store.md)
  [[nodiscard]] bool acknowledged() const {
    return status == outcome_status::applied || status == outcome_status::denied;
  }

  // The writer fills these instead of building JSON on its thread; finish_body() moves them into
  // body["task"] and body["audit_seq"] on the caller's thread (task_store does it for you).
  struct task_brief {
    std::string id, state, from, assignee;
    std::uint64_t version = 0;
  };
  std::optional<task_brief> brief;
  std::uint64_t audit_seq = 0;
  std::string decision_text;  // the decision as JSON text

  // The decision of a transition (null for other operations). A denial also has it in
  // body["decision"]; an applied transition keeps it as text until asked, because parsing it
  // for every caller would cost more than deciding.
  [[nodiscard]] json decision() const;
};

// Moves outcome::brief and audit_seq into the body, and a denial's decision.
void finish_body(outcome& o);

[[nodiscard]] outcome make_outcome(outcome_status status, std::string code, std::string message,
                                   json body = json::object());

// A write to the store's service records outside the task lifecycle (webhook subscriptions and
// their delivery log): the writer runs `write` in a nested transaction of its group commit, so it
// is durable once acknowledged. An acknowledged outcome commits, any other aborts what it wrote;
// a store_error fails it. It may run again if the batch is retried, so it must only read and
// write through `w`.
struct record_op {
  std::function<result<outcome>(kv::writer& w)> write;
};

using operation = std::variant<create_op, transition_op, escalate_op, register_agent_op, issue_token_op,
                               protocol_denial_op, record_op>;

struct pipeline_limits {
  std::size_t max_artifact_bytes = std::size_t{1} << 20;
  std::int64_t poll_interval_ms = 60'000;  // for escalations whose timing the clock cannot read
};

// What deciding needs besides the transaction: the active policy, its clock, a decision buffer,
// and a cache of decoded tasks (with each one's attributes already built into an engine request),
// so that a transition on a task the writer has seen decodes nothing but the stored bytes it
// writes back. Belongs to the one writer thread. The cache holds committed or in-flight state:
// whoever aborts a transaction must call forget() for what it touched, or forget_all().
class policy_context {
 public:
  // `skills` (may be null) tells the hydrated skills of agents with a workspace.
  policy_context(compiled_policy policy, pipeline_limits limits, std::shared_ptr<const skill_source> skills = {});
  ~policy_context();
  [[nodiscard]] const engine::rule_graph& graph() const { return *m_policy.graph; }
  [[nodiscard]] const compiled_policy& policy() const { return m_policy; }
  [[nodiscard]] const engine::escalation_clock& clock() const { return m_clock; }
  [[nodiscard]] const pipeline_limits& limits() const { return m_limits; }
  engine::decision_buffer& buffer() { return m_buffer; }
  [[nodiscard]] const skill_source* skills() const { return m_skills.get(); }

  struct cache;
  cache& tasks() { return *m_cache; }
  void forget(std::string_view task_id);
  void forget_all();

 private:
  compiled_policy m_policy;
  pipeline_limits m_limits;
  engine::escalation_clock m_clock;
  engine::decision_buffer m_buffer;
  std::unique_ptr<cache> m_cache;
  std::shared_ptr<const skill_source> m_skills;
};

// The chain's head as the writer tracks it between records.
struct audit_head {
  std::uint64_t next_seq = 1;
  std::string last_hash = std::string(64, '0');
  std::uint64_t next_outbox = 1;
};

[[nodiscard]] result<audit_head> read_head(kv::reader& r);

// Applies one operation. A store_error means the transaction must be aborted (and `head`
// restored by the caller); every other problem is an outcome. apply() keeps the task cache in
// step itself for everything short of a failed commit of the enclosing transaction.
[[nodiscard]] result<outcome> apply(kv::writer& w, policy_context& p, audit_head& head, const operation& op);

// Makes p's policy the active one when it is not already: stores its bundle, the policy's agents
// and an audit record. Returns true when it activated a new version.
[[nodiscard]] result<bool> activate(kv::writer& w, policy_context& p, audit_head& head, std::int64_t now);

}  // namespace agentos::runtime
