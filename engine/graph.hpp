// The compiled rule graph: a checked policy set lowered into flat, immutable tables that decide()
// reads without name lookups, AST walks or allocation. Lifecycle states are nodes; edges and the
// permit, forbid and obligation rules are pre-bucketed by (state, event) so a decision touches
// only the rules that can apply (a rule whose condition requires `task.state` to be some states is
// bucketed under those states only), and a bucket with many rules gets an equality index on the
// path most of them pin to constants (detail/rule_index.hpp), so deciding stays flat as a policy
// grows. Routing is an ordered decision list; gates and escalations
// are lists; invariants are kept (in the catalogue and the policy) for the lints. Conditions are
// bytecode (bytecode.hpp). The version is the SHA-256 of a canonical serialization of the checked
// policy's meaning: reformatting or re-commenting a policy keeps it, any change of meaning changes
// it. A graph is built once by compile() and shared read-only (shared_ptr<const rule_graph>): any
// number of threads may decide on it; a reload builds a new graph and swaps the pointer.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dsl/policy_set.hpp"
#include "engine/bytecode.hpp"
#include "engine/catalogue.hpp"
#include "engine/detail/rule_index.hpp"
#include "engine/value.hpp"

namespace agentos::engine {

// Who a target names once resolved against the org. For `parent`, index is the parent role of the
// task's assignee role when the rule fires, or -1 when the assignee has none (no assignee, or a
// root role): the runtime decides what an unresolved parent means (the CLI shows it).
struct target_ref {
  dsl::ast::target_kind kind = dsl::ast::target_kind::role;
  std::int32_t index = -1;  // role or agent index; -1 for operator and an unresolved parent
  friend bool operator==(const target_ref&, const target_ref&) = default;
};

namespace detail {
class lowerer;
}

struct compile_options {
  // Buckets with at least this many permits (or forbids) get an equality index.
  std::uint32_t index_threshold = 8;
};

class rule_graph {
 public:
  // Bucket contents, read by decide().
  struct edge {
    std::int32_t to = -1;
    rule_id rule = no_rule;
    program guard;
  };
  struct guarded {
    rule_id rule = no_rule;
    program when;
  };
  struct obligation {
    rule_id rule = no_rule;
    program when;
    std::uint32_t first_action = 0;
    std::uint32_t action_count = 0;
  };
  struct action {
    dsl::ast::obligation_action_kind kind = dsl::ast::obligation_action_kind::notify;
    target_ref who;  // parent unresolved here: resolved per request
  };
  struct targeted {
    rule_id rule = no_rule;
    program when;
    target_ref to;
  };

  rule_graph(const rule_graph&) = delete;
  rule_graph& operator=(const rule_graph&) = delete;
  ~rule_graph();

  // --- identity
  [[nodiscard]] const std::string& name() const { return m_name; }
  [[nodiscard]] const std::string& declared_version() const { return m_declared_version; }
  [[nodiscard]] const std::string& version() const { return m_version; }  // "sha256:<64 hex>"
  // The first 64 bits of the version hash: requests carry it to prove which graph they fit.
  [[nodiscard]] std::uint64_t token() const { return m_token; }
  [[nodiscard]] const dsl::policy_set& policy() const { return *m_policy; }
  [[nodiscard]] const std::shared_ptr<const dsl::policy_set>& policy_ptr() const { return m_policy; }
  [[nodiscard]] const rule_catalogue& catalogue() const { return m_catalogue; }
  [[nodiscard]] const rule_entry& rule(rule_id id) const { return m_catalogue.at(id); }

