#include "engine/graph.hpp"

#include <algorithm>
#include <stdexcept>

#include "engine/detail/canonical.hpp"
#include "engine/detail/lower.hpp"
#include "engine/sha256.hpp"
#include "engine/request.hpp"

namespace agentos::engine {

namespace ast = dsl::ast;

rule_graph::~rule_graph() = default;

namespace {

// The states in which a condition can hold, judged from its top-level conjuncts that test
// `task.state` against constants. Exact where it answers "no": a request's state is always
// present when buckets are read, so `task.state == s` is false in every other state.
std::vector<char> possible_states(const ast::expr* e, std::size_t states) {
  std::vector<char> all(states, 1);
  if (e == nullptr || e->kind != ast::expr_kind::binary) return all;
  if (e->op == ast::binary_op::and_ || e->op == ast::binary_op::or_) {
    auto l = possible_states(e->children[0].get(), states);
    const auto r = possible_states(e->children[1].get(), states);
    for (std::size_t s = 0; s < states; ++s) {
      l[s] = e->op == ast::binary_op::and_ ? (l[s] && r[s]) : (l[s] || r[s]);
    }
    return l;
  }
  const bool eq = e->op == ast::binary_op::eq || e->op == ast::binary_op::in;
  const bool ne = e->op == ast::binary_op::ne || e->op == ast::binary_op::not_in;
  if (!eq && !ne) return all;
  const ast::expr* path = e->children[0].get();
  const ast::expr* other = e->children[1].get();
  if (path->kind != ast::expr_kind::path) std::swap(path, other);
  if (path->kind != ast::expr_kind::path || path->resolved.what != ast::field::task_state) return all;
  if (e->op == ast::binary_op::in || e->op == ast::binary_op::not_in) {
    // `task.state in {…}` only; `{…} in task.state` is not well typed.
    if (e->children[0].get() != path || other->kind != ast::expr_kind::set) return all;
  } else if (other->kind != ast::expr_kind::symbol) {
    return all;
  }
  std::vector<char> listed(states, 0);
  auto mark = [&](const ast::expr& sym) {
    if (sym.kind != ast::expr_kind::symbol) return false;
    if (sym.resolved.index >= 0 && static_cast<std::size_t>(sym.resolved.index) < states) {
      listed[static_cast<std::size_t>(sym.resolved.index)] = 1;
    }
    return true;
  };
  if (other->kind == ast::expr_kind::set) {
    for (const auto& c : other->children) {
      if (!mark(*c)) return all;
    }
  } else {
    mark(*other);
  }
  if (ne) {
    for (auto& b : listed) b = b ? 0 : 1;
  }
  return listed;
}

template <typename T>
void build_buckets(std::size_t buckets, const std::vector<std::pair<std::size_t, T>>& pending,
                   std::vector<std::uint32_t>& index, std::vector<T>& items) {
  index.assign(buckets + 1, 0);
  for (const auto& [key, item] : pending) ++index[key + 1];
  for (std::size_t k = 0; k < buckets; ++k) index[k + 1] += index[k];
  items.resize(pending.size());
  std::vector<std::uint32_t> cursor(index.begin(), index.end() - 1);
  for (const auto& [key, item] : pending) items[cursor[key]++] = item;
}

target_ref to_target(const dsl::resolved_target& t) { return {t.kind, t.kind == ast::target_kind::parent ? -1 : t.index}; }

std::vector<std::int32_t> unique_events(const std::vector<std::int32_t>& events, std::int32_t event_count) {
  std::vector<std::int32_t> out;
  for (std::int32_t e : events) {
    if (e >= 0 && e < event_count) out.push_back(e);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// The catalogue entry every named rule starts from: its kind, name, position, layer, span, doc.
template <typename Rule>
rule_entry entry_of(rule_kind kind, const Rule& rule, std::size_t index, dsl::ast::layer level) {
  rule_entry r;
  r.kind = kind;
  r.name = rule.name.text;
  r.source_index = static_cast<std::int32_t>(index);
  r.level = level;
  r.where = rule.where;
  r.doc = rule.doc;
  return r;
}

}  // namespace

std::shared_ptr<const rule_graph> compile(std::shared_ptr<const dsl::policy_set> policy, const compile_options& options) {
  if (!policy) throw std::invalid_argument("engine::compile: no policy");
  std::shared_ptr<rule_graph> g(new rule_graph());
  const dsl::policy_set& p = *policy;
  g->m_policy = policy;
  g->m_name = p.name;
  g->m_declared_version = p.version;
  g->m_state_count = static_cast<std::int32_t>(p.states.size());
  g->m_event_count = static_cast<std::int32_t>(p.events.size());
  const std::size_t states = p.states.size();
  const std::size_t events = p.events.size();
  const std::size_t buckets = states * events;
  const auto key = [&](std::int32_t s, std::int32_t e) {
    return static_cast<std::size_t>(s) * events + static_cast<std::size_t>(e);
  };

  for (std::size_t i = 0; i < p.states.size(); ++i) g->m_state_index.emplace(p.states[i].name, static_cast<std::int32_t>(i));
  for (std::size_t i = 0; i < p.events.size(); ++i) g->m_event_index.emplace(p.events[i], static_cast<std::int32_t>(i));
  for (std::size_t i = 0; i < p.roles.size(); ++i) {
    g->m_role_index.emplace(p.roles[i].name, static_cast<std::int32_t>(i));
    g->m_role_parent.push_back(p.roles[i].parent);
  }
  for (std::size_t i = 0; i < p.agents.size(); ++i) g->m_agent_index.emplace(p.agents[i].name, static_cast<std::int32_t>(i));
  for (std::size_t i = 0; i < p.attributes.size(); ++i) {
    g->m_attribute_index.emplace(p.attributes[i].name, static_cast<std::int32_t>(i));
  }

  detail::lowerer low(*g);

  rule_catalogue& cat = g->m_catalogue;

  // Transitions: one edge per expanded source state, in source order within each bucket.
  std::vector<std::pair<std::size_t, rule_graph::edge>> edges;
  for (std::size_t i = 0; i < p.transitions.size(); ++i) {
    const dsl::transition_info& t = p.transitions[i];
    if (t.from < 0 || t.to < 0 || t.event < 0 || t.from >= g->m_state_count || t.to >= g->m_state_count ||
        t.event >= g->m_event_count) {
      throw std::logic_error("engine::compile: unresolved transition");
    }
    rule_entry r;
    r.kind = rule_kind::transition;
    r.name = p.states[static_cast<std::size_t>(t.from)].name + " -> " + p.states[static_cast<std::size_t>(t.to)].name +
             " on " + p.events[static_cast<std::size_t>(t.event)];
    r.source_index = static_cast<std::int32_t>(i);
    if (t.decl != nullptr) {
      r.where = t.decl->where;
      r.doc = t.decl->doc;
    }
    r.events = {t.event};
    r.from = t.from;
    r.to = t.to;
    const rule_id id = cat.add(std::move(r));
    cat.bind(t.event, t.from, id);
    edges.emplace_back(key(t.from, t.event), rule_graph::edge{t.to, id, low.lower(t.guard)});
  }
  build_buckets(buckets, edges, g->m_edge_index, g->m_edges);

  // Permits and forbids, bucketed under every (state, event) they can apply to.
  std::vector<std::pair<std::size_t, rule_graph::guarded>> forbids, permits;
  std::unordered_map<rule_id, std::vector<detail::slot_keys>> keyable;
  for (std::size_t i = 0; i < p.permissions.size(); ++i) {
    const dsl::permission_info& info = p.permissions[i];
    const ast::permission_rule& rule = *info.rule;
    rule_entry r = entry_of(rule.kind == ast::effect::forbid ? rule_kind::forbid : rule_kind::permit, rule, i, info.level);
    if (rule.reason) r.reason = rule.reason->value;
    r.events = unique_events(info.events, g->m_event_count);
    const auto evs = r.events;
    const rule_id id = cat.add(std::move(r));
    const program when = low.lower(rule.when.get());
    keyable[id] = low.keyable_conjuncts(rule.when.get());
    const auto in_states = possible_states(rule.when.get(), states);
    const bool everywhere = std::all_of(in_states.begin(), in_states.end(), [](char c) { return c != 0; });
    auto& out = rule.kind == ast::effect::forbid ? forbids : permits;
    for (std::int32_t e : evs) {
      if (everywhere) cat.bind(e, -1, id);
      for (std::size_t s = 0; s < states; ++s) {
        if (!in_states[s]) continue;
        if (!everywhere) cat.bind(e, static_cast<std::int32_t>(s), id);
        out.emplace_back(key(static_cast<std::int32_t>(s), e), rule_graph::guarded{id, when});
      }
    }
  }
  build_buckets(buckets, forbids, g->m_forbid_index, g->m_forbids);
  build_buckets(buckets, permits, g->m_permit_index, g->m_permits);
  const auto index_buckets = [&](const std::vector<std::uint32_t>& starts, const std::vector<rule_graph::guarded>& items,
                                 std::vector<std::int32_t>& out) {
    out.assign(buckets, -1);
    for (std::size_t k = 0; k < buckets; ++k) {
      if (starts[k + 1] - starts[k] < std::max<std::uint32_t>(options.index_threshold, 1)) continue;
      std::vector<const std::vector<detail::slot_keys>*> rules;
      for (std::uint32_t at = starts[k]; at < starts[k + 1]; ++at) rules.push_back(&keyable[items[at].rule]);
      detail::rule_index ix;
      if (!ix.build(rules)) continue;
      out[k] = static_cast<std::int32_t>(g->m_indexes.size());
      g->m_indexes.push_back(std::move(ix));
    }
  };
  index_buckets(g->m_forbid_index, g->m_forbids, g->m_forbid_ix);
  index_buckets(g->m_permit_index, g->m_permits, g->m_permit_ix);

  // Obligations, bucketed the same way; their actions are stored once.
  std::vector<std::pair<std::size_t, rule_graph::obligation>> obligations;
  for (std::size_t i = 0; i < p.obligations.size(); ++i) {
    const dsl::obligation_info& info = p.obligations[i];
    const ast::obligation_rule& rule = *info.rule;
    rule_entry r = entry_of(rule_kind::obligation, rule, i, info.level);
    r.events = unique_events(info.events, g->m_event_count);
    const auto evs = r.events;
    const rule_id id = cat.add(std::move(r));
    rule_graph::obligation o{id, low.lower(rule.when.get()), static_cast<std::uint32_t>(g->m_actions.size()),
                             static_cast<std::uint32_t>(rule.actions.size())};
    for (std::size_t a = 0; a < rule.actions.size(); ++a) {
      const dsl::resolved_target t = a < info.targets.size() ? info.targets[a] : dsl::resolved_target{};
      g->m_actions.push_back({rule.actions[a].kind, to_target(t)});
    }
    const auto in_states = possible_states(rule.when.get(), states);
    const bool everywhere = std::all_of(in_states.begin(), in_states.end(), [](char c) { return c != 0; });
    for (std::int32_t e : evs) {
      if (everywhere) cat.bind(e, -1, id);
      for (std::size_t s = 0; s < states; ++s) {
        if (!in_states[s]) continue;
        if (!everywhere) cat.bind(e, static_cast<std::int32_t>(s), id);
        obligations.emplace_back(key(static_cast<std::int32_t>(s), e), o);
      }
    }
  }
  build_buckets(buckets, obligations, g->m_obligation_index, g->m_obligations);

  for (std::size_t i = 0; i < p.routes.size(); ++i) {
    const dsl::route_info& info = p.routes[i];
    const rule_id id = cat.add(entry_of(rule_kind::route, *info.rule, i, info.level));
    g->m_routes.push_back({id, low.lower(info.rule->when.get()), target_ref{info.rule->to.kind, info.target}});
  }
  if (p.fallback.rule != nullptr) {
    rule_entry r = entry_of(rule_kind::fallback, *p.fallback.rule, 0, p.fallback.level);
    if (r.name.empty()) r.name = "otherwise";
    const rule_id id = cat.add(std::move(r));
    g->m_fallback = {id, program{}, target_ref{p.fallback.rule->to.kind, p.fallback.target}};
    g->m_has_fallback = true;
  }
  for (std::size_t i = 0; i < p.gates.size(); ++i) {
    const dsl::gate_info& info = p.gates[i];
    rule_entry r = entry_of(rule_kind::gate, *info.rule, i, info.level);
    if (info.rule->reason) r.reason = info.rule->reason->value;
    const rule_id id = cat.add(std::move(r));
    g->m_gates.push_back({id, low.lower(info.rule->when.get()), target_ref{}});
  }
  for (std::size_t i = 0; i < p.escalations.size(); ++i) {
    const dsl::escalation_info& info = p.escalations[i];
    const rule_id id = cat.add(entry_of(rule_kind::escalation, *info.rule, i, info.level));
    g->m_escalations.push_back({id, low.lower(info.rule->when.get()), to_target(info.to)});
  }
  for (std::size_t i = 0; i < p.invariants.size(); ++i) {
    const dsl::invariant_info& info = p.invariants[i];
    rule_entry r;
    r.kind = rule_kind::invariant;
    r.name = info.decl->name.text;
    r.source_index = static_cast<std::int32_t>(i);
    r.where = info.decl->where;
    r.doc = info.decl->doc;
    if (info.event >= 0) r.events = {info.event};
    (void)cat.add(std::move(r));  // checked by the lints, never at decision time
  }

  // Defaults last: a zero-value string must carry the id of a `""` literal lowered above.
  for (const auto& a : p.attributes) {
    if (a.default_value != nullptr) {
      g->m_attribute_defaults.push_back(low.constant_value(*a.default_value, a.kind));
      continue;
    }
    switch (a.kind) {
      case ast::type_kind::string: g->m_attribute_defaults.push_back(value::of_text({"", g->find_string("")})); break;
      case ast::type_kind::string_set: g->m_attribute_defaults.push_back(value::of_texts(nullptr, 0)); break;
      default: g->m_attribute_defaults.push_back(value::of_scalar(0)); break;  // 0, 0.00, false, 0s, epoch, first member
    }
  }

  for (std::size_t k = 0; k < buckets; ++k) {
    const std::uint32_t n = (g->m_edge_index[k + 1] - g->m_edge_index[k]) +
                            (g->m_forbid_index[k + 1] - g->m_forbid_index[k]) +
                            (g->m_permit_index[k + 1] - g->m_permit_index[k]) + 1;
    g->m_max_matches = std::max(g->m_max_matches, n);
    std::uint32_t actions = 0;
    for (std::uint32_t o = g->m_obligation_index[k]; o < g->m_obligation_index[k + 1]; ++o) {
      actions += g->m_obligations[o].action_count;
    }
    g->m_max_actions = std::max(g->m_max_actions, actions);
  }
  g->m_max_matches = std::max<std::uint32_t>(g->m_max_matches, 1);

  sha256 h;
  h.update(detail::canonical_form(p));
  const auto digest = h.finish();
  g->m_version = "sha256:" + to_hex(digest);
  for (int i = 0; i < 8; ++i) g->m_token = (g->m_token << 8) | digest[static_cast<std::size_t>(i)];
  return g;
}

std::string rule_graph::disassemble(program p) const {
  std::string out;
  for (std::uint32_t k = 0; k < p.size; ++k) {
    const std::uint32_t at = p.begin + k;
    const insn& i = m_code[at];
    out += std::to_string(at);
    out += ": ";
    out += to_string(i.op);
    switch (i.op) {
      case opcode::compare: out += " " + std::string(to_string(i.cmp)); break;
      case opcode::compare_slot_const:
      case opcode::compare_const_slot:
      case opcode::scalar_slot_const:
      case opcode::text_slot_const:
        out += " " + std::string(to_string(i.cmp)) + " slot " + std::to_string(i.aux) + " const " + std::to_string(i.arg);
        break;
      case opcode::push_const:
      case opcode::push_slot:
      case opcode::jump_if_false:
      case opcode::jump_if_true:
      case opcode::make_string_set:
      case opcode::make_scalar_set: out += " " + std::to_string(i.arg); break;
      default: break;
    }
    out += '\n';
  }
  return out;
}

}  // namespace agentos::engine
