// A deliberately naive reference interpreter: it walks the checked AST of the policy set for every
// question, with owning values (std::string, std::set) and no indexes, no bytecode, no string
// table, no pruning. It exists to be obviously right: the differential test checks that the
// compiled graph decides exactly as it does on random policies and requests, and explanations use
// its evaluator to show the value of every sub-condition. Slow and allocating by design.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "dsl/policy_set.hpp"
#include "engine/catalogue.hpp"
#include "engine/decide.hpp"
#include "engine/request.hpp"

namespace agentos::engine::reference {

struct ref_value {
  enum class tag : std::uint8_t { absent, scalar, string, strings, scalars };
  tag kind = tag::absent;
  std::int64_t scalar = 0;
  std::string string;
  std::set<std::string> strings;
  std::set<std::int64_t> scalars;

  [[nodiscard]] bool truthy() const { return kind == tag::scalar && scalar != 0; }
  [[nodiscard]] static ref_value of(std::int64_t v) {
    ref_value r;
    r.kind = tag::scalar;
    r.scalar = v;
    return r;
  }
};

// Evaluates checked expressions of `policy` against `req`.
class evaluator {
 public:
  evaluator(const dsl::policy_set& policy, const request& req) : m_policy(policy), m_req(req) {}
  // `decimal_context`: the expression is compared with a decimal, so an int reads as millionths.
  [[nodiscard]] ref_value eval(const dsl::ast::expr& e, bool decimal_context = false) const;
  // Whether a condition holds; null always holds.
  [[nodiscard]] bool holds(const dsl::ast::expr* e) const { return e == nullptr || eval(*e).truthy(); }
  // Whether a comparison reads its operands in decimal millionths (one side is a decimal).
  [[nodiscard]] static bool decimal_context(const dsl::ast::expr& binary);
  [[nodiscard]] ref_value read(dsl::ast::field f, std::int32_t attribute) const;

 private:
  [[nodiscard]] bool compare(dsl::ast::binary_op op, const ref_value& l, const ref_value& r) const;

  const dsl::policy_set& m_policy;
  const request& m_req;
};

// A rule named by what it is in the policy set: its kind and index in that kind's vector.
struct rule_ref {
  rule_kind kind = rule_kind::transition;
  std::int32_t index = -1;
  friend auto operator<=>(const rule_ref&, const rule_ref&) = default;
};

struct ref_reason {
  deny_kind kind = deny_kind::no_permit;
  rule_ref rule;  // index -1 when the reason names no rule
  friend bool operator==(const ref_reason&, const ref_reason&) = default;
};

struct ref_obligation {
  rule_ref rule;
  dsl::ast::obligation_action_kind action = dsl::ast::obligation_action_kind::notify;
  target_ref who;
  friend bool operator==(const ref_obligation&, const ref_obligation&) = default;
};

struct ref_decision {
  bool allowed = false;
  std::int32_t target = -1;
  std::vector<rule_ref> matched;
  std::vector<ref_reason> reasons;
  std::vector<ref_obligation> obligations;
};

struct ref_route {
  rule_ref rule;  // index -1 when nothing routed
  target_ref to;
};

struct ref_escalation {
  rule_ref rule;
  target_ref to;
  friend bool operator==(const ref_escalation&, const ref_escalation&) = default;
};

[[nodiscard]] ref_decision decide(const dsl::policy_set& policy, const request& req);
[[nodiscard]] ref_route route(const dsl::policy_set& policy, const request& req);
// The gates that hold, in source order (plan_first iff non-empty).
[[nodiscard]] std::vector<rule_ref> gate(const dsl::policy_set& policy, const request& req);
[[nodiscard]] std::vector<ref_escalation> escalations(const dsl::policy_set& policy, const request& req);

}  // namespace agentos::engine::reference