  // --- vocabulary
  [[nodiscard]] std::int32_t state_count() const { return m_state_count; }
  [[nodiscard]] std::int32_t event_count() const { return m_event_count; }
  [[nodiscard]] std::int32_t role_count() const { return static_cast<std::int32_t>(m_role_parent.size()); }
  [[nodiscard]] std::int32_t agent_count() const { return static_cast<std::int32_t>(m_policy->agents.size()); }
  [[nodiscard]] std::int32_t attribute_count() const { return static_cast<std::int32_t>(m_attribute_defaults.size()); }
  [[nodiscard]] std::int32_t initial_state() const { return m_policy->initial; }
  [[nodiscard]] std::int32_t role_parent(std::int32_t role) const {
    return role >= 0 && role < role_count() ? m_role_parent[static_cast<std::size_t>(role)] : -1;
  }
  // Name → index, -1 when unknown. Hash lookups (the policy_set's finders are linear).
  [[nodiscard]] std::int32_t find_state(std::string_view n) const { return lookup(m_state_index, n); }
  [[nodiscard]] std::int32_t find_event(std::string_view n) const { return lookup(m_event_index, n); }
  [[nodiscard]] std::int32_t find_role(std::string_view n) const { return lookup(m_role_index, n); }
  [[nodiscard]] std::int32_t find_agent(std::string_view n) const { return lookup(m_agent_index, n); }
  [[nodiscard]] std::int32_t find_attribute(std::string_view n) const { return lookup(m_attribute_index, n); }
  // The id of a string literal of the policy, -1 when the policy never mentions it.
  [[nodiscard]] std::int32_t find_string(std::string_view s) const { return lookup(m_string_index, s); }
  // The value an attribute has when a request does not give one: its declared default, else its
  // type's zero value ("", 0, 0.00, false, 0s, the epoch, the empty set, the first enum member).
  [[nodiscard]] const value& attribute_default(std::int32_t index) const {
    return m_attribute_defaults[static_cast<std::size_t>(index)];
  }

  // --- decision tables
  [[nodiscard]] std::span<const edge> edges(std::int32_t state, std::int32_t event) const {
    return bucket(m_edges, m_edge_index, state, event);
  }
  [[nodiscard]] std::span<const guarded> forbids(std::int32_t state, std::int32_t event) const {
    return bucket(m_forbids, m_forbid_index, state, event);
  }
  [[nodiscard]] std::span<const guarded> permits(std::int32_t state, std::int32_t event) const {
    return bucket(m_permits, m_permit_index, state, event);
  }
  // The equality index of a large bucket, or null (see detail/rule_index.hpp).
  [[nodiscard]] const detail::rule_index* forbid_index(std::int32_t state, std::int32_t event) const {
    return index_of(m_forbid_ix, state, event);
  }
  [[nodiscard]] const detail::rule_index* permit_index(std::int32_t state, std::int32_t event) const {
    return index_of(m_permit_ix, state, event);
  }
  [[nodiscard]] std::span<const obligation> obligations(std::int32_t state, std::int32_t event) const {
    return bucket(m_obligations, m_obligation_index, state, event);
  }
  [[nodiscard]] std::span<const action> actions(const obligation& o) const {
    return {m_actions.data() + o.first_action, o.action_count};
  }
  [[nodiscard]] std::span<const targeted> routes() const { return m_routes; }  // decision order
  [[nodiscard]] const targeted* fallback() const { return m_has_fallback ? &m_fallback : nullptr; }
  [[nodiscard]] std::span<const targeted> gates() const { return m_gates; }
  [[nodiscard]] std::span<const targeted> escalations() const { return m_escalations; }

  // --- bytecode
  [[nodiscard]] std::span<const insn> code() const { return m_code; }
  [[nodiscard]] std::span<const insn> code(program p) const { return {m_code.data() + p.begin, p.size}; }
  [[nodiscard]] const value& constant(std::int32_t index) const { return m_constants[static_cast<std::size_t>(index)]; }
  [[nodiscard]] std::size_t constant_count() const { return m_constants.size(); }
  // Stack depth and set-literal scratch the deepest program needs; decision buffers size to them.
  [[nodiscard]] std::uint32_t max_stack() const { return m_max_stack; }
  [[nodiscard]] std::uint32_t max_set_scratch() const { return m_max_set_scratch; }
  // The most rules any one (state, event) bucket can report, to size decision buffers.
  [[nodiscard]] std::uint32_t max_matches() const { return m_max_matches; }
  [[nodiscard]] std::uint32_t max_actions() const { return m_max_actions; }
  // Human-readable listing of a program, for tests and `agentos graph --bytecode`.
  [[nodiscard]] std::string disassemble(program p) const;

