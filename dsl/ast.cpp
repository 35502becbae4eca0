#include "dsl/ast.hpp"

namespace agentos::dsl::ast {

std::string_view spelling(binary_op op) {
  switch (op) {
    case binary_op::and_: return "and";
    case binary_op::or_: return "or";
    case binary_op::eq: return "==";
    case binary_op::ne: return "!=";
    case binary_op::lt: return "<";
    case binary_op::le: return "<=";
    case binary_op::gt: return ">";
    case binary_op::ge: return ">=";
    case binary_op::in: return "in";
    case binary_op::not_in: return "not in";
    case binary_op::contains: return "contains";
    case binary_op::subset: return "subset";
    case binary_op::parent_of: return "parent_of";
    case binary_op::ancestor_of: return "ancestor_of";
  }
  return "?";
}

}  // namespace agentos::dsl::ast
