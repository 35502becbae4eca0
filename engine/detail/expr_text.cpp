#include "engine/detail/expr_text.hpp"

#include "dsl/format.hpp"
#include "engine/units.hpp"

namespace agentos::engine::detail {

namespace ast = dsl::ast;

std::string quote(std::string_view s) { return dsl::format_string_literal(s); }

namespace {

int precedence(const ast::expr& e) {
  if (e.kind == ast::expr_kind::binary) {
    if (e.op == ast::binary_op::or_) return 1;
    if (e.op == ast::binary_op::and_) return 2;
    return 4;
  }
  if (e.kind == ast::expr_kind::not_) return 3;
  return 5;
}

std::string_view op_text(ast::binary_op op) { return ast::spelling(op); }

std::string wrap(const ast::expr& child, int at_least) {
  std::string t = expr_text(child);
  return precedence(child) < at_least ? "(" + t + ")" : t;
}

}  // namespace

std::string expr_text(const ast::expr& e) {
  switch (e.kind) {
    case ast::expr_kind::string_lit: return quote(e.text);
    case ast::expr_kind::int_lit: return std::to_string(e.number);
    case ast::expr_kind::decimal_lit: return format_decimal(e.number);
    case ast::expr_kind::duration_lit: return format_duration(e.number);
    case ast::expr_kind::bool_lit: return e.number != 0 ? "true" : "false";
    case ast::expr_kind::symbol: return e.text;
    case ast::expr_kind::path: {
      std::string out;
      for (const auto& seg : e.path) {
        if (!out.empty()) out += '.';
        out += seg.text;
      }
      return out.empty() ? e.text : out;
    }
    case ast::expr_kind::set: {
      std::string out = "{";
      for (std::size_t i = 0; i < e.children.size(); ++i) {
        out += i == 0 ? " " : ", ";
        out += expr_text(*e.children[i]);
      }
      return out + (e.children.empty() ? "}" : " }");
    }
    case ast::expr_kind::not_: return "not " + wrap(*e.children[0], 3);
    case ast::expr_kind::binary: {
      const int p = precedence(e);
      // Comparisons do not chain, so both operands of one sit above comparison level.
      const int left = p == 4 ? 5 : p;
      const int right = p == 4 ? 5 : p + 1;
      return wrap(*e.children[0], left) + " " + std::string(op_text(e.op)) + " " + wrap(*e.children[1], right);
    }
  }
  return "?";
}

std::string value_text(const dsl::policy_set& p, const ast::type_ref& type, const reference::ref_value& v) {
  using tag = reference::ref_value::tag;
  auto name_in = [](const auto& items, std::int64_t i, auto get) -> std::string {
    if (i >= 0 && static_cast<std::size_t>(i) < items.size()) return get(items[static_cast<std::size_t>(i)]);
    return "#" + std::to_string(i);
  };
  auto scalar = [&](ast::type_kind kind, std::int64_t i) -> std::string {
    switch (kind) {
      case ast::type_kind::decimal: return format_decimal(i);
      case ast::type_kind::duration: return format_duration(i);
      case ast::type_kind::timestamp: return format_timestamp(i);
      case ast::type_kind::bool_: return i != 0 ? "true" : "false";
      case ast::type_kind::enum_:
        if (type.enum_attr >= 0 && static_cast<std::size_t>(type.enum_attr) < p.attributes.size()) {
          return name_in(p.attributes[static_cast<std::size_t>(type.enum_attr)].members, i,
                         [](const std::string& s) { return s; });
        }
        return "#" + std::to_string(i);
      case ast::type_kind::role: return name_in(p.roles, i, [](const dsl::role_info& r) { return r.name; });
      case ast::type_kind::state: return name_in(p.states, i, [](const dsl::state_info& s) { return s.name; });
      case ast::type_kind::event: return name_in(p.events, i, [](const std::string& s) { return s; });
      case ast::type_kind::mode: return i == 0 ? "direct" : (i == 1 ? "plan_first" : "#" + std::to_string(i));
      case ast::type_kind::actor_kind:
        return i == 0 ? "agent" : i == 1 ? "human" : i == 2 ? "operator" : "#" + std::to_string(i);
      default: return std::to_string(i);
    }
  };
  switch (v.kind) {
    case tag::absent: return "(absent)";
    case tag::scalar: return scalar(type.kind, v.scalar);
    case tag::string: return quote(v.string);
    case tag::strings: {
      std::string out = "{";
      bool first = true;
      for (const auto& s : v.strings) {
        out += first ? " " : ", ";
        first = false;
        out += quote(s);
      }
      return out + (v.strings.empty() ? "}" : " }");
    }
    case tag::scalars: {
      std::string out = "{";
      bool first = true;
      for (std::int64_t s : v.scalars) {
        out += first ? " " : ", ";
        first = false;
        out += scalar(type.element, s);
      }
      return out + (v.scalars.empty() ? "}" : " }");
    }
  }
  return "?";
}

}  // namespace agentos::engine::detail
