// What the projection remembers between the two sides, in the store's `projection` table
// (docs/paperclip.md, "How the projection works"): the Paperclip company, agent ↔ agent and
// task ↔ issue, and the two cursors (the last outbox event projected, the last Paperclip activity
// row reconciled). Typed read/write helpers over kv::reader / kv::writer: the projection writes
// only through a record_op (task_store::submit) and reads through task_store::read_records, so
// every write commits with the store's group commit and a mapping never half-exists.
//
// Keys and values (JSON):
//   company                  {"id", "name", "issue_prefix"}
//   store                    "<32 hex>": this data directory's id, part of every issue's idempotency key
//   agent \0 <agentos id>    {"id": "<paperclip agent uuid>"}
//   task \0 <task id>        {"issue", "identifier", "status", "assignee", "approval",
//                             "plan_document_revision", "result_work_product", "task_version"}
//   issue \0 <issue uuid>    "<task id>"
//   outbox_cursor            "<seq>"
//   activity_cursor          {"id", "created_at"}
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "runtime/store/kv.hpp"

namespace agentos::runtime {
class task_store;
}

namespace agentos::runtime::projection {

using json = nlohmann::json;

struct company_record {
  std::string id;
  std::string name;
  std::string issue_prefix;
};

// A task's issue and what the projector last wrote to it. `status` and `assignee` are the
// Paperclip status and Paperclip agent id the projector last set (assignee "" for none): the
// reconciler treats an activity row that sets exactly these as the projector's own echo.
struct task_mapping {
  std::string issue;       // Paperclip issue uuid
  std::string identifier;  // PREFIX-N, for people
  std::string status;
  std::string assignee;
  std::optional<std::string> approval;                // the pending plan approval, if any
  std::optional<std::string> plan_document_revision;  // the plan document's revision the projector wrote
  std::optional<std::string> result_work_product;     // the last result's work product
  std::uint64_t task_version = 0;                     // the task version this reflects

  [[nodiscard]] json to_json() const;
  // nullopt when `j` lacks `issue`.
  [[nodiscard]] static std::optional<task_mapping> from_json(const json& j);
};

struct activity_cursor {
  std::string id;          // Paperclip activity row uuid
  std::string created_at;  // its createdAt, as Paperclip wrote it (ISO 8601, UTC)
};

namespace mapping {

// The table's keys.
inline constexpr std::string_view company_key = "company";
inline constexpr std::string_view store_key = "store";
inline constexpr std::string_view outbox_cursor_key = "outbox_cursor";
inline constexpr std::string_view activity_cursor_key = "activity_cursor";
[[nodiscard]] std::string agent_key(std::string_view agentos_agent);
[[nodiscard]] std::string task_key(std::string_view task);
[[nodiscard]] std::string issue_key(std::string_view issue);
inline constexpr std::string_view agent_prefix = std::string_view("agent\0", 6);
inline constexpr std::string_view task_prefix = std::string_view("task\0", 5);
inline constexpr std::string_view issue_prefix = std::string_view("issue\0", 6);

// Reads. A record that exists but does not parse is a store_error (corrupt).
[[nodiscard]] result<std::optional<company_record>> read_company(kv::reader& r);
[[nodiscard]] result<std::optional<std::string>> read_store_id(kv::reader& r);
[[nodiscard]] result<std::optional<std::string>> read_agent(kv::reader& r, std::string_view agentos_agent);
[[nodiscard]] result<std::optional<task_mapping>> read_task(kv::reader& r, std::string_view task);
[[nodiscard]] result<std::optional<std::string>> read_issue_task(kv::reader& r, std::string_view issue);
[[nodiscard]] result<std::uint64_t> read_outbox_cursor(kv::reader& r);  // 0: nothing projected yet
[[nodiscard]] result<std::optional<activity_cursor>> read_activity_cursor(kv::reader& r);

// Visits every agent (agentos id, Paperclip id) / task (task id, mapping) in key order while `fn`
// returns true.
[[nodiscard]] result<void> for_each_agent(kv::reader& r,
                                          const std::function<bool(std::string_view agentos_agent, std::string_view paperclip_id)>& fn);
[[nodiscard]] result<void> for_each_task(kv::reader& r,
                                         const std::function<bool(std::string_view task, const task_mapping& m)>& fn);

// Writes (inside a record_op).
[[nodiscard]] result<void> write_company(kv::writer& w, const company_record& c);
[[nodiscard]] result<void> write_store_id(kv::writer& w, std::string_view id);
[[nodiscard]] result<void> write_agent(kv::writer& w, std::string_view agentos_agent, std::string_view paperclip_id);
// Writes the task's mapping and the reverse entry issue -> task.
[[nodiscard]] result<void> write_task(kv::writer& w, std::string_view task, const task_mapping& m);
[[nodiscard]] result<void> write_outbox_cursor(kv::writer& w, std::uint64_t seq);
[[nodiscard]] result<void> write_activity_cursor(kv::writer& w, const activity_cursor& c);

// Convenience over task_store: `fn` in a read transaction, or in a record_op (committed when it
// returns a value; a store_error, or the store refusing the write, comes back as a store_error).
[[nodiscard]] result<void> read(const task_store& store, const std::function<result<void>(kv::reader&)>& fn);
[[nodiscard]] result<void> write(task_store& store, const std::function<result<void>(kv::writer&)>& fn);

}  // namespace mapping

}  // namespace agentos::runtime::projection
