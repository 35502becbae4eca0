#include "dsl/checker.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace agentos::dsl {

using ast::type_kind;

namespace {

constexpr std::array task_fields{
    builtin_field{"id", type_kind::string, ast::field::task_id},
    builtin_field{"project", type_kind::string, ast::field::task_project},
    builtin_field{"labels", type_kind::string_set, ast::field::task_labels},
    builtin_field{"state", type_kind::state, ast::field::task_state},
    builtin_field{"mode", type_kind::mode, ast::field::task_mode},
    builtin_field{"assignee", type_kind::string, ast::field::task_assignee},
    builtin_field{"assignee_role", type_kind::role, ast::field::task_assignee_role},
    builtin_field{"attempts", type_kind::int_, ast::field::task_attempts},
    builtin_field{"entered_at", type_kind::timestamp, ast::field::task_entered_at},
    builtin_field{"created_at", type_kind::timestamp, ast::field::task_created_at},
    builtin_field{"time_in_state", type_kind::duration, ast::field::task_time_in_state},
    builtin_field{"age", type_kind::duration, ast::field::task_age},
    builtin_field{"escalation_requested", type_kind::bool_, ast::field::task_escalation_requested},
};

constexpr std::array actor_field_table{
    builtin_field{"id", type_kind::string, ast::field::actor_id},
    builtin_field{"role", type_kind::role, ast::field::actor_role},
    builtin_field{"kind", type_kind::actor_kind, ast::field::actor_kind},
    builtin_field{"capabilities", type_kind::string_set, ast::field::actor_capabilities},
};

// `assignment.*`: the one who holds the task once the event is applied (the new holder for an
// event that hands the task over), with the same fields as the actor.
constexpr std::array assignment_field_table{
    builtin_field{"id", type_kind::string, ast::field::assignment_id},
    builtin_field{"role", type_kind::role, ast::field::assignment_role},
    builtin_field{"kind", type_kind::actor_kind, ast::field::assignment_kind},
    builtin_field{"capabilities", type_kind::string_set, ast::field::assignment_capabilities},
};

constexpr std::array<std::string_view, 2> mode_names{"direct", "plan_first"};
constexpr std::array<std::string_view, 3> actor_kind_names{"agent", "human", "operator"};

std::string_view layer_name(ast::layer l) {
  switch (l) {
    case ast::layer::global: return "global";
    case ast::layer::shared: return "shared";
    case ast::layer::project: return "project";
  }
  return "project";
}

std::string strip_article(std::string s) {
  if (s.rfind("an ", 0) == 0) return s.substr(3);
  if (s.rfind("a ", 0) == 0) return s.substr(2);
  return s;
}

bool is_numeric(type_kind k) { return k == type_kind::int_ || k == type_kind::decimal; }
bool is_ordered(type_kind k) {
  return k == type_kind::int_ || k == type_kind::decimal || k == type_kind::duration || k == type_kind::timestamp ||
         k == type_kind::enum_ || k == type_kind::mode;
}
bool is_set(const ast::type_ref& t) { return t.kind == type_kind::string_set || t.kind == type_kind::symbol_set; }

// The element type of a set type.
ast::type_ref element_of(const ast::type_ref& t) {
  if (t.kind == type_kind::string_set) return {type_kind::string};
  return {t.element, t.enum_attr};
}
ast::type_ref set_of(const ast::type_ref& elem) {
  if (elem.kind == type_kind::string) return {type_kind::string_set};
  return {type_kind::symbol_set, elem.enum_attr, elem.kind};
}

// Where expressions may look.
enum class scope { full, task_only };

class checker {
 public:
  checker(const source_manager& sources, diagnostics& out) : m_sources(sources), m_out(out) {}

  check_result run(loaded_set files) {
    auto set = std::make_unique<policy_set>();
    m_set = set.get();
    m_set->entry = files.entry;
    m_set->modules = std::move(files.modules);
    // Layers in priority order; the post-order of imports is kept within a layer.
    std::stable_sort(m_set->modules.begin(), m_set->modules.end(),
                     [](const ast::module& a, const ast::module& b) { return level(a) < level(b); });
    const std::size_t errors_before = m_out.count(severity::error);
    for (const auto& m : m_set->modules) {
      if (m.file == files.entry && m.head) {
        m_set->name = m.head->name.text;
        m_set->version = m.head->version.value;
      }
    }
    collect_org();
    collect_attributes();
    collect_lifecycle();
    collect_rules();
    check_defaults();
    check_lifecycle_guards();
    check_rule_bodies();
    check_invariants();
    warn_unused_groups();
    check_result r;
    // Errors reported earlier against this set's files (syntax, imports) count too: a set that was
    // only partly parsed must not go on to the engine, whose lints would report the missing parts.
    std::set<file_id> files_of_set;
    for (const auto& m : m_set->modules) files_of_set.insert(m.file);
    const bool broken_files = std::any_of(m_out.items().begin(), m_out.items().end(), [&](const diagnostic& d) {
      return d.level == severity::error && files_of_set.contains(d.primary.file);
    });
    r.ok = m_out.count(severity::error) == errors_before && !broken_files;
    r.set = std::move(set);
    return r;
  }

 private:
  static ast::layer level(const ast::module& m) { return m.head ? m.head->level : ast::layer::project; }

  diagnostic& error(std::string code, span where, std::string message) {
    return m_out.emplace(std::move(code), where, std::move(message));
  }

  // Whether a block holds only whitespace and comments between its braces. A block whose items all
  // failed to parse is not empty: its syntax errors are reported, and "declares nothing" would be
  // a second, misleading diagnostic.
  bool is_blank(span block) const {
    std::string_view t = m_sources.get(block.file).text().substr(block.begin, block.end - block.begin);
    const auto open = t.find('{');
    if (open == std::string_view::npos) return true;
    t.remove_prefix(open + 1);
    if (!t.empty() && t.back() == '}') t.remove_suffix(1);
    std::size_t i = 0;
    while (i < t.size()) {
      if (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r') {
        ++i;
      } else if (t.substr(i, 2) == "//") {
        const auto end = t.find('\n', i);
        i = end == std::string_view::npos ? t.size() : end;
      } else if (t.substr(i, 2) == "/*") {
        const auto end = t.find("*/", i + 2);
        i = end == std::string_view::npos ? t.size() : end + 2;
      } else {
        return false;
      }
    }
    return true;
  }

  void duplicate(span where, span first, const std::string& what) {
    auto& d = error("E3007", where, what + " is defined twice");
    d.labels.push_back({first, "first defined here"});
  }

  template <typename Items, typename NameOf>
  static std::vector<std::string_view> names(const Items& items, NameOf name_of) {
    std::vector<std::string_view> out;
    for (const auto& i : items) out.push_back(name_of(i));
    return out;
  }

