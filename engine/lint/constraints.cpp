#include "engine/lint/constraints.hpp"

#include <algorithm>
#include <functional>
#include <optional>

namespace agentos::engine::lint::detail {

using dsl::ast::binary_op;
using dsl::ast::expr;
using dsl::ast::expr_kind;
using dsl::ast::type_kind;

bool constraint::empty() const {
  if (finite) return std::none_of(allowed.begin(), allowed.end(), [](bool b) { return b; });
  return lo > hi;
}

bool constraint::contains(const constraint& other) const {
  if (other.empty()) return true;
  if (finite != other.finite) return false;
  if (finite) {
    for (std::size_t i = 0; i < other.allowed.size() && i < allowed.size(); ++i) {
      if (other.allowed[i] && !allowed[i]) return false;
    }
    return true;
  }
  return lo <= other.lo && other.hi <= hi;
}

bool constraint::trivial() const {
  if (finite) return std::all_of(allowed.begin(), allowed.end(), [](bool b) { return b; });
  return lo == INT64_MIN && hi == INT64_MAX;
}

std::string expr_key(const expr& e) {
  switch (e.kind) {
    case expr_kind::string_lit: return "\"" + e.text + "\"";
    case expr_kind::int_lit:
    case expr_kind::decimal_lit:
    case expr_kind::duration_lit:
    case expr_kind::bool_lit: return std::to_string(static_cast<int>(e.kind)) + ":" + std::to_string(e.number);
    case expr_kind::path: {
      std::string s;
      for (const auto& p : e.path) s += (s.empty() ? "" : ".") + p.text;
      return s;
    }
    case expr_kind::symbol: return e.text;
    case expr_kind::set: {
      std::vector<std::string> parts;
      for (const auto& c : e.children) parts.push_back(expr_key(*c));
      std::sort(parts.begin(), parts.end());
      std::string s = "{";
      for (const auto& p : parts) s += p + ",";
      return s + "}";
    }
    case expr_kind::not_: return "not(" + expr_key(*e.children[0]) + ")";
    case expr_kind::binary:
      return "(" + expr_key(*e.children[0]) + " " + std::to_string(static_cast<int>(e.op)) + " " + expr_key(*e.children[1]) + ")";
  }
  return "?";
}

namespace {

bool is_field(const expr& e) {
  return e.kind == expr_kind::path && e.resolved.what != dsl::ast::field::none && e.resolved.what != dsl::ast::field::now;
}

bool finite_type(type_kind k) {
  return k == type_kind::enum_ || k == type_kind::mode || k == type_kind::state || k == type_kind::role ||
         k == type_kind::actor_kind || k == type_kind::bool_ || k == type_kind::event;
}

bool numeric_type(type_kind k) {
  return k == type_kind::int_ || k == type_kind::decimal || k == type_kind::duration || k == type_kind::timestamp;
}

// The value of a literal or resolved name, scaled to the field's representation.
std::optional<std::int64_t> value_of(const expr& e, type_kind field_type) {
  switch (e.kind) {
    case expr_kind::symbol:
      if (e.resolved.index < 0) return std::nullopt;
      return e.resolved.index;
    case expr_kind::int_lit:
      if (field_type == type_kind::decimal) {
        if (e.number > INT64_MAX / 1'000'000 || e.number < INT64_MIN / 1'000'000) return std::nullopt;
        return e.number * 1'000'000;
      }
      return e.number;
    case expr_kind::decimal_lit:
    case expr_kind::duration_lit:
    case expr_kind::bool_lit: return e.number;
    default: return std::nullopt;
  }
}

binary_op flip(binary_op op) {
  switch (op) {
    case binary_op::lt: return binary_op::gt;
    case binary_op::le: return binary_op::ge;
    case binary_op::gt: return binary_op::lt;
    case binary_op::ge: return binary_op::le;
    default: return op;
  }
}

binary_op negate(binary_op op) {
  switch (op) {
    case binary_op::eq: return binary_op::ne;
    case binary_op::ne: return binary_op::eq;
    case binary_op::lt: return binary_op::ge;
    case binary_op::le: return binary_op::gt;
    case binary_op::gt: return binary_op::le;
    case binary_op::ge: return binary_op::lt;
    case binary_op::in: return binary_op::not_in;
    case binary_op::not_in: return binary_op::in;
    default: return op;
  }
}

}  // namespace

std::size_t analyzer::domain_size(field_key key, const dsl::ast::type_ref& type) const {
  switch (type.kind) {
    case type_kind::enum_: return m_set.attributes.at(static_cast<std::size_t>(key.index)).members.size();
    case type_kind::mode: return 2;
    case type_kind::bool_: return 2;
    case type_kind::actor_kind: return 3;
    case type_kind::state: return m_set.states.size();
    case type_kind::role: return m_set.roles.size();
    case type_kind::event: return m_set.events.size();
    default: return 0;
  }
}

void analyzer::apply(conjunction& c, field_key key, const dsl::ast::type_ref& type, binary_op op,
                     const std::vector<std::int64_t>& values) const {
  auto [it, fresh] = c.fields.try_emplace(key);
  constraint& k = it->second;
  if (fresh) {
    k.finite = finite_type(type.kind);
    if (k.finite) k.allowed.assign(domain_size(key, type), true);
  }
  if (k.finite) {
    const auto n = static_cast<std::int64_t>(k.allowed.size());
    for (std::int64_t i = 0; i < n; ++i) {
      const bool member = std::find(values.begin(), values.end(), i) != values.end();
      bool keep = true;
      switch (op) {
        case binary_op::eq:
        case binary_op::in: keep = member; break;
        case binary_op::ne:
        case binary_op::not_in: keep = !member; break;
        case binary_op::lt: keep = i < values.front(); break;
        case binary_op::le: keep = i <= values.front(); break;
        case binary_op::gt: keep = i > values.front(); break;
        case binary_op::ge: keep = i >= values.front(); break;
        default: break;
      }
      if (!keep) k.allowed[static_cast<std::size_t>(i)] = false;
    }
  } else {
    const std::int64_t v = values.front();
    switch (op) {
      case binary_op::eq:
        k.lo = std::max(k.lo, v);
        k.hi = std::min(k.hi, v);
        break;
      case binary_op::lt: k.hi = std::min(k.hi, v == INT64_MIN ? v : v - 1); break;
      case binary_op::le: k.hi = std::min(k.hi, v); break;
      case binary_op::gt: k.lo = std::max(k.lo, v == INT64_MAX ? v : v + 1); break;
      case binary_op::ge: k.lo = std::max(k.lo, v); break;
      default: break;
    }
  }
  if (k.empty()) c.unsat = true;
}

bool analyzer::add_atom(conjunction& c, const expr& e, bool negated) const {
  if (e.kind == expr_kind::bool_lit) {
    if ((e.number != 0) == negated) c.unsat = true;
    return true;
  }
  if (is_field(e) && e.resolved.type.kind == type_kind::bool_) {
    apply(c, {e.resolved.what, e.resolved.index}, e.resolved.type, binary_op::eq, {negated ? 0 : 1});
    return true;
  }
  if (e.kind != expr_kind::binary) return false;
  binary_op op = negated ? negate(e.op) : e.op;
  if (op == binary_op::in || op == binary_op::not_in) {
    const expr& l = *e.children[0];
    const expr& r = *e.children[1];
    if (!is_field(l) || !finite_type(l.resolved.type.kind) || r.kind != expr_kind::set) return false;
    std::vector<std::int64_t> values;
    for (const auto& el : r.children) {
      auto v = value_of(*el, l.resolved.type.kind);
      if (!v) return false;
      values.push_back(*v);
    }
    apply(c, {l.resolved.what, l.resolved.index}, l.resolved.type, op, values);
    return true;
  }
  if (op != binary_op::eq && op != binary_op::ne && op != binary_op::lt && op != binary_op::le && op != binary_op::gt &&
      op != binary_op::ge) {
    return false;
  }
  const expr* field = e.children[0].get();
  const expr* value = e.children[1].get();
  if (!is_field(*field)) {
    std::swap(field, value);
    op = flip(op);
  }
  if (!is_field(*field)) return false;
  const auto t = field->resolved.type.kind;
  if (!finite_type(t) && !numeric_type(t)) return false;
  if (!finite_type(t) && op == binary_op::ne) return false;  // intervals cannot express a hole
  const auto v = value_of(*value, t);
  if (!v) return false;
  apply(c, {field->resolved.what, field->resolved.index}, field->resolved.type, op, {*v});
  return true;
}

void analyzer::add(conjunction& c, const expr& e, bool negated) const {
  // and, or under negation (De Morgan) keep the conjunction shape only for `and` / `not or`.
  if (e.kind == expr_kind::not_) {
    add(c, *e.children[0], !negated);
    return;
  }
  if (e.kind == expr_kind::binary && ((e.op == binary_op::and_ && !negated) || (e.op == binary_op::or_ && negated))) {
    add(c, *e.children[0], negated);
    add(c, *e.children[1], negated);
    return;
  }
  if (!add_atom(c, e, negated)) c.opaque.push_back((negated ? "not:" : "") + expr_key(e));
}

void analyzer::seal(conjunction& c) {
  c.signature = 0;
  for (const auto& [key, k] : c.fields) {
    if (k.trivial()) continue;
    const auto h = static_cast<std::uint64_t>(key.what) * 131 + static_cast<std::uint64_t>(key.index + 1);
    c.signature |= std::uint64_t{1} << (h % 64);
  }
  for (const auto& o : c.opaque) c.signature |= std::uint64_t{1} << (std::hash<std::string>{}(o) % 64);
}

conjunction analyzer::analyze(const expr* e) const {
  conjunction c;
  if (e != nullptr) add(c, *e, false);
  seal(c);
  return c;
}

void analyzer::restrict(conjunction& c, field_key key, std::int32_t value) const {
  dsl::ast::type_ref type;
  type.kind = key.what == dsl::ast::field::task_state ? type_kind::state : type_kind::mode;
  apply(c, key, type, binary_op::eq, {value});
  seal(c);
}

void analyzer::conjoin(conjunction& into, const conjunction& other) const {
  into.unsat = into.unsat || other.unsat;
  for (const auto& [key, k] : other.fields) {
    auto [it, fresh] = into.fields.try_emplace(key, k);
    if (!fresh) {
      constraint& mine = it->second;
      if (mine.finite) {
        for (std::size_t i = 0; i < mine.allowed.size() && i < k.allowed.size(); ++i) mine.allowed[i] = mine.allowed[i] && k.allowed[i];
      } else {
        mine.lo = std::max(mine.lo, k.lo);
        mine.hi = std::min(mine.hi, k.hi);
      }
      if (mine.empty()) into.unsat = true;
    }
  }
  into.opaque.insert(into.opaque.end(), other.opaque.begin(), other.opaque.end());
  seal(into);
}

bool analyzer::implies(const conjunction& a, const conjunction& b) const {
  if (a.unsat) return true;
  if (b.unsat) return false;
  if ((b.signature & ~a.signature) != 0) return false;
  for (const auto& [key, kb] : b.fields) {
    auto it = a.fields.find(key);
    if (it == a.fields.end()) {
      if (!kb.trivial()) return false;
      continue;
    }
    if (!kb.contains(it->second)) return false;
  }
  for (const auto& o : b.opaque) {
    if (std::find(a.opaque.begin(), a.opaque.end(), o) == a.opaque.end()) return false;
  }
  return true;
}

}  // namespace agentos::engine::lint::detail
