// A wake from Paperclip's HTTP adapter, as the executor reads it (docs/paperclip.md, "Wakes
// through the HTTP adapter" and "The executor"). Paperclip POSTs
// {...payloadTemplate, "agentId", "runId", "context"}; the projector puts
// "agentos_agent": "<agentos agent id>" into the payload template, and the projected issue's
// description holds a line `agentos-task: <task id>`. Pure functions, no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace agentos::runtime::projection {

struct wake {
  std::string run_id;           // Paperclip's heartbeat run (runId)
  std::string paperclip_agent;  // the woken Paperclip agent (agentId)
  std::string agent;            // the agentos agent (agentos_agent); empty when absent
  std::string task;             // from the `agentos-task:` line; empty when there is none
  std::string reason;           // context.wakeReason; empty when absent
  std::string issue;            // the issue's identifier (AGE-3), else its id; empty when absent
};

// Why a body is not a wake at all (answered 400): `wake.bad_json` (not JSON, or nested deeper than
// `max_depth`), `wake.not_an_object`, `wake.missing_field` (runId, agentId or context absent or
// of the wrong type; `field` names it).
struct wake_error {
  std::string code;
  std::string message;
  std::string field;
};

// A body that is a wake but names no agentos agent or no task still parses: the caller ignores
// it (it may be another Paperclip agent's, or an issue agentos did not create).
[[nodiscard]] std::variant<wake, wake_error> parse_wake(std::string_view body, std::size_t max_depth = 64);

// The task id on the first line of `text` that starts with `agentos-task:` (after optional
// blanks): the rest of the line without surrounding blanks (and a CR), when it is a valid task id
// (1-128 letters, digits, `-`, `_`, `.`, `:`). nullopt when there is no such line or the first one
// holds no valid id: a second line is never consulted, so a description cannot name two tasks.
[[nodiscard]] std::optional<std::string> find_task_line(std::string_view text);

}  // namespace agentos::runtime::projection
