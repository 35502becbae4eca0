// Explanations: the decision the compiled graph made, plus a trace of every rule that was
// considered and why it held or not, down to the sub-condition that decided it and the values it
// read. This is the slow path for people (the CLI's --explain, later the API): it allocates and
// re-evaluates conditions with the reference evaluator so it can show every sub-condition's value.
// The verdicts it shows for whole rules are the compiled graph's own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dsl/source.hpp"
#include "engine/decide.hpp"
#include "engine/graph.hpp"
#include "engine/request.hpp"

namespace agentos::engine {

enum class verdict : std::uint8_t {
  holds,    // the rule's condition held (an edge: taken)
  fails,    // it did not
  skipped,  // it was not consulted (an earlier edge was taken; permits when a forbid applies)
};

struct trace_entry {
  rule_id rule = no_rule;
  verdict result = verdict::fails;
  bool would_hold = false;  // for skipped entries: what the condition evaluates to anyway
  std::string condition;    // the condition as policy text; empty when the rule has none
  std::string why;          // the sub-conditions that decided it, with the values they read
};

struct explain_options {
  bool transition = true;    // trace decide()
  bool intake = false;       // trace route() and gate()
  bool escalations = false;  // trace escalations()
};

struct explanation {
  std::string version;
  // The compiled decision, copied out of the decision buffer.
  bool allowed = false;
  std::int32_t from = -1;
  std::int32_t event = -1;
  std::int32_t target = -1;
  rule_id edge = no_rule;
  std::vector<rule_id> matched;
  std::vector<deny_reason> reasons;
  std::vector<obligation_hit> obligations;
  std::optional<route_result> route;
  std::optional<std::int32_t> mode;
  std::vector<escalation_hit> fired;
  // The traces, each in decision order.
  std::vector<trace_entry> edges, forbids, permits, obligation_rules, routes, gates, escalation_rules;
};

[[nodiscard]] explanation explain(const rule_graph& graph, const request& req, const explain_options& options = {});

// Human text. With `sources`, rules are located as file:line:col; otherwise by byte offset.
[[nodiscard]] std::string render_text(const rule_graph& graph, const explanation& e,
                                      const dsl::source_manager* sources = nullptr);

// A target in words: "role pm", "agent claude", "parent (role pm)", "operator".
[[nodiscard]] std::string target_text(const rule_graph& graph, const target_ref& t);

}  // namespace agentos::engine