  void suggest(diagnostic& d, std::string_view name, const std::vector<std::string_view>& candidates,
               std::string_view prefix = "") {
    auto best = closest_name(name, candidates);
    if (!best.empty()) d.help = "did you mean `" + std::string(prefix) + best + "`?";
  }

  // ------------------------------------------------------------------------------------------
  // org

  void collect_org() {
    std::map<std::string, span> seen;
    std::vector<const ast::role_decl*> role_decls;
    for (const auto& m : m_set->modules) {
      for (const auto& decl : m.declarations) {
        const auto* org = std::get_if<ast::org_block>(&decl);
        if (org == nullptr) continue;
        if (org->items.empty() && is_blank(org->where)) m_out.emplace("W0105", org->where, "this org block declares no roles or agents");
        for (const auto& item : org->items) {
          if (const auto* r = std::get_if<ast::role_decl>(&item)) {
            if (auto it = seen.find(r->name.text); it != seen.end()) {
              duplicate(r->name.where, it->second, "role or agent `" + r->name.text + "`");
              continue;
            }
            seen.emplace(r->name.text, r->name.where);
            m_set->roles.push_back({r->name.text, -1, r});
          }
        }
      }
    }
    for (auto& role : m_set->roles) {
      if (!role.decl->reports_to) continue;
      const auto& parent = *role.decl->reports_to;
      role.parent = m_set->find_role(parent.text);
      if (role.parent < 0) unknown_role(parent);
    }
    // The org must be a forest: walk up from each role; a walk longer than the role count loops.
    std::vector<bool> reported(m_set->roles.size(), false);
    for (std::size_t i = 0; i < m_set->roles.size(); ++i) {
      std::int32_t at = m_set->roles[i].parent;
      std::size_t steps = 0;
      while (at >= 0 && steps <= m_set->roles.size()) {
        if (static_cast<std::size_t>(at) == i) {
          if (!reported[i]) {
            std::string chain = m_set->roles[i].name;
            std::int32_t c = m_set->roles[i].parent;
            while (c >= 0 && static_cast<std::size_t>(c) != i) {
              reported[static_cast<std::size_t>(c)] = true;
              chain += " -> " + m_set->roles[static_cast<std::size_t>(c)].name;
              c = m_set->roles[static_cast<std::size_t>(c)].parent;
            }
            chain += " -> " + m_set->roles[i].name;
            auto& d = error("E3008", m_set->roles[i].decl->reports_to->where,
                            "role `" + m_set->roles[i].name + "` reports to itself through " + chain);
            d.help = "the org chart is a forest: every chain of reports_to must end at a role with no parent";
            reported[i] = true;
          }
          break;
        }
        at = m_set->roles[static_cast<std::size_t>(at)].parent;
        ++steps;
      }
    }
    // Agents share the namespace of roles for duplicates (both can be route targets).
    for (const auto& m : m_set->modules) {
      for (const auto& decl : m.declarations) {
        const auto* org = std::get_if<ast::org_block>(&decl);
        if (org == nullptr) continue;
        for (const auto& item : org->items) {
          const auto* a = std::get_if<ast::agent_decl>(&item);
          if (a == nullptr) continue;
          if (auto it = seen.find(a->name.text); it != seen.end()) {
            duplicate(a->name.where, it->second, "role or agent `" + a->name.text + "`");
            continue;
          }
          seen.emplace(a->name.text, a->name.where);
          agent_info info{a->name.text, m_set->find_role(a->role.text), a->kind, {}, a};
          if (info.role < 0) unknown_role(a->role);
          std::set<std::string> caps;
          for (const auto& c : a->capabilities) {
            if (!caps.insert(c.value).second) {
              duplicate(c.where, c.where, "capability \"" + c.value + "\"");
              continue;
            }
            info.capabilities.push_back(c.value);
          }
          m_set->agents.push_back(std::move(info));
        }
      }
    }
  }

  void unknown_role(const ast::ident& name) {
    auto& d = error("E3003", name.where, "unknown role `" + name.text + "`");
    suggest(d, name.text, names(m_set->roles, [](const role_info& r) -> std::string_view { return r.name; }));
    if (d.help.empty()) d.help = "roles are declared in an `org { role NAME }` block";
  }

  void unknown_agent(const ast::ident& name) {
    auto& d = error("E3005", name.where, "unknown agent `" + name.text + "`");
    suggest(d, name.text, names(m_set->agents, [](const agent_info& r) -> std::string_view { return r.name; }));
    if (d.help.empty()) d.help = "agents are declared in an `org { agent NAME role ROLE }` block";
  }

  // ------------------------------------------------------------------------------------------
  // task attributes

  void collect_attributes() {
    std::map<std::string, span> seen;
    for (const auto& m : m_set->modules) {
      for (const auto& decl : m.declarations) {
        const auto* task = std::get_if<ast::task_block>(&decl);
        if (task == nullptr) continue;
        if (task->attributes.empty() && is_blank(task->where)) m_out.emplace("W0105", task->where, "this task block declares no attributes");
        for (const auto& a : task->attributes) {
          if (std::any_of(task_fields.begin(), task_fields.end(), [&](const builtin_field& f) { return f.name == a.name.text; })) {
            auto& d = error("E3007", a.name.where, "`" + a.name.text + "` is a built-in task field and cannot be redeclared");
            d.help = "choose another name; `task." + a.name.text + "` is always available";
            continue;
          }
          if (auto it = seen.find(a.name.text); it != seen.end()) {
            duplicate(a.name.where, it->second, "attribute `" + a.name.text + "`");
            continue;
          }
          seen.emplace(a.name.text, a.name.where);
          attribute_info info{a.name.text, a.type.kind, {}, a.how, nullptr, &a};
          std::map<std::string, span> members;
          for (const auto& mem : a.type.enum_members) {
            if (auto it = members.find(mem.text); it != members.end()) {
              duplicate(mem.where, it->second, "enum member `" + mem.text + "`");
              continue;
            }
            members.emplace(mem.text, mem.where);
            info.members.push_back(mem.text);
          }
          m_set->attributes.push_back(std::move(info));
        }
      }
    }
  }

