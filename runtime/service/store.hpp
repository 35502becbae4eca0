// The task store: an LMDB environment, the active policy, and the one writer thread that applies
// every change through the transition pipeline by group commit.
//
// Group commit: the writer takes every operation waiting in its queue (up to max_batch), opens
// one write transaction, applies each operation in its own nested transaction (a failed one is
// aborted alone; a denial commits its audit record), commits the parent once, and only then
// fulfils each caller's future. So:
//   - an acknowledged outcome (applied or denied) is on disk: the commit that covers it returned,
//     with LMDB's syncs (data pages, then the meta page) done;
//   - a failed commit acknowledges nothing in its batch: each caller gets `failed` with the
//     store's error and may retry; the store is as it was before the batch;
//   - operations on one task are applied in queue order; version checks make concurrent callers
//     on one task see exactly one winner per version and a conflict for the others.
// Concurrent callers share the cost of a sync. `linger` (off by default) lets the writer wait
// that long for more work before committing, trading latency for throughput.
//
// Reads (task, tasks, audit, ...) run in their own read transactions on the caller's thread and
// see the last committed state. The store object is thread safe.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "runtime/service/audit.hpp"
#include "runtime/service/pipeline.hpp"
#include "runtime/service/task_record.hpp"
#include "runtime/store/lmdb.hpp"

namespace agentos::runtime {

struct store_options {
  env_options env;
  pipeline_limits limits;
  std::size_t max_batch = 1024;
  std::chrono::microseconds linger{0};
  // The hydrated skills of agents with a workspace (null: capabilities are as declared).
  std::shared_ptr<const skill_source> skills;
};

struct task_filter {
  std::string state, assignee, project;
  std::string label;      // tasks that carry this label (no index: checked per task)
  std::string after;      // a cursor: only tasks whose id sorts (bytewise) after this one
  std::size_t limit = 0;  // 0: all
};

struct table_count {
  std::string table;
  std::size_t entries = 0;
};

struct store_stat {
  env_stat env;
  std::vector<table_count> tables;
  std::string active_policy;
  std::uint64_t audit_records = 0;
  std::uint64_t audit_head_seq = 0;  // the last record's seq and hash (64 zeros for none)
  std::string audit_head_hash = std::string(64, '0');
  std::optional<std::int64_t> next_due;
};

struct check_report {
  std::uint64_t tasks = 0, index_entries = 0, artifacts = 0;
  std::vector<std::string> problems;
  verify_report audit;
  [[nodiscard]] bool ok() const { return problems.empty() && audit.ok(); }
};

struct writer_stats {
  std::uint64_t operations = 0;
  std::uint64_t commits = 0;
  std::uint64_t max_batch = 0;
  // Batches run a second time with a nested txn per operation, because one operation needed its
  // writes undone alone (task_store's writer; docs/store.md "Group commit").
  std::uint64_t nested_retries = 0;
  // Committed batches by size: batch_sizes[i] counts batches of 2^(i-1) < size <= 2^i (the last
  // one also every larger batch).
  static constexpr std::size_t batch_buckets = 12;
  std::array<std::uint64_t, batch_buckets> batch_sizes{};
};

// An issued bearer token as the store keeps it (never the token itself).
struct issued_token {
  std::string hash;  // SHA-256 hex of the token
  std::string agent;
};

class task_store {
 public:
  // Opens (creating if needed) the store in `dir`. With a policy, makes it the active one
  // (recording a new version). Without, uses the store's active policy from its own records; a
  // store that has none can be read but every write fails with `store.no_policy`.
  static result<std::unique_ptr<task_store>> open(const std::filesystem::path& dir, std::optional<compiled_policy> policy,
                                                   const store_options& options = {});
  ~task_store();  // finishes the queued work, then stops the writer
  task_store(const task_store&) = delete;
  task_store& operator=(const task_store&) = delete;

  // Queues an operation; the future is fulfilled once the outcome is durable (or has failed).
  std::future<outcome> submit(operation op);
  outcome apply(operation op) { return submit(std::move(op)).get(); }

  // The task as stored (decoded), as a json value, or as JSON text written without building one
  // (the API's GET); nullopt for an unknown id.
  result<std::optional<task_record>> record(std::string_view id) const;
  result<std::optional<json>> task(std::string_view id) const;
  result<std::optional<std::string>> task_json(std::string_view id) const;
  result<std::vector<json>> tasks(const task_filter& f) const;
  result<std::vector<audit_entry>> audit(const audit_filter& f) const;
  result<std::vector<json>> artifacts(std::string_view task_id) const;
  result<std::optional<std::string>> artifact_content(std::string_view task_id, std::string_view kind,
                                                      std::uint32_t version) const;
  result<std::vector<json>> reviews(std::string_view task_id) const;
  result<std::vector<json>> outbox(std::uint64_t after, std::size_t limit) const;
  // The seq of the last outbox event committed (0: none yet). The writer raises it after each
  // commit that appended events, so a reader of outbox(after, ...) for after < outbox_head()
  // finds them.
  [[nodiscard]] std::uint64_t outbox_head() const;
  // Blocks until outbox_head() > after, `until` passes or `stop` is requested; returns
  // outbox_head(). Lets a notifier follow the outbox without polling the disk.
  std::uint64_t wait_outbox(std::uint64_t after, std::chrono::steady_clock::time_point until,
                            std::stop_token stop = {}) const;
  result<std::vector<json>> agents() const;
  result<std::optional<json>> agent(std::string_view id) const;
  result<std::vector<issued_token>> tokens() const;
  // How many tasks are in each state (a scan of the by_state index: linear in the tasks).
  result<std::vector<std::pair<std::string, std::uint64_t>>> count_by_state() const;
  // Runs `fn` in a read transaction: reads of service records outside the task pipeline
  // (webhook subscriptions and their delivery log; written with a record_op).
  result<void> read_records(const std::function<result<void>(kv::reader&)>& fn) const;
  result<verify_report> verify(const std::function<void(std::uint64_t)>& progress = {}) const;
  result<check_report> check(const std::function<void(std::uint64_t)>& progress = {}) const;
  result<store_stat> stat() const;
  result<void> backup(const std::filesystem::path& dir) const;

  // Makes `policy` the active one through the writer queue: alone in its batch, recorded like at
  // open (its bundle, its agents, an audit record), and the writer switches to it only once that
  // commit returned, so every operation queued after it is decided by it and none before. An
  // outcome: applied (body: activated, version, previous, audit_seq; activated false when it was
  // already active), invalid for a policy with errors, failed when the store failed.
  outcome activate(compiled_policy policy, std::int64_t now);

  // The active policy (null when the store has none).
  [[nodiscard]] std::shared_ptr<const engine::rule_graph> graph() const;
  // Where the store reads agents' hydrated skills (store_options::skills); null when nowhere.
  [[nodiscard]] const skill_source* skills() const;
  // The active policy with its bundle (both null when the store has none).
  [[nodiscard]] compiled_policy policy() const;
  [[nodiscard]] writer_stats stats() const;
  [[nodiscard]] const std::filesystem::path& path() const;

  struct impl;

 private:
  explicit task_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> m;
};

}  // namespace agentos::runtime
