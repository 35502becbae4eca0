// Interval and enum reasoning over conditions, for the lints. A condition that is a conjunction of
// simple comparisons (a field against a literal or a name, `x in {…}`, a bool field) becomes one
// constraint per field: a set of allowed values for finite types (enums, modes, states, roles,
// actor kinds, bools) and an interval for numbers, durations and timestamps. Anything else is kept
// as an opaque conjunct, compared by its text. The analysis is sound in one direction only: it
// says "unsatisfiable" or "implies" only when that is certain.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "dsl/policy_set.hpp"

namespace agentos::engine::lint::detail {

struct field_key {
  dsl::ast::field what = dsl::ast::field::none;
  std::int32_t index = -1;
  friend auto operator<=>(const field_key&, const field_key&) = default;
};

struct constraint {
  bool finite = false;
  std::vector<bool> allowed;  // finite domains
  std::int64_t lo = INT64_MIN, hi = INT64_MAX;  // numeric domains, inclusive

  [[nodiscard]] bool empty() const;
  [[nodiscard]] bool contains(const constraint& other) const;  // other ⊆ this
  [[nodiscard]] bool trivial() const;                         // the whole domain
};

struct conjunction {
  bool unsat = false;
  std::map<field_key, constraint> fields;
  std::vector<std::string> opaque;  // canonical text (expr_key) of conjuncts that are not modelled
  // One bit per constrained field and opaque conjunct (hashed): `a` can only imply `b` when b's
  // bits are a subset of a's, which rejects most pairs without walking either.
  std::uint64_t signature = 0;

  [[nodiscard]] bool always() const { return !unsat && fields.empty() && opaque.empty(); }
};

// A canonical text of an expression's meaning (no spans, no formatting), for comparing conjuncts.
[[nodiscard]] std::string expr_key(const dsl::ast::expr& e);

class analyzer {
 public:
  explicit analyzer(const dsl::policy_set& set) : m_set(set) {}

  // The conjunction of `e` (null means `true`).
  [[nodiscard]] conjunction analyze(const dsl::ast::expr* e) const;
  // Adds `field == value` for a finite field (used for the edge's source state, a plan_first mode).
  void restrict(conjunction& c, field_key key, std::int32_t value) const;
  void conjoin(conjunction& into, const conjunction& other) const;
  // Whether every situation satisfying `a` satisfies `b`.
  [[nodiscard]] bool implies(const conjunction& a, const conjunction& b) const;
  [[nodiscard]] std::size_t domain_size(field_key key, const dsl::ast::type_ref& type) const;

 private:
  void add(conjunction& c, const dsl::ast::expr& e, bool negated) const;
  static void seal(conjunction& c);
  bool add_atom(conjunction& c, const dsl::ast::expr& e, bool negated) const;
  void apply(conjunction& c, field_key key, const dsl::ast::type_ref& type, dsl::ast::binary_op op,
             const std::vector<std::int64_t>& values) const;


  const dsl::policy_set& m_set;
};

}  // namespace agentos::engine::lint::detail
