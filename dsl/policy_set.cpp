#include "dsl/policy_set.hpp"

#include <algorithm>

namespace agentos::dsl {

namespace {
template <typename Range, typename Name>
std::int32_t index_of(const Range& items, std::string_view name, Name name_of) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (name_of(items[i]) == name) return static_cast<std::int32_t>(i);
  }
  return -1;
}
}  // namespace

std::int32_t policy_set::find_state(std::string_view n) const {
  return index_of(states, n, [](const state_info& s) -> std::string_view { return s.name; });
}
std::int32_t policy_set::find_event(std::string_view n) const {
  return index_of(events, n, [](const std::string& s) -> std::string_view { return s; });
}
std::int32_t policy_set::find_role(std::string_view n) const {
  return index_of(roles, n, [](const role_info& s) -> std::string_view { return s.name; });
}
std::int32_t policy_set::find_agent(std::string_view n) const {
  return index_of(agents, n, [](const agent_info& s) -> std::string_view { return s.name; });
}
std::int32_t policy_set::find_attribute(std::string_view n) const {
  return index_of(attributes, n, [](const attribute_info& s) -> std::string_view { return s.name; });
}

}  // namespace agentos::dsl
