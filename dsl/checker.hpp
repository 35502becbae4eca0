// The semantic passes: assemble a loaded set by layer, resolve every name (roles, agents,
// attributes, states, groups, events, imports' rules), apply `override` rules, type-check every
// expression and annotate it with what it resolved to, and check invariant well-formedness.
// Mistakes become diagnostics; the policy set is returned even when there are errors (an editor
// wants what could be resolved), and `ok` says whether it may be lowered by the engine.
#pragma once

#include <memory>
#include <span>

#include "dsl/diagnostic.hpp"
#include "dsl/loader.hpp"
#include "dsl/policy_set.hpp"

namespace agentos::dsl {

struct check_result {
  std::unique_ptr<policy_set> set;
  bool ok = false;  // no errors were found in this set (warnings allowed)
};

[[nodiscard]] check_result check(loaded_set files, const source_manager& sources, diagnostics& out);

// Convenience for tools and tests: parse and check in-memory text with no imports.
[[nodiscard]] check_result check_text(std::string_view name, std::string text, source_manager& sources,
                                      diagnostics& out);

// The built-in task fields (name, type) that policies can read and cannot redeclare.
struct builtin_field {
  std::string_view name;
  ast::type_kind type;
  ast::field what;
};
[[nodiscard]] std::span<const builtin_field> builtin_task_fields();
[[nodiscard]] std::span<const builtin_field> actor_fields();
[[nodiscard]] std::span<const builtin_field> assignment_fields();

}  // namespace agentos::dsl
