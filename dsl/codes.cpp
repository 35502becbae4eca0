#include "dsl/codes.hpp"

#include <array>

namespace agentos::dsl {

namespace {

using enum severity;

constexpr std::array codes{
    // Syntax: the parser's named commit points.
    code_info{"E1001", "syntax-error", error, "unexpected input"},
    code_info{"E1002", "unterminated-string", error, "a string literal is not closed before the end of the line"},
    code_info{"E1003", "unterminated-comment", error, "a block comment is not closed"},
    code_info{"E1004", "invalid-utf8", error, "the file is not valid UTF-8 text"},
    code_info{"E1005", "file-too-large", error, "the file exceeds the maximum policy size"},
    code_info{"E1006", "nesting-too-deep", error, "expressions are nested too deeply"},
    code_info{"E1007", "missing-header", error, "a policy file must start with `policy NAME version \"...\"`"},
    code_info{"E1008", "expected-expression", error, "an expression was expected"},
    code_info{"E1009", "expected-name", error, "a name was expected"},
    code_info{"E1010", "invalid-escape", error, "unknown escape sequence in a string"},
    code_info{"E1011", "invalid-literal", error, "a number or duration literal is malformed or out of range"},
    code_info{"E1012", "unclosed-block", error, "a block is not closed with `}`"},
    code_info{"E1013", "expected-declaration", error, "a top-level declaration was expected"},
    code_info{"E1014", "missing-reason", error, "a forbid rule must give a reason with `because \"...\"`"},
    code_info{"E1015", "expected-target", error, "a target (role, agent, parent, operator) was expected after `->`"},
    code_info{"E1016", "expected-type", error, "an attribute type was expected"},
    code_info{"E1017", "expected-string", error, "a string literal was expected"},
    code_info{"E1018", "reserved-word", error, "a keyword cannot be used as a name"},
    code_info{"E1019", "expected-item", error, "an item of this block was expected"},
    code_info{"E1020", "expected-events", error, "a list of events was expected after `on`"},
    code_info{"E1021", "expected-condition", error, "`when` and a condition were expected"},
    code_info{"E1022", "expected-invariant", error, "an invariant body was expected"},
    // Imports and files.
    code_info{"E2001", "import-not-found", error, "an imported file does not exist"},
    code_info{"E2002", "import-is-directory", error, "an import names a directory, not a file"},
    code_info{"E2003", "import-cycle", error, "files import each other in a cycle"},
    code_info{"E2004", "unreadable-file", error, "a file could not be read"},
    // Names and definitions.
    code_info{"E3001", "unknown-state", error, "a state or state group is not declared"},
    code_info{"E3002", "unknown-event", error, "an event does not appear in any lifecycle transition"},
    code_info{"E3003", "unknown-role", error, "a role is not declared in the org"},
    code_info{"E3004", "unknown-attribute", error, "a task or actor attribute does not exist"},
    code_info{"E3005", "unknown-agent", error, "an agent is not declared in the org"},
    code_info{"E3006", "unknown-name", error, "a name does not resolve to anything in its context"},
    code_info{"E3007", "duplicate-definition", error, "something is defined twice in one layer"},
    code_info{"E3008", "org-cycle", error, "the reports_to chain of roles forms a cycle"},
    code_info{"E3009", "redefinition-without-override", error, "a later layer redefines a named rule without `override`"},
    code_info{"E3010", "override-without-base", error, "`override` names a rule that no lower layer defines"},
    code_info{"E3011", "missing-lifecycle", error, "the policy set has no lifecycle, no states or no initial state"},
    code_info{"E3012", "multiple-initial", error, "more than one initial state is declared"},
    // Types.
    code_info{"E4001", "type-mismatch", error, "the operands of an operator have incompatible types"},
    code_info{"E4002", "condition-not-bool", error, "a condition is not a boolean expression"},
    code_info{"E4003", "not-ordered", error, "ordering comparison on a type that has no order"},
    code_info{"E4004", "not-a-set", error, "set membership or containment on something that is not a set"},
    code_info{"E4005", "default-type-mismatch", error, "an attribute's default value does not have the attribute's type"},
    code_info{"E4006", "not-an-enum-member", error, "a value is not a member of the enum it is compared with"},
    code_info{"E4007", "relation-needs-roles", error, "`parent_of`/`ancestor_of` compare roles"},
    // Invariants.
    code_info{"E5001", "invariant-scope", error, "an invariant's condition may only read task attributes"},
    // Warnings.
    code_info{"W0101", "duplicate-import", warning, "the same file is imported twice"},
    code_info{"W0102", "transition-from-terminal", warning, "a transition leaves a terminal state"},
    code_info{"W0103", "unused-group", warning, "a state group is declared but never used"},
    code_info{"W0104", "self-comparison", warning, "an expression is compared with itself"},
    code_info{"W0105", "empty-block", warning, "a block declares nothing"},
    // Graph lints (engine/lint): properties of the whole lifecycle and rule set.
    code_info{"L0001", "unreachable-state", warning, "a state cannot be reached from the initial state"},
    code_info{"L0002", "dead-end-state", warning, "a non-terminal state has no way out"},
    code_info{"L0003", "guard-never-holds", warning, "a transition's guard can never be true"},
    code_info{"L0004", "shadowed-route", warning, "a route can never be chosen because an earlier route always matches first"},
    code_info{"L0005", "dead-permit", warning, "a permit can never take effect because a forbid always applies"},
    code_info{"L0006", "plan-gate-bypass", warning, "a plan_first task can reach execution without plan approval"},
    code_info{"L0007", "self-approval", warning, "an approval event has no separation-of-duty rule"},
    code_info{"L0008", "escalation-cycle", warning, "escalation rules can hand a task around in a cycle"},
    code_info{"L0009", "missing-fallback", warning, "routing has no `otherwise` fallback"},
    code_info{"L0010", "unperformable-event", warning, "no actor can ever perform an event"},
    code_info{"L0011", "invariant-violated", error, "a declared invariant does not hold"},
};

}  // namespace

std::span<const code_info> all_codes() { return codes; }

std::optional<code_info> find_code(std::string_view code_or_name) {
  for (const auto& c : codes) {
    if (c.code == code_or_name || c.name == code_or_name) return c;
  }
  return std::nullopt;
}

}  // namespace agentos::dsl
