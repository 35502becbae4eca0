// The service's Prometheus metrics (GET /metrics, docs/api-admin.md). The api counts as it
// answers: requests by route and status, and, for every decision the store recorded (a response
// that carries a decision and its audit_seq), the decision by effect and event and the time the
// request took. render() adds what the store says at scrape time (its size, tasks by state, the
// writer's commits and batch sizes, the active policy) and writes the text exposition format
// 0.0.4. Counting takes no lock and allocates nothing: every counter is a relaxed atomic, and
// event names are interned into a fixed lock-free table. Thread safe.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/service/api.hpp"

namespace agentos::runtime {

class service_metrics {
 public:
  // One (method, pattern) per route of the api's table, in its order; route index routes.size()
  // counts the requests no route matched.
  explicit service_metrics(std::vector<std::pair<std::string, std::string>> routes);
  ~service_metrics();
  service_metrics(const service_metrics&) = delete;
  service_metrics& operator=(const service_metrics&) = delete;

  // A request answered by `route` (see above): counts it, and the decision it carries, if any.
  void observe(std::size_t route, const api_response& response, std::chrono::nanoseconds took);
  void request(std::size_t route, unsigned status);
  void decision(std::string_view event, bool allowed, std::chrono::nanoseconds took);

  // Every metric in the text exposition format (version 0.0.4).
  [[nodiscard]] std::string render(const task_store& store) const;

  // The transition latency histogram's upper bounds, in seconds (+Inf follows).
  static constexpr std::array<double, 13> latency_bounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                         0.1,    0.25,  0.5,    1.0,   2.5,  5.0};
  struct event_table;

 private:
  using counter = std::atomic<std::uint64_t>;
  std::vector<std::pair<std::string, std::string>> m_routes;
  std::unique_ptr<counter[]> m_requests;  // (routes + 1) x statuses
  std::unique_ptr<event_table> m_events;
  std::array<counter, latency_bounds.size() + 1> m_latency{};  // per bucket (not cumulative); the last is +Inf
  counter m_latency_ns{0};
  counter m_latency_count{0};
};

}  // namespace agentos::runtime
