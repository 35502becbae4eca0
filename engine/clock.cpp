#include "engine/clock.hpp"

#include <limits>

namespace agentos::engine {

namespace ast = dsl::ast;

namespace {

bool is_comparison(ast::binary_op op) {
  switch (op) {
    case ast::binary_op::eq:
    case ast::binary_op::ne:
    case ast::binary_op::lt:
    case ast::binary_op::le:
    case ast::binary_op::gt:
    case ast::binary_op::ge: return true;
    default: return false;
  }
}

bool is_path(const ast::expr& e, ast::field f) { return e.kind == ast::expr_kind::path && e.resolved.what == f; }

bool is_timestamp_path(const ast::expr& e) {
  if (e.kind != ast::expr_kind::path) return false;
  switch (e.resolved.what) {
    case ast::field::task_entered_at:
    case ast::field::task_created_at: return true;
    case ast::field::task_attribute: return e.resolved.type.kind == ast::type_kind::timestamp;
    default: return false;
  }
}

// Does the expression read the clock anywhere?
bool reads_time(const ast::expr& e) {
  if (e.kind == ast::expr_kind::path &&
      (e.resolved.what == ast::field::task_time_in_state || e.resolved.what == ast::field::task_age ||
       e.resolved.what == ast::field::now))
    return true;
  for (const auto& c : e.children)
    if (c && reads_time(*c)) return true;
  return false;
}

class collector {
 public:
  collector(std::vector<escalation_clock::term>& terms, bool& opaque) : m_terms(terms), m_opaque(opaque) {}

  void walk(const ast::expr& e) {
    if (e.kind == ast::expr_kind::binary && is_comparison(e.op) && e.children.size() == 2) {
      const ast::expr& l = *e.children[0];
      const ast::expr& r = *e.children[1];
      if (threshold(l, r) || threshold(r, l)) return;
      if (reads_time(l) || reads_time(r)) m_opaque = true;
      return;
    }
    if (e.kind == ast::expr_kind::path && reads_time(e)) {
      m_opaque = true;  // a clock read outside a comparison we understand
      return;
    }
    for (const auto& c : e.children)
      if (c) walk(*c);
  }

 private:
  // `clock` compared with `other`: records the instant and returns true when the shape is known.
  bool threshold(const ast::expr& clock, const ast::expr& other) {
    if (other.kind == ast::expr_kind::duration_lit) {
      if (is_path(clock, ast::field::task_time_in_state)) return add(slot::task_entered_at, other.number);
      if (is_path(clock, ast::field::task_age)) return add(slot::task_created_at, other.number);
    }
    if (is_path(clock, ast::field::now) && is_timestamp_path(other))
      return add_slot(slot_of(other.resolved.what, other.resolved.index), 0);
    return false;
  }
  bool add(slot base, std::int64_t offset) { return add_slot(static_cast<std::uint32_t>(base), offset); }
  bool add_slot(std::uint32_t base, std::int64_t offset) {
    for (const auto& t : m_terms)
      if (t.base_slot == base && t.offset == offset) return true;
    m_terms.push_back({base, offset});
    return true;
  }

  std::vector<escalation_clock::term>& m_terms;
  bool& m_opaque;
};

}  // namespace

escalation_clock::escalation_clock(const rule_graph& graph, std::int64_t poll_interval_ms) : m_poll(poll_interval_ms) {
  collector c(m_terms, m_opaque);
  for (const auto& esc : graph.policy().escalations)
    if (esc.rule != nullptr && esc.rule->when) c.walk(*esc.rule->when);
}

std::optional<std::int64_t> escalation_clock::next_due(const request& req, std::int64_t after) const {
  std::optional<std::int64_t> best;
  auto consider = [&](std::int64_t at) {
    if (at > after && (!best || at < *best)) best = at;
  };
  for (const auto& t : m_terms) {
    const value& base = req.get(t.base_slot);
    if (base.kind != value_kind::scalar) continue;  // an unset timestamp never comes due
    // The instant the comparison flips, and one millisecond later for the strict forms.
    if (t.offset > std::numeric_limits<std::int64_t>::max() - base.i - 1) continue;
    consider(base.i + t.offset);
    consider(base.i + t.offset + 1);
  }
  if (m_opaque && after <= std::numeric_limits<std::int64_t>::max() - m_poll) consider(after + m_poll);
  return best;
}

}  // namespace agentos::engine
