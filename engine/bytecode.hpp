// The compiled form of a condition: a flat array of 8-byte instructions for a stack machine over
// engine values. Paths are request slots and literals are indices into the graph's constant pool,
// both fixed at compile time, so running a program does no name lookup, walks no AST and
// allocates nothing (the stack and the scratch for set literals with non-constant elements come
// from a caller's buffer, sized once per graph). Programs of one graph share one code array; a
// program is a range of it, and the empty program is the condition that always holds.
#pragma once

#include <cstdint>
#include <string_view>

namespace agentos::engine {

enum class opcode : std::uint8_t {
  push_const,      // push constants[arg]
  push_slot,       // push request slot `arg`
  compare,         // pop right, pop left, push (left `cmp` right)
  compare_slot_const,  // push (slot `aux` `cmp` constants[arg]); the common `task.x OP literal`
  compare_const_slot,  // push (constants[arg] `cmp` slot `aux`); `"x" in task.labels`
  scalar_slot_const,   // compare_slot_const where the constant is a scalar and `cmp` is == … >=
  text_slot_const,     // compare_slot_const where the constant is a string and `cmp` is == or !=
  not_,            // replace top by !truthy(top)
  to_bool,         // replace top by truthy(top) (an absent bool path becomes false)
  to_decimal,      // top is an int: scale it to millionths to compare with a decimal
  jump_if_false,   // if !truthy(top): top = false, jump to arg; else pop   (`and`)
  jump_if_true,    // if truthy(top): top = true, jump to arg; else pop     (`or`)
  make_string_set,  // pop `arg` values, push their set (absent elements are dropped)
  make_scalar_set,  // likewise for scalars
};

enum class cmp_op : std::uint8_t {
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  in,
  not_in,
  contains,
  subset,
  parent_of,
  ancestor_of,
};

struct insn {
  opcode op = opcode::push_const;
  cmp_op cmp = cmp_op::eq;
  std::uint16_t aux = 0;  // a slot for the fused compares
  std::int32_t arg = 0;
};
static_assert(sizeof(insn) == 8);

// A range of the graph's code array.
struct program {
  std::uint32_t begin = 0;
  std::uint32_t size = 0;
  [[nodiscard]] bool always() const { return size == 0; }
};

[[nodiscard]] std::string_view to_string(opcode op);
[[nodiscard]] std::string_view to_string(cmp_op op);

}  // namespace agentos::engine
