// Helpers for engine tests: compile policy text through the real parser and checker, and build
// requests by name.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "dsl/checker.hpp"
#include "engine/decide.hpp"
#include "engine/graph.hpp"
#include "engine/request.hpp"

namespace agentos::engine::testing {

struct compiled_policy {
  std::unique_ptr<dsl::source_manager> sources = std::make_unique<dsl::source_manager>();
  std::shared_ptr<const rule_graph> graph;
  std::string errors;
};

inline compiled_policy compile_text(const std::string& text, const compile_options& options = {}) {
  compiled_policy out;
  dsl::diagnostics diags;
  auto checked = dsl::check_text("test.policy", text, *out.sources, diags);
  for (const auto& d : diags.items()) {
    if (d.level == dsl::severity::error) out.errors += d.code + ": " + d.message + "\n";
  }
  if (!checked.ok || !checked.set) return out;
  out.graph = compile(std::shared_ptr<const dsl::policy_set>(std::move(checked.set)), options);
  return out;
}

// Compiles or fails the current test with the checker's errors.
#define AGENTOS_COMPILE(var, text)                    \
  auto var##_compiled = ::agentos::engine::testing::compile_text(text); \
  ASSERT_TRUE(var##_compiled.graph) << var##_compiled.errors;          \
  const ::agentos::engine::rule_graph& var = *var##_compiled.graph

inline std::int32_t state(const rule_graph& g, std::string_view n) {
  const auto i = g.find_state(n);
  EXPECT_GE(i, 0) << "no state " << n;
  return i;
}
inline std::int32_t event(const rule_graph& g, std::string_view n) {
  const auto i = g.find_event(n);
  EXPECT_GE(i, 0) << "no event " << n;
  return i;
}
inline std::int32_t role(const rule_graph& g, std::string_view n) {
  const auto i = g.find_role(n);
  EXPECT_GE(i, 0) << "no role " << n;
  return i;
}
inline std::int32_t attribute(const rule_graph& g, std::string_view n) {
  const auto i = g.find_attribute(n);
  EXPECT_GE(i, 0) << "no attribute " << n;
  return i;
}

inline std::vector<std::string> names(const rule_graph& g, std::span<const rule_id> ids) {
  std::vector<std::string> out;
  for (rule_id id : ids) out.push_back(g.rule(id).name);
  return out;
}

inline std::vector<deny_kind> kinds(std::span<const deny_reason> reasons) {
  std::vector<deny_kind> out;
  for (const auto& r : reasons) out.push_back(r.kind);
  return out;
}

}  // namespace agentos::engine::testing
