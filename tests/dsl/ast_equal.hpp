// Structural equality of two parsed modules for the formatter's round-trip tests: everything the
// parser produces except spans (positions change when text is reformatted), the comment list
// (its spans change) and the checker's `resolved` annotations. Doc strings are compared with
// trailing whitespace removed from each line, since the formatter trims it from comments.
// On a difference, `why` (when given) receives a path to it, e.g. "declarations[3].when.children[1]:
// number 5 != 6".
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "dsl/ast.hpp"

namespace agentos::dsl::test {

namespace detail {

class ast_comparer {
 public:
  explicit ast_comparer(std::string* why) : m_why(why) {}

  bool module(const ast::module& a, const ast::module& b) {
    if (a.head.has_value() != b.head.has_value()) return fail("head", "present vs missing");
    if (a.head && !header(*a.head, *b.head)) return false;
    if (!size("imports", a.imports.size(), b.imports.size())) return false;
    for (std::size_t i = 0; i < a.imports.size(); ++i) {
      if (!text(at("imports", i), a.imports[i].path.value, b.imports[i].path.value)) return false;
    }
    if (!size("declarations", a.declarations.size(), b.declarations.size())) return false;
    for (std::size_t i = 0; i < a.declarations.size(); ++i) {
      if (!declaration(at("declarations", i), a.declarations[i], b.declarations[i])) return false;
    }
    return true;
  }

 private:
  static std::string at(std::string_view path, std::size_t i) {
    return std::string(path) + "[" + std::to_string(i) + "]";
  }

  bool fail(const std::string& path, const std::string& what) {
    if (m_why != nullptr) *m_why = path + ": " + what;
    return false;
  }

  bool size(const std::string& path, std::size_t a, std::size_t b) {
    return a == b || fail(path, "size " + std::to_string(a) + " != " + std::to_string(b));
  }

  bool text(const std::string& path, std::string_view a, std::string_view b) {
    return a == b || fail(path, "\"" + std::string(a) + "\" != \"" + std::string(b) + "\"");
  }

  bool flag(const std::string& path, long long a, long long b) {
    return a == b || fail(path, std::to_string(a) + " != " + std::to_string(b));
  }

  static std::string trim_lines(std::string_view doc) {
    std::string out;
    std::size_t start = 0;
    while (start <= doc.size()) {
      auto end = doc.find('\n', start);
      if (end == std::string_view::npos) end = doc.size();
      auto line = doc.substr(start, end - start);
      while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.remove_suffix(1);
      out += line;
      if (end < doc.size()) out += '\n';
      start = end + 1;
    }
    return out;
  }

  bool doc(const std::string& path, const std::string& a, const std::string& b) {
    return text(path + ".doc", trim_lines(a), trim_lines(b));
  }

  bool idents(const std::string& path, const std::vector<ast::ident>& a, const std::vector<ast::ident>& b) {
    if (!size(path, a.size(), b.size())) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!text(at(path, i), a[i].text, b[i].text)) return false;
    }
    return true;
  }

  bool header(const ast::header& a, const ast::header& b) {
    return text("head.name", a.name.text, b.name.text) && text("head.version", a.version.value, b.version.value) &&
           flag("head.level", static_cast<int>(a.level), static_cast<int>(b.level)) &&
           flag("head.layer_written", a.layer_written, b.layer_written);
  }

  bool expr_ptr(const std::string& path, const ast::expr_ptr& a, const ast::expr_ptr& b) {
    if ((a == nullptr) != (b == nullptr)) return fail(path, a ? "present vs missing" : "missing vs present");
    return a == nullptr || expr(path, *a, *b);
  }

  bool expr(const std::string& path, const ast::expr& a, const ast::expr& b) {
    if (!flag(path + ".kind", static_cast<int>(a.kind), static_cast<int>(b.kind))) return false;
    if (!flag(path + ".op", static_cast<int>(a.op), static_cast<int>(b.op))) return false;
    if (!text(path + ".text", a.text, b.text)) return false;
    if (!idents(path + ".path", a.path, b.path)) return false;
    if (!flag(path + ".number", a.number, b.number)) return false;
    if (!size(path + ".children", a.children.size(), b.children.size())) return false;
    for (std::size_t i = 0; i < a.children.size(); ++i) {
      if (!expr_ptr(at(path + ".children", i), a.children[i], b.children[i])) return false;
    }
    return true;
  }

  bool target(const std::string& path, const ast::target& a, const ast::target& b) {
    if (!flag(path + ".kind", static_cast<int>(a.kind), static_cast<int>(b.kind))) return false;
    const bool named = a.kind == ast::target_kind::role || a.kind == ast::target_kind::agent;
    return !named || text(path + ".name", a.name.text, b.name.text);
  }

  bool state_ref(const std::string& path, const ast::state_ref& a, const ast::state_ref& b) {
    return flag(path + ".any", a.any, b.any) && (a.any || text(path + ".name", a.name.text, b.name.text));
  }

