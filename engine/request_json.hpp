// Builds a request from a JSON object, resolving names against a graph. Pure: no I/O. The shape
// (documented for `agentos eval` in docs/):
//   { "event": "approve_plan", "now": 1735689600000 | "2025-01-01T00:00:00Z",
//     "task":  { "id": "T-1", "project": "web", "state": "plan_review", "mode": "plan_first",
//                "labels": ["production"], "assignee": "claude", "assignee_role": "engineer",
//                "attempts": 0, "entered_at": ms|RFC3339, "created_at": ms|RFC3339,
//                "escalation_requested": false,
//                "<attribute>": value, ... },           (or nested under "attributes")
//     "actor": { "id": "ceo", "role": "chief_of_staff", "kind": "operator",
//                "capabilities": ["approve"] },
//     "assignment": { "id": "codex", "role": "senior_engineer", "kind": "agent",
//                     "capabilities": ["submit-plan"] } }
// Attribute values: string; int (integer); decimal (number, or a string such as "12.50" for an
// exact value); bool; duration (ms, or "1h30m"); timestamp (ms, or RFC 3339); enum (member name);
// set<string> (array of strings); null leaves the attribute unset. An actor or assignee whose id
// names a declared agent takes its role (and kind and capabilities) from the org unless given.
// Without "assignment", the assignment is the task's assignee (its id and assignee_role, and the
// kind and capabilities the org declares for it). Every problem is reported, with a JSON pointer to where it is.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/graph.hpp"
#include "engine/request.hpp"

namespace agentos::engine {

struct request_error {
  std::string pointer;  // JSON pointer, e.g. "/task/risk"
  std::string message;
};

struct request_result {
  std::optional<request> value;  // set when there are no errors
  std::vector<request_error> errors;
  [[nodiscard]] bool ok() const { return value.has_value(); }
};

[[nodiscard]] request_result request_from_json(const nlohmann::json& json, const rule_graph& graph);

// Sets `req`'s assignment from an assignment object as request_from_json reads one (null: no
// assignment), for a caller that builds the rest of the request another way. Returns the
// problems found, with pointers under /assignment; after any, the request is not to be decided on.
[[nodiscard]] std::vector<request_error> set_assignment_json(request& req, const rule_graph& graph,
                                                            const nlohmann::json& assignment);

}  // namespace agentos::engine