 private:
  friend std::shared_ptr<const rule_graph> compile(std::shared_ptr<const dsl::policy_set> policy,
                                                   const compile_options& options);
  friend class detail::lowerer;
  rule_graph() = default;

  template <typename T>
  [[nodiscard]] std::span<const T> bucket(const std::vector<T>& items, const std::vector<std::uint32_t>& index,
                                          std::int32_t state, std::int32_t event) const {
    if (state < 0 || state >= m_state_count || event < 0 || event >= m_event_count) return {};
    const auto k = static_cast<std::size_t>(state) * static_cast<std::size_t>(m_event_count) +
                   static_cast<std::size_t>(event);
    return {items.data() + index[k], index[k + 1] - index[k]};
  }
  [[nodiscard]] const detail::rule_index* index_of(const std::vector<std::int32_t>& ix, std::int32_t state,
                                                  std::int32_t event) const {
    if (ix.empty() || state < 0 || state >= m_state_count || event < 0 || event >= m_event_count) return nullptr;
    const std::int32_t i = ix[static_cast<std::size_t>(state) * static_cast<std::size_t>(m_event_count) +
                              static_cast<std::size_t>(event)];
    return i < 0 ? nullptr : &m_indexes[static_cast<std::size_t>(i)];
  }
  [[nodiscard]] static std::int32_t lookup(const std::unordered_map<std::string_view, std::int32_t>& map,
                                           std::string_view key) {
    const auto it = map.find(key);
    return it == map.end() ? -1 : it->second;
  }

  std::shared_ptr<const dsl::policy_set> m_policy;
  std::string m_name;
  std::string m_declared_version;
  std::string m_version;
  std::uint64_t m_token = 0;
  rule_catalogue m_catalogue;

  std::int32_t m_state_count = 0;
  std::int32_t m_event_count = 0;
  std::vector<std::int32_t> m_role_parent;
  std::unordered_map<std::string_view, std::int32_t> m_state_index, m_event_index, m_role_index, m_agent_index,
      m_attribute_index, m_string_index;
  std::deque<std::string> m_strings;  // interned string literals; the maps and constants view them
  std::vector<value> m_attribute_defaults;

  std::vector<std::uint32_t> m_edge_index, m_forbid_index, m_permit_index, m_obligation_index;
  std::vector<edge> m_edges;
  std::vector<guarded> m_forbids, m_permits;
  std::vector<obligation> m_obligations;
  std::vector<detail::rule_index> m_indexes;
  std::vector<std::int32_t> m_forbid_ix, m_permit_ix;  // per bucket: index into m_indexes, or -1
  std::vector<action> m_actions;
  std::vector<targeted> m_routes;
  targeted m_fallback;
  bool m_has_fallback = false;
  std::vector<targeted> m_gates, m_escalations;

  std::vector<insn> m_code;
  std::vector<value> m_constants;
  std::deque<std::vector<text>> m_text_sets;            // storage of constant string sets
  std::deque<std::vector<std::int64_t>> m_scalar_sets;  // storage of constant scalar sets
  std::uint32_t m_max_stack = 0;
  std::uint32_t m_max_set_scratch = 0;
  std::uint32_t m_max_matches = 0;
  std::uint32_t m_max_actions = 0;
};

// Lowers a checked policy set. The graph keeps the policy alive (explanations and lints read its
// AST). Precondition: `policy` is the output of the checker with no errors; an unresolved
// expression is a broken invariant (std::logic_error).
[[nodiscard]] std::shared_ptr<const rule_graph> compile(std::shared_ptr<const dsl::policy_set> policy,
                                                        const compile_options& options = {});

}  // namespace agentos::engine