  bool optional_string(const std::string& path, const std::optional<ast::string_lit>& a,
                       const std::optional<ast::string_lit>& b) {
    if (a.has_value() != b.has_value()) return fail(path, a ? "present vs missing" : "missing vs present");
    return !a || text(path, a->value, b->value);
  }

  bool role(const std::string& p, const ast::role_decl& a, const ast::role_decl& b) {
    if (!text(p + ".name", a.name.text, b.name.text) || !doc(p, a.doc, b.doc)) return false;
    if (a.reports_to.has_value() != b.reports_to.has_value()) return fail(p + ".reports_to", "present vs missing");
    return !a.reports_to || text(p + ".reports_to", a.reports_to->text, b.reports_to->text);
  }

  bool agent(const std::string& p, const ast::agent_decl& a, const ast::agent_decl& b) {
    if (!text(p + ".name", a.name.text, b.name.text) || !text(p + ".role", a.role.text, b.role.text) ||
        !flag(p + ".kind", static_cast<int>(a.kind), static_cast<int>(b.kind)) ||
        !flag(p + ".kind_written", a.kind_written, b.kind_written) ||
        !flag(p + ".capabilities_written", a.capabilities_written, b.capabilities_written) || !doc(p, a.doc, b.doc)) {
      return false;
    }
    if (!size(p + ".capabilities", a.capabilities.size(), b.capabilities.size())) return false;
    for (std::size_t i = 0; i < a.capabilities.size(); ++i) {
      if (!text(at(p + ".capabilities", i), a.capabilities[i].value, b.capabilities[i].value)) return false;
    }
    return true;
  }

  bool org(const std::string& p, const ast::org_block& a, const ast::org_block& b) {
    if (!size(p + ".items", a.items.size(), b.items.size())) return false;
    for (std::size_t i = 0; i < a.items.size(); ++i) {
      const auto path = at(p + ".items", i);
      if (!flag(path + ".index", static_cast<long long>(a.items[i].index()), static_cast<long long>(b.items[i].index()))) {
        return false;
      }
      if (const auto* r = std::get_if<ast::role_decl>(&a.items[i])) {
        if (!role(path, *r, std::get<ast::role_decl>(b.items[i]))) return false;
      } else if (!agent(path, std::get<ast::agent_decl>(a.items[i]), std::get<ast::agent_decl>(b.items[i]))) {
        return false;
      }
    }
    return true;
  }

  bool task(const std::string& p, const ast::task_block& a, const ast::task_block& b) {
    if (!size(p + ".attributes", a.attributes.size(), b.attributes.size())) return false;
    for (std::size_t i = 0; i < a.attributes.size(); ++i) {
      const auto path = at(p + ".attributes", i);
      const auto& x = a.attributes[i];
      const auto& y = b.attributes[i];
      if (!text(path + ".name", x.name.text, y.name.text) ||
          !flag(path + ".type", static_cast<int>(x.type.kind), static_cast<int>(y.type.kind)) ||
          !idents(path + ".enum_members", x.type.enum_members, y.type.enum_members) ||
          !flag(path + ".how", static_cast<int>(x.how), static_cast<int>(y.how)) ||
          !expr_ptr(path + ".default", x.default_value, y.default_value) || !doc(path, x.doc, y.doc)) {
        return false;
      }
    }
    return true;
  }

  bool lifecycle(const std::string& p, const ast::lifecycle_block& a, const ast::lifecycle_block& b) {
    if (!size(p + ".items", a.items.size(), b.items.size())) return false;
    for (std::size_t i = 0; i < a.items.size(); ++i) {
      const auto path = at(p + ".items", i);
      const auto& x = a.items[i];
      const auto& y = b.items[i];
      if (!flag(path + ".index", static_cast<long long>(x.index()), static_cast<long long>(y.index()))) return false;
      bool same = true;
      if (const auto* s = std::get_if<ast::states_decl>(&x)) {
        same = idents(path + ".names", s->names, std::get<ast::states_decl>(y).names);
      } else if (const auto* in = std::get_if<ast::initial_decl>(&x)) {
        same = text(path + ".name", in->name.text, std::get<ast::initial_decl>(y).name.text);
      } else if (const auto* t = std::get_if<ast::terminal_decl>(&x)) {
        same = idents(path + ".names", t->names, std::get<ast::terminal_decl>(y).names);
      } else if (const auto* g = std::get_if<ast::group_decl>(&x)) {
        const auto& h = std::get<ast::group_decl>(y);
        same = text(path + ".name", g->name.text, h.name.text) && idents(path + ".members", g->members, h.members) &&
               doc(path, g->doc, h.doc);
      } else if (const auto* tr = std::get_if<ast::transition_decl>(&x)) {
        const auto& u = std::get<ast::transition_decl>(y);
        same = state_ref(path + ".from", tr->from, u.from) && text(path + ".to", tr->to.text, u.to.text) &&
               text(path + ".event", tr->event.text, u.event.text) && expr_ptr(path + ".guard", tr->guard, u.guard) &&
               doc(path, tr->doc, u.doc);
      }
      if (!same) return false;
    }
    return true;
  }

