// The audit log: append-only, sequence-numbered, hash-chained. Each record is stored as
//   <64 hex chars: SHA-256(previous hash || record bytes)> ' ' <record bytes: compact JSON>
// so verification hashes exactly the bytes that were written. The record holds its seq, the
// previous hash, the policy version and the decision's inputs (the engine request as JSON) and
// outputs, which is what lets `agentos audit verify` replay it. Record kinds:
//   intake      route + plan gate at task creation      output {route, mode, gates}
//   transition  decide() for an event (allow and deny)  output: the decision JSON
//   escalation  escalations() at a time                 output {escalations}
//   request     an explicit escalation request          (no decision)
//   policy      a policy version became active          (no decision)
//   agent       an agent was registered                 (no decision)
//   protocol    an executor's write-back refused before  (no decision; input and reason)
//               any transition (malformed markers)
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/decide.hpp"
#include "runtime/store/kv.hpp"

namespace agentos::runtime {

struct audit_head;

// Appends `record` (kind, at, task, actor, ... set by the caller), filling seq and prev.
[[nodiscard]] result<std::uint64_t> append_audit(kv::writer& w, audit_head& head, const nlohmann::json& record);
// The same for a record already written as JSON text: `fields` is the inside of the object
// (`"kind":"transition",...` without braces); the record becomes {"seq":..,"prev":..,<fields>}.
[[nodiscard]] result<std::uint64_t> append_audit_text(kv::writer& w, audit_head& head, std::string_view fields);

struct audit_entry {
  std::uint64_t seq = 0;
  std::string hash;
  nlohmann::json record;
};

// The outputs recorded for (and recomputed from) each decision kind. A transition's output is
// engine::append_decision_json's text.
[[nodiscard]] nlohmann::json intake_output(const engine::rule_graph& g, const engine::route_result& r,
                                           const engine::gate_result& gate);
[[nodiscard]] nlohmann::json escalation_output(const engine::rule_graph& g,
                                               std::span<const engine::escalation_hit> hits);

struct audit_filter {
  std::string task, actor, event, kind, effect;
  std::optional<std::int64_t> since, until;  // on the record's `at`
  std::uint64_t after_seq = 0;
  std::size_t limit = 0;  // 0: no limit
};

[[nodiscard]] result<std::vector<audit_entry>> read_audit(kv::reader& r, const audit_filter& f);

struct verify_report {
  std::uint64_t records = 0;
  std::uint64_t replayed = 0;         // decisions recomputed and compared
  std::uint64_t chain_breaks = 0;     // bad hash, bad prev, a gap or a malformed record
  std::uint64_t mismatches = 0;       // a replay that disagrees with the record
  std::uint64_t policy_versions = 0;  // distinct versions compiled for replay
  std::vector<std::string> problems;  // the first problems found, one line each
  [[nodiscard]] bool ok() const { return chain_breaks == 0 && mismatches == 0; }
};

// Walks the whole log: checks the chain, then recompiles every recorded policy version from its
// stored bundle and replays every decision against it. `progress` (may be empty) is called now
// and then with the number of records done.
[[nodiscard]] result<verify_report> verify_audit(kv::reader& r,
                                                 const std::function<void(std::uint64_t)>& progress = {});

}  // namespace agentos::runtime
