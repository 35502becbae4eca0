// A decision request: the task snapshot, the actor, the event and `now`, laid out as a flat array
// of value slots so compiled expressions read a field with one indexed load. A request is bound
// to the graph it was built for: attribute slots, state/event/role indices and string ids all
// come from that graph (or from any graph with the same policy version), and decide() refuses a
// request built for another version. Building a request allocates (it copies strings so the
// caller's buffers may go away); deciding on it does not. Not thread safe while being built;
// any number of threads may decide on a finished request.
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/ast.hpp"
#include "engine/value.hpp"

namespace agentos::engine {

class rule_graph;

// Where each built-in field lives in a request. Declared attributes follow, from first_attribute
// on, in the order of policy_set::attributes.
enum class slot : std::uint16_t {
  task_id,
  task_project,
  task_labels,
  task_state,
  task_mode,
  task_assignee,
  task_assignee_role,
  task_attempts,
  task_entered_at,
  task_created_at,
  task_time_in_state,  // derived: now - entered_at
  task_age,            // derived: now - created_at
  task_escalation_requested,
  actor_id,
  actor_role,
  actor_kind,
  actor_capabilities,
  assignment_id,  // the assignee once the event is applied (see set_assignment)
  assignment_role,
  assignment_kind,
  assignment_capabilities,
  now,
  event,
  first_attribute,
};

inline constexpr std::uint32_t builtin_slot_count = static_cast<std::uint32_t>(slot::first_attribute);

// The slot a resolved path reads; `attribute` is the attribute index for field::task_attribute.
[[nodiscard]] std::uint32_t slot_of(dsl::ast::field f, std::int32_t attribute);

// Fixed encodings shared with the checker's symbol indices.
inline constexpr std::int32_t mode_direct = 0;
inline constexpr std::int32_t mode_plan_first = 1;
inline constexpr std::int32_t kind_agent = 0;
inline constexpr std::int32_t kind_human = 1;
inline constexpr std::int32_t kind_operator = 2;

// Sorts string set elements into the canonical order (compare_text) and drops duplicates.
void sort_unique(std::vector<text>& elements);

class request {
 public:
  // A request for `graph`: every attribute at its default (graph.attribute_default), the task in
  // the initial state, mode direct, every other built-in at its zero value ("", 0, the epoch,
  // the empty set, false), and no assignee role, no actor role or kind, no event (absent). The
  // graph must outlive the request.
  explicit request(const rule_graph& graph);

  request(const request&) = delete;
  request& operator=(const request&) = delete;
  request(request&&) = default;
  request& operator=(request&&) = default;

  [[nodiscard]] std::uint64_t policy_token() const { return m_token; }
  [[nodiscard]] const value& get(std::uint32_t s) const { return m_slots[s]; }
  [[nodiscard]] const value& get(slot s) const { return m_slots[static_cast<std::uint32_t>(s)]; }
  [[nodiscard]] const value& attribute(std::int32_t index) const {
    return m_slots[builtin_slot_count + static_cast<std::uint32_t>(index)];
  }
  [[nodiscard]] const value* slots() const { return m_slots.data(); }
  [[nodiscard]] std::uint32_t slot_count() const { return static_cast<std::uint32_t>(m_slots.size()); }

  // Scalar fields as indices, -1 when absent.
  [[nodiscard]] std::int32_t state() const { return index_of(slot::task_state); }
  [[nodiscard]] std::int32_t event() const { return index_of(slot::event); }
  [[nodiscard]] std::int32_t mode() const { return index_of(slot::task_mode); }
  [[nodiscard]] std::int32_t assignee_role() const { return index_of(slot::task_assignee_role); }
  [[nodiscard]] std::int32_t actor_role() const { return index_of(slot::actor_role); }

  // --- task
  void set_state(std::int32_t state);
  void set_mode(std::int32_t mode);
  void set_id(std::string_view id);
  void set_project(std::string_view project);
  void set_labels(std::span<const std::string_view> labels);
  void set_labels(std::initializer_list<std::string_view> labels) { set_labels(std::span(labels.begin(), labels.size())); }
  void set_assignee(std::string_view agent_id);
  void clear_assignee();  // assignee "" (role unchanged: see set_assignee_role)
  void set_assignee_role(std::int32_t role);  // -1 clears
  void set_attempts(std::int64_t attempts);
  void set_entered_at(std::int64_t ms);
  void set_created_at(std::int64_t ms);
  void set_escalation_requested(bool requested);

  // --- declared attributes, by index in policy_set::attributes. Scalars are in the engine's
  // units: decimal in millionths, durations and timestamps in ms, bool 0/1, enum member index.
  void set_attribute(std::int32_t index, std::int64_t scalar);
  void set_attribute(std::int32_t index, std::string_view string);
  void set_attribute(std::int32_t index, std::span<const std::string_view> strings);
  void clear_attribute(std::int32_t index);  // back to its default
  // Every declared attribute as `base` has it, without copying strings: the values point into
  // `base`'s storage, so `base` must outlive this request. Both must be for the same graph. This
  // lets a caller keep one built request per task and stamp out cheap per-decision copies.
  void borrow_attributes(const request& base);

  // --- actor
  void set_actor(std::string_view id, std::int32_t role, std::int32_t kind);
  void set_capabilities(std::span<const std::string_view> capabilities);
  void set_capabilities(std::initializer_list<std::string_view> c) { set_capabilities(std::span(c.begin(), c.size())); }
  void clear_actor();

  // --- assignment: who holds the task once the event is applied. For an event that hands the
  // task to someone (a reassignment naming an agent, an assignment) that is the new holder;
  // for any other event it is the current assignee. The runtime sets it with the holder's
  // effective capabilities (declared in the org, plus the skills hydrated into its workspace),
  // so a rule can require them of whoever is about to receive the work. A fresh request has
  // none: id "", no role, no kind, no capabilities.
  void set_assignment(std::string_view id, std::int32_t role, std::int32_t kind);
  void set_assignment_capabilities(std::span<const std::string_view> capabilities);
  void set_assignment_capabilities(std::initializer_list<std::string_view> c) {
    set_assignment_capabilities(std::span(c.begin(), c.size()));
  }
  void clear_assignment();
  // The assignment when the event hands the task to nobody new: the task's assignee (its id and
  // assignee_role) with the kind and capabilities the org declares for it (kind agent and no
  // capabilities for an agent the policy does not declare); none when the task has no assignee.
  // Call it after setting the task's assignee fields.
  void assignment_from_task();

  // --- context
  void set_event(std::int32_t event);  // -1 clears
  void set_now(std::int64_t ms);

 private:
  [[nodiscard]] std::int32_t index_of(slot s) const {
    const value& v = get(s);
    return v.kind == value_kind::scalar ? static_cast<std::int32_t>(v.i) : -1;
  }
  value& at(slot s) { return m_slots[static_cast<std::uint32_t>(s)]; }
  text own(std::string_view s);
  value own_set(std::span<const std::string_view> strings);
  void update_derived();
  void set_party(slot id_slot, std::string_view id, std::int32_t role, std::int32_t kind);
  void clear_party(slot id_slot);

  const rule_graph* m_graph = nullptr;
  std::uint64_t m_token = 0;
  std::vector<value> m_slots;
  std::deque<std::string> m_strings;       // owned string storage; deque keeps addresses stable
  std::deque<std::vector<text>> m_sets;    // owned set storage
};

}  // namespace agentos::engine
