// Routes: GET /metrics, Prometheus' text exposition format (metrics.hpp). Unauthenticated, like
// /health, so a scraper needs no token: it shows counts, durations and the policy version, never
// a task, an actor or a token.
#include "runtime/service/api_routes.hpp"

namespace agentos::runtime::api_detail {

namespace {

api_response scrape(const services& s, const call&) {
  api_response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.text = s.metrics.render(s.store);
  return r;
}

}  // namespace

void add_metrics_routes(route_table& routes) { routes.push_back({"GET", "/metrics", false, scrape}); }

}  // namespace agentos::runtime::api_detail
