// The route table of the operator API and the helpers its handlers share. Internal to
// runtime/service: each api_<group>.cpp adds its routes with add_<group>_routes(), and api.cpp
// matches a request against the table (path pattern, then method) and calls the handler.
//
// A pattern is a path whose segments are literals or `{name}` placeholders
// ("/api/tasks/{id}/transitions"); a placeholder matches any one non-empty segment and its
// percent-decoded value is passed in call::params, in order. The same table is what
// api::routes() reports (the OpenAPI coverage test compares the two).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/service/api.hpp"

namespace agentos::runtime::api_detail {

using nlohmann::json;

// What the handlers may use: the store and the service's settings.
struct services {
  task_store& store;
  const bearer_tokens& tokens;
  const api_limits& limits;
  const std::function<std::int64_t()>& clock;  // now, ms since the epoch
  notifier& events;                            // the outbox feed
  webhook_dispatcher& webhooks;
};

// One request, matched to a route.
struct call {
  const api_request& request;
  std::vector<std::string> params;           // the pattern's {placeholders}, in order
  std::map<std::string, std::string> query;  // percent-decoded; the last value of a repeated key wins
  std::string actor_id;                      // the token's owner ("" on an unauthenticated route)
  json actor = json::object();               // {"id": actor_id}

  [[nodiscard]] std::string query_value(const std::string& key) const;
};

using handler = std::function<api_response(const services&, const call&)>;

struct route {
  std::string method;   // GET, POST, ...
  std::string pattern;  // /api/tasks/{id}
  bool authenticated = true;
  handler fn;
};

using route_table = std::vector<route>;

void add_task_routes(route_table& routes);
void add_audit_routes(route_table& routes);
void add_event_routes(route_table& routes);  // the event stream and webhooks (api_events.cpp)

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
// A non-negative decimal count, or nullopt.
[[nodiscard]] std::optional<std::uint64_t> parse_count(std::string_view s);

}  // namespace agentos::runtime::api_detail
