#include "runtime/projection/status.hpp"

#include <algorithm>
#include <string>
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

void set_status(nlohmann::json& fields, std::string_view status, std::string_view task, std::string_view state) {
  fields["status"] = status;
  if (status == "blocked")
    fields["unblockDescriptor"] = {
        {"owner", "board"},
        {"action", std::string(task) + " is " + std::string(state) + " in agentos: unblock, reassign or cancel it there"}};
}

bool is_paperclip_status(std::string_view status) {
  return std::find(paperclip_statuses.begin(), paperclip_statuses.end(), status) != paperclip_statuses.end();
}

}  // namespace agentos::runtime::projection
