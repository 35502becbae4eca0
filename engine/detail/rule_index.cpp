#include "engine/detail/rule_index.hpp"

#include <algorithm>
#include <map>

namespace agentos::engine::detail {

bool rule_index::build(const std::vector<const std::vector<slot_keys>*>& rules) {
  // The slot the most rules are keyed on.
  std::map<std::uint32_t, std::size_t> uses;
  for (const auto* conjuncts : rules) {
    std::vector<std::uint32_t> seen;
    for (const slot_keys& k : *conjuncts) {
      if (std::find(seen.begin(), seen.end(), k.slot) == seen.end()) {
        seen.push_back(k.slot);
        ++uses[k.slot];
      }
    }
  }
  std::uint32_t best = 0;
  std::size_t best_uses = 0;
  for (const auto& [slot, n] : uses) {
    if (n > best_uses) {
      best = slot;
      best_uses = n;
    }
  }
  if (best_uses < 2) return false;
  m_slot = best;

  // key -> positions. A rule with several conjuncts on the slot needs its value in all of them:
  // it is keyed under the intersection.
  std::map<std::int64_t, std::vector<std::uint32_t>> by_key;
  for (std::uint32_t pos = 0; pos < rules.size(); ++pos) {
    const std::vector<std::int64_t>* keys = nullptr;
    std::vector<std::int64_t> intersection;
    for (const slot_keys& k : *rules[pos]) {
      if (k.slot != best) continue;
      if (keys == nullptr) {
        intersection = k.keys;
      } else {
        std::vector<std::int64_t> both;
        std::set_intersection(intersection.begin(), intersection.end(), k.keys.begin(), k.keys.end(), std::back_inserter(both));
        intersection.swap(both);
      }
      keys = &intersection;
    }
    if (keys == nullptr) {
      m_unkeyed.push_back(pos);
      continue;
    }
    for (std::int64_t key : intersection) by_key[key].push_back(pos);  // an empty intersection: never holds
  }
  std::size_t size = 4;
  m_shift = 62;
  while (size < by_key.size() * 2) {
    size *= 2;
    --m_shift;
  }
  m_table.assign(size, entry{});
  for (auto& [key, positions] : by_key) {
    std::size_t at = home(key);
    while (m_table[at].count != 0) at = (at + 1) & (size - 1);
    m_table[at] = {key, static_cast<std::uint32_t>(m_positions.size()), static_cast<std::uint32_t>(positions.size())};
    m_positions.insert(m_positions.end(), positions.begin(), positions.end());
  }
  return true;
}

std::span<const std::uint32_t> rule_index::keyed(const value& v) const {
  std::int64_t key = 0;
  if (v.kind == value_kind::scalar) {
    key = v.i;
  } else if (v.kind == value_kind::string && v.id >= 0) {
    key = v.id;  // a string the policy never mentions equals no constant
  } else {
    return {};
  }
  const std::size_t mask = m_table.size() - 1;
  for (std::size_t at = home(key);; at = (at + 1) & mask) {
    const entry& e = m_table[at];
    if (e.count == 0) return {};
    if (e.key == key) return {m_positions.data() + e.begin, e.count};
  }
}

}  // namespace agentos::engine::detail
