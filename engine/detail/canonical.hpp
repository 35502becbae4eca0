// A canonical serialization of a checked policy's meaning, hashed into the policy version. It
// covers everything that can change a decision or a lint (names, org, attributes with defaults,
// lifecycle, every rule with its resolved condition, reasons, targets, layers, invariants) and
// nothing that cannot (spans, comments, doc text, formatting, file names).
#pragma once

#include <string>

#include "dsl/policy_set.hpp"

namespace agentos::engine::detail {

[[nodiscard]] std::string canonical_form(const dsl::policy_set& policy);

}  // namespace agentos::engine::detail