  void check_defaults() {
    for (std::size_t i = 0; i < m_set->attributes.size(); ++i) {
      auto& attr = m_set->attributes[i];
      if (attr.how != ast::presence::defaulted || !attr.decl->default_value) continue;
      ast::type_ref want{attr.kind, attr.kind == type_kind::enum_ ? static_cast<std::int32_t>(i) : -1};
      ast::expr& e = *attr.decl->default_value;
      const bool is_literal = e.kind != ast::expr_kind::path && e.kind != ast::expr_kind::binary && e.kind != ast::expr_kind::not_;
      if (!is_literal) {
        error("E4005", e.where, "a default value must be a literal");
        continue;
      }
      if (attr.kind == type_kind::timestamp) {
        error("E4005", e.where, "timestamp attributes have no literal form, so they cannot have a default")
            .help = "declare it `optional` (it defaults to the epoch) or `required`";
        continue;
      }
      const ast::type_ref got = check_expr_against(e, want, scope::task_only);
      if (got.kind == type_kind::error) continue;
      if (!assignable(want, got)) {
        auto& d = error("E4005", e.where,
                        "the default of `" + attr.name + "` is " + describe(got) + ", but the attribute is " + describe(want));
        d.labels.push_back({attr.decl->type.where, "declared type"});
        if (auto help = quoted_number_help(e, want)) d.help = *help;
        continue;
      }
      attr.default_value = &e;
    }
  }

  // ------------------------------------------------------------------------------------------
  // lifecycle

  struct group_ref {
    std::int32_t group = -1;
    bool used = false;
  };

  void collect_lifecycle() {
    std::map<std::string, span> state_seen;
    const ast::initial_decl* initial = nullptr;
    span first_lifecycle{};
    bool any_lifecycle = false;
    // Pass 1: states.
    for (const auto& m : m_set->modules) {
      for (const auto& decl : m.declarations) {
        const auto* lc = std::get_if<ast::lifecycle_block>(&decl);
        if (lc == nullptr) continue;
        if (!any_lifecycle) first_lifecycle = lc->where;
        any_lifecycle = true;
        if (lc->items.empty() && is_blank(lc->where)) m_out.emplace("W0105", lc->where, "this lifecycle block declares nothing");
        for (const auto& item : lc->items) {
          const auto* st = std::get_if<ast::states_decl>(&item);
          if (st == nullptr) continue;
          for (const auto& n : st->names) {
            if (auto it = state_seen.find(n.text); it != state_seen.end()) {
              duplicate(n.where, it->second, "state `" + n.text + "`");
              continue;
            }
            state_seen.emplace(n.text, n.where);
            m_set->states.push_back({n.text, false, false, n.where});
          }
        }
      }
    }
    // Pass 2: initial, terminal, groups.
    for (const auto& m : m_set->modules) {
      for (const auto& decl : m.declarations) {
        const auto* lc = std::get_if<ast::lifecycle_block>(&decl);
        if (lc == nullptr) continue;
        for (const auto& item : lc->items) {
          if (const auto* in = std::get_if<ast::initial_decl>(&item)) {
            if (initial != nullptr) {
              auto& d = error("E3012", in->where, "a second initial state is declared");
              d.labels.push_back({initial->where, "the initial state is already declared here"});
              continue;
            }
            initial = in;
            const auto s = resolve_state(in->name);
            if (s >= 0) {
              m_set->initial = s;
              m_set->states[static_cast<std::size_t>(s)].initial = true;
            }
          } else if (const auto* t = std::get_if<ast::terminal_decl>(&item)) {
            for (const auto& n : t->names) {
              const auto s = resolve_state(n);
              if (s >= 0) m_set->states[static_cast<std::size_t>(s)].terminal = true;
            }
          } else if (const auto* g = std::get_if<ast::group_decl>(&item)) {
            if (auto it = state_seen.find(g->name.text); it != state_seen.end()) {
              duplicate(g->name.where, it->second, "state or group `" + g->name.text + "`");
              continue;
            }
            state_seen.emplace(g->name.text, g->name.where);
            group_info info{g->name.text, {}, g};
            for (const auto& mem : g->members) {
              const auto s = resolve_state(mem);
              if (s >= 0 && std::find(info.states.begin(), info.states.end(), s) == info.states.end()) info.states.push_back(s);
            }
            m_groups_used.push_back(false);
            m_set->groups.push_back(std::move(info));
          }
        }
      }
    }
    // A file that could not be parsed at all (too large, not UTF-8, no header) may hold the
    // lifecycle; its own error is the one to fix.
    const bool unparsed_file = std::any_of(m_set->modules.begin(), m_set->modules.end(),
                                           [](const ast::module& m) { return !m.head && m.declarations.empty(); });
    if ((!any_lifecycle || m_set->states.empty() || initial == nullptr) && !unparsed_file) {
      span where = any_lifecycle ? first_lifecycle : entry_header_span();
      auto& d = error("E3011", where,
                      !any_lifecycle           ? "the policy set has no lifecycle"
                      : m_set->states.empty() ? "the lifecycle declares no states"
                                              : "the lifecycle has no initial state");
      d.help = "a lifecycle needs `states a, b, ...` and `initial a`";
    }
    // Pass 3: transitions; events are declared by the transitions that use them.
    for (const auto& m : m_set->modules) {
      for (const auto& decl : m.declarations) {
        const auto* lc = std::get_if<ast::lifecycle_block>(&decl);
        if (lc == nullptr) continue;
        for (const auto& item : lc->items) {
          const auto* t = std::get_if<ast::transition_decl>(&item);
          if (t == nullptr) continue;
          if (m_set->find_event(t->event.text) < 0) m_set->events.push_back(t->event.text);
        }
      }
    }
    for (const auto& m : m_set->modules) {
      for (const auto& decl : m.declarations) {
        const auto* lc = std::get_if<ast::lifecycle_block>(&decl);
        if (lc == nullptr) continue;
        for (const auto& item : lc->items) {
          const auto* t = std::get_if<ast::transition_decl>(&item);
          if (t == nullptr) continue;
          const auto to = resolve_state(t->to, /*allow_group=*/false);
          std::vector<std::int32_t> from;
          if (!resolve_state_set(t->from, from)) continue;
          if (to < 0) continue;
          if (!t->from.any) {
            for (auto s : from) {
              if (m_set->states[static_cast<std::size_t>(s)].terminal) {
                m_out.emplace("W0102", t->from.where,
                              "this transition leaves terminal state `" + m_set->states[static_cast<std::size_t>(s)].name + "`");
                break;
              }
            }
          }
          const auto ev = m_set->find_event(t->event.text);
          for (auto s : from) m_set->transitions.push_back({s, to, ev, t->guard.get(), t});
        }
      }
    }
  }

  span entry_header_span() const {
    for (const auto& m : m_set->modules) {
      if (m.file == m_set->entry && m.head) return m.head->where;
    }
    return span{m_set->entry, 0, 0};
  }

  std::vector<std::string_view> state_names(bool with_groups) const {
    auto out = names(m_set->states, [](const state_info& s) -> std::string_view { return s.name; });
    if (with_groups) {
      for (const auto& g : m_set->groups) out.push_back(g.name);
    }
    return out;
  }