  bool routing(const std::string& p, const ast::routing_block& a, const ast::routing_block& b) {
    if (!size(p + ".routes", a.routes.size(), b.routes.size())) return false;
    for (std::size_t i = 0; i < a.routes.size(); ++i) {
      const auto path = at(p + ".routes", i);
      const auto& x = a.routes[i];
      const auto& y = b.routes[i];
      if (!flag(path + ".is_override", x.is_override, y.is_override) ||
          !flag(path + ".is_fallback", x.is_fallback, y.is_fallback) ||
          !text(path + ".name", x.name.text, y.name.text) || !expr_ptr(path + ".when", x.when, y.when) ||
          !target(path + ".to", x.to, y.to) || !doc(path, x.doc, y.doc)) {
        return false;
      }
    }
    return true;
  }

  bool declaration(const std::string& p, const ast::declaration& a, const ast::declaration& b) {
    if (!flag(p + ".index", static_cast<long long>(a.index()), static_cast<long long>(b.index()))) return false;
    if (const auto* x = std::get_if<ast::org_block>(&a)) return org(p, *x, std::get<ast::org_block>(b));
    if (const auto* x = std::get_if<ast::task_block>(&a)) return task(p, *x, std::get<ast::task_block>(b));
    if (const auto* x = std::get_if<ast::lifecycle_block>(&a)) return lifecycle(p, *x, std::get<ast::lifecycle_block>(b));
    if (const auto* x = std::get_if<ast::routing_block>(&a)) return routing(p, *x, std::get<ast::routing_block>(b));
    if (const auto* x = std::get_if<ast::gate_rule>(&a)) {
      const auto& y = std::get<ast::gate_rule>(b);
      return flag(p + ".is_override", x->is_override, y.is_override) && text(p + ".name", x->name.text, y.name.text) &&
             expr_ptr(p + ".when", x->when, y.when) && optional_string(p + ".reason", x->reason, y.reason) &&
             doc(p, x->doc, y.doc);
    }
    if (const auto* x = std::get_if<ast::permission_rule>(&a)) {
      const auto& y = std::get<ast::permission_rule>(b);
      return flag(p + ".is_override", x->is_override, y.is_override) &&
             flag(p + ".effect", static_cast<int>(x->kind), static_cast<int>(y.kind)) &&
             text(p + ".name", x->name.text, y.name.text) && idents(p + ".events", x->events, y.events) &&
             expr_ptr(p + ".when", x->when, y.when) && optional_string(p + ".reason", x->reason, y.reason) &&
             doc(p, x->doc, y.doc);
    }
    if (const auto* x = std::get_if<ast::escalation_rule>(&a)) {
      const auto& y = std::get<ast::escalation_rule>(b);
      return flag(p + ".is_override", x->is_override, y.is_override) && text(p + ".name", x->name.text, y.name.text) &&
             expr_ptr(p + ".when", x->when, y.when) && target(p + ".to", x->to, y.to) && doc(p, x->doc, y.doc);
    }
    if (const auto* x = std::get_if<ast::obligation_rule>(&a)) {
      const auto& y = std::get<ast::obligation_rule>(b);
      if (!flag(p + ".is_override", x->is_override, y.is_override) || !text(p + ".name", x->name.text, y.name.text) ||
          !idents(p + ".events", x->events, y.events) || !expr_ptr(p + ".when", x->when, y.when) ||
          !doc(p, x->doc, y.doc) || !size(p + ".actions", x->actions.size(), y.actions.size())) {
        return false;
      }
      for (std::size_t i = 0; i < x->actions.size(); ++i) {
        const auto path = at(p + ".actions", i);
        if (!flag(path + ".kind", static_cast<int>(x->actions[i].kind), static_cast<int>(y.actions[i].kind)) ||
            !target(path + ".who", x->actions[i].who, y.actions[i].who)) {
          return false;
        }
      }
      return true;
    }
    const auto& x = std::get<ast::invariant_decl>(a);
    const auto& y = std::get<ast::invariant_decl>(b);
    if (!flag(p + ".is_override", x.is_override, y.is_override) || !text(p + ".name", x.name.text, y.name.text) ||
        !flag(p + ".kind", static_cast<int>(x.kind), static_cast<int>(y.kind)) || !expr_ptr(p + ".when", x.when, y.when) ||
        !doc(p, x.doc, y.doc)) {
      return false;
    }
    switch (x.kind) {
      case ast::invariant_kind::passes:
        return state_ref(p + ".to", x.to, y.to) && text(p + ".event", x.event.text, y.event.text);
      case ast::invariant_kind::reachable:
      case ast::invariant_kind::terminates: return state_ref(p + ".from", x.from, y.from);
      case ast::invariant_kind::never: return state_ref(p + ".from", x.from, y.from) && state_ref(p + ".to", x.to, y.to);
    }
    return true;
  }

  std::string* m_why;
};

}  // namespace detail

// True when `a` and `b` are the same program (see the file comment for what is ignored).
inline bool same_ast(const ast::module& a, const ast::module& b, std::string* why = nullptr) {
  return detail::ast_comparer(why).module(a, b);
}

}  // namespace agentos::dsl::test
