// The executor protocol (docs/api-executor.md), its pure half: what an executor is told (the
// execution brief) and how its write-back is read (the fixed markers). No I/O, no clock, no store:
// the routes in api_executor.cpp give these functions the task, the policy and `now`, and send what
// they return through the store's pipeline. Free functions over their arguments: thread safe.
//
// A write-back carries exactly one block, each marker alone on its line:
//
//   <<<AGENTOS:PLAN task=T-1 version=3>>>        (or RESULT)
//   ... the plan or the result, any number of lines ...
//   <<<AGENTOS:END>>>
//
// Text before and after the block is ignored; any other line that starts with `<<<AGENTOS:` is an
// error, so a block can never be cut short, doubled or nested without the executor being told.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engine/graph.hpp"

namespace agentos::runtime {

enum class submission_kind : std::uint8_t { plan, result };

[[nodiscard]] std::string_view to_string(submission_kind k);  // "plan", "result"
// The lifecycle event a submission asks for: submit_plan, submit_result.
[[nodiscard]] std::string_view submit_event(submission_kind k);

inline constexpr std::string_view marker_prefix = "<<<AGENTOS:";
inline constexpr std::string_view end_marker = "<<<AGENTOS:END>>>";
// "<<<AGENTOS:PLAN task=T-1 version=3>>>".
[[nodiscard]] std::string begin_marker(submission_kind k, std::string_view task, std::uint64_t version);

struct marker_block {
  submission_kind kind = submission_kind::result;
  std::string task;
  std::uint64_t version = 0;  // the task version the executor worked from (its expected_version)
  std::string content;        // the lines between the markers, joined with "\n" (CRLF read as LF)
};

// Why a text is not a valid write-back. Codes: markers.missing, markers.missing_end,
// markers.multiple, markers.malformed, markers.bad_kind, markers.wrong_task, markers.empty,
// markers.too_large. `line` is 1-based (0 when the problem has no one line).
struct marker_error {
  std::string code;
  std::string message;
  std::size_t line = 0;
};

struct marker_parse {
  std::optional<marker_block> block;
  marker_error error;  // set when there is no block
  [[nodiscard]] bool ok() const { return block.has_value(); }
};

// Reads the one block in `text` for `task_id`. Strict: the first problem found, in text order,
// is the answer, and a text with a problem never yields a block.
[[nodiscard]] marker_parse parse_markers(std::string_view text, std::string_view task_id,
                                         std::size_t max_content_bytes);

struct brief_options {
  std::string callback_url;  // where the write-back goes (absolute, or the path alone)
  bool signatures_required = false;
  std::int64_t now = 0;  // ms since the epoch: the dry run's `now`
  // The assignee as the engine's request reads an actor ({"id"} for an agent the policy declares,
  // {"id","role","kind","capabilities"} for a registered one); null when there is none.
  nlohmann::json assignee = nullptr;
};

// The execution brief of a task (`task` as the store shows it: {"id", "version", "task": {...}}):
// the task, what to submit now (a plan while a plan_first task has no approved plan, else a
// result), the exact markers, the callback, and the expected version. What to submit is read off
// the policy's lifecycle, not hard-coded states: a result is due when a submit_result edge can be
// reached from the task's state without approving or submitting a plan (for a plan_first task the
// invariant that every path to execution passes approve_plan makes that "the plan is approved").
[[nodiscard]] nlohmann::json execution_brief(const engine::rule_graph& g, const nlohmann::json& task,
                                             const brief_options& o);

}  // namespace agentos::runtime
