// The route table of the operator API and the helpers its handlers share. Internal to
// runtime/service: each api_<group>.cpp adds its routes with add_<group>_routes(), and api.cpp
// matches a request against the table (path pattern, then method) and calls the handler.
//
// A pattern is a path whose segments are literals or `{name}` path parameters
// ("/api/tasks/{id}/transitions", as OpenAPI writes them); a parameter matches any one non-empty
// segment and its percent-decoded value is passed in call::params, in order. The same table is what
// api::routes() reports (the OpenAPI coverage test compares the two).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/service/api.hpp"
#include "runtime/service/issued_tokens.hpp"
#include "runtime/service/metrics.hpp"

namespace agentos::runtime::api_detail {

using nlohmann::json;

// What the handlers may use: the store and the service's settings.
struct services {
  task_store& store;
  const bearer_tokens& tokens;
  const api_limits& limits;
  const std::function<std::int64_t()>& clock;  // now, ms since the epoch
  const issued_tokens& issued;                  // tokens the store issued (refresh after a change)
  const service_metrics& metrics;
  const std::filesystem::path& policy_entry;    // the policy file served ("" when unknown)
  notifier& events;                            // the outbox feed
  webhook_dispatcher& webhooks;
};

// One request, matched to a route.
struct call {
  const api_request& request;
  std::vector<std::string> params;           // the values of the pattern's {parameters}, in order
  std::map<std::string, std::string> query;  // percent-decoded; the last value of a repeated key wins
  std::string actor_id;                      // the token's owner ("" on an unauthenticated route)
  json actor = json::object();               // {"id": actor_id}
  // With an Idempotency-Key on a route that takes one: the key scoped to the actor, and what it
  // stands for (method, target, SHA-256 of method, target and body). Give both to the operation
  // (keyed()); the store replays, or refuses a reuse for another request.
  std::string idempotency_key = {};
  std::string idempotency_request = {};

  [[nodiscard]] std::string query_value(const std::string& key) const;
};

using handler = std::function<api_response(const services&, const call&)>;

struct route {
  std::string method;   // GET, POST, ...
  std::string pattern;  // /api/tasks/{id}
  bool authenticated = true;
  handler fn;
  // True when the handler passes the call's idempotency key to the store (keyed()). A request
  // with an Idempotency-Key on any other non-GET route is refused with 400, so a client never
  // believes a retry is safe where it is not.
  bool idempotent = false;
};

using route_table = std::vector<route>;

void add_task_routes(route_table& routes);
void add_audit_routes(route_table& routes);
void add_ops_routes(route_table& routes);
void add_agent_routes(route_table& routes);
void add_policy_routes(route_table& routes);
void add_metrics_routes(route_table& routes);
void add_openapi_routes(route_table& routes);
// docs/openapi.json as the build embedded it (a generated source, runtime/CMakeLists.txt).
[[nodiscard]] std::string_view openapi_document();
// The executor protocol's routes keep their own state (settings, callback URL, replay memory).
struct executor_state;
std::shared_ptr<executor_state> add_executor_routes(route_table& routes, executor_settings settings);
void default_public_base_url(executor_state& s, std::string url);
void add_event_routes(route_table& routes);  // the event stream and webhooks (api_events.cpp)
// POST /api/projection/check (api_projection.cpp): `check` answers it; empty: 404 projection.off.
void add_projection_routes(route_table& routes, std::function<api_response()> check);

// ---- shared helpers

// The 503 of a store error (store.no_space, store.io, ...).
[[nodiscard]] api_response store_failure(const store_error& e);
// An outcome as a response: applied -> applied_status, denied 422 (details.reasons, decision,
// task, audit_seq), conflict 409, not_found 404, invalid 400, failed 503.
[[nodiscard]] api_response from_outcome(const outcome& o, unsigned applied_status);
// A JSON object body into `out`, or the 400 that says why not (too deep, malformed, not an object).
[[nodiscard]] std::optional<api_response> parse_body(std::string_view body, std::size_t max_depth, json& out);
// Rejects a body field not in `known`, so nothing unexpected is silently dropped (or stored).
[[nodiscard]] std::optional<api_response> only_fields(const json& body, std::initializer_list<std::string_view> known);
// `?limit=` into `out` (the default when absent), or the 400 for a bad one.
[[nodiscard]] std::optional<api_response> list_limit(const call& c, const api_limits& limits, std::size_t& out);
// A response whose body is JSON text already written (sent as is, with a newline).
[[nodiscard]] api_response json_text(unsigned status, std::string text);
// A non-negative decimal count, or nullopt.
[[nodiscard]] std::optional<std::uint64_t> parse_count(std::string_view s);
// Optional body fields: absent or null leaves `out` empty; the wrong type is a 400.
[[nodiscard]] std::optional<api_response> optional_string(const json& body, const char* field,
                                                          std::optional<std::string>& out);
[[nodiscard]] std::optional<api_response> optional_version(const json& body, std::optional<std::uint64_t>& out);

// The call's idempotency key and request into an operation (create_op, transition_op, escalate_op).
template <class Op>
void keyed(const call& c, Op& op) {
  op.idempotency_key = c.idempotency_key;
  op.idempotency_request = c.idempotency_request;
}

// ---- who may act (api_scope.cpp; docs/api.md, "Who may act")

// The token owner's place in the org: the active policy's agents, then the registered ones.
struct org_member {
  std::string kind;  // agent, human, operator
  std::string role;
};
[[nodiscard]] result<std::optional<org_member>> member_of(const services& s, const std::string& id);
// 403 `auth.forbidden` unless the actor is an operator of the org.
[[nodiscard]] std::optional<api_response> require_operator(const services& s, const call& c);
// 403 `auth.forbidden` unless the actor belongs to the org (an unknown owner may read, not act).
[[nodiscard]] std::optional<api_response> require_member(const services& s, const call& c);

// A transition of the task in params[0] on `event` by the actor, now, with the call's key.
[[nodiscard]] transition_op new_transition(const services& s, const call& c, std::string event);

// Builds the operation for a task route from the task as read (its decoded record). A response
// means the request is refused as it stands (nothing is submitted).
using task_operation = std::function<std::optional<api_response>(const task_record& task, operation& op)>;
// Acts on an existing task: reads it (404), applies the scope rule (403: an operator acts on any
// task; another org member only on a task it is assigned or whose assignee's role is below its
// own; nothing is written), builds the operation and submits it. A transition is pinned to the
// version read, so the scope and whatever `build` decided hold for the version it applies to;
// when the client gave no expected_version and the pin loses a race, it is read and checked
// again. The response is the outcome's (an applied transition with its decision).
[[nodiscard]] api_response act_on_task(const services& s, const call& c, std::optional<std::uint64_t> expected_version,
                                       const task_operation& build);
// The agent `id` as GET /api/agents shows it ({id, role, reports_to, kind, capabilities, source}):
// declared by the active policy or registered in the store; nullopt when neither.
[[nodiscard]] result<std::optional<json>> find_agent(const services& s, const std::string& id);

}  // namespace agentos::runtime::api_detail
