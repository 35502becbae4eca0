// Prints checked expressions back as policy text (minimal parentheses) and engine values in the
// policy's own vocabulary (enum members, role and state names, 24h, 12.50, RFC 3339), for
// explanations and lints.
#pragma once

#include <string>

#include "dsl/policy_set.hpp"
#include "engine/reference.hpp"

namespace agentos::engine::detail {

[[nodiscard]] std::string expr_text(const dsl::ast::expr& e);
[[nodiscard]] std::string value_text(const dsl::policy_set& policy, const dsl::ast::type_ref& type,
                                     const reference::ref_value& v);
[[nodiscard]] std::string quote(std::string_view s);

}  // namespace agentos::engine::detail
