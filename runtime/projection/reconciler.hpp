// The reconciler: the projection loop's activity_handler. It reads each new Paperclip activity
// row on a projected issue or plan approval and brings the two sides back to one truth, the
// backend's (docs/paperclip.md, "Reconciliation"):
//   - a board action (actorType "user") is the operator's: it becomes the lifecycle transition
//     operator_actions chooses, submitted through task_store::apply as the operator agent, so the
//     policy decides it and the audit log records it. Allowed: the projector projects the new
//     state. Denied or unreadable: the issue is put back where the task is, with a comment
//     carrying the reasons.
//   - a move Paperclip or an agent made on its own (actorType "agent" or "system", or a status
//     Paperclip reopened on a comment) is not a backend action: the issue is put back.
// Rows that are the projector's own writes (the new value is what the mapping says the
// projector last wrote), or that a later change has already superseded (the issue, read again,
// no longer has the row's value), are skipped. Handling a row twice (a catch-up after a crash)
// submits nothing twice: every submission carries an idempotency key made of the row's id, and a
// revert, once made, supersedes the row it answers.
//
// Runs on the projection thread only (not thread safe, except interrupt()); uses the store only
// through task_store (record, graph, apply, and record_ops for the mapping).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "runtime/projection/activity_handler.hpp"
#include "runtime/projection/operator_actions.hpp"
#include "runtime/projection/paperclip_client.hpp"

namespace agentos::runtime {
class task_store;
}

namespace agentos::runtime::projection {

struct reconciler_options {
  // The agent board actions are taken as; empty: the policy's first agent of kind operator
  // (`alex` in the shipped policy), read when the first row needs it.
  std::string operator_agent;
  // Milliseconds since the epoch, for the operations' `now` (default: the system clock).
  std::function<std::int64_t()> clock;
  // One line per decision taken; default: standard error, prefixed "agentos: reconcile: ".
  std::function<void(const std::string&)> log;
};

// What the reconciler did since it was made (for tests, logs and the status route).
struct reconciler_stats {
  std::uint64_t rows = 0;            // rows handed in
  std::uint64_t echoes = 0;          // the projector's own writes
  std::uint64_t superseded = 0;      // changed again since: the later row decides
  std::uint64_t submitted = 0;       // operations submitted to the store
  std::uint64_t applied = 0;         // ... that the policy allowed
  std::uint64_t denied = 0;          // ... that the policy denied (the issue was put back)
  std::uint64_t refused = 0;         // board changes refused without a decision (ambiguous, ...)
  std::uint64_t restored = 0;        // Paperclip's own moves put back
  std::uint64_t not_reconciled = 0;  // comments the policy has no event for
};

// The first line of every comment the reconciler writes; comments that start with one of these
// are its own and are never read back as an operator's.
inline constexpr std::string_view refused_prefix = "agentos refused this change";
inline constexpr std::string_view restored_prefix = "agentos restored";

class reconciler final : public activity_handler {
 public:
  // `client` is the reconciler's own connection to Paperclip (not shared with the projector's
  // thread-affine client; interrupt() reaches it). Both must outlive the reconciler.
  reconciler(task_store& store, paperclip_client& client, reconciler_options options = {});

  handle_result handle(const json& row) override;
  void interrupt() override;

  [[nodiscard]] const reconciler_stats& stats() const { return m_stats; }

  struct context;  // one row's task, issue and mapping (reconciler.cpp)

 private:
  handle_result issue_updated(const json& row);
  handle_result comment_added(const json& row);
  handle_result approval_decided(const json& row);
  handle_result recovery_settled(const json& row);
  handle_result status_changed(const json& row, context& c, const std::string& to, bool board);
  handle_result assignee_changed(const json& row, context& c, const std::string& to, bool board);
  handle_result submit(const json& row, context& c, std::string_view what, const operator_change& change,
                       const std::function<handle_result(const std::vector<std::string>&)>& refused);
  handle_result put_back(context& c, bool status, bool assignee, const std::string& comment);
  const std::string& operator_agent();
  void say(const std::string& line) const;

  task_store& m_store;
  paperclip_client& m_client;
  reconciler_options m_options;
  reconciler_stats m_stats;
};

}  // namespace agentos::runtime::projection
