// A task as the store keeps it. Stored in a compact binary form (the writer decodes and encodes
// one per transition, so it must be cheap); shown as JSON. The built-in fields are the engine
// request's task fields; `attributes` keeps the declared attributes as the JSON object text that
// was validated at creation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace agentos::engine {
class rule_graph;
}

namespace agentos::runtime {

struct task_record {
  std::string id;
  std::uint64_t version = 1;
  std::string project;
  std::vector<std::string> labels;
  std::string state;
  std::string mode = "direct";
  std::string assignee;       // "" when nobody
  std::string assignee_role;  // "" when unresolved
  std::int64_t attempts = 0;
  std::int64_t entered_at = 0;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  bool escalation_requested = false;
  std::string attributes = "{}";  // JSON object text
  std::string created_by;
  std::string policy;             // the policy version the task was created under
  std::string intake = "{}";      // JSON text: the routing and gate decisions
  std::vector<std::string> visited;      // states in the order first entered
  std::vector<std::string> escalations;  // escalation rules holding at the last evaluation
  std::optional<std::int64_t> due_at;    // next instant an escalation may change; none when closed
  // The instant under which the task sits in the due index (by_due), if it does. It may be
  // earlier than due_at: the index is moved forward lazily, by the sweep, so that most
  // transitions do not rewrite it (see docs/store.md).
  std::optional<std::int64_t> indexed_due;
  std::vector<std::pair<std::string, std::uint32_t>> artifacts;  // kind -> latest version

  [[nodiscard]] std::uint32_t artifact_version(std::string_view kind) const;
  void set_artifact_version(std::string_view kind, std::uint32_t v);
};

[[nodiscard]] std::string encode(const task_record& t);
// nullopt when the bytes are not a task record of a known format.
[[nodiscard]] std::optional<task_record> decode_task(std::string_view bytes);

// The task as the engine's request JSON reads it ("task" in docs/cli.md's request shape).
void append_request_task_json(std::string& out, const task_record& t);
// Everything, for people and clients: {"id", "version", "task": {request shape}, ...}, as JSON
// text written directly (what GET /api/tasks/{id} sends) or as a value.
void append_task_json(std::string& out, const task_record& t);
[[nodiscard]] nlohmann::json to_json(const task_record& t);

// The event that gives `t` a new holder: `assign` or `reassign`, whichever the lifecycle has from
// the task's state; when both (or neither) do, `assign` for an unassigned task and `reassign`
// otherwise. POST /api/tasks/{id}/assign and a reassignment made in Paperclip both use it, so the
// two surfaces agree.
[[nodiscard]] std::string assignment_event(const engine::rule_graph& g, const task_record& t);

}  // namespace agentos::runtime
