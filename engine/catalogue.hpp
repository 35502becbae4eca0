// The rule catalogue: every rule of a compiled policy (transition edges, routes, the fallback,
// gates, permits, forbids, escalations, obligations, invariants) with its name, kind, layer,
// source span and reason, under a dense rule_id. Decisions name rules by id; the catalogue turns
// ids back into names and spans, finds rules by name, lists a kind's rules in decision order and
// lists the rules bound to an event (and a source state). It is a Boost.MultiIndex container
// behind this small interface so the template machinery stays in one translation unit. Immutable
// after compile(); safe for concurrent readers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/ast.hpp"

namespace agentos::engine {

using rule_id = std::int32_t;
inline constexpr rule_id no_rule = -1;

enum class rule_kind : std::uint8_t {
  transition,
  route,
  fallback,
  gate,
  permit,
  forbid,
  escalation,
  obligation,
  invariant,
};

[[nodiscard]] std::string_view to_string(rule_kind k);

struct rule_entry {
  rule_id id = no_rule;
  rule_kind kind = rule_kind::transition;
  std::string name;                  // transitions: "from -> to on event"
  std::int32_t source_index = -1;    // index in the policy_set vector of its kind (0 for the fallback)
  dsl::ast::layer level = dsl::ast::layer::project;
  dsl::span where;
  std::string reason;                // forbid and gate reasons
  std::string doc;
  std::vector<std::int32_t> events;  // transitions: its event; permit/forbid/obligation: theirs
  std::int32_t from = -1;            // transitions
  std::int32_t to = -1;              // transitions
};

class rule_catalogue {
 public:
  rule_catalogue();
  ~rule_catalogue();
  rule_catalogue(const rule_catalogue&) = delete;
  rule_catalogue& operator=(const rule_catalogue&) = delete;

  // Adds a rule and returns its id (ids are dense, in insertion order).
  rule_id add(rule_entry entry);
  // Records that `rule` takes part in deciding `event` from `state` (-1: from any state).
  void bind(std::int32_t event, std::int32_t state, rule_id rule);

  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] const rule_entry& at(rule_id id) const;
  // The rule of `kind` called `name`, or null.
  [[nodiscard]] const rule_entry* find(rule_kind kind, std::string_view name) const;
  // Every rule called `name`, any kind, in id order.
  [[nodiscard]] std::vector<const rule_entry*> named(std::string_view name) const;
  // The rules of a kind in decision order (routes: highest layer first, then source order).
  [[nodiscard]] std::vector<const rule_entry*> of_kind(rule_kind kind) const;
  // The rules that can take part in deciding `event` from `state`, in id order: the edges from
  // `state` and the permits, forbids and obligations bound to the event (state -1: from any).
  [[nodiscard]] std::vector<const rule_entry*> for_event(std::int32_t event, std::int32_t state = -1) const;

 private:
  struct impl;
  std::unique_ptr<impl> m_impl;
};

}  // namespace agentos::engine
