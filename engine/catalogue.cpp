// The catalogue keeps two Boost.MultiIndex containers: the rules (by id for O(1) lookup from a
// decision, by name for the CLI and tests, by (kind, id) for a kind's rules in decision order)
// and the event bindings (by (event, state, rule) for "what governs this event here", by rule for
// "where does this rule apply"). decide() never touches them; it reads the graph's flat buckets.
#include "engine/catalogue.hpp"

#include <algorithm>
#include <stdexcept>
#include <tuple>

#include <boost/multi_index/composite_key.hpp>
#include <boost/multi_index/hashed_index.hpp>
#include <boost/multi_index/member.hpp>
#include <boost/multi_index/ordered_index.hpp>
#include <boost/multi_index/random_access_index.hpp>
#include <boost/multi_index_container.hpp>

namespace agentos::engine {

namespace mi = boost::multi_index;

std::string_view to_string(rule_kind k) {
  switch (k) {
    case rule_kind::transition: return "transition";
    case rule_kind::route: return "route";
    case rule_kind::fallback: return "fallback";
    case rule_kind::gate: return "gate";
    case rule_kind::permit: return "permit";
    case rule_kind::forbid: return "forbid";
    case rule_kind::escalation: return "escalation";
    case rule_kind::obligation: return "obligation";
    case rule_kind::invariant: return "invariant";
  }
  return "?";
}

namespace {

struct by_id {};
struct by_name {};
struct by_kind {};
struct by_event {};
struct by_rule {};

using rule_set = mi::multi_index_container<
    rule_entry,
    mi::indexed_by<
        mi::random_access<mi::tag<by_id>>,
        mi::hashed_non_unique<mi::tag<by_name>, mi::member<rule_entry, std::string, &rule_entry::name>>,
        mi::ordered_unique<mi::tag<by_kind>,
                           mi::composite_key<rule_entry, mi::member<rule_entry, rule_kind, &rule_entry::kind>,
                                             mi::member<rule_entry, rule_id, &rule_entry::id>>>>>;

struct binding {
  std::int32_t event;
  std::int32_t state;  // -1: any state
  rule_id rule;
};

using binding_set = mi::multi_index_container<
    binding,
    mi::indexed_by<
        mi::ordered_unique<mi::tag<by_event>,
                           mi::composite_key<binding, mi::member<binding, std::int32_t, &binding::event>,
                                             mi::member<binding, std::int32_t, &binding::state>,
                                             mi::member<binding, rule_id, &binding::rule>>>,
        mi::ordered_non_unique<mi::tag<by_rule>, mi::member<binding, rule_id, &binding::rule>>>>;

}  // namespace

struct rule_catalogue::impl {
  rule_set rules;
  binding_set bindings;
};

rule_catalogue::rule_catalogue() : m_impl(std::make_unique<impl>()) {}
rule_catalogue::~rule_catalogue() = default;

rule_id rule_catalogue::add(rule_entry entry) {
  entry.id = static_cast<rule_id>(m_impl->rules.size());
  const rule_id id = entry.id;
  m_impl->rules.push_back(std::move(entry));
  return id;
}

void rule_catalogue::bind(std::int32_t event, std::int32_t state, rule_id rule) {
  m_impl->bindings.insert(binding{event, state, rule});
}

std::size_t rule_catalogue::size() const { return m_impl->rules.size(); }

const rule_entry& rule_catalogue::at(rule_id id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= m_impl->rules.size()) throw std::out_of_range("no such rule id");
  return m_impl->rules[static_cast<std::size_t>(id)];
}

const rule_entry* rule_catalogue::find(rule_kind kind, std::string_view name) const {
  const auto& index = m_impl->rules.get<by_name>();
  const auto [first, last] = index.equal_range(std::string(name));
  const rule_entry* best = nullptr;
  for (auto it = first; it != last; ++it) {
    if (it->kind == kind && (best == nullptr || it->id < best->id)) best = &*it;
  }
  return best;
}

std::vector<const rule_entry*> rule_catalogue::named(std::string_view name) const {
  const auto& index = m_impl->rules.get<by_name>();
  const auto [first, last] = index.equal_range(std::string(name));
  std::vector<const rule_entry*> out;
  for (auto it = first; it != last; ++it) out.push_back(&*it);
  std::sort(out.begin(), out.end(), [](const rule_entry* a, const rule_entry* b) { return a->id < b->id; });
  return out;
}

std::vector<const rule_entry*> rule_catalogue::of_kind(rule_kind kind) const {
  const auto& index = m_impl->rules.get<by_kind>();
  std::vector<const rule_entry*> out;
  for (auto [it, last] = index.equal_range(std::make_tuple(kind)); it != last; ++it) out.push_back(&*it);
  return out;
}

std::vector<const rule_entry*> rule_catalogue::for_event(std::int32_t event, std::int32_t state) const {
  const auto& index = m_impl->bindings.get<by_event>();
  std::vector<rule_id> ids;
  auto collect = [&](std::int32_t s) {
    for (auto [it, last] = index.equal_range(std::make_tuple(event, s)); it != last; ++it) ids.push_back(it->rule);
  };
  if (state < 0) {
    for (auto [it, last] = index.equal_range(std::make_tuple(event)); it != last; ++it) ids.push_back(it->rule);
  } else {
    collect(-1);
    collect(state);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<const rule_entry*> out;
  out.reserve(ids.size());
  for (rule_id id : ids) out.push_back(&at(id));
  return out;
}

}  // namespace agentos::engine
