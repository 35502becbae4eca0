// The one mapping from an agentos task state to a Paperclip issue status (docs/paperclip.md,
// "How the projection works"). The projector writes it, the reconciler compares against it and
// `agentos projection check` reports where the two sides differ from it: all of them call this.
#pragma once

#include <array>
#include <string_view>

#include <nlohmann/json.hpp>

namespace agentos::engine {
class rule_graph;
}

namespace agentos::runtime::projection {

// Paperclip's issue statuses (ISSUE_STATUSES of @paperclipai/shared).
inline constexpr std::array<std::string_view, 7> paperclip_statuses = {"backlog", "todo",    "in_progress", "in_review",
                                                                      "done",    "blocked", "cancelled"};

// The shipped lifecycle's states map as the table in status.cpp (and docs/paperclip.md) lists
// them; any other state (a policy may add its own) → done when `terminal`, else in_progress.
[[nodiscard]] std::string_view paperclip_status(std::string_view state, bool terminal);
// The same, with terminal-ness read off the policy (a state the policy does not know is open).
[[nodiscard]] std::string_view paperclip_status(const engine::rule_graph& g, std::string_view state);

// Sets `fields["status"]` for a PATCH or a create. Paperclip refuses to enter `blocked` without an
// unresolved blocker, a pending interaction or approval, or an `unblockDescriptor` (422), so for
// `blocked` this also says who unblocks it: the board, through agentos (`task` is `state` there).
void set_status(nlohmann::json& fields, std::string_view status, std::string_view task, std::string_view state);

// Whether `status` is one of paperclip_statuses.
[[nodiscard]] bool is_paperclip_status(std::string_view status);

}  // namespace agentos::runtime::projection
