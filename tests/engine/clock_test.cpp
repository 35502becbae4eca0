// The escalation clock: which instants a task's escalation rules can change at.
#include "engine/clock.hpp"

#include <gtest/gtest.h>

#include "engine_fixture.hpp"

namespace agentos::engine {
namespace {

constexpr const char* k_head = R"(policy clock version "1" layer project
org { role boss  role worker reports_to boss }
task { due: timestamp optional  patience: duration = 1h }
lifecycle { states open, done  initial open  terminal done  open -> done on finish }
)";

std::string policy(const std::string& escalations) { return std::string(k_head) + escalations; }

TEST(escalation_clock, no_time_dependence_means_never_due) {
  AGENTOS_COMPILE(g, policy("escalate on_request when task.escalation_requested -> operator\n"));
  const escalation_clock clock(g);
  EXPECT_FALSE(clock.depends_on_time());
  request r(g);
  r.set_entered_at(1000);
  EXPECT_FALSE(clock.next_due(r, 0).has_value());
}

TEST(escalation_clock, thresholds_on_time_in_state_and_age) {
  AGENTOS_COMPILE(g, policy("escalate stale when task.time_in_state > 1d -> parent\n"
                            "escalate old when task.age >= 2h and task.attempts > 1 -> operator\n"));
  const escalation_clock clock(g);
  EXPECT_FALSE(clock.opaque());
  ASSERT_EQ(clock.terms().size(), 2u);
  request r(g);
  r.set_entered_at(10'000);
  r.set_created_at(5'000);
  const std::int64_t day = 86'400'000, two_hours = 7'200'000;
  // The earliest threshold first, then the strict form's next millisecond, then the next rule.
  EXPECT_EQ(clock.next_due(r, 0), 5'000 + two_hours);
  EXPECT_EQ(clock.next_due(r, 5'000 + two_hours), 5'000 + two_hours + 1);
  EXPECT_EQ(clock.next_due(r, 5'000 + two_hours + 1), 10'000 + day);
  EXPECT_EQ(clock.next_due(r, 10'000 + day), 10'000 + day + 1);
  EXPECT_FALSE(clock.next_due(r, 10'000 + day + 1).has_value());
}

TEST(escalation_clock, now_against_a_timestamp_attribute) {
  AGENTOS_COMPILE(g, policy("escalate overdue when now > task.due -> role boss\n"));
  const escalation_clock clock(g);
  EXPECT_FALSE(clock.opaque());
  request r(g);
  // An unset optional timestamp reads as the epoch (docs/language.md), so it is due at once.
  EXPECT_EQ(clock.next_due(r, 0), 1);
  r.set_attribute(testing::attribute(g, "due"), std::int64_t{50'000});
  EXPECT_EQ(clock.next_due(r, 0), 50'000);
  EXPECT_EQ(clock.next_due(r, 50'000), 50'001);
  EXPECT_FALSE(clock.next_due(r, 50'001).has_value());
}

TEST(escalation_clock, a_shape_it_cannot_read_polls) {
  AGENTOS_COMPILE(g, policy("escalate impatient when task.time_in_state > task.patience -> operator\n"));
  const escalation_clock clock(g, 60'000);
  EXPECT_TRUE(clock.opaque());
  request r(g);
  EXPECT_EQ(clock.next_due(r, 1'000), 61'000);
}

}  // namespace
}  // namespace agentos::engine
