// The printer walks the AST in source order and writes tokens; comments are woven in by offset.
// Every token the printer writes exists in the source in the same order (parentheses aside), so
// a cursor into the source (`m_pos`) follows along: before a token is written, the comments that
// precede it in the source are written first. Lines are opened lazily (indentation is written
// with the first token of a line) so a trailing comment can still join a line that looks done.
#include "dsl/format.hpp"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <limits>

namespace agentos::dsl {

std::string format_string_literal(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 2);
  out += '"';
  for (const char c : value) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default: out += c;
    }
  }
  out += '"';
  return out;
}

std::string format_decimal(std::int64_t millionths) {
  const bool negative = millionths < 0;
  // Through unsigned arithmetic so that the most negative value has a magnitude too.
  const std::uint64_t magnitude =
      negative ? ~static_cast<std::uint64_t>(millionths) + 1 : static_cast<std::uint64_t>(millionths);
  std::string frac = std::to_string(magnitude % 1'000'000);
  frac.insert(0, 6 - frac.size(), '0');
  while (frac.size() > 2 && frac.back() == '0') frac.pop_back();
  return (negative ? "-" : "") + std::to_string(magnitude / 1'000'000) + "." + frac;
}

std::string format_duration(std::int64_t milliseconds) {
  if (milliseconds <= 0) return "0s";  // the grammar has no negative durations
  struct unit {
    std::int64_t size;
    const char* suffix;
  };
  static constexpr unit units[] = {{86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1'000, "s"}, {1, "ms"}};
  std::string out;
  std::int64_t rest = milliseconds;
  for (const auto& u : units) {
    if (rest >= u.size) {
      out += std::to_string(rest / u.size);
      out += u.suffix;
      rest %= u.size;
    }
  }
  return out;
}

namespace {

// Precedence, low to high, as the grammar nests it.
constexpr int prec_or = 1;
constexpr int prec_and = 2;
constexpr int prec_not = 3;
constexpr int prec_cmp = 4;
constexpr int prec_operand = 5;

int precedence(const ast::expr& e) {
  if (e.kind == ast::expr_kind::not_) return prec_not;
  if (e.kind != ast::expr_kind::binary) return prec_operand;
  if (e.op == ast::binary_op::or_) return prec_or;
  if (e.op == ast::binary_op::and_) return prec_and;
  return prec_cmp;
}


const char* type_spelling(ast::type_kind k) {
  switch (k) {
    case ast::type_kind::string: return "string";
    case ast::type_kind::int_: return "int";
    case ast::type_kind::decimal: return "decimal";
    case ast::type_kind::bool_: return "bool";
    case ast::type_kind::duration: return "duration";
    case ast::type_kind::timestamp: return "timestamp";
    case ast::type_kind::string_set: return "set<string>";
    default: return "string";
  }
}

const char* layer_spelling(ast::layer l) {
  switch (l) {
    case ast::layer::global: return "global";
    case ast::layer::shared: return "shared";
    case ast::layer::project: return "project";
  }
  return "project";
}

const char* kind_spelling(ast::actor_kind_value k) {
  switch (k) {
    case ast::actor_kind_value::agent: return "agent";
    case ast::actor_kind_value::human: return "human";
    case ast::actor_kind_value::operator_: return "operator";
  }
  return "agent";
}

std::string_view rstrip(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

class printer {
 public:
  printer(const ast::module& m, const source& src) : m_module(m), m_src(src), m_text(src.text()) {}

  std::string run() {
    print_module();
    return std::move(m_out);
  }

 private:
  // -------------------------------------------------------------------------------------------
  // Source positions and comments

  [[nodiscard]] std::uint32_t line_of(std::uint32_t offset) const { return m_src.position(offset).line; }

  // Whether the source has an empty line between two offsets (only whitespace lies between them).
  [[nodiscard]] bool blank_between(std::uint32_t a, std::uint32_t b) const {
    if (a >= b || b > m_text.size()) return false;
    return std::count(m_text.begin() + a, m_text.begin() + b, '\n') >= 2;
  }

  [[nodiscard]] const ast::comment* next_comment() const {
    return m_next_comment < m_module.comments.size() ? &m_module.comments[m_next_comment] : nullptr;
  }
  [[nodiscard]] bool comment_before(std::uint32_t anchor) const {
    const auto* c = next_comment();
    return c != nullptr && c->where.begin < anchor;
  }
  [[nodiscard]] std::string_view comment_text(const ast::comment& c) const {
    const auto text = m_text.substr(c.where.begin, c.where.end - c.where.begin);
    return text.starts_with("//") ? rstrip(text) : text;
  }
  [[nodiscard]] static bool is_line_comment(std::string_view text) { return text.starts_with("//"); }

  // The offset of the next token at or after `pos`: skips whitespace, comments and parentheses
  // (which are the only tokens the source may have that the output has not).
  [[nodiscard]] std::uint32_t next_token(std::uint32_t pos) const {
    const auto& cs = m_module.comments;
    while (pos < m_text.size()) {
      const char c = m_text[pos];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v' || c == '(' || c == ')') {
        ++pos;
        continue;
      }
      if (c == '/' && pos + 1 < m_text.size() && (m_text[pos + 1] == '/' || m_text[pos + 1] == '*')) {
        auto it = std::lower_bound(cs.begin(), cs.end(), pos,
                                   [](const ast::comment& k, std::uint32_t p) { return k.where.begin < p; });
        if (it != cs.end() && it->where.begin == pos && it->where.end > pos) {
          pos = it->where.end;
          continue;
        }
      }
      break;
    }
    return pos;
  }

  // -------------------------------------------------------------------------------------------
  // Output

  [[nodiscard]] std::size_t block_indent() const { return static_cast<std::size_t>(m_depth) * 2; }
  [[nodiscard]] std::size_t cont_indent() const { return block_indent() + 2; }

  void close_line() {
    if (m_line_open) {
      m_out += '\n';
      m_line_open = false;
    }
    m_break_pending = false;
  }

  // Writes a token: opens the line (a pending break first), or separates it by a pending space.
  void put(std::string_view text) {
    if (m_break_pending) {
      close_line();
      m_line_indent = m_break_indent;
    }
    if (!m_line_open) {
      m_out.append(m_line_indent, ' ');
      m_line_open = true;
    } else if (m_space) {
      m_out += ' ';
    }
    m_space = false;
    m_out += text;
  }

  void space() { m_space = true; }

  // Starts a continuation line before the next token (lazily, so a trailing comment can still
  // join the current line).
  void soft_break(std::size_t indent) {
    m_break_pending = true;
    m_break_indent = indent;
    m_space = false;
  }

  // The column the next token would start at (ignoring a pending space).
  [[nodiscard]] std::size_t column() const {
    if (m_break_pending) return m_break_indent;
    if (!m_line_open) return m_line_indent;
    const auto nl = m_out.rfind('\n');
    return nl == std::string::npos ? m_out.size() : m_out.size() - nl - 1;
  }

  // Writes the comments before `anchor` inside an item: one sharing a source line with what was
  // written last joins the current line; any other starts a continuation line. A line comment,
  // or a block comment that nothing (token or comment) follows on its line, ends the line.
  void flush_inline(std::uint32_t anchor) {
    if (m_measure) return;
    while (comment_before(anchor)) {
      const auto& c = *next_comment();
      ++m_next_comment;
      const auto text = comment_text(c);
      const std::size_t indent = m_break_pending ? m_break_indent : m_cont;
      if (m_line_open && line_of(c.where.begin) == line_of(m_pos)) {
        m_out += ' ';
        m_out += text;
      } else {
        close_line();
        m_line_indent = indent;
        m_space = false;
        put(text);
      }
      m_pos = std::max(m_pos, c.where.end);
      const std::uint32_t next = comment_before(anchor) ? next_comment()->where.begin : anchor;
      if (is_line_comment(text) || line_of(c.where.end) != line_of(next)) {
        close_line();
        m_line_indent = indent;
        m_space = false;
      } else {
        m_space = true;
      }
    }
  }

  // Writes the comments before `anchor` that precede an item at the current depth, each on its
  // own line unless it trails the previous line. Returns whether an own-line comment was written.
  bool flush_leading(std::uint32_t anchor, bool force_blank) {
    bool wrote = false;
    while (comment_before(anchor)) {
      const auto& c = *next_comment();
      ++m_next_comment;
      const auto text = comment_text(c);
      if (m_line_open && !m_break_pending && line_of(c.where.begin) == line_of(m_pos)) {
        m_out += ' ';
        m_out += text;
        m_pos = std::max(m_pos, c.where.end);
        continue;
      }
      close_line();
      if (((!wrote && force_blank) || blank_between(m_pos, c.where.begin)) && !m_after_open && !m_out.empty()) {
        m_out += '\n';
      }
      m_line_indent = block_indent();
      m_space = false;
      put(text);
      close_line();
      m_after_open = false;
      m_pos = std::max(m_pos, c.where.end);
      wrote = true;
    }
    return wrote;
  }

  // Starts a new item line at the current depth; `anchor` is where the item starts in the source.
  void begin_line(std::uint32_t anchor, bool force_blank) {
    const bool wrote = flush_leading(anchor, force_blank);
    close_line();
    if (((!wrote && force_blank) || blank_between(m_pos, anchor)) && !m_after_open && !m_out.empty()) m_out += '\n';
    m_after_open = false;
    m_line_indent = block_indent();
    m_cont = cont_indent();
    m_space = false;
  }

  void end_item(const span& where) {
    if (where.end <= m_text.size()) m_pos = std::max(m_pos, where.end);
  }

  // A keyword or punctuation token with no node of its own: found in the source by the cursor.
  void tok(std::string_view text) {
    if (!m_measure) {
      const auto at = next_token(m_pos);
      if (m_text.substr(at, text.size()) == text) {
        flush_inline(at);
        m_pos = std::max(m_pos, static_cast<std::uint32_t>(at + text.size()));
      }
    }
    put(text);
  }

  // A token for a node with a span.
  void node(std::string_view text, const span& where) {
    flush_inline(where.begin);
    put(text);
    if (!m_measure && where.end <= m_text.size()) m_pos = std::max(m_pos, where.end);
  }

  void ident(const ast::ident& id) { node(id.text, id.where); }
  void string(const ast::string_lit& s) { node(format_string_literal(s.value), s.where); }

  // The width of what `print` writes on one line, with no comments and no breaks.
  std::size_t measure(const std::function<void()>& print) {
    std::string saved;
    saved.swap(m_out);
    const bool line_open = m_line_open, space = m_space, break_pending = m_break_pending, measuring = m_measure;
    m_line_open = true;
    m_space = false;
    m_break_pending = false;
    m_measure = true;
    print();
    const std::size_t width = m_out.size();
    m_out.swap(saved);
    m_line_open = line_open;
    m_space = space;
    m_break_pending = break_pending;
    m_measure = measuring;
    return width;
  }

  [[nodiscard]] bool too_wide(std::size_t width) const { return block_indent() + width > format_width; }

  // Whether some comment starts inside [begin, end).
  [[nodiscard]] bool has_comment_within(std::uint32_t begin, std::uint32_t end) const {
    const auto& cs = m_module.comments;
    auto it = std::lower_bound(cs.begin(), cs.end(), begin,
                               [](const ast::comment& k, std::uint32_t p) { return k.where.begin < p; });
    return it != cs.end() && it->where.begin < end;
  }

  // -------------------------------------------------------------------------------------------
  // Expressions

  // Where an expression's first token is. A binary node's span starts where its comparison or
  // chain started matching, which may be a parenthesis the output drops; its leftmost operand
  // has the token itself.
  static std::uint32_t first_token(const ast::expr& e) {
    const ast::expr* at = &e;
    while (at->kind == ast::expr_kind::binary && !at->children.empty()) at = at->children[0].get();
    return at->where.begin;
  }

  void expr(const ast::expr& e, int min_prec) {
    const bool parens = precedence(e) < min_prec;
    if (parens) {
      flush_inline(first_token(e));
      put("(");
    }
    switch (e.kind) {
      case ast::expr_kind::string_lit: node(format_string_literal(e.text), e.where); break;
      case ast::expr_kind::int_lit: node(std::to_string(e.number), e.where); break;
      case ast::expr_kind::decimal_lit: node(format_decimal(e.number), e.where); break;
      case ast::expr_kind::duration_lit: node(format_duration(e.number), e.where); break;
      case ast::expr_kind::bool_lit: node(e.number != 0 ? "true" : "false", e.where); break;
      case ast::expr_kind::symbol: node(e.text, e.where); break;
      case ast::expr_kind::path: {
        std::string text;
        for (const auto& seg : e.path) {
          if (!text.empty()) text += '.';
          text += seg.text;
        }
        node(text, e.where);
        break;
      }
      case ast::expr_kind::set: {
        node("{", span{e.where.file, e.where.begin, e.where.begin + 1});
        for (std::size_t i = 0; i < e.children.size(); ++i) {
          if (i > 0) tok(",");
          space();
          expr(*e.children[i], prec_operand);
        }
        if (!e.children.empty()) space();
        tok("}");
        break;
      }
      case ast::expr_kind::not_:
        tok("not");
        space();
        // `not (x in s)` rather than `not x in s`: the grammar needs no parentheses there, but a
        // reader does.
        if (!e.children.empty()) expr(*e.children[0], precedence(*e.children[0]) == prec_cmp ? prec_operand : prec_not);
        break;
      case ast::expr_kind::binary: {
        if (e.children.size() != 2) break;
        int left = prec_operand, right = prec_operand;
        if (e.op == ast::binary_op::or_) {
          // An `and` under an `or` keeps parentheses for the reader: `a or (b and c)`.
          auto need = [](const ast::expr& c, int otherwise) { return precedence(c) == prec_and ? prec_not : otherwise; };
          left = need(*e.children[0], prec_or);
          right = need(*e.children[1], prec_and);
        } else if (e.op == ast::binary_op::and_) {
          left = prec_and, right = prec_not;
        }
        expr(*e.children[0], left);
        space();
        if (e.op == ast::binary_op::not_in) {
          tok("not");
          space();
          tok("in");
        } else {
          tok(ast::spelling(e.op));
        }
        space();
        expr(*e.children[1], right);
        break;
      }
    }
    if (parens) put(")");
    // A binary node's children have moved the cursor already; its span is not needed (and is
    // not trusted: it may start or end at parentheses the output drops).
    if (!m_measure && e.kind != ast::expr_kind::binary && e.where.end <= m_text.size()) {
      m_pos = std::max(m_pos, e.where.end);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Shared pieces

  void target(const ast::target& t) {
    switch (t.kind) {
      case ast::target_kind::role:
        tok("role");
        space();
        ident(t.name);
        break;
      case ast::target_kind::agent:
        tok("agent");
        space();
        ident(t.name);
        break;
      case ast::target_kind::parent: node("parent", t.where); break;
      case ast::target_kind::operator_: node("operator", t.where); break;
    }
  }

  void state_ref(const ast::state_ref& r) {
    if (r.any) node("*", r.where);
    else ident(r.name);
  }

  // `a, b, c`. When `fill`, names that would pass the width go on continuation lines at
  // `fill_indent`.
  void name_list(const std::vector<ast::ident>& names, bool fill = false, std::size_t fill_indent = 0) {
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (i > 0) tok(",");
      const std::size_t need = names[i].text.size() + (i + 1 < names.size() ? 1 : 0);
      if (fill && i > 0 && column() + 1 + need > format_width) {
        soft_break(fill_indent);
      } else if (i > 0) {
        space();
      }
      ident(names[i]);
    }
  }

  // `{ a, b }`, or `{}` when empty.
  template <typename Items, typename Print>
  void braced(const Items& items, Print print_item) {
    tok("{");
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i > 0) tok(",");
      space();
      print_item(items[i]);
    }
    if (!items.empty()) space();
    tok("}");
  }

  void override_mark(bool is_override) {
    if (!is_override) return;
    tok("override");
    space();
  }

  // `on a, b, c`. When `fill`, events that would pass the width go on continuation lines that
  // line up after `on `.
  void events_clause(const std::vector<ast::ident>& events, bool fill) {
    tok("on");
    space();
    name_list(events, fill, m_cont + 3);
  }

  // A clause that starts a continuation line when wrapping, and follows a space otherwise.
  void clause(bool wrap) {
    if (wrap) soft_break(m_cont);
    else space();
  }

  // -------------------------------------------------------------------------------------------
  // Items

  void header(const ast::header& h) {
    tok("policy");
    space();
    ident(h.name);
    space();
    tok("version");
    space();
    string(h.version);
    if (h.layer_written) {
      space();
      tok("layer");
      space();
      tok(layer_spelling(h.level));
    }
  }

  void role(const ast::role_decl& r) {
    tok("role");
    space();
    ident(r.name);
    if (r.reports_to) {
      space();
      tok("reports_to");
      space();
      ident(*r.reports_to);
    }
  }

  void agent(const ast::agent_decl& a, bool wrap) {
    tok("agent");
    space();
    ident(a.name);
    space();
    tok("role");
    space();
    ident(a.role);
    if (a.kind_written) {
      space();
      tok("kind");
      space();
      tok(kind_spelling(a.kind));
    }
    if (a.capabilities_written) {
      clause(wrap);
      tok("capabilities");
      space();
      braced(a.capabilities, [&](const ast::string_lit& s) { string(s); });
    }
  }

  void type(const ast::type_expr& t) {
    if (t.kind == ast::type_kind::enum_) {
      tok("enum");
      space();
      braced(t.enum_members, [&](const ast::ident& m) { ident(m); });
    } else if (t.kind == ast::type_kind::string_set) {
      tok("set");
      tok("<");
      tok("string");
      tok(">");
    } else {
      node(type_spelling(t.kind), t.where);
    }
  }

  void attribute(const ast::attr_decl& a) {
    ident(a.name);
    tok(":");
    space();
    type(a.type);
    space();
    switch (a.how) {
      case ast::presence::required: tok("required"); break;
      case ast::presence::optional: tok("optional"); break;
      case ast::presence::defaulted:
        tok("=");
        space();
        if (a.default_value) expr(*a.default_value, prec_operand);
        break;
    }
  }

  void transition(const ast::transition_decl& t, bool wrap) {
    state_ref(t.from);
    space();
    tok("->");
    space();
    ident(t.to);
    space();
    tok("on");
    space();
    ident(t.event);
    condition(t.guard, wrap);
  }

  void lifecycle_item(const ast::lifecycle_item& item, bool wrap) {
    if (const auto* s = std::get_if<ast::states_decl>(&item)) {
      tok("states");
      space();
      name_list(s->names, wrap, block_indent() + 7);
    } else if (const auto* i = std::get_if<ast::initial_decl>(&item)) {
      tok("initial");
      space();
      ident(i->name);
    } else if (const auto* t = std::get_if<ast::terminal_decl>(&item)) {
      tok("terminal");
      space();
      name_list(t->names, wrap, block_indent() + 9);
    } else if (const auto* g = std::get_if<ast::group_decl>(&item)) {
      tok("group");
      space();
      ident(g->name);
      space();
      tok("=");
      space();
      braced(g->members, [&](const ast::ident& m) { ident(m); });
    } else if (const auto* tr = std::get_if<ast::transition_decl>(&item)) {
      transition(*tr, wrap);
    }
  }

  void route(const ast::route_rule& r, bool wrap) {
    override_mark(r.is_override);
    if (r.is_fallback) {
      node("otherwise", r.name.where);
      space();
    } else {
      tok("route");
      space();
      ident(r.name);
      condition(r.when, wrap);
      clause(wrap);
    }
    tok("->");
    space();
    target(r.to);
  }

  // `when EXPR`, starting a continuation line when `wrap`. When wrapping and the line is still too
  // long, a top-level `and` or `or` chain puts each further operand on a line of its own, with the
  // operator's last letter under the last letter of `when`.
  // With `own_line` false the clause stays on the current line (the caller has checked it fits).
  void condition(const ast::expr_ptr& when, bool wrap, bool own_line = true) {
    if (!when) return;
    clause(wrap && own_line);
    const std::size_t indent = m_cont;
    tok("when");
    space();
    const ast::expr& e = *when;
    const bool chain = e.kind == ast::expr_kind::binary && (e.op == ast::binary_op::and_ || e.op == ast::binary_op::or_);
    if (!wrap || !chain || column() + 1 + measure([&] { expr(e, prec_or); }) <= format_width) {
      expr(e, prec_or);
      return;
    }
    const ast::binary_op op = e.op;
    std::vector<const ast::expr*> operands;
    const ast::expr* at = &e;
    while (at->kind == ast::expr_kind::binary && at->op == op && at->children.size() == 2) {
      operands.push_back(at->children[1].get());
      at = at->children[0].get();
    }
    operands.push_back(at);
    std::reverse(operands.begin(), operands.end());
    const bool is_and = op == ast::binary_op::and_;
    expr(*operands[0], is_and ? prec_and : prec_or);
    for (std::size_t i = 1; i < operands.size(); ++i) {
      soft_break(indent + (is_and ? 1 : 2));
      tok(is_and ? "and" : "or");
      space();
      expr(*operands[i], is_and ? prec_not : prec_and);
    }
  }

  void reason(const std::optional<ast::string_lit>& r, bool wrap) {
    if (!r) return;
    clause(wrap);
    tok("because");
    space();
    string(*r);
  }

  void gate_head(const ast::gate_rule& r) {
    override_mark(r.is_override);
    tok("gate");
    space();
    ident(r.name);
  }

  // A gate reads as a sentence, `gate NAME when ...`: its condition moves to a line of its own
  // only when that first line would be too long.
  void gate(const ast::gate_rule& r, bool wrap) {
    const bool when_own_line = wrap && r.when && too_wide(measure([&] {
                                 gate_head(r);
                                 condition(r.when, false);
                               }));
    gate_head(r);
    condition(r.when, wrap, when_own_line);
    reason(r.reason, wrap);
  }

  // The head of a rule with an `on` list; `wrap_on` moves the list to its own line and fills it.
  template <typename Rule>
  void head_with_events(const Rule& r, const char* keyword, bool wrap_on) {
    override_mark(r.is_override);
    tok(keyword);
    space();
    ident(r.name);
    clause(wrap_on);
    events_clause(r.events, wrap_on);
  }

  template <typename Rule>
  bool on_list_too_wide(const Rule& r, const char* keyword) {
    return too_wide(measure([&] { head_with_events(r, keyword, false); }));
  }

  void permission(const ast::permission_rule& r, bool wrap) {
    const char* keyword = r.kind == ast::effect::permit ? "permit" : "forbid";
    head_with_events(r, keyword, wrap && on_list_too_wide(r, keyword));
    condition(r.when, wrap);
    if (r.kind == ast::effect::forbid) reason(r.reason, wrap);
  }

  void escalation(const ast::escalation_rule& r, bool wrap) {
    override_mark(r.is_override);
    tok("escalate");
    space();
    ident(r.name);
    condition(r.when, wrap);
    clause(wrap);
    tok("->");
    space();
    target(r.to);
  }

  void obligation(const ast::obligation_rule& r, bool wrap) {
    head_with_events(r, "obligation", wrap && on_list_too_wide(r, "obligation"));
    condition(r.when, wrap);
    clause(wrap);
    tok("then");
    for (std::size_t i = 0; i < r.actions.size(); ++i) {
      if (i > 0) tok(",");
      space();
      const auto& a = r.actions[i];
      if (a.kind == ast::obligation_action_kind::notify) {
        tok("notify");
      } else {
        tok("require");
        space();
        tok("review");
        space();
        tok("by");
      }
      space();
      target(a.who);
    }
  }

  void invariant_body(const ast::invariant_decl& r) {
    switch (r.kind) {
      case ast::invariant_kind::passes:
        tok("every");
        space();
        tok("path");
        space();
        tok("to");
        space();
        state_ref(r.to);
        space();
        tok("passes");
        space();
        ident(r.event);
        break;
      case ast::invariant_kind::reachable:
        tok("reachable");
        space();
        state_ref(r.from);
        break;
      case ast::invariant_kind::terminates:
        tok("terminates");
        space();
        tok("from");
        space();
        state_ref(r.from);
        break;
      case ast::invariant_kind::never:
        tok("never");
        space();
        state_ref(r.from);
        space();
        tok("->");
        space();
        state_ref(r.to);
        break;
    }
  }

  void invariant_head(const ast::invariant_decl& r) {
    override_mark(r.is_override);
    tok("invariant");
    space();
    ident(r.name);
    space();
    tok("{");
  }

  void invariant_one_line(const ast::invariant_decl& r) {
    invariant_head(r);
    space();
    invariant_body(r);
    space();
    tok("}");
  }

  bool invariant_multiline(const ast::invariant_decl& r) {
    return r.when != nullptr || has_comment_within(r.name.where.end, r.where.end) ||
           too_wide(measure([&] { invariant_one_line(r); }));
  }

  void invariant(const ast::invariant_decl& r) {
    if (!invariant_multiline(r)) {
      invariant_one_line(r);
      return;
    }
    invariant_head(r);
    open_block();
    if (r.when) {
      begin_line(next_token(m_pos), false);
      tok("when");
      space();
      expr(*r.when, prec_or);
    }
    begin_line(next_token(m_pos), false);
    invariant_body(r);
    close_block(r.where);
  }

  // -------------------------------------------------------------------------------------------
  // Blocks

  void open_block() {
    ++m_depth;
    m_after_open = true;
  }

  // Writes the comments left before the block's `}` and the `}` itself (the last byte of `where`).
  void close_block(const span& where) {
    const std::uint32_t close = where.end > where.begin ? where.end - 1 : where.end;
    flush_leading(close, false);
    close_line();
    --m_depth;
    m_line_indent = block_indent();
    m_cont = cont_indent();
    m_after_open = false;
    m_space = false;
    put("}");
    m_pos = std::max(m_pos, where.end);
  }

  // `keyword {`, the items (each printed by `item` after its line is begun), then `}`. An empty
  // block with no comments is `keyword {}`.
  template <typename Items, typename Begin, typename Item>
  void block(const char* keyword, const span& where, const Items& items, Begin begin_of, Item item) {
    tok(keyword);
    space();
    tok("{");
    const std::uint32_t close = where.end > where.begin ? where.end - 1 : where.end;
    if (items.empty() && !comment_before(close)) {
      put("}");
      m_pos = std::max(m_pos, where.end);
      return;
    }
    open_block();
    for (const auto& i : items) {
      begin_line(begin_of(i), false);
      item(i);
    }
    close_block(where);
  }

  static std::uint32_t begin_of_org_item(const std::variant<ast::role_decl, ast::agent_decl>& item) {
    return std::visit([](const auto& d) { return d.where.begin; }, item);
  }
  static std::uint32_t begin_of_lifecycle_item(const ast::lifecycle_item& item) {
    return std::visit([](const auto& d) { return d.where.begin; }, item);
  }

  // Prints `print(wrap)` on one line if it fits, wrapped otherwise.
  void fitted(const std::function<void(bool)>& print) {
    const bool wrap = too_wide(measure([&] { print(false); }));
    print(wrap);
  }

  void declaration(const ast::declaration& d) {
    if (const auto* org = std::get_if<ast::org_block>(&d)) {
      block("org", org->where, org->items, begin_of_org_item, [&](const auto& item) {
        if (const auto* r = std::get_if<ast::role_decl>(&item)) {
          role(*r);
          end_item(r->where);
        } else if (const auto* a = std::get_if<ast::agent_decl>(&item)) {
          fitted([&](bool wrap) { agent(*a, wrap); });
          end_item(a->where);
        }
      });
    } else if (const auto* task = std::get_if<ast::task_block>(&d)) {
      block(
          "task", task->where, task->attributes, [](const ast::attr_decl& a) { return a.where.begin; },
          [&](const ast::attr_decl& a) {
            attribute(a);
            end_item(a.where);
          });
    } else if (const auto* lc = std::get_if<ast::lifecycle_block>(&d)) {
      block("lifecycle", lc->where, lc->items, begin_of_lifecycle_item, [&](const ast::lifecycle_item& item) {
        fitted([&](bool wrap) { lifecycle_item(item, wrap); });
        std::visit([&](const auto& x) { end_item(x.where); }, item);
      });
    } else if (const auto* routing = std::get_if<ast::routing_block>(&d)) {
      block(
          "routing", routing->where, routing->routes, [](const ast::route_rule& r) { return r.where.begin; },
          [&](const ast::route_rule& r) {
            fitted([&](bool wrap) { route(r, wrap); });
            end_item(r.where);
          });
    } else if (const auto* g = std::get_if<ast::gate_rule>(&d)) {
      fitted([&](bool wrap) { gate(*g, wrap); });
    } else if (const auto* p = std::get_if<ast::permission_rule>(&d)) {
      fitted([&](bool wrap) { permission(*p, wrap); });
    } else if (const auto* e = std::get_if<ast::escalation_rule>(&d)) {
      fitted([&](bool wrap) { escalation(*e, wrap); });
    } else if (const auto* o = std::get_if<ast::obligation_rule>(&d)) {
      fitted([&](bool wrap) { obligation(*o, wrap); });
    } else if (const auto* inv = std::get_if<ast::invariant_decl>(&d)) {
      invariant(*inv);
    }
    std::visit([&](const auto& x) { end_item(x.where); }, d);
  }

  bool multiline(const ast::declaration& d) {
    if (std::holds_alternative<ast::org_block>(d) || std::holds_alternative<ast::task_block>(d) ||
        std::holds_alternative<ast::lifecycle_block>(d) || std::holds_alternative<ast::routing_block>(d)) {
      return true;
    }
    if (const auto* inv = std::get_if<ast::invariant_decl>(&d)) return invariant_multiline(*inv);
    return false;
  }

  void print_module() {
    if (m_module.head) {
      begin_line(m_module.head->where.begin, false);
      header(*m_module.head);
      end_item(m_module.head->where);
    }
    for (std::size_t i = 0; i < m_module.imports.size(); ++i) {
      const auto& imp = m_module.imports[i];
      begin_line(imp.where.begin, i == 0 && m_module.head.has_value());
      tok("import");
      space();
      string(imp.path);
      end_item(imp.where);
    }
    bool previous_multiline = false;
    for (std::size_t i = 0; i < m_module.declarations.size(); ++i) {
      const auto& d = m_module.declarations[i];
      const bool this_multiline = multiline(d);
      const bool force =
          i == 0 ? (m_module.head.has_value() || !m_module.imports.empty()) : (previous_multiline || this_multiline);
      begin_line(std::visit([](const auto& x) { return x.where.begin; }, d), force);
      declaration(d);
      previous_multiline = this_multiline;
    }
    flush_leading(std::numeric_limits<std::uint32_t>::max(), false);
    close_line();
  }

  const ast::module& m_module;
  const source& m_src;
  std::string_view m_text;

  std::string m_out;
  std::size_t m_next_comment = 0;  // the first comment not yet written
  std::uint32_t m_pos = 0;         // the source offset just after what was written last
  int m_depth = 0;                 // block nesting
  bool m_line_open = false;        // the current output line has text and no newline yet
  std::size_t m_line_indent = 0;   // indentation for the line when it opens
  std::size_t m_cont = 2;          // indentation of continuation lines of the current item
  bool m_space = false;            // a space goes before the next token on this line
  bool m_break_pending = false;    // the next token starts a continuation line
  std::size_t m_break_indent = 0;
  bool m_after_open = false;  // nothing written since `{`: no blank line here
  bool m_measure = false;     // measuring a one-line width: no comments, cursor untouched
};

}  // namespace

std::string format_module(const ast::module& module, const source& src) { return printer(module, src).run(); }

}  // namespace agentos::dsl
