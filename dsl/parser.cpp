// Parsing happens in three steps: a scanner checks the encoding and collects comments (for the
// formatter and doc comments), PEGTL matches the grammar into a parse tree of selected rules, and
// a builder turns that tree into the AST. Keeping the builder apart from the grammar keeps actions
// out of the grammar and lets recovery discard half-built nodes for free (the parse tree unwinds).
#include "dsl/parser.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <string>
#include <vector>

#include <tao/pegtl/contrib/parse_tree.hpp>

#include "dsl/detail/grammar.hpp"

namespace agentos::dsl {

namespace pegtl = tao::pegtl;
namespace g = grammar;

namespace {

// ---------------------------------------------------------------------------------------------
// Parse state shared by the control class and the recovery actions.

struct parse_state {
  const source& src;
  file_id id;
  diagnostics& out;
  const std::vector<ast::comment>& comments;  // from the scanner, in source order
  std::uint32_t last_raise = 0;
  bool raised = false;
};

struct error_entry {
  const char* code;
  const char* expected;  // "expected …" text, or a whole message when `whole` is set
  bool whole = false;
  // Raised where an item or declaration begins: the error is about what is there, so the caret
  // stays on it rather than moving back to the end of the previous line.
  bool at_start = false;
};

template <typename Rule>
constexpr error_entry error_for() {
  using namespace g;
  // clang-format off
  if constexpr (std::is_same_v<Rule, too_deep>) return {"E1006", "expressions are nested too deeply (the limit is 200 levels)", true, true};
  else if constexpr (std::is_same_v<Rule, reserved_word>) return {"E1018", "a name (reserved words cannot be names)"};
  else if constexpr (std::is_same_v<Rule, header> || std::is_same_v<Rule, header_rest>) return {"E1007", "the header `policy NAME version \"...\"`", false, true};
  else if constexpr (std::is_same_v<Rule, expr> || std::is_same_v<Rule, not_expr> || std::is_same_v<Rule, and_expr> || std::is_same_v<Rule, operand>) return {"E1008", "an expression"};
  else if constexpr (std::is_same_v<Rule, req_name>) return {"E1009", "a name"};
  else if constexpr (std::is_same_v<Rule, path_segment>) return {"E1009", "a field name after `.`"};
  else if constexpr (std::is_same_v<Rule, escape_code>) return {"E1010", "an escape sequence (\\\", \\\\, \\n or \\t)"};
  else if constexpr (std::is_same_v<Rule, string_rest>) return {"E1002", "the closing `\"` of this string before the end of the line"};
  else if constexpr (std::is_same_v<Rule, rbrace>) return {"E1012", "`}`"};
  else if constexpr (std::is_same_v<Rule, reason>) return {"E1014", "`because \"reason\"`: every forbid rule states its reason"};
  else if constexpr (std::is_same_v<Rule, target>) return {"E1015", "a target: `parent`, `operator`, `role NAME` or `agent NAME`"};
  else if constexpr (std::is_same_v<Rule, route_target>) return {"E1015", "a route target: `role NAME` or `agent NAME`"};
  else if constexpr (std::is_same_v<Rule, type_spec>) return {"E1016", "a type: string, int, decimal, bool, duration, timestamp, enum { ... } or set<string>"};
  else if constexpr (std::is_same_v<Rule, string_lit>) return {"E1017", "a string literal"};
  else if constexpr (std::is_same_v<Rule, org_item>) return {"E1019", "`role NAME` or `agent NAME role ROLE` in the org block", false, true};
  else if constexpr (std::is_same_v<Rule, task_item>) return {"E1019", "an attribute `NAME: TYPE` in the task block", false, true};
  else if constexpr (std::is_same_v<Rule, lifecycle_item>) return {"E1019", "`states`, `initial`, `terminal`, `group` or a transition `FROM -> TO on EVENT`", false, true};
  else if constexpr (std::is_same_v<Rule, routing_item> || std::is_same_v<Rule, sor<route_rule, fallback_rule>>) return {"E1019", "`route NAME when ... -> ...` or `otherwise -> ...`", false, true};
  else if constexpr (std::is_same_v<Rule, events_clause> || std::is_same_v<Rule, event_list> || std::is_same_v<Rule, transition_event>) return {"E1020", "`on` and an event name"};
  else if constexpr (std::is_same_v<Rule, condition> || std::is_same_v<Rule, kw_when>) return {"E1021", "`when` and a condition"};
  else if constexpr (std::is_same_v<Rule, invariant_body> || std::is_same_v<Rule, inv_passes>) return {"E1022", "an invariant: `[when C] every path to S passes EVENT`, `reachable S`, `terminates from S` or `never S -> S`"};
  else if constexpr (std::is_same_v<Rule, rule_body>) return {"E1013", "a rule (gate, permit, forbid, escalate, obligation or invariant) after `override`"};
  else if constexpr (std::is_same_v<Rule, arrow>) return {"E1001", "`->`"};
  else if constexpr (std::is_same_v<Rule, lbrace> || std::is_same_v<Rule, block_open>) return {"E1001", "`{`"};
  else if constexpr (std::is_same_v<Rule, rparen>) return {"E1001", "`)`"};
  else if constexpr (std::is_same_v<Rule, colon>) return {"E1001", "`:` between the attribute name and its type"};
  else if constexpr (std::is_same_v<Rule, equals>) return {"E1001", "`=`"};
  else if constexpr (std::is_same_v<Rule, lt_angle>) return {"E1001", "`<`"};
  else if constexpr (std::is_same_v<Rule, gt_angle>) return {"E1001", "`>`"};
  else if constexpr (std::is_same_v<Rule, kw_version>) return {"E1007", "`version \"...\"` after the policy name"};
  else if constexpr (std::is_same_v<Rule, layer_name>) return {"E1001", "a layer: `global`, `shared` or `project`"};
  else if constexpr (std::is_same_v<Rule, actor_kind_name>) return {"E1001", "an actor kind: `agent`, `human` or `operator`"};
  else if constexpr (std::is_same_v<Rule, capability_list>) return {"E1001", "a list of capabilities `{ \"name\", ... }`"};
  else if constexpr (std::is_same_v<Rule, agent_role>) return {"E1001", "`role NAME` after the agent's name"};
  else if constexpr (std::is_same_v<Rule, presence_clause>) return {"E1001", "`required`, `optional` or `= DEFAULT` after the type"};
  else if constexpr (std::is_same_v<Rule, enum_members>) return {"E1001", "enum members `{ a, b, ... }`"};
  else if constexpr (std::is_same_v<Rule, group_members>) return {"E1001", "group members `{ a, b, ... }`"};
  else if constexpr (std::is_same_v<Rule, g::kw_string>) return {"E1016", "`string`: sets hold strings"};
  else if constexpr (std::is_same_v<Rule, kw_then>) return {"E1001", "`then` and the obligation's actions"};
  else if constexpr (std::is_same_v<Rule, obligation_action>) return {"E1001", "an action: `notify TARGET` or `require review by TARGET`"};
  else if constexpr (std::is_same_v<Rule, kw_review> || std::is_same_v<Rule, kw_by>) return {"E1001", "`require review by TARGET`"};
  else if constexpr (std::is_same_v<Rule, kw_path> || std::is_same_v<Rule, kw_to> || std::is_same_v<Rule, kw_passes>) return {"E1022", "`every path to STATES passes EVENT`"};
  else if constexpr (std::is_same_v<Rule, kw_from>) return {"E1022", "`terminates from STATES`"};
  else if constexpr (std::is_same_v<Rule, state_set>) return {"E1001", "a state, a state group or `*`"};
  else if constexpr (std::is_same_v<Rule, set_element>) return {"E1008", "a set element"};
  else return {"E1001", "valid syntax here"};
  // clang-format on
}

// What the input holds at `offset`, for "found …" in messages, and how many bytes it spans.
std::pair<std::string, std::uint32_t> found_token(std::string_view text, std::uint32_t offset) {
  if (offset >= text.size()) return {"end of file", 0};
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  const char c = text[offset];
  if (c == '\n' || c == '\r') return {"end of line", 0};
  if (c == ' ' || c == '\t') return {"whitespace", 1};
  std::uint32_t end = offset;
  if (c == '"') {  // a whole string literal (up to the end of its line)
    ++end;
    while (end < text.size() && text[end] != '"' && text[end] != '\n') end += text[end] == '\\' && end + 1 < text.size() ? 2 : 1;
    if (end < text.size() && text[end] == '"') ++end;
    end = std::min<std::uint32_t>(end, static_cast<std::uint32_t>(text.size()));
    return {"`" + std::string(text.substr(offset, end - offset)) + "`", end - offset};
  }
  if (is_word(c)) {
    // A number keeps its decimal point: `0.00`, not `0`.
    const bool number = std::isdigit(static_cast<unsigned char>(c)) != 0;
    while (end < text.size() && (is_word(text[end]) || (number && text[end] == '.'))) ++end;
  } else {
    end = offset + 1;
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;  // rest of a UTF-8 char
  }
  return {"`" + std::string(text.substr(offset, end - offset)) + "`", end - offset};
}

// The bytes of the (UTF-8) character at `offset`.
std::uint32_t char_width(std::string_view text, std::uint32_t offset) {
  std::uint32_t end = offset + 1;
  while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
  return end - offset;
}

// Where the last token before `offset` ends, skipping back over whitespace and comments.
std::uint32_t end_of_previous_token(std::string_view text, std::uint32_t offset, const std::vector<ast::comment>& comments) {
  std::uint32_t p = offset;
  while (true) {
    while (p > 0 && (text[p - 1] == ' ' || text[p - 1] == '\t' || text[p - 1] == '\n' || text[p - 1] == '\r')) --p;
    // Comments do not overlap, so their ends are in order too.
    auto it = std::lower_bound(comments.begin(), comments.end(), p,
                               [](const ast::comment& c, std::uint32_t at) { return c.where.end < at; });
    if (it == comments.end() || it->where.end != p || it->where.begin >= p) return p;
    p = it->where.begin;
  }
}

// Where to report "expected X" when the parser stopped at `offset`. When what it found is on a
// later line than the last token (something is missing at the end of a line), the caret goes right
// after that token, as clang and rustc do, and the message says where the found token is.
struct error_place {
  std::uint32_t at;
  std::uint32_t width;
  std::string found;
  bool moved = false;
};

error_place place_error(const source& src, std::uint32_t offset, const std::vector<ast::comment>& comments, bool at_start) {
  auto [found, width] = found_token(src.text(), offset);
  if (at_start) return {offset, width, found};
  const std::uint32_t prev = end_of_previous_token(src.text(), offset, comments);
  // After a `{`, what follows belongs on the next line anyway.
  if (prev == 0 || src.text()[prev - 1] == '{' || src.text().substr(prev, offset - prev).find('\n') == std::string_view::npos) {
    return {offset, width, found};
  }
  if (offset < src.text().size()) found += " on line " + std::to_string(src.position(offset).line);
  return {prev, 0, found, true};
}

// The `"` that opens the unterminated string ending at `offset` (the end of its line): the last
// quote before it that is not escaped (the string holds no unescaped quote, or it would be closed).
std::uint32_t opening_quote(std::string_view text, std::uint32_t offset) {
  for (std::uint32_t p = offset; p > 0; --p) {
    if (text[p - 1] == '\n') break;
    if (text[p - 1] != '"') continue;
    std::uint32_t backslashes = 0;
    while (p - 1 > backslashes && text[p - 2 - backslashes] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return p - 1;
  }
  return offset;
}

template <typename Rule>
struct control : pegtl::normal<Rule> {
  template <typename ParseInput, typename... States>
  [[noreturn]] static void raise(const ParseInput& in, States&&... st) {
    constexpr error_entry e = error_for<Rule>();
    std::string message;
    auto offset = static_cast<std::uint32_t>(in.current() - in.begin());
    (
        [&](auto& s) {
          if constexpr (std::is_same_v<std::decay_t<decltype(s)>, parse_state>) {
            report(s, offset, e, message);
            s.last_raise = offset;
            s.raised = true;
          }
        }(st),
        ...);
    // The error is already recorded; the exception only unwinds to the recovery point. Its
    // position is given as the byte offset alone: asking the lazily tracking input for a line and
    // column rescans the file from the start, which made many errors in one file quadratic.
    throw pegtl::parse_error(message, pegtl::position(offset, 1, offset + 1, s_source_name));
  }

  static inline const std::string s_source_name = "policy";

 private:
  static void report(parse_state& s, std::uint32_t offset, const error_entry& e, std::string& message) {
    const std::string_view text = s.src.text();
    if constexpr (std::is_same_v<Rule, g::escape_code>) {
      // The caret covers the backslash and the character after it.
      const std::uint32_t width = offset < text.size() && text[offset] != '\n' && text[offset] != '\r' ? char_width(text, offset) : 0;
      message = width == 0 ? "a `\\` at the end of a line starts no escape sequence"
                           : "unknown escape sequence `\\" + std::string(text.substr(offset, width)) + "` in a string";
      auto& d = s.out.emplace(e.code, span{s.id, offset - 1, offset + width}, message);
      d.help = "strings support \\\", \\\\, \\n and \\t; write \\\\ for a backslash";
    } else if constexpr (std::is_same_v<Rule, g::string_rest>) {
      // The whole unterminated string is underlined, from its opening quote.
      message = "this string is not closed before the end of the line";
      auto& d = s.out.emplace(e.code, span{s.id, opening_quote(text, offset), offset}, message);
      d.help = "add the closing `\"`; a string cannot continue onto the next line (write \\n for a line break)";
    } else {
      const error_place p = place_error(s.src, offset, s.comments, e.at_start || e.whole);
      // A keyword where a name should be is only a misuse of the keyword when it is on the same
      // line; on the next line, the name is simply missing.
      const bool reserved_moved = std::is_same_v<Rule, g::reserved_word> && p.moved;
      const char* code = reserved_moved ? "E1009" : e.code;
      const std::string expected = reserved_moved ? "a name" : e.expected;
      message = e.whole ? expected : "expected " + expected + ", found " + p.found;
      auto& d = s.out.emplace(code, span{s.id, p.at, p.at + p.width}, message);
      if constexpr (std::is_same_v<Rule, g::target> || std::is_same_v<Rule, g::route_target>) {
        // `-> pm`: a bare name needs its kind.
        if (!p.moved && offset < text.size() && (std::isalpha(static_cast<unsigned char>(text[offset])) || text[offset] == '_')) {
          const std::string name(p.found.substr(1, p.found.size() - 2));
          if (name == "parent" || name == "operator") {
            d.help = "`" + name + "` is a target of escalations and obligations; a route assigns the task to `role NAME` or `agent NAME`";
          } else {
            d.help = "write `role " + name + "` for a role or `agent " + name + "` for an agent";
          }
        }
      }
    }
  }
};

template <typename Rule>
struct recovery_action : pegtl::nothing<Rule> {};

// A skip that follows a caught error is silent; a skip with no error before it reports what the
// parser expected there.
template <const char* Code, const char* Expected>
struct report_skip {
  template <typename ActionInput>
  static void apply(const ActionInput& in, parse_state& s) {
    const auto begin = static_cast<std::uint32_t>(in.begin() - s.src.text().data());
    if (s.raised && s.last_raise >= begin) {
      s.raised = false;
      return;
    }
    s.raised = false;
    auto [found, width] = found_token(s.src.text(), begin);
    s.out.emplace(Code, span{s.id, begin, begin + width}, std::string("expected ") + Expected + ", found " + found);
  }
};

constexpr char code_e1013[] = "E1013";
constexpr char code_e1019[] = "E1019";
constexpr char expected_declaration[] =
    "a declaration (org, task, lifecycle, routing, gate, permit, forbid, escalate, obligation or invariant)";
constexpr char expected_item[] = "an item of this block";

template <>
struct recovery_action<g::skip_declaration> : report_skip<code_e1013, expected_declaration> {};
template <>
struct recovery_action<g::skip_item> : report_skip<code_e1019, expected_item> {};

// ---------------------------------------------------------------------------------------------
// The parse tree keeps only the rules the builder reads.

// Like parse_tree::fold_one, but a node that is kept keeps its end: PEGTL's fold_one clears the
// content (and so the end) of the nodes it keeps, and comparisons need their whole span.
struct fold_one_keeping_span : pegtl::parse_tree::apply<fold_one_keeping_span> {
  template <typename Node, typename... States>
  static void transform(std::unique_ptr<Node>& n, States&&... /*unused*/) {
    if (n->children.size() == 1) n = std::move(n->children.front());
  }
};

template <typename Rule>
using selector = pegtl::parse_tree::selector<
    Rule,
    pegtl::parse_tree::store_content::on<
        g::name, g::path_segment, g::layer_name, g::string_lit, g::duration_lit, g::decimal_lit, g::int_lit,
        g::malformed_number, g::true_lit, g::false_lit, g::path, g::set_lit, g::negation, g::cmp_op, g::header, g::import_decl, g::role_decl, g::reports_to, g::agent_decl, g::actor_kind_name,
        g::capabilities_clause, g::type_enum, g::type_set, g::type_simple, g::attr_required, g::attr_optional,
        g::attr_default, g::attr_decl, g::states_decl, g::initial_decl, g::terminal_decl, g::group_decl, g::star_any,
        g::transition_decl, g::condition, g::target_role, g::target_agent, g::target_parent, g::target_operator,
        g::override_mark, g::route_rule, g::fallback_rule, g::routing_item, g::events_clause, g::reason, g::gate_rule,
        g::permit_rule, g::forbid_rule, g::escalate_rule, g::action_notify, g::action_review, g::obligation_rule,
        g::inv_passes, g::inv_reachable, g::inv_terminates, g::inv_never, g::invariant_rule, g::rule_decl, g::org_block,
        g::task_block, g::lifecycle_block, g::routing_block, g::block_open, g::unclosed_block>,
    fold_one_keeping_span::on<g::comparison, g::and_expr, g::or_expr>>;

// Parse tree nodes come from a per-thread free list: PEGTL creates a node for every attempt at a
// selected rule and frees it when the attempt fails, so plain new/delete dominated parsing time.
// The pool keeps its blocks for the thread's lifetime (its size is the most nodes ever alive at
// once, i.e. one parse tree).
struct node : pegtl::parse_tree::basic_node<node> {
  static void* operator new(std::size_t size);
  static void operator delete(void* p, std::size_t size) noexcept;
};

class node_pool {
 public:
  void* allocate() {
    if (m_free != nullptr) {
      void* p = m_free;
      m_free = *static_cast<void**>(p);
      return p;
    }
    if (m_blocks.empty() || m_used == per_block) {
      m_blocks.push_back(std::make_unique<slot[]>(per_block));
      m_used = 0;
    }
    return &m_blocks.back()[m_used++];
  }
  void release(void* p) noexcept {
    *static_cast<void**>(p) = m_free;
    m_free = p;
  }

 private:
  struct alignas(node) slot {
    std::byte bytes[sizeof(node)];
  };
  static constexpr std::size_t per_block = 4096;
  std::vector<std::unique_ptr<slot[]>> m_blocks;
  std::size_t m_used = 0;
  void* m_free = nullptr;
};

thread_local node_pool t_nodes;

void* node::operator new(std::size_t size) {
  return size == sizeof(node) ? t_nodes.allocate() : ::operator new(size);
}

void node::operator delete(void* p, std::size_t size) noexcept {
  if (size == sizeof(node)) t_nodes.release(p);
  else ::operator delete(p);
}

// ---------------------------------------------------------------------------------------------
// Scanner: encoding check and comments.

// Returns the offset of the first byte that is not valid UTF-8 (or is NUL), or npos.
std::size_t first_invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return i;
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const bool overlong = (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

void scan_comments(std::string_view text, file_id id, ast::module& m, diagnostics& out) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    const char c = text[i];
    if (c == '"') {  // skip a string literal; unterminated ones end at the line end (the parser reports them)
      ++i;
      while (i < n && text[i] != '"' && text[i] != '\n') i += (text[i] == '\\' && i + 1 < n && text[i + 1] != '\n') ? 2 : 1;
      if (i < n && text[i] == '"') ++i;
    } else if (c == '/' && i + 1 < n && text[i + 1] == '/') {
      std::size_t end = text.find('\n', i);
      if (end == std::string_view::npos) end = n;
      std::size_t e = end;
      if (e > i && text[e - 1] == '\r') --e;
      const bool doc = i + 2 < n && text[i + 2] == '/' && !(i + 3 < n && text[i + 3] == '/');
      m.comments.push_back({span{id, static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(e)}, doc});
      i = end;
    } else if (c == '/' && i + 1 < n && text[i + 1] == '*') {
      std::size_t end = text.find("*/", i + 2);
      if (end == std::string_view::npos) {
        out.emplace("E1003", span{id, static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i + 2)},
                    "this block comment is never closed with `*/`")
            .help = "everything after `/*` up to the end of the file is inside the comment; close it with `*/`";
        m.comments.push_back({span{id, static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(n)}, false});
        return;
      }
      m.comments.push_back({span{id, static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(end + 2)}, false});
      i = end + 2;
    } else {
      ++i;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Builder: parse tree -> AST.

class builder {
 public:
  builder(const source& src, file_id id, ast::module& m, diagnostics& out, const parse_limits& limits)
      : m_src(src), m_id(id), m_module(m), m_out(out), m_limits(limits) {}

  void build_file(const node& root) {
    for (const auto& c : root.children) {
      const node& n = *c;
      if (n.is_type<g::header>()) {
        m_module.head = build_header(n);
      } else if (n.is_type<g::import_decl>()) {
        m_module.imports.push_back({string_of(*n.children.at(0)), where(n)});
      } else if (n.is_type<g::org_block>()) {
        report_unclosed(n, "org");
        m_module.declarations.emplace_back(build_org(n));
      } else if (n.is_type<g::task_block>()) {
        report_unclosed(n, "task");
        m_module.declarations.emplace_back(build_task(n));
      } else if (n.is_type<g::lifecycle_block>()) {
        report_unclosed(n, "lifecycle");
        m_module.declarations.emplace_back(build_lifecycle(n));
      } else if (n.is_type<g::routing_block>()) {
        report_unclosed(n, "routing");
        m_module.declarations.emplace_back(build_routing(n));
      } else if (n.is_type<g::rule_decl>()) {
        build_rule(n);
      }
    }
  }

 private:
  // A block that ran into the next declaration (or the end of the file) before its `}`.
  void report_unclosed(const node& block, std::string_view keyword) {
    const node* open = nullptr;
    const node* unclosed = nullptr;
    for (const auto& c : block.children) {
      if (c->is_type<g::block_open>()) open = c.get();
      if (c->is_type<g::unclosed_block>()) unclosed = c.get();
    }
    if (unclosed == nullptr) return;
    const auto at = offset(unclosed->m_begin.data);
    const error_place p = place_error(m_src, at, m_module.comments, false);
    auto& d = m_out.emplace("E1012", span{m_id, p.at, p.at + p.width},
                            "expected `}` to close the " + std::string(keyword) + " block, found " + p.found);
    if (open != nullptr) d.labels.push_back({where(*open), "this `{` is never closed"});
  }

  span where(const node& n) const {
    return span{m_id, offset(n.m_begin.data), offset(n.m_end.data)};
  }
  std::uint32_t offset(const char* p) const { return static_cast<std::uint32_t>(p - m_src.text().data()); }

  ast::ident ident_of(const node& n) const { return {n.string(), where(n)}; }

  // The `///` lines directly above a declaration (only whitespace between them and it).
  std::string doc_before(const node& n) const {
    const std::uint32_t begin = offset(n.m_begin.data);
    const auto& cs = m_module.comments;
    auto it = std::lower_bound(cs.begin(), cs.end(), begin, [](const ast::comment& c, std::uint32_t b) { return c.where.begin < b; });
    std::vector<const ast::comment*> docs;
    std::uint32_t next = begin;
    while (it != cs.begin()) {
      --it;
      if (!it->is_doc) break;
      const auto between = m_src.text().substr(it->where.end, next - it->where.end);
      if (between.find_first_not_of(" \t\r\n") != std::string_view::npos) break;
      docs.push_back(&*it);
      next = it->where.begin;
    }
    std::string doc;
    for (auto d = docs.rbegin(); d != docs.rend(); ++d) {
      auto line = m_src.text().substr((*d)->where.begin + 3, (*d)->where.end - (*d)->where.begin - 3);
      if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      if (!doc.empty()) doc += '\n';
      doc += line;
    }
    return doc;
  }

  ast::string_lit string_of(const node& n) {
    const std::string_view raw = n.string_view();
    std::string value;
    value.reserve(raw.size());
    for (std::size_t i = 1; i + 1 < raw.size(); ++i) {
      char c = raw[i];
      if (c == '\\' && i + 2 < raw.size()) {
        const char e = raw[++i];
        c = e == 'n' ? '\n' : e == 't' ? '\t' : e;
      }
      value += c;
    }
    return {std::move(value), where(n)};
  }

  ast::header build_header(const node& n) {
    ast::header h;
    h.where = where(n);
    for (const auto& c : n.children) {
      if (c->is_type<g::name>()) h.name = ident_of(*c);
      else if (c->is_type<g::string_lit>()) h.version = string_of(*c);
      else if (c->is_type<g::layer_name>()) {
        h.layer_written = true;
        const auto s = c->string_view();
        h.level = s == "global" ? ast::layer::global : s == "shared" ? ast::layer::shared : ast::layer::project;
      }
    }
    return h;
  }

  ast::org_block build_org(const node& n) {
    ast::org_block b;
    b.where = where(n);
    for (const auto& c : n.children) {
      if (c->is_type<g::role_decl>()) {
        ast::role_decl r;
        r.where = where(*c);
        r.doc = doc_before(*c);
        r.name = ident_of(*c->children.at(0));
        if (c->children.size() > 1) r.reports_to = ident_of(*c->children[1]->children.at(0));
        b.items.emplace_back(std::move(r));
      } else if (c->is_type<g::agent_decl>()) {
        ast::agent_decl a;
        a.where = where(*c);
        a.doc = doc_before(*c);
        a.name = ident_of(*c->children.at(0));
        a.role = ident_of(*c->children.at(1));
        for (std::size_t i = 2; i < c->children.size(); ++i) {
          const node& k = *c->children[i];
          if (k.is_type<g::actor_kind_name>()) {
            a.kind_written = true;
            const auto s = k.string_view();
            a.kind = s == "agent" ? ast::actor_kind_value::agent
                     : s == "human" ? ast::actor_kind_value::human
                                    : ast::actor_kind_value::operator_;
          } else if (k.is_type<g::capabilities_clause>()) {
            a.capabilities_written = true;
            for (const auto& s : k.children) a.capabilities.push_back(string_of(*s));
          }
        }
        b.items.emplace_back(std::move(a));
      }
    }
    return b;
  }

  ast::task_block build_task(const node& n) {
    ast::task_block b;
    b.where = where(n);
    for (const auto& c : n.children) {
      if (!c->is_type<g::attr_decl>()) continue;
      ast::attr_decl a;
      a.where = where(*c);
      a.doc = doc_before(*c);
      a.name = ident_of(*c->children.at(0));
      const node& t = *c->children.at(1);
      a.type.where = where(t);
      if (t.is_type<g::type_enum>()) {
        a.type.kind = ast::type_kind::enum_;
        for (const auto& m : t.children) a.type.enum_members.push_back(ident_of(*m));
      } else if (t.is_type<g::type_set>()) {
        a.type.kind = ast::type_kind::string_set;
      } else {
        const auto s = t.string_view();
        a.type.kind = s == "string"     ? ast::type_kind::string
                      : s == "int"      ? ast::type_kind::int_
                      : s == "decimal"  ? ast::type_kind::decimal
                      : s == "bool"     ? ast::type_kind::bool_
                      : s == "duration" ? ast::type_kind::duration
                                        : ast::type_kind::timestamp;
      }
      const node& p = *c->children.at(2);
      if (p.is_type<g::attr_required>()) {
        a.how = ast::presence::required;
      } else if (p.is_type<g::attr_optional>()) {
        a.how = ast::presence::optional;
      } else {
        a.how = ast::presence::defaulted;
        a.default_value = build_expr(*p.children.at(0));
      }
      b.attributes.push_back(std::move(a));
    }
    return b;
  }

  std::vector<ast::ident> names_of(const node& n, std::size_t from = 0) {
    std::vector<ast::ident> out;
    for (std::size_t i = from; i < n.children.size(); ++i) {
      if (n.children[i]->is_type<g::name>()) out.push_back(ident_of(*n.children[i]));
    }
    return out;
  }

  ast::state_ref state_ref_of(const node& n) {
    ast::state_ref r;
    r.where = where(n);
    if (n.is_type<g::star_any>()) r.any = true;
    else r.name = ident_of(n);
    return r;
  }

  ast::lifecycle_block build_lifecycle(const node& n) {
    ast::lifecycle_block b;
    b.where = where(n);
    for (const auto& c : n.children) {
      if (c->is_type<g::states_decl>()) {
        b.items.emplace_back(ast::states_decl{names_of(*c), where(*c)});
      } else if (c->is_type<g::initial_decl>()) {
        b.items.emplace_back(ast::initial_decl{ident_of(*c->children.at(0)), where(*c)});
      } else if (c->is_type<g::terminal_decl>()) {
        b.items.emplace_back(ast::terminal_decl{names_of(*c), where(*c)});
      } else if (c->is_type<g::group_decl>()) {
        ast::group_decl gd;
        gd.where = where(*c);
        gd.doc = doc_before(*c);
        gd.name = ident_of(*c->children.at(0));
        gd.members = names_of(*c, 1);
        b.items.emplace_back(std::move(gd));
      } else if (c->is_type<g::transition_decl>()) {
        ast::transition_decl t;
        t.where = where(*c);
        t.doc = doc_before(*c);
        t.from = state_ref_of(*c->children.at(0));
        t.to = ident_of(*c->children.at(1));
        t.event = ident_of(*c->children.at(2));
        if (c->children.size() > 3) t.guard = condition_of(*c->children[3]);
        b.items.emplace_back(std::move(t));
      }
    }
    return b;
  }

  ast::target target_of(const node& n) {
    ast::target t;
    t.where = where(n);
    if (n.is_type<g::target_role>()) {
      t.kind = ast::target_kind::role;
      t.name = ident_of(*n.children.at(0));
    } else if (n.is_type<g::target_agent>()) {
      t.kind = ast::target_kind::agent;
      t.name = ident_of(*n.children.at(0));
    } else if (n.is_type<g::target_parent>()) {
      t.kind = ast::target_kind::parent;
    } else {
      t.kind = ast::target_kind::operator_;
    }
    return t;
  }

  ast::routing_block build_routing(const node& n) {
    ast::routing_block b;
    b.where = where(n);
    for (const auto& item : n.children) {
      if (!item->is_type<g::routing_item>()) continue;
      ast::route_rule r;
      r.where = where(*item);
      r.doc = doc_before(*item);
      for (const auto& c : item->children) {
        if (c->is_type<g::override_mark>()) {
          r.is_override = true;
        } else if (c->is_type<g::route_rule>()) {
          r.name = ident_of(*c->children.at(0));
          r.when = condition_of(*c->children.at(1));
          r.to = target_of(*c->children.at(2));
        } else if (c->is_type<g::fallback_rule>()) {
          r.is_fallback = true;
          r.name = {"otherwise", span{m_id, offset(c->m_begin.data), offset(c->m_begin.data) + 9}};
          r.to = target_of(*c->children.at(0));
        }
      }
      b.routes.push_back(std::move(r));
    }
    return b;
  }

  std::vector<ast::ident> events_of(const node& n) { return names_of(n); }

  void build_rule(const node& n) {
    bool is_override = false;
    const node* body = nullptr;
    for (const auto& c : n.children) {
      if (c->is_type<g::override_mark>()) is_override = true;
      else body = c.get();
    }
    if (body == nullptr) return;
    const node& b = *body;
    const span at = where(n);
    std::string doc = doc_before(n);
    if (b.is_type<g::gate_rule>()) {
      ast::gate_rule r;
      r.is_override = is_override;
      r.where = at;
      r.doc = std::move(doc);
      r.name = ident_of(*b.children.at(0));
      r.when = condition_of(*b.children.at(1));
      if (b.children.size() > 2) r.reason = string_of(*b.children[2]->children.at(0));
      m_module.declarations.emplace_back(std::move(r));
    } else if (b.is_type<g::permit_rule>() || b.is_type<g::forbid_rule>()) {
      ast::permission_rule r;
      r.is_override = is_override;
      r.kind = b.is_type<g::permit_rule>() ? ast::effect::permit : ast::effect::forbid;
      r.where = at;
      r.doc = std::move(doc);
      r.name = ident_of(*b.children.at(0));
      r.events = events_of(*b.children.at(1));
      for (std::size_t i = 2; i < b.children.size(); ++i) {
        if (b.children[i]->is_type<g::condition>()) r.when = condition_of(*b.children[i]);
        else if (b.children[i]->is_type<g::reason>()) r.reason = string_of(*b.children[i]->children.at(0));
      }
      m_module.declarations.emplace_back(std::move(r));
    } else if (b.is_type<g::escalate_rule>()) {
      ast::escalation_rule r;
      r.is_override = is_override;
      r.where = at;
      r.doc = std::move(doc);
      r.name = ident_of(*b.children.at(0));
      r.when = condition_of(*b.children.at(1));
      r.to = target_of(*b.children.at(2));
      m_module.declarations.emplace_back(std::move(r));
    } else if (b.is_type<g::obligation_rule>()) {
      ast::obligation_rule r;
      r.is_override = is_override;
      r.where = at;
      r.doc = std::move(doc);
      r.name = ident_of(*b.children.at(0));
      r.events = events_of(*b.children.at(1));
      for (std::size_t i = 2; i < b.children.size(); ++i) {
        const node& c = *b.children[i];
        if (c.is_type<g::condition>()) {
          r.when = condition_of(c);
        } else if (c.is_type<g::action_notify>() || c.is_type<g::action_review>()) {
          ast::obligation_action a;
          a.kind = c.is_type<g::action_notify>() ? ast::obligation_action_kind::notify
                                                 : ast::obligation_action_kind::require_review;
          a.who = target_of(*c.children.at(0));
          a.where = where(c);
          r.actions.push_back(std::move(a));
        }
      }
      m_module.declarations.emplace_back(std::move(r));
    } else if (b.is_type<g::invariant_rule>()) {
      ast::invariant_decl r;
      r.is_override = is_override;
      r.where = at;
      r.doc = std::move(doc);
      r.name = ident_of(*b.children.at(0));
      for (std::size_t i = 1; i < b.children.size(); ++i) {
        const node& c = *b.children[i];
        if (c.is_type<g::condition>()) {
          r.when = condition_of(c);
        } else if (c.is_type<g::inv_passes>()) {
          r.kind = ast::invariant_kind::passes;
          r.to = state_ref_of(*c.children.at(0));
          r.event = ident_of(*c.children.at(1));
        } else if (c.is_type<g::inv_reachable>()) {
          r.kind = ast::invariant_kind::reachable;
          r.from = state_ref_of(*c.children.at(0));
        } else if (c.is_type<g::inv_terminates>()) {
          r.kind = ast::invariant_kind::terminates;
          r.from = state_ref_of(*c.children.at(0));
        } else if (c.is_type<g::inv_never>()) {
          r.kind = ast::invariant_kind::never;
          r.from = state_ref_of(*c.children.at(0));
          r.to = state_ref_of(*c.children.at(1));
        }
      }
      m_module.declarations.emplace_back(std::move(r));
    }
  }

  ast::expr_ptr condition_of(const node& n) { return build_expr(*n.children.at(0)); }

  ast::expr_ptr make(ast::expr_kind kind, const node& n) {
    auto e = std::make_unique<ast::expr>();
    e->kind = kind;
    e->where = where(n);
    return e;
  }

  void literal_error(const node& n, const std::string& message) { m_out.emplace("E1011", where(n), message); }

  ast::expr_ptr build_int(const node& n, ast::expr_kind kind) {
    auto e = make(kind, n);
    const std::string_view s = n.string_view();
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), e->number);
    if (ec != std::errc{} || ptr != s.data() + s.size()) {
      literal_error(n, "integer literal `" + std::string(s) + "` is out of range (ints are 64-bit: at most " +
                           std::to_string(std::numeric_limits<std::int64_t>::max()) + ")");
    }
    return e;
  }

  ast::expr_ptr build_decimal(const node& n) {
    auto e = make(ast::expr_kind::decimal_lit, n);
    std::string_view s = n.string_view();
    const bool negative = s.front() == '-';
    if (negative) s.remove_prefix(1);
    const auto point = s.find('.');
    const std::string_view whole = s.substr(0, point), frac = s.substr(point + 1);
    if (frac.size() > 6) {
      literal_error(n, "decimal literal `" + n.string() + "` has more than 6 decimal places");
      return e;
    }
    std::int64_t w = 0, f = 0;
    auto r1 = std::from_chars(whole.data(), whole.data() + whole.size(), w);
    std::from_chars(frac.data(), frac.data() + frac.size(), f);
    for (std::size_t i = frac.size(); i < 6; ++i) f *= 10;
    constexpr std::int64_t scale = 1000000;
    if (r1.ec != std::errc{} || w > (std::numeric_limits<std::int64_t>::max() - f) / scale) {
      literal_error(n, "decimal literal `" + n.string() + "` is out of range");
      return e;
    }
    e->number = (w * scale + f) * (negative ? -1 : 1);
    return e;
  }

  ast::expr_ptr build_duration(const node& n) {
    auto e = make(ast::expr_kind::duration_lit, n);
    const std::string_view s = n.string_view();
    std::int64_t total = 0;
    std::size_t i = 0;
    while (i < s.size()) {
      std::size_t j = i;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      std::int64_t amount = 0;
      auto r = std::from_chars(s.data() + i, s.data() + j, amount);
      std::int64_t unit = 0;
      std::size_t k = j;
      if (s.substr(j, 2) == "ms") {
        unit = 1;
        k += 2;
      } else {
        unit = s[j] == 's' ? 1000 : s[j] == 'm' ? 60'000 : s[j] == 'h' ? 3'600'000 : 86'400'000;
        k += 1;
      }
      if (r.ec != std::errc{} || amount > (std::numeric_limits<std::int64_t>::max() - total) / unit) {
        literal_error(n, "duration literal `" + n.string() + "` is out of range");
        return e;
      }
      total += amount * unit;
      i = k;
    }
    e->number = total;
    return e;
  }

  // The operator of a comparison, from its text (`not in` may hold whitespace or comments).
  static std::optional<ast::binary_op> op_of(const node& n) {
    const std::string_view t = n.string_view();
    if (t == "==") return ast::binary_op::eq;
    if (t == "!=") return ast::binary_op::ne;
    if (t == "<") return ast::binary_op::lt;
    if (t == "<=") return ast::binary_op::le;
    if (t == ">") return ast::binary_op::gt;
    if (t == ">=") return ast::binary_op::ge;
    if (t == "in") return ast::binary_op::in;
    if (t.rfind("not", 0) == 0) return ast::binary_op::not_in;
    if (t == "contains") return ast::binary_op::contains;
    if (t == "subset") return ast::binary_op::subset;
    if (t == "parent_of") return ast::binary_op::parent_of;
    if (t == "ancestor_of") return ast::binary_op::ancestor_of;
    return std::nullopt;
  }

  ast::expr_ptr build_chain(const node& n, ast::binary_op op) {
    if (n.children.size() > m_limits.max_chain) {
      m_out.emplace("E1006", where(n),
                    "this expression chains " + std::to_string(n.children.size()) + " operands; the limit is " +
                        std::to_string(m_limits.max_chain));
      auto e = make(ast::expr_kind::bool_lit, n);
      return e;
    }
    ast::expr_ptr left = build_expr(*n.children.at(0));
    std::size_t depth = m_depth;
    for (std::size_t i = 1; i < n.children.size(); ++i) {
      auto right = build_expr(*n.children[i]);
      depth = std::max(depth, m_depth) + 1;
      if (depth > max_expression_depth) {
        // Chains nested in chains: each within its own limits, but the tree (which every later
        // pass walks recursively) would be deeper than the stack can safely take.
        m_out.emplace("E1006", where(n),
                      "this expression is too deeply nested: its operators nest more than " +
                          std::to_string(max_expression_depth) + " levels deep")
            .help = "split the condition into several rules";
        m_depth = 1;
        return make(ast::expr_kind::bool_lit, n);
      }
      auto e = std::make_unique<ast::expr>();
      e->kind = ast::expr_kind::binary;
      e->op = op;
      e->where = span{m_id, left->where.begin, right->where.end};
      e->children.push_back(std::move(left));
      e->children.push_back(std::move(right));
      left = std::move(e);
    }
    m_depth = depth;
    return left;
  }

  // Builds an expression and sets m_depth to the depth of its tree.
  ast::expr_ptr build_expr(const node& n) {
    m_depth = 1;
    if (n.is_type<g::string_lit>()) {
      auto e = make(ast::expr_kind::string_lit, n);
      e->text = string_of(n).value;
      return e;
    }
    if (n.is_type<g::int_lit>()) return build_int(n, ast::expr_kind::int_lit);
    if (n.is_type<g::decimal_lit>()) return build_decimal(n);
    if (n.is_type<g::duration_lit>()) return build_duration(n);
    if (n.is_type<g::malformed_number>()) {
      literal_error(n, "`" + n.string() + "` is not a valid number or duration (durations look like 30m, 24h, 1h30m, 500ms)");
      // Typed as what it most likely meant (`24hours` a duration, `1.2.3` a decimal), so the checker
      // does not add a type error about a literal that is already reported.
      const std::string_view t = n.string_view();
      const auto digits = t.find_first_not_of("-0123456789");
      const bool duration = digits != std::string_view::npos && std::string_view("smhd").find(t[digits]) != std::string_view::npos;
      const bool decimal = !duration && t.find('.') != std::string_view::npos;
      return make(duration ? ast::expr_kind::duration_lit : decimal ? ast::expr_kind::decimal_lit : ast::expr_kind::int_lit, n);
    }
    if (n.is_type<g::true_lit>() || n.is_type<g::false_lit>()) {
      auto e = make(ast::expr_kind::bool_lit, n);
      e->number = n.is_type<g::true_lit>() ? 1 : 0;
      return e;
    }
    if (n.is_type<g::path>()) {
      const bool single = n.children.size() == 1;
      const std::string first = n.children.at(0)->string();
      if (single && first != "now" && first != "event") {
        auto e = make(ast::expr_kind::symbol, n);
        e->text = first;
        return e;
      }
      auto e = make(ast::expr_kind::path, n);
      for (const auto& c : n.children) e->path.push_back(ident_of(*c));
      return e;
    }
    if (n.is_type<g::set_lit>()) {
      auto e = make(ast::expr_kind::set, n);
      std::size_t depth = 0;
      for (const auto& c : n.children) {
        e->children.push_back(build_expr(*c));
        depth = std::max(depth, m_depth);
      }
      m_depth = depth + 1;
      return e;
    }
    if (n.is_type<g::negation>()) {
      auto e = make(ast::expr_kind::not_, n);
      e->children.push_back(build_expr(*n.children.at(0)));
      ++m_depth;
      return e;
    }
    if (n.is_type<g::comparison>()) {
      // A folded comparison has exactly three children: left, operator, right.
      auto e = make(ast::expr_kind::binary, n);
      e->op = op_of(*n.children.at(1)).value_or(ast::binary_op::eq);
      e->children.push_back(build_expr(*n.children.at(0)));
      const std::size_t left_depth = m_depth;
      e->children.push_back(build_expr(*n.children.at(2)));
      m_depth = std::max(left_depth, m_depth) + 1;
      return e;
    }
    if (n.is_type<g::and_expr>()) return build_chain(n, ast::binary_op::and_);
    if (n.is_type<g::or_expr>()) return build_chain(n, ast::binary_op::or_);
    // Unreachable for trees the grammar produces; keep the AST well-formed regardless.
    return make(ast::expr_kind::bool_lit, n);
  }

  // The deepest expression tree the builder hands on (every later pass recurses over it); well
  // above what the nesting and chain limits allow alone, far below what exhausts a stack.
  static constexpr std::size_t max_expression_depth = 2000;

  const source& m_src;
  file_id m_id;
  ast::module& m_module;
  diagnostics& m_out;
  const parse_limits& m_limits;
  std::size_t m_depth = 0;  // of the expression build_expr returned last
};

}  // namespace

ast::module parse(const source& src, file_id id, diagnostics& out, const parse_limits& limits) {
  ast::module m;
  m.file = id;
  const std::string_view text = src.text();
  if (text.size() > limits.max_bytes) {
    out.emplace("E1005", span{id, 0, 0},
                "the file is " + std::to_string(text.size()) + " bytes; policy files are limited to " +
                    std::to_string(limits.max_bytes) + " bytes")
        .help = "split the policy into several files joined with `import`";
    return m;
  }
  if (const auto bad = first_invalid_utf8(text); bad != std::string_view::npos) {
    static constexpr char hex[] = "0123456789ABCDEF";
    const auto byte = static_cast<unsigned char>(text[bad]);
    auto& d = out.emplace("E1004", span{id, static_cast<std::uint32_t>(bad), static_cast<std::uint32_t>(bad + 1)},
                          byte == 0 ? std::string("the file contains a NUL byte: it looks like a binary file, not a policy")
                                    : std::string("the file is not valid UTF-8 text: byte 0x") + hex[byte >> 4] +
                                          hex[byte & 0xF] + " does not begin a well-formed character here");
    d.help = "policy files are UTF-8 text; check the file's encoding";
    return m;
  }
  scan_comments(text, id, m, out);

  parse_state state{src, id, out, m.comments};
  // No source name: PEGTL copies it into every parse tree node, and spans are ours anyway.
  pegtl::memory_input<pegtl::tracking_mode::lazy> in(text.data(), text.size(), "");
  try {
    auto root = pegtl::parse_tree::parse<g::file, node, selector, recovery_action, control>(in, state);
    if (root) builder(src, id, m, out, limits).build_file(*root);
  } catch (const pegtl::parse_error&) {
    // Already recorded by the control class; errors outside any recovery point end the parse.
  }
  return m;
}

}  // namespace agentos::dsl