  std::int32_t resolve_state(const ast::ident& name, bool allow_group = false) {
    const auto s = m_set->find_state(name.text);
    if (s >= 0) return s;
    for (const auto& g : m_set->groups) {
      if (g.name == name.text) {
        auto& d = error("E3001", name.where, "`" + name.text + "` is a state group; one state is expected here");
        d.help = allow_group ? "" : "name one of its states";
        return -1;
      }
    }
    auto& d = error("E3001", name.where, "unknown state `" + name.text + "`");
    suggest(d, name.text, state_names(allow_group));
    if (d.help.empty()) d.help = "states are declared with `states a, b, ...` in a lifecycle block";
    return -1;
  }

  // A state, a group or `*` (every non-terminal state).
  bool resolve_state_set(const ast::state_ref& ref, std::vector<std::int32_t>& out) {
    if (ref.any) {
      for (std::size_t i = 0; i < m_set->states.size(); ++i) {
        if (!m_set->states[i].terminal) out.push_back(static_cast<std::int32_t>(i));
      }
      return true;
    }
    const auto s = m_set->find_state(ref.name.text);
    if (s >= 0) {
      out.push_back(s);
      return true;
    }
    for (std::size_t g = 0; g < m_set->groups.size(); ++g) {
      if (m_set->groups[g].name == ref.name.text) {
        m_groups_used[g] = true;
        out.insert(out.end(), m_set->groups[g].states.begin(), m_set->groups[g].states.end());
        return true;
      }
    }
    auto& d = error("E3001", ref.name.where, "unknown state or group `" + ref.name.text + "`");
    suggest(d, ref.name.text, state_names(true));
    return false;
  }

  void warn_unused_groups() {
    for (std::size_t g = 0; g < m_set->groups.size(); ++g) {
      if (!m_groups_used[g]) {
        auto& d = m_out.emplace("W0103", m_set->groups[g].decl->name.where,
                                "state group `" + m_set->groups[g].name + "` is never used");
        d.help = "use it as a transition source or in an invariant, or remove it";
      }
    }
  }

  std::int32_t resolve_event(const ast::ident& name) {
    const auto e = m_set->find_event(name.text);
    if (e >= 0) return e;
    auto& d = error("E3002", name.where, "unknown event `" + name.text + "`");
    suggest(d, name.text, names(m_set->events, [](const std::string& s) -> std::string_view { return s; }));
    d.notes.push_back("events are the names after `on` in the lifecycle's transitions");
    return -1;
  }

