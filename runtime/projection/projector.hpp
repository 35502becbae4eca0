// The projector: mirrors the store into Paperclip (docs/paperclip.md, "How the projection
// works"). setup() makes sure of the company, the store's id and one Paperclip agent per agent of
// the org; project() then follows the outbox from the stored cursor and, per event, writes the
// issue (created with an idempotency key), its status and assignee, the plan document and plan
// approval, and the result work product, and only then records the new mapping and moves the
// cursor past the event, in one commit. Every create is keyed or first looked up (by the
// mapping, or in Paperclip by name / payload / externalId), so an event projected again after a
// crash creates nothing twice.
//
// Runs on the projection thread only: not thread safe. Reads the store through task_store and
// writes it only through record_ops (runtime/projection/mapping.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/projection/mapping.hpp"
#include "runtime/projection/paperclip_client.hpp"

namespace agentos::runtime {
class task_store;
}

namespace agentos::runtime::projection {

struct projector_options {
  std::string company_name = "agentos";  // the Paperclip company to project into (created or adopted by name)
  std::string executor_url;              // adapterConfig.url of every projected agent
  std::string public_url;                // the server's base URL: briefs carry <public_url>/api/executions/callback
  std::size_t batch = 64;                // outbox events read per store read
};

// Why a step failed: a Paperclip error (code paperclip.*), a store error (store.*), or the
// projection's own (projection.*). `transient` failures are retried as they are; the others are
// about one event and are logged and skipped (project()) or need an operator (setup()).
struct projection_error {
  std::string code;
  std::string message;
  bool transient = true;
};

[[nodiscard]] projection_error from_client(const client_error& e);
[[nodiscard]] projection_error from_store(const store_error& e);

// What one project() call did.
struct project_report {
  std::uint64_t cursor = 0;     // the outbox cursor after the call
  std::size_t projected = 0;    // events that wrote to Paperclip
  std::size_t skipped = 0;      // events that needed nothing (kinds not projected, replays)
  std::vector<std::string> dropped;  // events given up on: "seq N: code: message" (non-transient failures)
};

// Paperclip's role for an agentos role name: the same name when Paperclip has it (ceo, cto, cmo,
// cfo, security, engineer, designer, pm, qa, devops, researcher, general), else the first of a
// few keyword matches (chief → ceo, engineer → engineer, account/financ → cfo, ...), else general.
[[nodiscard]] std::string paperclip_role(std::string_view agentos_role);

// The issue description of a task: a brief for people, then the two marker lines the executor
// reads: `agentos-task: <id>` and `agentos-callback: <callback URL>`.
[[nodiscard]] std::string issue_description(const json& attributes, std::string_view task_id, std::string_view mode,
                                            std::string_view state, std::string_view callback_url);

class projector {
 public:
  projector(task_store& store, paperclip_client& client, projector_options options);

  // The store id, the company and the agents. Idempotent; project() calls it when it has not
  // succeeded yet. A company in the mapping that Paperclip does not know is not transient
  // (projection.company_missing): the mapping belongs to another Paperclip.
  std::optional<projection_error> setup();
  // Creates or adopts a Paperclip agent for every agent of the org that has none yet, and
  // corrects the adapter and reportsTo of those that differ. setup() calls it; project() calls
  // it again when an event names an agent without a mapping (a registered agent, a reload).
  std::optional<projection_error> sync_agents();

  // Projects outbox events after the stored cursor, up to the head or `max_events`. Stops at the
  // first transient failure (the cursor stays before that event, so it is projected again next
  // time); a non-transient failure of one event (e.g. Paperclip refusing it with a 4xx) is
  // recorded in `dropped` and the cursor moves past it, so one bad event cannot stop the rest.
  std::optional<projection_error> project(project_report& report, std::size_t max_events = SIZE_MAX);

  [[nodiscard]] bool ready() const { return m_ready; }
  [[nodiscard]] const company_record& company() const { return m_company; }
  [[nodiscard]] const std::string& store_id() const { return m_store_id; }

 private:
  struct effect;
  std::optional<projection_error> project_event(const json& event, effect& out);
  std::optional<projection_error> create_issue(const std::string& task, const std::string& state, const std::string& assignee,
                                               std::uint64_t version, task_mapping& out);
  std::optional<projection_error> paperclip_agent(const std::string& agentos_agent, std::string& out);
  std::optional<projection_error> project_plan(const std::string& task, const json& event, task_mapping& m);
  std::optional<projection_error> settle_approval(const json& event, task_mapping& m);
  std::optional<projection_error> project_result(const std::string& task, const json& event, task_mapping& m);

  task_store& m_store;
  paperclip_client& m_client;
  projector_options m_options;
  bool m_ready = false;
  company_record m_company;
  std::string m_store_id;
};

}  // namespace agentos::runtime::projection
