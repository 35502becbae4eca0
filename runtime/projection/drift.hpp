// Drift between the store and its projection in Paperclip, as `agentos projection check` reports
// it (docs/cli.md, docs/paperclip.md): each task's issue, status and assignee compared with what
// the projection rules say they should be, issues and agents that are missing on one side, and
// issues that look like agentos's but are not in the mapping. Read-only on both sides: it reads
// the store through task_store and Paperclip through the client, and writes nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/projection/paperclip_client.hpp"
#include "runtime/service/api.hpp"

namespace agentos::runtime {
class task_store;
}

namespace agentos::runtime::projection {

// One difference. `kind`, stable for scripts:
//   company.missing   no company in the mapping, or Paperclip does not know it
//   task.unprojected  a task with no issue in the mapping
//   issue.missing     a mapped issue Paperclip does not have
//   issue.status      the issue's status is not the task state's status
//   issue.assignee    the issue's assignee is not the task assignee's Paperclip agent
//   issue.unmapped    an issue carrying an `agentos-task:` line that the mapping does not know
//   agent.unprojected an agent (kind agent) of the org with no Paperclip agent in the mapping
//   agent.missing     a mapped Paperclip agent that Paperclip does not have (or terminated)
struct drift_finding {
  std::string kind;
  std::string task;        // "" when not about a task
  std::string issue;       // Paperclip issue id, "" when none
  std::string identifier;  // PREFIX-N, "" when unknown
  std::string agent;       // agentos agent id, for agent findings
  std::string expected;    // what agentos says (status, Paperclip agent id, ...)
  std::string actual;      // what Paperclip has
  std::string message;     // one line for a person
};

struct drift_report {
  std::string company;  // Paperclip company id ("" when none)
  std::uint64_t tasks = 0, issues = 0, agents = 0;
  std::uint64_t outbox_cursor = 0, outbox_head = 0;  // a cursor behind the head: the projection lags
  std::vector<drift_finding> findings;
  [[nodiscard]] bool clean() const { return findings.empty(); }
  [[nodiscard]] nlohmann::json to_json() const;
  [[nodiscard]] std::string to_text() const;
};

// Why a check could not be made: a store error (store.*) or Paperclip (paperclip.*).
struct drift_error {
  std::string code;
  std::string message;
};

struct drift_result {
  std::optional<drift_report> report;
  std::optional<drift_error> error;
};

[[nodiscard]] drift_result check_drift(const task_store& store, paperclip_client& client);

// POST /api/projection/check's answer (api_options::projection_check): 200 the report's JSON; 502
// with Paperclip's error code when Paperclip could not be read; 503 for a store error. A fresh
// client per call: the route runs on any of the server's blocking threads.
[[nodiscard]] api_response drift_response(const task_store& store, const base_url& paperclip,
                                          const client_options& options = {});

// The task id an issue description names on its `agentos-task: <id>` line, or "".
[[nodiscard]] std::string described_task(std::string_view description);

}  // namespace agentos::runtime::projection
