#include "engine/lint/lint.hpp"

#include "dsl/codes.hpp"
#include "engine/lint/lints.hpp"

namespace agentos::engine::lint {

namespace detail {
bool code_is_error(const std::string& code) {
  const auto info = dsl::find_code(code);
  return info && info->default_level == dsl::severity::error;
}
}  // namespace detail

std::vector<dsl::diagnostic> run_all(const dsl::policy_set& set) {
  std::vector<dsl::diagnostic> out;
  if (set.initial < 0 || set.states.empty()) return out;
  const detail::analyzer a(set);
  detail::lint_lifecycle(set, a, out);
  detail::lint_rules(set, a, out);
  return out;
}

}  // namespace agentos::engine::lint
