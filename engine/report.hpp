// How decisions are shown: names for the engine's indices, the one-line texts of deny reasons and
// obligations that `agentos test` matches expectations against, and the decision JSON that
// `agentos eval` prints and the runtime's audit log records (its shape is documented in
// docs/cli.md). Pure functions over a compiled graph and, for rule locations, its sources.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "dsl/source.hpp"
#include "engine/decide.hpp"
#include "engine/graph.hpp"

namespace agentos::engine {

// A state or event name, or empty when the index is -1 (or out of range).
[[nodiscard]] std::string state_name(const engine::rule_graph& graph, std::int32_t state);
[[nodiscard]] std::string event_name(const engine::rule_graph& graph, std::int32_t event);
[[nodiscard]] std::string mode_name(std::int32_t mode);  // "direct" or "plan_first"

// "notify role chief_of_staff", "require review by parent (role pm)".
[[nodiscard]] std::string obligation_text(const engine::rule_graph& graph, const engine::obligation_hit& o);
// A deny reason as a person reads it: "forbidden by no_self_approval: executors never ...",
// "guard false on routed -> planning on start", "no transition", "no permit matched".
[[nodiscard]] std::string reason_text(const engine::rule_graph& graph, const engine::deny_reason& r);

// {"name","kind","file","line","column"} for a rule; file/line/column are null without a span.
// Without sources (the runtime's audit records), just the rule's name.
[[nodiscard]] nlohmann::ordered_json rule_json(const engine::rule_graph& graph, engine::rule_id id,
                                               const dsl::source_manager* sources);

// Appends `s` as a JSON string literal (quoted, escaped).
void append_json_string(std::string& out, std::string_view s);

// The core of a decision as compact JSON text, written without building a JSON tree (the
// runtime writes one per transition into its audit log): allowed, effect, from, event, target,
// edge, matched (names), reasons, obligations, version. Deterministic: the same decision always
// gives the same bytes.
void append_decision_json(std::string& out, const engine::rule_graph& graph, const engine::decision& d);

// The decision JSON of `agentos eval`. The route and mode/gates keys are present only when the
// decision carries them (decide_options asked for them); escalations when `with_escalations`.
[[nodiscard]] nlohmann::ordered_json decision_json(const engine::rule_graph& graph, const engine::decision& d,
                                                   const dsl::source_manager* sources, bool with_escalations);

}  // namespace agentos::engine
