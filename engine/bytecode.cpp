#include "engine/bytecode.hpp"

namespace agentos::engine {

std::string_view to_string(opcode op) {
  switch (op) {
    case opcode::push_const: return "push_const";
    case opcode::push_slot: return "push_slot";
    case opcode::compare: return "compare";
    case opcode::compare_slot_const: return "compare_slot_const";
    case opcode::compare_const_slot: return "compare_const_slot";
    case opcode::scalar_slot_const: return "scalar_slot_const";
    case opcode::text_slot_const: return "text_slot_const";
    case opcode::not_: return "not";
    case opcode::to_bool: return "to_bool";
    case opcode::to_decimal: return "to_decimal";
    case opcode::jump_if_false: return "jump_if_false";
    case opcode::jump_if_true: return "jump_if_true";
    case opcode::make_string_set: return "make_string_set";
    case opcode::make_scalar_set: return "make_scalar_set";
  }
  return "?";
}

std::string_view to_string(cmp_op op) {
  switch (op) {
    case cmp_op::eq: return "==";
    case cmp_op::ne: return "!=";
    case cmp_op::lt: return "<";
    case cmp_op::le: return "<=";
    case cmp_op::gt: return ">";
    case cmp_op::ge: return ">=";
    case cmp_op::in: return "in";
    case cmp_op::not_in: return "not in";
    case cmp_op::contains: return "contains";
    case cmp_op::subset: return "subset";
    case cmp_op::parent_of: return "parent_of";
    case cmp_op::ancestor_of: return "ancestor_of";
  }
  return "?";
}

}  // namespace agentos::engine