  void check_lifecycle_guards() {
    for (const auto& m : m_set->modules) {
      for (const auto& decl : m.declarations) {
        const auto* lc = std::get_if<ast::lifecycle_block>(&decl);
        if (lc == nullptr) continue;
        for (const auto& item : lc->items) {
          const auto* t = std::get_if<ast::transition_decl>(&item);
          if (t != nullptr && t->guard) check_condition(*t->guard, scope::full);
        }
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // named rules and layering

  enum class rule_kind { route, gate, permit, forbid, escalate, obligation, invariant };
  static std::string_view kind_name(rule_kind k) {
    switch (k) {
      case rule_kind::route: return "route";
      case rule_kind::gate: return "gate";
      case rule_kind::permit: return "permit";
      case rule_kind::forbid: return "forbid";
      case rule_kind::escalate: return "escalate";
      case rule_kind::obligation: return "obligation";
      case rule_kind::invariant: return "invariant";
    }
    return "rule";
  }

  struct named_rule {
    rule_kind kind;
    const void* rule;
    ast::layer level;
    std::size_t order;
    span name_where;
    bool alive = true;
  };

  void declare_rule(rule_kind kind, const void* rule, const ast::ident& name, bool is_override, ast::layer level) {
    const std::size_t order = m_rules.size();
    auto it = m_rule_index.find(name.text);
    if (it == m_rule_index.end()) {
      if (is_override) {
        auto& d = error("E3010", name.where, "`override` of `" + name.text + "`, but no lower layer defines it");
        d.help = "remove `override`, or check the name of the rule it should replace";
      }
      m_rule_index.emplace(name.text, order);
      m_rules.push_back({kind, rule, level, order, name.where});
      return;
    }
    named_rule& prev = m_rules[it->second];
    if (prev.level == level) {
      auto& d = error("E3007", name.where, "rule `" + name.text + "` is defined twice in the " + std::string(layer_name(level)) + " layer");
      d.labels.push_back({prev.name_where, "first defined here"});
      return;
    }
    if (!is_override) {
      auto& d = error("E3009", name.where,
                      "rule `" + name.text + "` is already defined in the " + std::string(layer_name(prev.level)) +
                          " layer; replacing it needs `override`");
      d.labels.push_back({prev.name_where, "defined here"});
      d.help = "write `override " + std::string(kind_name(kind)) + " " + name.text + " ...` to replace it, or rename this rule";
      return;
    }
    if (prev.kind != kind) {
      auto& d = error("E3010", name.where,
                      "`override " + std::string(kind_name(kind)) + " " + name.text + "` replaces a " +
                          std::string(kind_name(prev.kind)) + "; an override must be of the same kind");
      d.labels.push_back({prev.name_where, "the rule it would replace"});
      d.help = "write `override " + std::string(kind_name(prev.kind)) + " " + name.text +
               " ...` to replace it, or give this rule a new name (without `override`)";
      return;
    }
    prev.alive = false;
    it->second = order;
    m_rules.push_back({kind, rule, level, order, name.where});
  }

  void collect_rules() {
    for (const auto& m : m_set->modules) {
      const auto lvl = level(m);
      for (const auto& decl : m.declarations) {
        std::visit(
            [&](const auto& d) {
              using T = std::decay_t<decltype(d)>;
              if constexpr (std::is_same_v<T, ast::routing_block>) {
                if (d.routes.empty() && is_blank(d.where)) m_out.emplace("W0105", d.where, "this routing block declares no routes");
                for (const auto& r : d.routes) declare_rule(rule_kind::route, &r, r.name, r.is_override, lvl);
              } else if constexpr (std::is_same_v<T, ast::gate_rule>) {
                declare_rule(rule_kind::gate, &d, d.name, d.is_override, lvl);
              } else if constexpr (std::is_same_v<T, ast::permission_rule>) {
                declare_rule(d.kind == ast::effect::permit ? rule_kind::permit : rule_kind::forbid, &d, d.name,
                             d.is_override, lvl);
              } else if constexpr (std::is_same_v<T, ast::escalation_rule>) {
                declare_rule(rule_kind::escalate, &d, d.name, d.is_override, lvl);
              } else if constexpr (std::is_same_v<T, ast::obligation_rule>) {
                declare_rule(rule_kind::obligation, &d, d.name, d.is_override, lvl);
              } else if constexpr (std::is_same_v<T, ast::invariant_decl>) {
                declare_rule(rule_kind::invariant, &d, d.name, d.is_override, lvl);
              }
            },
            decl);
      }
    }
    // Routes: highest layer first, then assembly (source) order.
    std::vector<const named_rule*> routes;
    for (const auto& r : m_rules) {
      if (r.alive && r.kind == rule_kind::route) routes.push_back(&r);
    }
    std::stable_sort(routes.begin(), routes.end(), [](const named_rule* a, const named_rule* b) { return a->level > b->level; });
    for (const auto* r : routes) {
      const auto* rule = static_cast<const ast::route_rule*>(r->rule);
      route_info info{rule, r->level, -1};
      if (rule->is_fallback) m_set->fallback = info;
      else m_set->routes.push_back(info);
    }
    for (const auto& r : m_rules) {
      if (!r.alive) continue;
      switch (r.kind) {
        case rule_kind::route: break;
        case rule_kind::gate: m_set->gates.push_back({static_cast<const ast::gate_rule*>(r.rule), r.level}); break;
        case rule_kind::permit:
        case rule_kind::forbid:
          m_set->permissions.push_back({static_cast<const ast::permission_rule*>(r.rule), r.level, {}});
          break;
        case rule_kind::escalate:
          m_set->escalations.push_back({static_cast<const ast::escalation_rule*>(r.rule), r.level, {}});
          break;
        case rule_kind::obligation:
          m_set->obligations.push_back({static_cast<const ast::obligation_rule*>(r.rule), r.level, {}, {}});
          break;
        case rule_kind::invariant: m_set->invariants.push_back({static_cast<const ast::invariant_decl*>(r.rule), {}, {}, -1}); break;
      }
    }
  }

  resolved_target resolve_target(const ast::target& t, bool route_only) {
    resolved_target r{t.kind, -1};
    if (t.kind == ast::target_kind::role) {
      r.index = m_set->find_role(t.name.text);
      if (r.index < 0) unknown_role(t.name);
    } else if (t.kind == ast::target_kind::agent) {
      r.index = m_set->find_agent(t.name.text);
      if (r.index < 0) unknown_agent(t.name);
    } else if (route_only) {
      error("E1015", t.where, "a route assigns a role or an agent");
    }
    return r;
  }

  void check_rule_bodies() {
    for (auto& r : m_set->routes) {
      check_condition(*r.rule->when, scope::full);
      r.target = resolve_target(r.rule->to, true).index;
    }
    if (m_set->fallback.rule != nullptr) m_set->fallback.target = resolve_target(m_set->fallback.rule->to, true).index;
    for (auto& g : m_set->gates) check_condition(*g.rule->when, scope::full);
    for (auto& p : m_set->permissions) {
      for (const auto& e : p.rule->events) {
        const auto ev = resolve_event(e);
        if (ev >= 0) p.events.push_back(ev);
      }
      if (p.rule->when) check_condition(*p.rule->when, scope::full);
    }
    for (auto& e : m_set->escalations) {
      check_condition(*e.rule->when, scope::full);
      e.to = resolve_target(e.rule->to, false);
    }
    for (auto& o : m_set->obligations) {
      for (const auto& e : o.rule->events) {
        const auto ev = resolve_event(e);
        if (ev >= 0) o.events.push_back(ev);
      }
      if (o.rule->when) check_condition(*o.rule->when, scope::full);
      for (const auto& a : o.rule->actions) o.targets.push_back(resolve_target(a.who, false));
    }
  }

  void check_invariants() {
    for (auto& inv : m_set->invariants) {
      const auto& d = *inv.decl;
      switch (d.kind) {
        case ast::invariant_kind::passes:
          if (d.when) check_condition(*d.when, scope::task_only);
          resolve_state_set(d.to, inv.to);
          inv.event = resolve_event(d.event);
          break;
        case ast::invariant_kind::reachable:
        case ast::invariant_kind::terminates: resolve_state_set(d.from, inv.from); break;
        case ast::invariant_kind::never:
          resolve_state_set(d.from, inv.from);
          resolve_state_set(d.to, inv.to);
          break;
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // expressions

  static std::string describe(const ast::type_ref& t, const policy_set* set = nullptr) {
    switch (t.kind) {
      case type_kind::error: return "an invalid value";
      case type_kind::string: return "a string";
      case type_kind::int_: return "an int";
      case type_kind::decimal: return "a decimal";
      case type_kind::bool_: return "a bool";
      case type_kind::duration: return "a duration";
      case type_kind::timestamp: return "a timestamp";
      case type_kind::enum_:
        return set && t.enum_attr >= 0 ? "a `" + set->attributes[static_cast<std::size_t>(t.enum_attr)].name + "` value"
                                       : "an enum value";
      case type_kind::string_set: return "a set<string>";
      case type_kind::role: return "a role";
      case type_kind::state: return "a state";
      case type_kind::event: return "an event";
      case type_kind::mode: return "a mode (direct or plan_first)";
      case type_kind::actor_kind: return "an actor kind (agent, human or operator)";
      case type_kind::symbol_set: return "a set of " + strip_article(describe({t.element, t.enum_attr}, set));
    }
    return "a value";
  }

  std::string describe_here(const ast::type_ref& t) const { return describe(t, m_set); }
  // "a set<string>" -> "set<string>", for phrases like "these are enum values".
  std::string plain(const ast::type_ref& t) const {
    std::string s = describe_here(t);
    if (s.rfind("an ", 0) == 0) return s.substr(3);
    if (s.rfind("a ", 0) == 0) return s.substr(2);
    return s;
  }

  static bool assignable(const ast::type_ref& want, const ast::type_ref& got) {
    if (want.kind == type_kind::decimal && got.kind == type_kind::int_) return true;
    if (want.kind == type_kind::string_set && got.kind == type_kind::symbol_set && got.element == type_kind::error) return true;
    return want == got;
  }

  static bool comparable(const ast::type_ref& a, const ast::type_ref& b) {
    if (is_numeric(a.kind) && is_numeric(b.kind)) return true;
    if (is_set(a) && is_set(b)) return element_of(a) == element_of(b) || element_of(a).kind == type_kind::error ||
                                       element_of(b).kind == type_kind::error;
    return a == b;
  }

  void check_condition(ast::expr& e, scope sc) {
    const auto t = check_expr(e, sc);
    if (t.kind != type_kind::error && t.kind != type_kind::bool_) {
      auto& d = error("E4002", e.where, "this condition is " + describe_here(t) + ", not a bool");
      if (t.kind == type_kind::enum_ && t.enum_attr >= 0) {
        const auto& members = m_set->attributes[static_cast<std::size_t>(t.enum_attr)].members;
        if (!members.empty()) d.help = "compare it with a value, e.g. `" + source_text(e.where) + " == " + members.back() + "`";
      }
    }
  }

  static bool is_symbolic(const ast::expr& e) {
    if (e.kind == ast::expr_kind::symbol) return true;
    if (e.kind == ast::expr_kind::set) {
      return std::any_of(e.children.begin(), e.children.end(), [](const ast::expr_ptr& c) { return c->kind == ast::expr_kind::symbol; });
    }
    return false;
  }

  ast::type_ref set_type(ast::expr& e, ast::type_ref t) {
    e.resolved.type = t;
    return t;
  }

  // Checks an expression that may be a bare symbol, against an expected type from context.
  ast::type_ref check_expr_against(ast::expr& e, const ast::type_ref& want, scope sc) {
    if (e.kind == ast::expr_kind::symbol) return resolve_symbol(e, want);
    if (e.kind == ast::expr_kind::set && is_set(want)) {
      const auto elem = element_of(want);
      for (auto& c : e.children) {
        const auto t = check_expr_against(*c, elem, sc);
        if (t.kind != type_kind::error && !comparable(t, elem) && elem.kind != type_kind::error) {
          error("E4001", c->where, "this set element is " + describe_here(t) + ", but the set holds values of type " + plain(elem));
        }
      }
      return set_type(e, set_of(elem));
    }
    return check_expr(e, sc);
  }

  ast::type_ref resolve_symbol(ast::expr& e, const ast::type_ref& want) {
    auto fail = [&](std::string code, std::string message, const std::vector<std::string_view>& candidates) {
      auto& d = error(std::move(code), e.where, std::move(message));
      suggest(d, e.text, candidates);
      return set_type(e, {type_kind::error});
    };
    auto found = [&](std::int32_t index) {
      e.resolved.index = index;
      return set_type(e, want);
    };
    switch (want.kind) {
      case type_kind::enum_: {
        const auto& attr = m_set->attributes[static_cast<std::size_t>(want.enum_attr)];
        for (std::size_t i = 0; i < attr.members.size(); ++i) {
          if (attr.members[i] == e.text) return found(static_cast<std::int32_t>(i));
        }
        std::string list;
        for (const auto& m : attr.members) list += (list.empty() ? "" : ", ") + m;
        return fail("E4006", "`" + e.text + "` is not a member of enum `" + attr.name + "` (" + list + ")",
                    names(attr.members, [](const std::string& s) -> std::string_view { return s; }));
      }
      case type_kind::role: {
        const auto r = m_set->find_role(e.text);
        if (r >= 0) return found(r);
        return fail("E3003", "unknown role `" + e.text + "`",
                    names(m_set->roles, [](const role_info& x) -> std::string_view { return x.name; }));
      }
      case type_kind::state: {
        const auto s = m_set->find_state(e.text);
        if (s >= 0) return found(s);
        return fail("E3001", "unknown state `" + e.text + "`", state_names(false));
      }
      case type_kind::event: {
        const auto v = m_set->find_event(e.text);
        if (v >= 0) return found(v);
        return fail("E3002", "unknown event `" + e.text + "`",
                    names(m_set->events, [](const std::string& s) -> std::string_view { return s; }));
      }
      case type_kind::mode: {
        for (std::size_t i = 0; i < mode_names.size(); ++i) {
          if (mode_names[i] == e.text) return found(static_cast<std::int32_t>(i));
        }
        return fail("E4006", "`" + e.text + "` is not a mode (direct or plan_first)", {mode_names.begin(), mode_names.end()});
      }
      case type_kind::actor_kind: {
        for (std::size_t i = 0; i < actor_kind_names.size(); ++i) {
          if (actor_kind_names[i] == e.text) return found(static_cast<std::int32_t>(i));
        }
        return fail("E4006", "`" + e.text + "` is not an actor kind (agent, human or operator)",
                    {actor_kind_names.begin(), actor_kind_names.end()});
      }
      case type_kind::error: return set_type(e, {type_kind::error});
      default: {
        auto& d = error("E3006", e.where, "`" + e.text + "` does not name anything here: " + describe_here(want) + " is expected");
        if (want.kind == type_kind::string) d.help = "write \"" + e.text + "\" for a string";
        return set_type(e, {type_kind::error});
      }
    }
  }

  // The type of `task.NAME`, when NAME is a built-in field or a declared attribute.
  std::optional<ast::type_ref> task_field_type(const std::string& name) const {
    for (const auto& f : task_fields) {
      if (f.name == name) return ast::type_ref{f.type};
    }
    const auto a = m_set->find_attribute(name);
    if (a < 0) return std::nullopt;
    const auto& attr = m_set->attributes[static_cast<std::size_t>(a)];
    return ast::type_ref{attr.kind, attr.kind == type_kind::enum_ ? a : -1};
  }

  void unknown_bare_name(ast::expr& e) {
    auto& d = error("E3006", e.where, "`" + e.text + "` does not name anything here");
    std::vector<std::string_view> fields;
    for (const auto& f : task_fields) fields.push_back(f.name);
    for (const auto& a : m_set->attributes) fields.push_back(a.name);
    const auto best = closest_name(e.text, fields);
    if (std::find(fields.begin(), fields.end(), e.text) != fields.end()) {
      d.help = "did you mean `task." + e.text + "`?";
    } else if (!best.empty()) {
      d.help = "did you mean `task." + best + "`?";
    } else {
      d.help = "a bare name is an enum member, role, state, event or mode; compare it with something of that type";
    }
  }

  ast::type_ref check_path(ast::expr& e, scope sc) {
    const std::string& root = e.path.front().text;
    if (root == "now" || root == "event") {
      if (e.path.size() > 1) {
        error("E3004", e.path[1].where, "`" + root + "` has no fields");
        return set_type(e, {type_kind::error});
      }
      if (sc == scope::task_only) {
        error("E5001", e.where, "an invariant's condition can only read task attributes, not `" + root + "`");
        return set_type(e, {type_kind::error});
      }
      e.resolved.what = root == "now" ? ast::field::now : ast::field::event;
      return set_type(e, {root == "now" ? type_kind::timestamp : type_kind::event});
    }
    if (root != "task" && root != "actor" && root != "assignment") {
      auto& d = error("E3006", e.path.front().where, "unknown name `" + root + "`");
      d.help = "paths start with `task.`, `actor.` or `assignment.`, or are `now` or `event`";
      const auto best = closest_name(root, {"task", "actor", "assignment", "now", "event"});
      if (!best.empty()) d.help = "did you mean `" + best + "`?";
      return set_type(e, {type_kind::error});
    }
    if (e.path.size() != 2) {
      error("E3004", e.path.size() < 2 ? e.where : e.path[2].where,
            e.path.size() < 2 ? "`" + root + "` needs a field, e.g. `" + root + (root == "task" ? ".state`" : ".role`")
                              : "`" + root + "." + e.path[1].text + "` has no fields");
      return set_type(e, {type_kind::error});
    }
    const auto& seg = e.path[1];
    if (root == "actor" || root == "assignment") {
      const bool actor = root == "actor";
      const std::string whom = actor ? "the actor" : "the assignment";
      if (sc == scope::task_only) {
        error("E5001", e.where, "an invariant's condition can only read task attributes, not " + whom);
        return set_type(e, {type_kind::error});
      }
      const std::span<const builtin_field> table = actor ? std::span<const builtin_field>(actor_field_table)
                                                         : std::span<const builtin_field>(assignment_field_table);
      for (const auto& f : table) {
        if (f.name == seg.text) {
          e.resolved.what = f.what;
          return set_type(e, {f.type});
        }
      }
      auto& d = error("E3004", seg.where, whom + " has no attribute `" + seg.text + "`");
      suggest(d, seg.text, names(table, [](const builtin_field& f) { return f.name; }), root + ".");
      if (d.help.empty()) d.help = root + " attributes are id, role, kind and capabilities";
      return set_type(e, {type_kind::error});
    }
    for (const auto& f : task_fields) {
      if (f.name == seg.text) {
        e.resolved.what = f.what;
        return set_type(e, {f.type});
      }
    }
    const auto a = m_set->find_attribute(seg.text);
    if (a >= 0) {
      const auto& attr = m_set->attributes[static_cast<std::size_t>(a)];
      e.resolved.what = ast::field::task_attribute;
      e.resolved.index = a;
      return set_type(e, {attr.kind, attr.kind == type_kind::enum_ ? a : -1});
    }
    auto& d = error("E3004", seg.where, "the task has no attribute `" + seg.text + "`");
    std::vector<std::string_view> candidates;
    for (const auto& f : task_fields) candidates.push_back(f.name);
    for (const auto& at : m_set->attributes) candidates.push_back(at.name);
    suggest(d, seg.text, candidates, "task.");
    if (d.help.empty()) d.help = "declare it in a `task { " + seg.text + ": TYPE ... }` block";
    return set_type(e, {type_kind::error});
  }

  ast::type_ref check_expr(ast::expr& e, scope sc) {
    switch (e.kind) {
      case ast::expr_kind::string_lit: return set_type(e, {type_kind::string});
      case ast::expr_kind::int_lit: return set_type(e, {type_kind::int_});
      case ast::expr_kind::decimal_lit: return set_type(e, {type_kind::decimal});
      case ast::expr_kind::duration_lit: return set_type(e, {type_kind::duration});
      case ast::expr_kind::bool_lit: return set_type(e, {type_kind::bool_});
      case ast::expr_kind::path: return check_path(e, sc);
      case ast::expr_kind::symbol:
        unknown_bare_name(e);
        return set_type(e, {type_kind::error});
      case ast::expr_kind::set: {
        // A set with no context: its elements must be literals of one type.
        ast::type_ref elem{type_kind::error};
        for (auto& c : e.children) {
          if (c->kind == ast::expr_kind::symbol) {
            unknown_bare_name(*c);
            continue;
          }
          const auto t = check_expr(*c, sc);
          if (t.kind == type_kind::error) continue;
          if (elem.kind == type_kind::error) elem = t;
          else if (!comparable(elem, t)) error("E4001", c->where, "set elements must have one type: this is " + describe_here(t) + ", the first is " + describe_here(elem));
        }
        if (elem.kind == type_kind::error || elem.kind == type_kind::string) return set_type(e, {type_kind::string_set});
        return set_type(e, set_of(elem));
      }
      case ast::expr_kind::not_: {
        const auto t = check_expr(*e.children[0], sc);
        if (t.kind != type_kind::error && t.kind != type_kind::bool_) {
          error("E4002", e.children[0]->where, "`not` needs a bool, but this is " + describe_here(t));
        }
        return set_type(e, {type_kind::bool_});
      }
      case ast::expr_kind::binary: return check_binary(e, sc);
    }
    return set_type(e, {type_kind::error});
  }

  // Types both operands; a bare symbol (or a set of them) takes its type from the other side.
  std::pair<ast::type_ref, ast::type_ref> operands(ast::expr& e, scope sc, bool left_is_set_of_right,
                                                   bool right_is_set_of_left) {
    ast::expr& l = *e.children[0];
    ast::expr& r = *e.children[1];
    const bool ls = is_symbolic(l), rs = is_symbolic(r);
    if (ls && rs) {
      // `risk >= medium`: a bare name that is a task field was meant as `task.risk`. Report that
      // once and check the other side against the field's type, so `medium` is not an error too.
      for (auto [field, other] : {std::pair{&l, &r}, std::pair{&r, &l}}) {
        if (field->kind != ast::expr_kind::symbol) continue;
        const auto t = task_field_type(field->text);
        if (!t) continue;
        unknown_bare_name(*field);
        ast::type_ref want = *t;
        const bool field_is_set = other == &r ? left_is_set_of_right : right_is_set_of_left;
        const bool other_is_set = other == &r ? right_is_set_of_left : left_is_set_of_right;
        if (field_is_set) {
          if (!is_set(want)) return {{type_kind::error}, {type_kind::error}};
          want = element_of(want);
        } else if (other_is_set) {
          want = set_of(want);
        }
        check_expr_against(*other, want, sc);
        return {{type_kind::error}, {type_kind::error}};
      }
      if (l.kind == ast::expr_kind::symbol) unknown_bare_name(l);
      else check_expr(l, sc);
      if (r.kind == ast::expr_kind::symbol) unknown_bare_name(r);
      return {{type_kind::error}, {type_kind::error}};
    }
    if (ls) {
      const auto rt = check_expr(r, sc);
      if (rt.kind == type_kind::error) return {rt, rt};
      ast::type_ref want = rt;
      if (left_is_set_of_right) want = set_of(rt);
      else if (right_is_set_of_left) {
        if (!is_set(rt)) return {{type_kind::error}, rt};
        want = element_of(rt);
      }
      return {check_expr_against(l, want, sc), rt};
    }
    const auto lt = check_expr(l, sc);
    if (rs) {
      if (lt.kind == type_kind::error) return {lt, lt};
      ast::type_ref want = lt;
      if (right_is_set_of_left) want = set_of(lt);
      else if (left_is_set_of_right) {
        if (!is_set(lt)) return {lt, {type_kind::error}};
        want = element_of(lt);
      }
      return {lt, check_expr_against(r, want, sc)};
    }
    return {lt, check_expr(r, sc)};
  }

  static std::string op_text(ast::binary_op op) { return std::string(ast::spelling(op)); }

  std::string source_text(const span& s) const {
    return std::string(m_sources.get(s.file).text().substr(s.begin, s.end - s.begin));
  }

  void mismatch(ast::expr& e, const ast::type_ref& lt, const ast::type_ref& rt) {
    auto& d = error("E4001", e.where,
                    "`" + op_text(e.op) + "` cannot compare " + describe_here(lt) + " with " + describe_here(rt));
    d.labels.push_back({e.children[0]->where, describe_here(lt)});
    d.labels.push_back({e.children[1]->where, describe_here(rt)});
    // "1000.00" compared with a number: the quotes are the mistake.
    for (const auto& [side, other] : {std::pair{e.children[0].get(), rt}, std::pair{e.children[1].get(), lt}}) {
      if (auto help = quoted_number_help(*side, other)) d.help = *help;
    }
  }

  // Help for a string literal that spells a number or duration where one is expected.
  static std::optional<std::string> quoted_number_help(const ast::expr& e, const ast::type_ref& want) {
    if (!is_numeric(want.kind) && want.kind != type_kind::duration) return std::nullopt;
    const auto& t = e.text;
    const bool looks_numeric = e.kind == ast::expr_kind::string_lit && !t.empty() &&
                               std::isdigit(static_cast<unsigned char>(t.front())) &&
                               std::all_of(t.begin(), t.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.'; });
    if (!looks_numeric) return std::nullopt;
    return "numbers and durations are written without quotes: `" + t + "`";
  }

  ast::type_ref check_binary(ast::expr& e, scope sc) {
    using ast::binary_op;
    const ast::type_ref boolean{type_kind::bool_};
    switch (e.op) {
      case binary_op::and_:
      case binary_op::or_: {
        for (auto& c : e.children) {
          const auto t = check_expr(*c, sc);
          if (t.kind != type_kind::error && t.kind != type_kind::bool_) {
            error("E4002", c->where, "`" + op_text(e.op) + "` needs bool operands, but this is " + describe_here(t));
          }
        }
        return set_type(e, boolean);
      }
      case binary_op::eq:
      case binary_op::ne:
      case binary_op::lt:
      case binary_op::le:
      case binary_op::gt:
      case binary_op::ge: {
        const auto [lt, rt] = operands(e, sc, false, false);
        if (lt.kind == type_kind::error || rt.kind == type_kind::error) return set_type(e, boolean);
        if (!comparable(lt, rt)) {
          mismatch(e, lt, rt);
          return set_type(e, boolean);
        }
        const bool ordering = e.op != binary_op::eq && e.op != binary_op::ne;
        if (ordering && !is_ordered(lt.kind)) {
          auto& d = error("E4003", e.where, "`" + op_text(e.op) + "` needs ordered values, but these have type " + plain(lt));
          d.notes.push_back("ordered types: int, decimal, duration, timestamp, enums (in declaration order) and mode");
        }
        if (e.children[0]->kind == ast::expr_kind::path && source_text(e.children[0]->where) == source_text(e.children[1]->where)) {
          m_out.emplace("W0104", e.where, "`" + source_text(e.where) + "` compares a value with itself");
        }
        return set_type(e, boolean);
      }
      case binary_op::in:
      case binary_op::not_in:
      case binary_op::contains: {
        const bool set_on_right = e.op != binary_op::contains;
        const auto [lt, rt] = operands(e, sc, !set_on_right, set_on_right);
        const auto& set_t = set_on_right ? rt : lt;
        const auto& elem_t = set_on_right ? lt : rt;
        ast::expr& set_e = *e.children[set_on_right ? 1 : 0];
        if (set_t.kind != type_kind::error && !is_set(set_t)) {
          auto& d = error("E4004", set_e.where, "`" + op_text(e.op) + "` needs a set here, but this is " + describe_here(set_t));
          d.help = set_on_right ? "write the right side as a set: `x in { a, b }`" : "`contains` takes a set on its left";
          return set_type(e, boolean);
        }
        if (set_t.kind == type_kind::error || elem_t.kind == type_kind::error) return set_type(e, boolean);
        const auto want = element_of(set_t);
        if (want.kind != type_kind::error && !comparable(want, elem_t)) mismatch(e, lt, rt);
        return set_type(e, boolean);
      }
      case binary_op::subset: {
        const auto [lt, rt] = operands(e, sc, false, false);
        for (const auto* t : {&lt, &rt}) {
          if (t->kind != type_kind::error && !is_set(*t)) {
            error("E4004", (t == &lt ? e.children[0] : e.children[1])->where, "`subset` compares sets, but this is " + describe_here(*t));
            return set_type(e, boolean);
          }
        }
        if (lt.kind != type_kind::error && rt.kind != type_kind::error && !comparable(lt, rt)) mismatch(e, lt, rt);
        return set_type(e, boolean);
      }
      case binary_op::parent_of:
      case binary_op::ancestor_of: {
        ast::type_ref role{type_kind::role};
        for (auto& c : e.children) {
          const auto t = check_expr_against(*c, role, sc);
          if (t.kind != type_kind::error && t.kind != type_kind::role) {
            auto& d = error("E4007", c->where, "`" + op_text(e.op) + "` relates roles, but this is " + describe_here(t));
            if (c->kind == ast::expr_kind::path && c->resolved.what == ast::field::task_assignee) d.help = "did you mean `task.assignee_role`?";
            if (c->kind == ast::expr_kind::path && c->resolved.what == ast::field::actor_id) d.help = "did you mean `actor.role`?";
          }
        }
        return set_type(e, boolean);
      }
    }
    return set_type(e, boolean);
  }

  const source_manager& m_sources;
  diagnostics& m_out;
  policy_set* m_set = nullptr;
  std::vector<named_rule> m_rules;
  std::map<std::string, std::size_t> m_rule_index;
  std::vector<bool> m_groups_used;
};

}  // namespace

check_result check(loaded_set files, const source_manager& sources, diagnostics& out) {
  return checker(sources, out).run(std::move(files));
}

check_result check_text(std::string_view name, std::string text, source_manager& sources, diagnostics& out) {
  disk_files files;
  workspace ws(sources, out, files);
  auto set = ws.load_text(std::string(name), std::move(text));
  return check(std::move(*set), sources, out);
}

std::span<const builtin_field> builtin_task_fields() { return task_fields; }
std::span<const builtin_field> actor_fields() { return actor_field_table; }
std::span<const builtin_field> assignment_fields() { return assignment_field_table; }

}  // namespace agentos::dsl
