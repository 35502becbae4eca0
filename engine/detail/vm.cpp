#include "engine/detail/vm.hpp"

#include <algorithm>

#include "engine/graph.hpp"
#include "engine/request.hpp"

namespace agentos::engine::detail {

void vm_scratch::fit(const rule_graph& graph) {
  const std::size_t depth = std::max<std::size_t>(graph.max_stack(), 1);
  if (stack.size() < depth) stack.resize(depth);
  if (texts.size() < graph.max_set_scratch()) texts.resize(graph.max_set_scratch());
  if (scalars.size() < graph.max_set_scratch()) scalars.resize(graph.max_set_scratch());
}

namespace {

bool text_in(const text& t, const value& set) {
  const text* first = set.texts;
  const text* last = set.texts + set.size;
  const text* it = std::lower_bound(first, last, t, [](const text& a, const text& b) { return compare_text(a, b) < 0; });
  return it != last && text_equal(*it, t);
}

bool scalar_in(std::int64_t v, const value& set) {
  return std::binary_search(set.scalars, set.scalars + set.size, v);
}

// Element `e` in set `s`.
bool member(const value& e, const value& s) {
  if (s.kind == value_kind::string_set) return e.kind == value_kind::string && text_in(e.as_text(), s);
  if (s.kind == value_kind::scalar_set) return e.kind == value_kind::scalar && scalar_in(e.i, s);
  return false;
}

bool equal(const value& l, const value& r) {
  if (l.is_set() && r.is_set() && l.size == 0 && r.size == 0) return true;
  if (l.kind != r.kind) return false;
  switch (l.kind) {
    case value_kind::absent: return false;
    case value_kind::scalar: return l.i == r.i;
    case value_kind::string: return text_equal(l.as_text(), r.as_text());
    case value_kind::string_set:
      if (l.size != r.size) return false;
      for (std::uint32_t k = 0; k < l.size; ++k) {
        if (!text_equal(l.texts[k], r.texts[k])) return false;
      }
      return true;
    case value_kind::scalar_set:
      return l.size == r.size && std::equal(l.scalars, l.scalars + l.size, r.scalars);
  }
  return false;
}

// -1, 0, 1, or 2 when the two are not ordered with each other.
int order(const value& l, const value& r) {
  if (l.kind == value_kind::scalar && r.kind == value_kind::scalar) return l.i < r.i ? -1 : (l.i > r.i ? 1 : 0);
  if (l.kind == value_kind::string && r.kind == value_kind::string) {
    const int c = std::string_view(l.chars, l.size).compare(std::string_view(r.chars, r.size));
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return 2;
}

bool subset(const value& l, const value& r) {
  if (!l.is_set() || !r.is_set()) return false;
  if (l.size == 0) return true;
  if (l.kind != r.kind || l.size > r.size) return false;
  if (l.kind == value_kind::scalar_set) return std::includes(r.scalars, r.scalars + r.size, l.scalars, l.scalars + l.size);
  return std::includes(r.texts, r.texts + r.size, l.texts, l.texts + l.size,
                       [](const text& a, const text& b) { return compare_text(a, b) < 0; });
}

bool role_relation(const rule_graph& g, const value& l, const value& r, bool transitive) {
  if (l.kind != value_kind::scalar || r.kind != value_kind::scalar) return false;
  const auto roles = g.role_count();
  if (l.i < 0 || l.i >= roles || r.i < 0 || r.i >= roles) return false;
  std::int32_t p = g.role_parent(static_cast<std::int32_t>(r.i));
  if (!transitive) return p >= 0 && p == l.i;
  // The org is a forest (the checker rejects cycles); the bound guards the loop all the same.
  for (std::int32_t steps = 0; p >= 0 && steps < roles; ++steps, p = g.role_parent(p)) {
    if (p == l.i) return true;
  }
  return false;
}

}  // namespace

bool compare(const rule_graph& g, cmp_op op, const value& l, const value& r) {
  switch (op) {
    case cmp_op::eq: return equal(l, r);
    case cmp_op::ne: return !equal(l, r);
    case cmp_op::lt: return order(l, r) == -1;
    case cmp_op::le: { const int o = order(l, r); return o == -1 || o == 0; }
    case cmp_op::gt: return order(l, r) == 1;
    case cmp_op::ge: { const int o = order(l, r); return o == 1 || o == 0; }
    case cmp_op::in: return member(l, r);
    case cmp_op::not_in: return !member(l, r);
    case cmp_op::contains: return member(r, l);
    case cmp_op::subset: return subset(l, r);
    case cmp_op::parent_of: return role_relation(g, l, r, false);
    case cmp_op::ancestor_of: return role_relation(g, l, r, true);
  }
  return false;
}

bool run(const rule_graph& g, program p, const request& r, vm_scratch& s) {
  if (p.always()) return true;
  const insn* const code = g.code().data();
  const insn* ip = code + p.begin;
  const insn* const end = ip + p.size;
  const value* const slots = r.slots();
  value* sp = s.stack.data();  // next free
  std::uint32_t texts_used = 0;
  std::uint32_t scalars_used = 0;
  while (ip < end) {
    switch (ip->op) {
      case opcode::push_const: *sp++ = g.constant(ip->arg); break;
      case opcode::push_slot: *sp++ = slots[ip->arg]; break;
      case opcode::compare:
        --sp;
        sp[-1] = value::of_bool(compare(g, ip->cmp, sp[-1], sp[0]));
        break;
      case opcode::compare_slot_const:
        *sp++ = value::of_bool(compare(g, ip->cmp, slots[ip->aux], g.constant(ip->arg)));
        break;
      case opcode::compare_const_slot:
        *sp++ = value::of_bool(compare(g, ip->cmp, g.constant(ip->arg), slots[ip->aux]));
        break;
      case opcode::scalar_slot_const: {
        const value& v = slots[ip->aux];
        const std::int64_t c = g.constant(ip->arg).i;
        bool b = false;
        if (v.kind == value_kind::scalar) {
          switch (ip->cmp) {
            case cmp_op::eq: b = v.i == c; break;
            case cmp_op::ne: b = v.i != c; break;
            case cmp_op::lt: b = v.i < c; break;
            case cmp_op::le: b = v.i <= c; break;
            case cmp_op::gt: b = v.i > c; break;
            case cmp_op::ge: b = v.i >= c; break;
            default: break;
          }
        } else {
          b = ip->cmp == cmp_op::ne;  // absent (or a set, never well typed here) equals nothing
        }
        *sp++ = value::of_bool(b);
        break;
      }
      case opcode::text_slot_const: {
        const value& v = slots[ip->aux];
        const value& c = g.constant(ip->arg);
        const bool same = v.kind == value_kind::string && text_equal(v.as_text(), c.as_text());
        *sp++ = value::of_bool(ip->cmp == cmp_op::eq ? same : !same);
        break;
      }
      case opcode::not_: sp[-1] = value::of_bool(!sp[-1].truthy()); break;
      case opcode::to_bool: sp[-1] = value::of_bool(sp[-1].truthy()); break;
      case opcode::to_decimal:
        if (sp[-1].kind == value_kind::scalar) sp[-1].i = scale_to_decimal(sp[-1].i);
        break;
      case opcode::jump_if_false:
        if (!sp[-1].truthy()) {
          sp[-1] = value::of_bool(false);
          ip = code + ip->arg;
          continue;
        }
        --sp;
        break;
      case opcode::jump_if_true:
        if (sp[-1].truthy()) {
          sp[-1] = value::of_bool(true);
          ip = code + ip->arg;
          continue;
        }
        --sp;
        break;
      case opcode::make_string_set: {
        const auto n = static_cast<std::uint32_t>(ip->arg);
        sp -= n;
        text* const first = s.texts.data() + texts_used;
        std::uint32_t count = 0;
        for (std::uint32_t k = 0; k < n; ++k) {
          if (sp[k].kind == value_kind::string) first[count++] = sp[k].as_text();
        }
        std::sort(first, first + count, [](const text& a, const text& b) { return compare_text(a, b) < 0; });
        count = static_cast<std::uint32_t>(std::unique(first, first + count, text_equal) - first);
        texts_used += n;
        *sp++ = value::of_texts(first, count);
        break;
      }
      case opcode::make_scalar_set: {
        const auto n = static_cast<std::uint32_t>(ip->arg);
        sp -= n;
        std::int64_t* const first = s.scalars.data() + scalars_used;
        std::uint32_t count = 0;
        for (std::uint32_t k = 0; k < n; ++k) {
          if (sp[k].kind == value_kind::scalar) first[count++] = sp[k].i;
        }
        std::sort(first, first + count);
        count = static_cast<std::uint32_t>(std::unique(first, first + count) - first);
        scalars_used += n;
        *sp++ = value::of_scalars(first, count);
        break;
      }
    }
    ++ip;
  }
  return sp[-1].truthy();
}

}  // namespace agentos::engine::detail
