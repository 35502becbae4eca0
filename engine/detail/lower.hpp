// Lowers checked expressions into the graph's bytecode and constant pool. Paths become request
// slots, literals and symbols become constants (interned strings, sorted sets), `and`/`or`
// become short-circuit jumps, an int compared with a decimal is scaled at compile time when it is
// a literal and by a to_decimal instruction otherwise, and `path OP literal` fuses into one
// instruction. It records the stack depth and set scratch each program needs.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>

#include "dsl/ast.hpp"
#include "engine/bytecode.hpp"
#include "engine/detail/rule_index.hpp"
#include "engine/value.hpp"

namespace agentos::engine {
class rule_graph;
}

namespace agentos::engine::detail {

class lowerer {
 public:
  explicit lowerer(rule_graph& graph) : m_graph(graph) {}

  // The program for a condition; null lowers to the empty program (always true).
  [[nodiscard]] program lower(const dsl::ast::expr* e);
  // The value of a constant expression (literal, symbol, set of those), e.g. an attribute default.
  // `as` is the type the value is read as, so an int literal for a decimal is scaled.
  [[nodiscard]] value constant_value(const dsl::ast::expr& e, dsl::ast::type_kind as);
  // The top-level conjuncts of a condition that pin a slot to constants (`PATH == C`,
  // `C == PATH`, `PATH in { C… }`, `{ C… } contains PATH`), for the rule index. Null: none.
  [[nodiscard]] std::vector<slot_keys> keyable_conjuncts(const dsl::ast::expr* e);
  // Adds `s` to the graph's string table (once) and returns its id.
  std::int32_t intern(std::string_view s);

 private:
  void emit(const dsl::ast::expr& e);
  void emit_binary(const dsl::ast::expr& e);
  void emit_set(const dsl::ast::expr& e, dsl::ast::type_kind as);
  void emit_operand(const dsl::ast::expr& x, dsl::ast::type_kind as, bool promote);
  bool emit_fused(std::uint32_t slot, const value& constant, cmp_op op, bool constant_first);
  void push(opcode op, std::int32_t arg, cmp_op cmp = cmp_op::eq, std::uint16_t aux = 0);
  void grow(int delta);
  std::int32_t add_constant(const value& v);

  rule_graph& m_graph;
  std::uint32_t m_depth = 0;
  std::uint32_t m_max_depth = 0;
  std::uint32_t m_set_scratch = 0;
  std::unordered_map<std::int64_t, std::int32_t> m_scalar_constants;
  std::unordered_map<std::int32_t, std::int32_t> m_string_constants;
};

// Whether an expression is a compile-time constant (literal, symbol, set of constants).
[[nodiscard]] bool is_constant(const dsl::ast::expr& e);
// The numeric type an operand is read as: literal kinds win over the checker's context typing.
[[nodiscard]] dsl::ast::type_kind numeric_kind(const dsl::ast::expr& e);
// Whether a set literal holds strings (else scalars: enum members, roles, states, numbers, ...).
[[nodiscard]] bool is_string_set(const dsl::ast::expr& set);
[[nodiscard]] cmp_op to_cmp(dsl::ast::binary_op op);
// Whether a comparison is made in decimal millionths: an operand (or a set literal's element)
// is a decimal, so the int operands and elements are scaled.
[[nodiscard]] bool decimal_comparison(const dsl::ast::expr& binary);
}  // namespace agentos::engine::detail
