// Routes: the event stream (GET /api/events, streamed by the transport) and the webhooks an
// operator manages (docs/api-events.md).
#include "runtime/service/api_routes.hpp"

namespace agentos::runtime::api_detail {

namespace {

// Where a stream resumes: the Last-Event-ID header (what a reconnecting EventSource sends), else
// ?after=, else the current head (only new events).
api_response stream_events(const services& s, const call& c) {
  const std::uint64_t head = s.store.outbox_head();
  std::uint64_t after = head;
  std::string_view from = "Last-Event-ID";
  std::string_view given = c.request.last_event_id;
  while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
  while (!given.empty() && given.back() == ' ') given.remove_suffix(1);
  if (given.empty() && c.query.contains("after")) {
    from = "after";
    given = c.query.at("after");
  }
  if (!given.empty()) {
    const auto n = parse_count(given);
    if (!n) return api_error(400, "request.invalid", std::string(from) + " must be an event id (a whole number)");
    if (*n > head)
      return api_error(400, "events.beyond_head",
                       std::string(from) + " " + std::to_string(*n) + " is beyond the last event " + std::to_string(head),
                       {{"head", head}});
    after = *n;
  }
  return event_stream_response(after);
}

api_response create_webhook(const services& s, const call& c) {
  if (auto no = require_operator(s, c)) return *no;
  json body;
  if (auto bad = parse_body(c.request.body, s.limits.max_json_depth, body)) return *bad;
  webhook_spec_error e;
  const auto spec = parse_webhook_spec(body, e);
  if (!spec) return api_error(400, e.code, e.message, {{"field", e.field}});
  return from_outcome(s.webhooks.add(*spec, c.actor_id, s.clock()), 201);
}

api_response list_webhooks(const services& s, const call& c) {
  if (auto no = require_operator(s, c)) return *no;
  auto all = s.webhooks.list();
  if (!all) return store_failure(all.error());
  return {200, {{"webhooks", std::move(*all)}}, {}};
}

api_response get_webhook(const services& s, const call& c) {
  if (auto no = require_operator(s, c)) return *no;
  auto one = s.webhooks.get(c.params[0]);
  if (!one) return store_failure(one.error());
  if (!*one) return api_error(404, "webhook.not_found", "no webhook " + c.params[0]);
  return {200, {{"webhook", std::move(**one)}}, {}};
}

api_response delete_webhook(const services& s, const call& c) {
  if (auto no = require_operator(s, c)) return *no;
  return from_outcome(s.webhooks.remove(c.params[0]), 200);
}

api_response webhook_deliveries(const services& s, const call& c) {
  if (auto no = require_operator(s, c)) return *no;
  std::size_t limit = 0;
  if (auto bad = list_limit(c, s.limits, limit)) return *bad;
  std::uint64_t after = 0;
  if (c.query.contains("after")) {
    const auto n = parse_count(c.query.at("after"));
    if (!n) return api_error(400, "request.invalid", "after must be a delivery record number (a whole number)");
    after = *n;
  }
  auto log = s.webhooks.deliveries(c.params[0], after, limit);
  if (!log) return store_failure(log.error());
  if (!*log) return api_error(404, "webhook.not_found", "no webhook " + c.params[0]);
  return {200, {{"deliveries", std::move(**log)}}, {}};
}

}  // namespace

void add_event_routes(route_table& routes) {
  routes.push_back({"GET", "/api/events", true, stream_events});
  routes.push_back({"GET", "/api/webhooks", true, list_webhooks});
  routes.push_back({"POST", "/api/webhooks", true, create_webhook});
  routes.push_back({"GET", "/api/webhooks/{id}", true, get_webhook});
  routes.push_back({"DELETE", "/api/webhooks/{id}", true, delete_webhook});
  routes.push_back({"GET", "/api/webhooks/{id}/deliveries", true, webhook_deliveries});
}

}  // namespace agentos::runtime::api_detail
