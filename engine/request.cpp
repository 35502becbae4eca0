#include "engine/request.hpp"

#include <algorithm>
#include <stdexcept>

#include "engine/graph.hpp"

namespace agentos::engine {

namespace ast = dsl::ast;

std::uint32_t slot_of(ast::field f, std::int32_t attribute) {
  auto s = [](slot x) { return static_cast<std::uint32_t>(x); };
  switch (f) {
    case ast::field::task_id: return s(slot::task_id);
    case ast::field::task_project: return s(slot::task_project);
    case ast::field::task_labels: return s(slot::task_labels);
    case ast::field::task_state: return s(slot::task_state);
    case ast::field::task_mode: return s(slot::task_mode);
    case ast::field::task_assignee: return s(slot::task_assignee);
    case ast::field::task_assignee_role: return s(slot::task_assignee_role);
    case ast::field::task_attempts: return s(slot::task_attempts);
    case ast::field::task_entered_at: return s(slot::task_entered_at);
    case ast::field::task_created_at: return s(slot::task_created_at);
    case ast::field::task_time_in_state: return s(slot::task_time_in_state);
    case ast::field::task_age: return s(slot::task_age);
    case ast::field::task_escalation_requested: return s(slot::task_escalation_requested);
    case ast::field::task_attribute:
      if (attribute < 0) break;
      return builtin_slot_count + static_cast<std::uint32_t>(attribute);
    case ast::field::actor_id: return s(slot::actor_id);
    case ast::field::actor_role: return s(slot::actor_role);
    case ast::field::actor_kind: return s(slot::actor_kind);
    case ast::field::actor_capabilities: return s(slot::actor_capabilities);
    case ast::field::assignment_id: return s(slot::assignment_id);
    case ast::field::assignment_role: return s(slot::assignment_role);
    case ast::field::assignment_kind: return s(slot::assignment_kind);
    case ast::field::assignment_capabilities: return s(slot::assignment_capabilities);
    case ast::field::now: return s(slot::now);
    case ast::field::event: return s(slot::event);
    case ast::field::none: break;
  }
  throw std::logic_error("engine: unresolved path");
}

void sort_unique(std::vector<text>& elements) {
  std::sort(elements.begin(), elements.end(), [](const text& a, const text& b) { return compare_text(a, b) < 0; });
  elements.erase(std::unique(elements.begin(), elements.end(), text_equal), elements.end());
}

request::request(const rule_graph& graph)
    : m_graph(&graph),
      m_token(graph.token()),
      m_slots(builtin_slot_count + static_cast<std::uint32_t>(graph.attribute_count())) {
  // Built-ins start at their zero values, like attributes; only role, actor kind and event
  // fields (which have no zero value) start absent.
  const value empty_string = value::of_text({"", graph.find_string("")});
  const value empty_set = value::of_texts(nullptr, 0);
  at(slot::task_id) = empty_string;
  at(slot::task_project) = empty_string;
  at(slot::task_assignee) = empty_string;
  at(slot::actor_id) = empty_string;
  at(slot::task_labels) = empty_set;
  at(slot::actor_capabilities) = empty_set;
  at(slot::assignment_id) = empty_string;
  at(slot::assignment_capabilities) = empty_set;
  if (graph.initial_state() >= 0) at(slot::task_state) = value::of_scalar(graph.initial_state());
  at(slot::task_mode) = value::of_scalar(mode_direct);
  at(slot::task_attempts) = value::of_scalar(0);
  at(slot::task_entered_at) = value::of_scalar(0);
  at(slot::task_created_at) = value::of_scalar(0);
  at(slot::now) = value::of_scalar(0);
  at(slot::task_escalation_requested) = value::of_bool(false);
  update_derived();
  for (std::int32_t i = 0; i < graph.attribute_count(); ++i) {
    m_slots[builtin_slot_count + static_cast<std::uint32_t>(i)] = graph.attribute_default(i);
  }
}

text request::own(std::string_view s) {
  const std::string& stored = m_strings.emplace_back(s);
  return {stored, m_graph->find_string(stored)};
}

value request::own_set(std::span<const std::string_view> strings) {
  std::vector<text> elements;
  elements.reserve(strings.size());
  for (std::string_view s : strings) elements.push_back(own(s));
  sort_unique(elements);
  const auto& stored = m_sets.emplace_back(std::move(elements));
  return value::of_texts(stored.data(), static_cast<std::uint32_t>(stored.size()));
}

void request::update_derived() {
  // Saturating, so absurd timestamps cannot wrap a duration around.
  const auto since = [&](slot from) {
    const value& now = get(slot::now);
    const value& then = get(from);
    std::int64_t span = 0;
    if (__builtin_sub_overflow(now.i, then.i, &span)) span = now.i < then.i ? INT64_MIN : INT64_MAX;
    return value::of_scalar(span);
  };
  at(slot::task_time_in_state) = since(slot::task_entered_at);
  at(slot::task_age) = since(slot::task_created_at);
}

void request::set_state(std::int32_t state) { at(slot::task_state) = state < 0 ? value::absent() : value::of_scalar(state); }
void request::set_mode(std::int32_t mode) { at(slot::task_mode) = mode < 0 ? value::absent() : value::of_scalar(mode); }
void request::set_id(std::string_view id) { at(slot::task_id) = value::of_text(own(id)); }
void request::set_project(std::string_view project) { at(slot::task_project) = value::of_text(own(project)); }
void request::set_labels(std::span<const std::string_view> labels) { at(slot::task_labels) = own_set(labels); }
void request::set_assignee(std::string_view agent_id) { at(slot::task_assignee) = value::of_text(own(agent_id)); }
void request::clear_assignee() { at(slot::task_assignee) = value::of_text({"", m_graph->find_string("")}); }
void request::set_assignee_role(std::int32_t role) {
  at(slot::task_assignee_role) = role < 0 ? value::absent() : value::of_scalar(role);
}
void request::set_attempts(std::int64_t attempts) { at(slot::task_attempts) = value::of_scalar(attempts); }
void request::set_entered_at(std::int64_t ms) {
  at(slot::task_entered_at) = value::of_scalar(ms);
  update_derived();
}
void request::set_created_at(std::int64_t ms) {
  at(slot::task_created_at) = value::of_scalar(ms);
  update_derived();
}
void request::set_escalation_requested(bool requested) { at(slot::task_escalation_requested) = value::of_bool(requested); }

namespace {
std::uint32_t attribute_slot(std::int32_t index, std::uint32_t slot_count) {
  const std::uint32_t s = builtin_slot_count + static_cast<std::uint32_t>(index);
  if (index < 0 || s >= slot_count) throw std::out_of_range("engine::request: no such attribute");
  return s;
}
}  // namespace

void request::set_attribute(std::int32_t index, std::int64_t scalar) {
  m_slots[attribute_slot(index, slot_count())] = value::of_scalar(scalar);
}
void request::set_attribute(std::int32_t index, std::string_view string) {
  m_slots[attribute_slot(index, slot_count())] = value::of_text(own(string));
}
void request::set_attribute(std::int32_t index, std::span<const std::string_view> strings) {
  m_slots[attribute_slot(index, slot_count())] = own_set(strings);
}
void request::clear_attribute(std::int32_t index) {
  m_slots[attribute_slot(index, slot_count())] = m_graph->attribute_default(index);
}

// An actor and an assignment are laid out alike: id, role, kind, capabilities in consecutive slots.
void request::set_party(slot id_slot, std::string_view id, std::int32_t role, std::int32_t kind) {
  const auto base = static_cast<std::uint32_t>(id_slot);
  m_slots[base] = value::of_text(own(id));
  m_slots[base + 1] = role < 0 ? value::absent() : value::of_scalar(role);
  m_slots[base + 2] = kind < 0 ? value::absent() : value::of_scalar(kind);
}
void request::clear_party(slot id_slot) {
  const auto base = static_cast<std::uint32_t>(id_slot);
  m_slots[base] = value::of_text({"", m_graph->find_string("")});
  m_slots[base + 1] = value::absent();
  m_slots[base + 2] = value::absent();
  m_slots[base + 3] = value::of_texts(nullptr, 0);
}
static_assert(static_cast<int>(slot::actor_capabilities) == static_cast<int>(slot::actor_id) + 3);
static_assert(static_cast<int>(slot::assignment_capabilities) == static_cast<int>(slot::assignment_id) + 3);

void request::set_actor(std::string_view id, std::int32_t role, std::int32_t kind) { set_party(slot::actor_id, id, role, kind); }
void request::set_capabilities(std::span<const std::string_view> capabilities) {
  at(slot::actor_capabilities) = own_set(capabilities);
}
void request::clear_actor() { clear_party(slot::actor_id); }

void request::set_assignment(std::string_view id, std::int32_t role, std::int32_t kind) {
  set_party(slot::assignment_id, id, role, kind);
}
void request::set_assignment_capabilities(std::span<const std::string_view> capabilities) {
  at(slot::assignment_capabilities) = own_set(capabilities);
}
void request::clear_assignment() { clear_party(slot::assignment_id); }
void request::assignment_from_task() {
  const value& who = get(slot::task_assignee);
  if (who.kind != value_kind::string || who.size == 0) {
    clear_assignment();
    return;
  }
  const std::int32_t agent = m_graph->find_agent(std::string_view(who.chars, who.size));
  const dsl::agent_info* declared = agent >= 0 ? &m_graph->policy().agents[static_cast<std::size_t>(agent)] : nullptr;
  // No copies: the id is the assignee slot's own text, and a declared agent's capabilities are
  // the graph's strings, which outlive the request. This runs on every stamped transition.
  at(slot::assignment_id) = who;
  at(slot::assignment_role) = get(slot::task_assignee_role);
  at(slot::assignment_kind) = value::of_scalar(declared ? static_cast<std::int32_t>(declared->kind) : kind_agent);
  if (!declared || declared->capabilities.empty()) {
    at(slot::assignment_capabilities) = value::of_texts(nullptr, 0);
    return;
  }
  std::vector<text> elements;
  elements.reserve(declared->capabilities.size());
  for (const std::string& c : declared->capabilities) elements.push_back({c, m_graph->find_string(c)});
  sort_unique(elements);
  const auto& stored = m_sets.emplace_back(std::move(elements));
  at(slot::assignment_capabilities) = value::of_texts(stored.data(), static_cast<std::uint32_t>(stored.size()));
}

void request::borrow_attributes(const request& base) {
  if (base.m_token != m_token) throw std::logic_error("engine: borrow_attributes across policy versions");
  std::copy(base.m_slots.begin() + builtin_slot_count, base.m_slots.end(), m_slots.begin() + builtin_slot_count);
}

void request::set_event(std::int32_t event) { at(slot::event) = event < 0 ? value::absent() : value::of_scalar(event); }
void request::set_now(std::int64_t ms) {
  at(slot::now) = value::of_scalar(ms);
  update_derived();
}

}  // namespace agentos::engine
