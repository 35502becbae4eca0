#include "engine/detail/lower.hpp"

#include <algorithm>
#include <stdexcept>

#include "engine/detail/vm.hpp"
#include "engine/graph.hpp"
#include "engine/request.hpp"

namespace agentos::engine::detail {

namespace ast = dsl::ast;

bool is_constant(const ast::expr& e) {
  switch (e.kind) {
    case ast::expr_kind::string_lit:
    case ast::expr_kind::int_lit:
    case ast::expr_kind::decimal_lit:
    case ast::expr_kind::duration_lit:
    case ast::expr_kind::bool_lit:
    case ast::expr_kind::symbol: return true;
    case ast::expr_kind::set:
      return std::all_of(e.children.begin(), e.children.end(), [](const ast::expr_ptr& c) { return is_constant(*c); });
    default: return false;
  }
}

ast::type_kind numeric_kind(const ast::expr& e) {
  switch (e.kind) {
    case ast::expr_kind::int_lit: return ast::type_kind::int_;
    case ast::expr_kind::decimal_lit: return ast::type_kind::decimal;
    case ast::expr_kind::duration_lit: return ast::type_kind::duration;
    default: return e.resolved.type.kind;
  }
}

bool is_string_set(const ast::expr& set) {
  if (set.resolved.type.kind == ast::type_kind::string_set) return true;
  if (set.resolved.type.kind == ast::type_kind::symbol_set) return set.resolved.type.element == ast::type_kind::string;
  return std::any_of(set.children.begin(), set.children.end(), [](const ast::expr_ptr& c) {
    return c->kind == ast::expr_kind::string_lit || c->resolved.type.kind == ast::type_kind::string;
  });
}

cmp_op to_cmp(ast::binary_op op) {
  switch (op) {
    case ast::binary_op::eq: return cmp_op::eq;
    case ast::binary_op::ne: return cmp_op::ne;
    case ast::binary_op::lt: return cmp_op::lt;
    case ast::binary_op::le: return cmp_op::le;
    case ast::binary_op::gt: return cmp_op::gt;
    case ast::binary_op::ge: return cmp_op::ge;
    case ast::binary_op::in: return cmp_op::in;
    case ast::binary_op::not_in: return cmp_op::not_in;
    case ast::binary_op::contains: return cmp_op::contains;
    case ast::binary_op::subset: return cmp_op::subset;
    case ast::binary_op::parent_of: return cmp_op::parent_of;
    case ast::binary_op::ancestor_of: return cmp_op::ancestor_of;
    case ast::binary_op::and_:
    case ast::binary_op::or_: break;
  }
  throw std::logic_error("engine: `and`/`or` is not a comparison");
}

std::int32_t lowerer::intern(std::string_view s) {
  if (const std::int32_t id = m_graph.find_string(s); id >= 0) return id;
  const auto id = static_cast<std::int32_t>(m_graph.m_strings.size());
  const std::string& stored = m_graph.m_strings.emplace_back(s);
  m_graph.m_string_index.emplace(std::string_view(stored), id);
  return id;
}

value lowerer::constant_value(const ast::expr& e, ast::type_kind as) {
  switch (e.kind) {
    case ast::expr_kind::string_lit: {
      const std::int32_t id = intern(e.text);
      return value::of_text({m_graph.m_strings[static_cast<std::size_t>(id)], id});
    }
    case ast::expr_kind::int_lit:
      return value::of_scalar(as == ast::type_kind::decimal ? scale_to_decimal(e.number) : e.number);
    case ast::expr_kind::decimal_lit:
    case ast::expr_kind::duration_lit:
    case ast::expr_kind::bool_lit: return value::of_scalar(e.number);
    case ast::expr_kind::symbol:
      if (e.resolved.index < 0) throw std::logic_error("engine: unresolved symbol `" + e.text + "`");
      return value::of_scalar(e.resolved.index);
    case ast::expr_kind::set: {
      if (is_string_set(e)) {
        std::vector<text> elements;
        for (const auto& c : e.children) {
          const value v = constant_value(*c, ast::type_kind::string);
          if (v.kind == value_kind::string) elements.push_back(v.as_text());
        }
        sort_unique(elements);
        const auto& stored = m_graph.m_text_sets.emplace_back(std::move(elements));
        return value::of_texts(stored.data(), static_cast<std::uint32_t>(stored.size()));
      }
      std::vector<std::int64_t> elements;
      for (const auto& c : e.children) {
        const value v = constant_value(*c, as);
        if (v.kind == value_kind::scalar) elements.push_back(v.i);
      }
      std::sort(elements.begin(), elements.end());
      elements.erase(std::unique(elements.begin(), elements.end()), elements.end());
      const auto& stored = m_graph.m_scalar_sets.emplace_back(std::move(elements));
      return value::of_scalars(stored.data(), static_cast<std::uint32_t>(stored.size()));
    }
    default: throw std::logic_error("engine: not a constant expression");
  }
}

std::int32_t lowerer::add_constant(const value& v) {
  // Scalars and strings are shared; sets stay distinct.
  const auto next = static_cast<std::int32_t>(m_graph.m_constants.size());
  if (v.kind == value_kind::scalar) {
    const auto [it, added] = m_scalar_constants.emplace(v.i, next);
    if (!added) return it->second;
  } else if (v.kind == value_kind::string) {
    const auto [it, added] = m_string_constants.emplace(v.id, next);
    if (!added) return it->second;
  }
  m_graph.m_constants.push_back(v);
  return next;
}

void lowerer::grow(int delta) {
  m_depth = static_cast<std::uint32_t>(static_cast<int>(m_depth) + delta);
  m_max_depth = std::max(m_max_depth, m_depth);
}

void lowerer::push(opcode op, std::int32_t arg, cmp_op cmp, std::uint16_t aux) {
  m_graph.m_code.push_back(insn{op, cmp, aux, arg});
}

program lowerer::lower(const ast::expr* e) {
  if (e == nullptr) return {};
  m_depth = 0;
  m_max_depth = 0;
  m_set_scratch = 0;
  const auto begin = static_cast<std::uint32_t>(m_graph.m_code.size());
  emit(*e);
  // A bare bool path as the whole condition needs no to_bool: run() takes truthy(top).
  m_graph.m_max_stack = std::max(m_graph.m_max_stack, m_max_depth);
  m_graph.m_max_set_scratch = std::max(m_graph.m_max_set_scratch, m_set_scratch);
  return {begin, static_cast<std::uint32_t>(m_graph.m_code.size()) - begin};
}

void lowerer::emit(const ast::expr& e) {
  switch (e.kind) {
    case ast::expr_kind::string_lit:
    case ast::expr_kind::int_lit:
    case ast::expr_kind::decimal_lit:
    case ast::expr_kind::duration_lit:
    case ast::expr_kind::bool_lit:
    case ast::expr_kind::symbol:
      push(opcode::push_const, add_constant(constant_value(e, numeric_kind(e))));
      grow(1);
      return;
    case ast::expr_kind::path: {
      if (e.resolved.what == ast::field::none) throw std::logic_error("engine: unresolved path");
      push(opcode::push_slot, static_cast<std::int32_t>(slot_of(e.resolved.what, e.resolved.index)));
      grow(1);
      return;
    }
    case ast::expr_kind::set: emit_operand(e, e.resolved.type.element, false); return;
    case ast::expr_kind::not_:
      emit(*e.children.at(0));
      push(opcode::not_, 0);
      return;
    case ast::expr_kind::binary: emit_binary(e); return;
  }
}

void lowerer::emit_set(const ast::expr& e, ast::type_kind as) {
  const bool strings = is_string_set(e);
  for (const auto& c : e.children) emit_operand(*c, as, as == ast::type_kind::decimal && numeric_kind(*c) == ast::type_kind::int_);
  const auto n = static_cast<std::int32_t>(e.children.size());
  push(strings ? opcode::make_string_set : opcode::make_scalar_set, n);
  m_set_scratch += static_cast<std::uint32_t>(n);
  grow(1 - n);
}

void lowerer::emit_operand(const ast::expr& x, ast::type_kind as, bool promote) {
  if (is_constant(x)) {
    push(opcode::push_const, add_constant(constant_value(x, as)));
    grow(1);
  } else if (x.kind == ast::expr_kind::set) {
    emit_set(x, as);
  } else {
    emit(x);
    if (promote) push(opcode::to_decimal, 0);
  }
}

bool has_decimal(const ast::expr& x) {
  if (numeric_kind(x) == ast::type_kind::decimal) return true;
  if (x.kind != ast::expr_kind::set) return false;
  if (x.resolved.type.element == ast::type_kind::decimal) return true;
  return std::any_of(x.children.begin(), x.children.end(),
                     [](const ast::expr_ptr& c) { return numeric_kind(*c) == ast::type_kind::decimal; });
}

bool decimal_comparison(const ast::expr& e) {
  if (e.kind != ast::expr_kind::binary) return false;
  switch (e.op) {
    case ast::binary_op::and_:
    case ast::binary_op::or_:
    case ast::binary_op::parent_of:
    case ast::binary_op::ancestor_of: return false;
    default: return has_decimal(*e.children[0]) || has_decimal(*e.children[1]);
  }
}

std::vector<slot_keys> lowerer::keyable_conjuncts(const ast::expr* e) {
  std::vector<slot_keys> out;
  if (e == nullptr || e->kind != ast::expr_kind::binary) return out;
  if (e->op == ast::binary_op::and_) {
    out = keyable_conjuncts(e->children[0].get());
    auto more = keyable_conjuncts(e->children[1].get());
    out.insert(out.end(), more.begin(), more.end());
    return out;
  }
  if (e->op != ast::binary_op::eq && e->op != ast::binary_op::in && e->op != ast::binary_op::contains) return out;
  const ast::expr* path = e->children[0].get();
  const ast::expr* other = e->children[1].get();
  // `C == path` and `{ C… } contains path` put the path on the right.
  if (e->op == ast::binary_op::contains || (e->op == ast::binary_op::eq && path->kind != ast::expr_kind::path)) {
    std::swap(path, other);
  }
  if (path->kind != ast::expr_kind::path || !is_constant(*other)) return out;
  const bool decimal = decimal_comparison(*e);
  if (decimal && numeric_kind(*path) == ast::type_kind::int_) return out;  // compared after scaling
  const ast::type_kind as = other->kind == ast::expr_kind::set ? (decimal ? ast::type_kind::decimal : other->resolved.type.element)
                                                               : (decimal ? ast::type_kind::decimal : numeric_kind(*other));
  const value c = constant_value(*other, as);
  slot_keys k;
  k.slot = slot_of(path->resolved.what, path->resolved.index);
  if (e->op == ast::binary_op::eq) {
    if (c.kind == value_kind::scalar) k.keys.push_back(c.i);
    else if (c.kind == value_kind::string) k.keys.push_back(c.id);
    else return out;
  } else if (c.kind == value_kind::scalar_set) {
    k.keys.assign(c.scalars, c.scalars + c.size);
  } else if (c.kind == value_kind::string_set) {
    for (std::uint32_t i = 0; i < c.size; ++i) k.keys.push_back(c.texts[i].id);
  } else {
    return out;
  }
  std::sort(k.keys.begin(), k.keys.end());
  k.keys.erase(std::unique(k.keys.begin(), k.keys.end()), k.keys.end());
  out.push_back(std::move(k));
  return out;
}

bool lowerer::emit_fused(std::uint32_t slot, const value& constant, cmp_op op, bool constant_first) {
  if (slot > 0xffff) return false;
  const auto aux = static_cast<std::uint16_t>(slot);
  const bool ordering = op == cmp_op::lt || op == cmp_op::le || op == cmp_op::gt || op == cmp_op::ge;
  if (constant.kind == value_kind::scalar && (ordering || op == cmp_op::eq || op == cmp_op::ne)) {
    // `c < slot` is `slot > c`: mirror the order so the slot is always on the left.
    cmp_op mirrored = op;
    if (constant_first) {
      mirrored = op == cmp_op::lt ? cmp_op::gt : op == cmp_op::gt ? cmp_op::lt : op == cmp_op::le ? cmp_op::ge
               : op == cmp_op::ge ? cmp_op::le : op;
    }
    push(opcode::scalar_slot_const, add_constant(constant), mirrored, aux);
  } else if (constant.kind == value_kind::string && (op == cmp_op::eq || op == cmp_op::ne)) {
    push(opcode::text_slot_const, add_constant(constant), op, aux);
  } else {
    push(constant_first ? opcode::compare_const_slot : opcode::compare_slot_const, add_constant(constant), op, aux);
  }
  grow(1);
  return true;
}

namespace {
bool needs_to_bool(const ast::expr& e) { return e.kind == ast::expr_kind::path; }
}  // namespace

void lowerer::emit_binary(const ast::expr& e) {
  const ast::expr& l = *e.children.at(0);
  const ast::expr& r = *e.children.at(1);
  if (e.op == ast::binary_op::and_ || e.op == ast::binary_op::or_) {
    emit(l);
    const std::size_t jump = m_graph.m_code.size();
    push(e.op == ast::binary_op::and_ ? opcode::jump_if_false : opcode::jump_if_true, 0);
    grow(-1);
    emit(r);
    if (needs_to_bool(r)) push(opcode::to_bool, 0);
    m_graph.m_code[jump].arg = static_cast<std::int32_t>(m_graph.m_code.size());
    return;
  }
  const cmp_op op = to_cmp(e.op);
  // Ints meet decimals as millionths: a promoted path gets to_decimal, a literal is scaled here,
  // set-literal elements follow their set.
  const bool decimal = decimal_comparison(e);
  const bool promote_l = decimal && l.kind != ast::expr_kind::set && numeric_kind(l) == ast::type_kind::int_;
  const bool promote_r = decimal && r.kind != ast::expr_kind::set && numeric_kind(r) == ast::type_kind::int_;
  const auto as = [&](const ast::expr& x, bool promote) {
    if (x.kind == ast::expr_kind::set) return decimal ? ast::type_kind::decimal : x.resolved.type.element;
    return promote ? ast::type_kind::decimal : numeric_kind(x);
  };
  const ast::type_kind as_l = as(l, promote_l);
  const ast::type_kind as_r = as(r, promote_r);
  if (l.kind == ast::expr_kind::path && !promote_l && is_constant(r)) {
    if (emit_fused(slot_of(l.resolved.what, l.resolved.index), constant_value(r, as_r), op, false)) return;
  }
  if (r.kind == ast::expr_kind::path && !promote_r && is_constant(l)) {
    if (emit_fused(slot_of(r.resolved.what, r.resolved.index), constant_value(l, as_l), op, true)) return;
  }
  emit_operand(l, as_l, promote_l);
  emit_operand(r, as_r, promote_r);
  push(opcode::compare, 0, op);
  grow(-1);
}

}  // namespace agentos::engine::detail
