// Deciding allocates nothing once the buffer is fitted: counted by replacing the global operator
// new for this test binary (the count is only read around the calls under test).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "engine_fixture.hpp"

namespace {
std::atomic<long> g_allocations{0};
}

// AddressSanitizer owns operator new; under it the counting replacement is left out and the tests
// skip themselves.
#if defined(__SANITIZE_ADDRESS__)
#define AGENTOS_COUNTING_NEW 0
#else
#define AGENTOS_COUNTING_NEW 1
#if defined(__GNUC__) && !defined(__clang__)
// GCC cannot see that the replaced new and delete below pair malloc with free.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace {

using namespace agentos::engine;
using namespace agentos::engine::testing;

TEST(allocation, decide_route_gate_escalate_allocate_nothing) {
  if (!AGENTOS_COUNTING_NEW) GTEST_SKIP() << "allocation counting is off under AddressSanitizer";
  AGENTOS_COMPILE(g, R"(
policy p version "1"
org { role boss  role worker reports_to boss  agent w role worker capabilities { "x" } }
task { risk: enum { low, high } = low  amount: decimal = 0.00  tags: set<string> optional  who: string optional }
lifecycle {
  states open, doing, review, done
  initial open
  terminal done
  open -> doing on start when task.amount < 100 or task.risk == low
  doing -> review on submit
  review -> done on accept
}
routing { route r1 when task.risk == high -> role boss  otherwise -> role worker }
gate g1 when task.risk == high or "prod" in task.labels because "risky"
permit p1 on start, submit when actor.id == task.assignee and task.who in { task.project, actor.id, "z" }
permit p2 on accept when actor.role parent_of task.assignee_role
forbid f1 on accept when actor.id == task.assignee because "no self review"
forbid f2 on start when task.tags subset { "a", "b" } and "c" in task.tags because "never"
escalate e1 when task.time_in_state > 1h -> parent
obligation o1 on submit then require review by parent, notify role boss
)");
  request allow(g);
  allow.set_state(g.find_state("doing"));
  allow.set_event(g.find_event("submit"));
  allow.set_assignee("w");
  allow.set_assignee_role(g.find_role("worker"));
  allow.set_actor("w", g.find_role("worker"), kind_agent);
  allow.set_attribute(g.find_attribute("who"), std::string_view("w"));
  request deny(g);
  deny.set_state(g.find_state("review"));
  deny.set_event(g.find_event("accept"));
  deny.set_assignee("w");
  deny.set_actor("w", g.find_role("worker"), kind_agent);
  deny.set_now(7'200'000);

  decision_buffer buf(g);
  const long before = g_allocations.load();
  int allowed = 0;
  for (int i = 0; i < 1000; ++i) {
    allowed += decide(g, allow, buf).allowed ? 1 : 0;
    allowed += decide(g, deny, buf, decide_options{true, true, true}).allowed ? 1 : 0;
    allowed += route(g, allow, buf).routed() ? 0 : 1;
    allowed += gate(g, deny, buf).mode;
    allowed += static_cast<int>(escalations(g, deny, buf).size());
  }
  const long after = g_allocations.load();
  EXPECT_EQ(after - before, 0);
  EXPECT_EQ(allowed, 2000);  // allow path allowed, escalation fired each time
  // The counter does count: a fresh buffer allocates when it is fitted.
  { decision_buffer fresh(g); }
  EXPECT_GT(g_allocations.load(), after);
}

TEST(allocation, an_unfitted_buffer_fits_itself_once) {
  if (!AGENTOS_COUNTING_NEW) GTEST_SKIP() << "allocation counting is off under AddressSanitizer";
  AGENTOS_COMPILE(g, R"(
policy p version "1"
org { role a }
lifecycle { states x, y  initial x  terminal y  x -> y on go }
permit all on go
)");
  request r(g);
  r.set_event(0);
  decision_buffer buf;
  EXPECT_TRUE(decide(g, r, buf).allowed);
  const long before = g_allocations.load();
  EXPECT_TRUE(decide(g, r, buf).allowed);
  EXPECT_EQ(g_allocations.load() - before, 0);
}

}  // namespace
