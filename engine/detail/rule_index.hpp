// An equality index over one (state, event) bucket of permits or forbids. Most rules in a large
// policy say who or what they are about with a top-level conjunct `PATH == CONST` or
// `PATH in { CONSTS }` (actor.role == finance, task.kind in { a, b }, actor.id == "x"). For a bucket
// with many rules, the index picks the path most of its rules test that way and maps each
// constant to the rules that require it; a rule with no such conjunct is "unkeyed". Deciding then
// looks up the request's value once and visits the keyed candidates and the unkeyed rules merged
// in bucket (source) order, skipping rules whose conjunct is false without running them. Exact:
// a skipped rule's conjunct compares the path with constants the request's value is not among,
// so the rule cannot hold. Lookups allocate nothing.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/value.hpp"

namespace agentos::engine::detail {

// What one rule says about one slot: its value must be one of `keys` (scalars, or string ids).
struct slot_keys {
  std::uint32_t slot = 0;
  std::vector<std::int64_t> keys;
};

class rule_index {
 public:
  // `rules[i]` lists the keyable conjuncts of the i-th rule of the bucket (in bucket order).
  // Returns false (and builds nothing) when no slot is tested by at least two rules.
  bool build(const std::vector<const std::vector<slot_keys>*>& rules);

  [[nodiscard]] std::uint32_t slot() const { return m_slot; }
  // Bucket positions of the rules keyed under the value, ascending; empty when none.
  [[nodiscard]] std::span<const std::uint32_t> keyed(const value& v) const;
  [[nodiscard]] std::span<const std::uint32_t> unkeyed() const { return m_unkeyed; }

 private:
  struct entry {
    std::int64_t key = 0;
    std::uint32_t begin = 0;
    std::uint32_t count = 0;  // 0: empty slot of the table
  };
  [[nodiscard]] std::size_t home(std::int64_t key) const {
    return static_cast<std::size_t>((static_cast<std::uint64_t>(key) * 0x9E3779B97F4A7C15ull) >> m_shift);
  }

  std::uint32_t m_slot = 0;
  int m_shift = 63;
  std::vector<entry> m_table;            // open addressing, power-of-two size
  std::vector<std::uint32_t> m_positions;  // keyed rules, grouped by key
  std::vector<std::uint32_t> m_unkeyed;
};

// Visits the rules of a bucket in order: all of them without an index, else the candidates.
template <typename Rule, typename F>
inline void for_candidates(std::span<const Rule> rules, const rule_index* index, const value* slots, F&& visit) {
  if (index == nullptr) {
    for (const Rule& r : rules) visit(r);
    return;
  }
  const auto keyed = index->keyed(slots[index->slot()]);
  const auto unkeyed = index->unkeyed();
  std::size_t i = 0, j = 0;
  while (i < keyed.size() || j < unkeyed.size()) {
    if (j == unkeyed.size() || (i < keyed.size() && keyed[i] < unkeyed[j])) {
      visit(rules[keyed[i++]]);
    } else {
      visit(rules[unkeyed[j++]]);
    }
  }
}

}  // namespace agentos::engine::detail
