// When a task's escalation rules can next change their verdict. The runtime keeps open tasks in a
// due-time index so that finding that nothing is due is one index seek; this is what fills it.
//
// Escalation conditions depend on time only through task.time_in_state, task.age and `now`. The
// clock reads every escalation condition once (at graph compile time on the caller's side) and
// collects its thresholds: a comparison of time_in_state or age with a duration literal D gives
// the instant entered_at + D (or created_at + D); a comparison of `now` with a timestamp field
// gives that field's instant. A time-dependent shape it cannot read (for example time_in_state
// compared with a duration attribute) makes the clock `opaque`: such tasks are re-checked every
// poll interval instead. Pure: no I/O, no clock of its own.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "engine/graph.hpp"
#include "engine/request.hpp"

namespace agentos::engine {

class escalation_clock {
 public:
  explicit escalation_clock(const rule_graph& graph, std::int64_t poll_interval_ms = 60'000);

  // The earliest instant strictly after `after` at which some escalation condition may change
  // for the task in `req` (its `now` is ignored); nullopt when no escalation depends on time.
  [[nodiscard]] std::optional<std::int64_t> next_due(const request& req, std::int64_t after) const;

  [[nodiscard]] bool opaque() const { return m_opaque; }
  [[nodiscard]] bool depends_on_time() const { return m_opaque || !m_terms.empty(); }

  struct term {
    std::uint32_t base_slot = 0;  // a timestamp slot of the request (entered_at, created_at, an attribute)
    std::int64_t offset = 0;      // ms added to the base
  };
  [[nodiscard]] const std::vector<term>& terms() const { return m_terms; }

 private:
  std::vector<term> m_terms;
  bool m_opaque = false;
  std::int64_t m_poll = 60'000;
};

}  // namespace agentos::engine
