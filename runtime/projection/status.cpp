#include "runtime/projection/status.hpp"

#include <algorithm>
#include <utility>

#include "engine/graph.hpp"

namespace agentos::runtime::projection {

std::string_view paperclip_status(std::string_view state, bool terminal) {
  static constexpr std::pair<std::string_view, std::string_view> known[] = {
      {"intake", "backlog"},       {"routed", "todo"},           {"planning", "in_progress"},
      {"plan_review", "in_review"}, {"executing", "in_progress"}, {"result_review", "in_review"},
      {"blocked", "blocked"},      {"escalated", "blocked"},     {"done", "done"},
      {"cancelled", "cancelled"}};
  for (const auto& [s, status] : known)
    if (s == state) return status;
  return terminal ? "done" : "in_progress";
}

std::string_view paperclip_status(const engine::rule_graph& g, std::string_view state) {
  const std::int32_t i = g.find_state(state);
  const bool terminal = i >= 0 && g.policy().states[static_cast<std::size_t>(i)].terminal;
  return paperclip_status(state, terminal);
}

bool is_paperclip_status(std::string_view status) {
  return std::find(paperclip_statuses.begin(), paperclip_statuses.end(), status) != paperclip_statuses.end();
}

}  // namespace agentos::runtime::projection
