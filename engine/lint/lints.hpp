// The lint passes behind run_all(), one per file: lifecycle_lints.cpp and rule_lints.cpp.
#pragma once

#include <vector>

#include "dsl/diagnostic.hpp"
#include "engine/lint/constraints.hpp"

namespace agentos::engine::lint::detail {

void lint_lifecycle(const dsl::policy_set& set, const analyzer& a, std::vector<dsl::diagnostic>& out);
void lint_rules(const dsl::policy_set& set, const analyzer& a, std::vector<dsl::diagnostic>& out);
[[nodiscard]] bool code_is_error(const std::string& code);

// A lint diagnostic with the code's default severity.
[[nodiscard]] inline dsl::diagnostic make(std::string code, dsl::span where, std::string message) {
  dsl::diagnostic d;
  d.code = std::move(code);
  d.level = code_is_error(d.code) ? dsl::severity::error : dsl::severity::warning;
  d.primary = where;
  d.message = std::move(message);
  return d;
}

}  // namespace agentos::engine::lint::detail
