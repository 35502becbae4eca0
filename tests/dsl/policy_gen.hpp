// A deterministic generator of random, valid policies, for the formatter's round-trip tests, the
// fuzz corpus, the benchmark and differential tests of the engine. The same seed and options
// always give the same text (splitmix64; no std::random_device, no unordered iteration).
//
// What "valid" means here: every generated file (or policy set) checks with no errors and no
// warnings from the dsl checker (a test holds it to that). Names are declared before use and
// unique, expressions are well typed (enum comparisons use members of that enum, bare names only
// where context gives them a type), every forbid has a reason, every group is used, no transition
// leaves a terminal state, routing has a fallback. Invariants hold by construction: the lifecycle
// is a chain st0 -> st1 -> … -> done with `* -> cancelled`, extra edges never enter the states
// that `every path to … passes …` invariants protect, and `never` invariants start at a terminal
// state. The engine's graph lints are kept quiet too, as far as cheap rules allow: no condition
// reads a field twice (so none contradicts itself), no comparison is always or never true, each
// route and forbid carries a label of its own (so none shadows another), escalations only go up
// the chart, to the operator or to the top role, and one permit lets the operator perform every
// event.
//
// With `messy`, the text is deliberately non-canonical: random whitespace and line breaks between
// tokens, comments between tokens, redundant parentheses, literals spelled in other ways (90m,
// 1.500, raw tabs in strings). Header-only; no dependency beyond the standard library.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace agentos::dsl::gen {

struct gen_options {
  // Named rules: routes, gates, permits, forbids, escalations, obligations, invariants. The
  // fallback route and the operator's permit come on top.
  std::size_t rules = 24;
  std::size_t roles = 0;        // 0: derived from `rules`
  std::size_t states = 0;       // 0: derived from `rules` (at least 5)
  std::size_t attributes = 0;   // 0: derived from `rules`
  int max_depth = 3;            // nesting of and/or/not in conditions
  bool comments = true;         // line, block and doc comments
  bool messy = false;           // non-canonical layout and spellings (see above)
};

// The entry file of generate_policy_set; it imports every other file.
inline constexpr std::string_view entry_file = "main.policy";

class splitmix64 {
 public:
  explicit splitmix64(std::uint64_t seed) : m_state(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (m_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
  bool chance(unsigned percent) { return below(100) < percent; }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }

 private:
  std::uint64_t m_state;
};

namespace detail {

inline const std::vector<std::string>& words() {
  static const std::vector<std::string> w{"alpha", "build", "cost", "deploy", "edit",  "field", "gamma", "house",
                                          "intake", "jump", "keel",  "ledger", "mail",  "north", "orbit", "plan",
                                          "quota", "relay", "ship",  "triage", "upkeep", "vault", "wharf", "yard"};
  return w;
}

enum class attr_type { string, int_, decimal, bool_, duration, timestamp, enum_, string_set };

struct attribute {
  std::string name;
  attr_type type = attr_type::string;
  std::vector<std::string> members;  // enum_
};

// Everything a policy set declares, so that rules only use what exists.
struct vocabulary {
  std::vector<std::string> roles;
  std::vector<int> parent;  // index into roles or -1
  std::vector<std::string> agents;
  std::vector<attribute> attributes;
  std::vector<std::string> states;  // st… ; the last two are terminal
  std::vector<std::string> events;
  std::vector<std::string> groups;
  std::vector<std::vector<std::size_t>> group_members;
  std::vector<bool> protected_state;  // no extra edge may enter it
  std::vector<std::string> capabilities;
  std::vector<std::string> labels;
  std::size_t done() const { return states.size() - 2; }
  std::size_t cancelled() const { return states.size() - 1; }
};

enum class rule_kind { route, gate, permit, forbid, escalate, obligation, invariant };

struct rule_ref {
  rule_kind kind;
  std::string name;
  int layer;  // 0 global, 1 shared, 2 project
  bool overridden = false;
};

// Writes tokens, with canonical-looking or deliberately messy spacing.
class text_out {
 public:
  text_out(splitmix64& rng, const gen_options& o) : m_rng(rng), m_opts(o) {}

  std::string& str() { return m_text; }

  // A word, number, string or operator: separated from the previous token.
  void word(std::string_view t) {
    if (!m_line_start && !(m_after_paren && !m_opts.messy)) separator();
    m_text += t;
    m_line_start = false;
    m_after_paren = false;
  }

  // `(`: the next token follows it directly in tidy text.
  void open_paren() {
    word("(");
    m_after_paren = true;
  }

  // Punctuation that follows the previous token directly in tidy text (`,`, `:`, `)`, `<`).
  void glue(std::string_view t) {
    if (m_opts.messy && !m_line_start && m_rng.chance(25)) separator();
    m_text += t;
    m_line_start = false;
    m_after_paren = false;
  }

  // Ends the current line and starts a new one at `indent`.
  void newline(int indent) {
    if (m_opts.comments && !m_line_start && m_rng.chance(m_opts.messy ? 10 : 4)) {
      m_text += m_rng.chance(80) ? " // " + phrase() : " /* " + phrase() + " */";
    }
    m_text += '\n';
    if (m_opts.messy && m_rng.chance(10)) m_text += m_rng.chance(50) ? "\n" : "   \n\n";
    const int width = m_opts.messy && m_rng.chance(30) ? static_cast<int>(m_rng.below(7)) : indent * 2;
    m_text.append(static_cast<std::size_t>(width), m_opts.messy && m_rng.chance(5) ? '\t' : ' ');
    m_line_start = true;
  }

  void blank_line(int indent) {
    newline(0);
    newline(indent);
  }

  // Comment lines before an item: sometimes a plain comment, sometimes a doc comment.
  void comments_before(int indent, bool doc_allowed) {
    if (!m_opts.comments) return;
    if (m_rng.chance(12)) {
      m_text += "// " + phrase();
      newline(indent);
    }
    if (doc_allowed && m_rng.chance(25)) {
      const std::size_t lines = 1 + m_rng.below(2);
      for (std::size_t i = 0; i < lines; ++i) {
        m_text += m_rng.chance(90) ? "/// " + phrase() : "////" + phrase();
        newline(indent);
      }
    }
    if (m_rng.chance(3)) {
      m_text += "/* " + phrase() + "\n   " + phrase() + " */";
      newline(indent);
    }
  }

  std::string phrase() {
    std::string p;
    const std::size_t n = 1 + m_rng.below(5);
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0) p += ' ';
      p += m_rng.pick(words());
    }
    if (m_rng.chance(10)) p += " — ünïcode";
    if (m_rng.chance(5)) p += " \"quoted\" and // slashes";
    return p;
  }

 private:
  void separator() {
    if (!m_opts.messy) {
      m_text += ' ';
      return;
    }
    const auto r = m_rng.below(100);
    if (r < 62) m_text += ' ';
    else if (r < 72) m_text += "  ";
    else if (r < 77) m_text += '\t';
    else if (r < 88) m_text += "\n      ";
    else if (r < 91) m_text += "\n\n  ";
    else if (m_opts.comments && r < 96) m_text += " /* " + phrase() + " */ ";
    else if (m_opts.comments) m_text += " // " + phrase() + "\n    ";
    else m_text += ' ';
  }

  splitmix64& m_rng;
  const gen_options& m_opts;
  std::string m_text;
  bool m_line_start = true;
  bool m_after_paren = false;
};

class generator {
 public:
  generator(std::uint64_t seed, const gen_options& o) : m_rng(seed), m_opts(o) {}

  // One file, or a set of `files` files split across the layers.
  std::map<std::string, std::string> run(std::size_t files) {
    files = std::max<std::size_t>(files, 1);
    build_vocabulary();
    // Layers: the first quarter global, the next quarter shared, the rest (and the entry) project.
    std::vector<std::string> names;
    std::vector<int> layers;
    for (std::size_t f = 0; f < files; ++f) {
      if (files == 1 || f + 1 == files) {
        names.emplace_back(entry_file);
        layers.push_back(files == 1 ? single_layer() : 2);
      } else if (f < std::max<std::size_t>(1, files / 4)) {
        names.push_back("global/g" + std::to_string(f) + ".policy");
        layers.push_back(0);
      } else if (f < std::max<std::size_t>(2, files / 2)) {
        names.push_back("shared/s" + std::to_string(f) + ".policy");
        layers.push_back(1);
      } else {
        names.push_back("project/p" + std::to_string(f) + ".policy");
        layers.push_back(2);
      }
    }
    std::map<std::string, std::string> out;
    for (std::size_t f = 0; f < files; ++f) {
      out[names[f]] = file(f, files, names, layers);
    }
    return out;
  }

 private:
  // -------------------------------------------------------------------------------------------
  // Vocabulary

  std::string fresh(std::string_view prefix) {
    return std::string(prefix) + "_" + m_rng.pick(words()) + "_" + std::to_string(m_counter++);
  }

  int single_layer() {
    const auto r = m_rng.below(4);
    m_layer_written = r != 0;
    return r == 0 ? 2 : static_cast<int>(r - 1);
  }

  void build_vocabulary() {
    const std::size_t rules = std::max<std::size_t>(m_opts.rules, 1);
    const std::size_t roles = m_opts.roles ? m_opts.roles : std::clamp<std::size_t>(rules / 8, 3, 400);
    const std::size_t states = m_opts.states ? std::max<std::size_t>(m_opts.states, 5)
                                             : std::clamp<std::size_t>(rules / 6, 5, 40);
    const std::size_t attrs = m_opts.attributes ? m_opts.attributes : std::clamp<std::size_t>(rules / 6, 4, 60);
    for (std::size_t i = 0; i < roles; ++i) {
      v.roles.push_back(fresh("role"));
      v.parent.push_back(i == 0 || m_rng.chance(10) ? -1 : static_cast<int>(m_rng.below(i)));
    }
    for (std::size_t i = 0; i < std::max<std::size_t>(2, roles / 2); ++i) v.agents.push_back(fresh("agent"));
    for (std::size_t i = 0; i < 6; ++i) v.capabilities.push_back("cap-" + m_rng.pick(words()) + std::to_string(i));
    for (std::size_t i = 0; i < 5; ++i) v.labels.push_back(m_rng.pick(words()) + "-" + std::to_string(i));
    // At least one attribute of each type, then random ones.
    for (std::size_t i = 0; i < attrs; ++i) {
      attribute a;
      a.name = fresh("attr");
      a.type = i < 8 ? static_cast<attr_type>(i) : static_cast<attr_type>(m_rng.below(8));
      if (a.type == attr_type::enum_) {
        const std::size_t n = 2 + m_rng.below(4);
        for (std::size_t k = 0; k < n; ++k) a.members.push_back(m_rng.pick(words()) + std::to_string(k));
      }
      v.attributes.push_back(std::move(a));
    }
    for (std::size_t i = 0; i < states; ++i) v.states.push_back("st" + std::to_string(i) + "_" + m_rng.pick(words()));
    v.protected_state.assign(states, false);
    // Chain events, then the cancel event.
    for (std::size_t i = 0; i + 2 < states; ++i) v.events.push_back("ev" + std::to_string(i) + "_" + m_rng.pick(words()));
    v.events.push_back("cancel_" + std::to_string(m_counter++));
    for (std::size_t k = 1; k + 2 < states; ++k) {
      if (m_rng.chance(30)) v.protected_state[k] = true;
    }
    // Groups of non-terminal states.
    const std::size_t groups = 1 + m_rng.below(3);
    for (std::size_t g = 0; g < groups; ++g) {
      v.groups.push_back(fresh("grp"));
      std::vector<std::size_t> members;
      for (std::size_t s = 0; s + 2 < states; ++s) {
        if (m_rng.chance(40)) members.push_back(s);
      }
      if (members.empty()) members.push_back(m_rng.below(states - 2));
      v.group_members.push_back(std::move(members));
    }
    // Extra transitions, some with new events; every group is the source of one.
    const std::size_t extra = groups + m_rng.below(states);
    for (std::size_t i = 0; i < extra; ++i) {
      extra_edge e;
      if (i < groups) {
        e.from = v.groups[i];
      } else if (m_rng.chance(15)) {
        e.from = "*";
      } else {
        e.from = v.states[m_rng.below(states - 2)];
      }
      std::vector<std::size_t> targets;
      for (std::size_t s = 0; s + 1 < states; ++s) {
        if (!v.protected_state[s]) targets.push_back(s);
      }
      e.to = v.states[m_rng.pick(targets)];
      if (m_rng.chance(50)) {
        e.event = "ev_x" + std::to_string(m_counter++);
        v.events.push_back(e.event);
      } else {
        e.event = v.events[m_rng.below(v.events.size())];
      }
      e.guarded = m_rng.chance(50);
      m_extra_edges.push_back(std::move(e));
    }
  }

  // -------------------------------------------------------------------------------------------
  // Literals

  std::string int_lit() {
    if (m_rng.chance(5)) return std::to_string(static_cast<std::int64_t>(m_rng.next() >> 20));
    return std::to_string(static_cast<int>(m_rng.below(120)) - (m_rng.chance(15) ? 50 : 0));
  }

  std::string decimal_lit() {
    const bool negative = m_rng.chance(10);
    std::string whole = std::to_string(m_rng.below(m_rng.chance(20) ? 1000000 : 500));
    std::string frac = std::to_string(m_rng.below(1000000));
    frac.insert(0, 6 - frac.size(), '0');
    while (frac.size() > 1 && frac.back() == '0') frac.pop_back();
    const std::size_t keep = m_rng.below(3);
    if (m_rng.chance(50)) frac = frac.substr(0, std::min(frac.size(), keep + 1));
    if (m_opts.messy && m_rng.chance(30)) frac.append(std::min<std::size_t>(6 - frac.size(), m_rng.below(3)), '0');
    return (negative ? "-" : "") + whole + "." + frac;
  }

  std::string duration_lit() {
    static const std::vector<std::string> units{"d", "h", "m", "s", "ms"};
    static const std::vector<std::size_t> limits{30, 48, 180, 600, 5000};
    std::string out;
    const std::size_t parts = m_opts.messy ? 1 + m_rng.below(3) : 1 + (m_rng.chance(30) ? 1 : 0);
    std::size_t unit = m_rng.below(units.size());
    for (std::size_t i = 0; i < parts; ++i) {
      out += std::to_string(1 + m_rng.below(limits[unit]));
      out += units[unit];
      unit = m_opts.messy ? m_rng.below(units.size()) : std::min(unit + 1, units.size() - 1);
    }
    return out;
  }

  std::string string_lit() {
    std::string out = "\"";
    const std::size_t n = m_rng.below(12);
    for (std::size_t i = 0; i < n; ++i) {
      const auto r = m_rng.below(100);
      if (r < 70) out += static_cast<char>('a' + m_rng.below(26));
      else if (r < 78) out += ' ';
      else if (r < 81) out += "\\\"";
      else if (r < 84) out += "\\\\";
      else if (r < 87) out += "\\n";
      else if (r < 90) out += (m_opts.messy && m_rng.chance(50)) ? "\t" : "\\t";
      else if (r < 94) out += "é";
      else if (r < 97) out += "→";
      else out += "/*x*/ //y";
    }
    return out + "\"";
  }

  std::string quoted(const std::string& plain) { return "\"" + plain + "\""; }

  // -------------------------------------------------------------------------------------------
  // Expressions. Precedence: or 1, and 2, not 3, comparison 4, operand 5.

  // An operand, sometimes in redundant parentheses when messy.
  void operand(text_out& o, const std::string& text) {
    if (m_opts.messy && m_rng.chance(5)) {
      o.open_paren();
      o.glue(text);
      o.glue(")");
    } else {
      o.word(text);
    }
  }

  void set_of(text_out& o, const std::vector<std::string>& items) {
    o.word("{");
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i > 0) o.glue(",");
      o.word(items[i]);
    }
    if (items.empty() && !m_opts.messy) {
      o.glue("}");
    } else {
      o.word("}");
    }
  }

  template <typename T>
  std::vector<T> some(const std::vector<T>& from, std::size_t max) {
    std::vector<T> out;
    const std::size_t n = 1 + m_rng.below(std::min(max, from.size()));
    std::vector<std::size_t> idx(from.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t j = i + m_rng.below(idx.size() - i);
      std::swap(idx[i], idx[j]);
      out.push_back(from[idx[i]]);
    }
    return out;
  }

  std::vector<std::string> quoted_all(const std::vector<std::string>& v) {
    std::vector<std::string> out;
    for (const auto& s : v) out.push_back(quoted(s));
    return out;
  }

  const char* ordered_op() {
    static const char* ops[] = {"==", "!=", "<", "<=", ">", ">="};
    return ops[m_rng.below(6)];
  }
  const char* eq_op() { return m_rng.chance(70) ? "==" : "!="; }

  void compare(text_out& o, const std::string& left, const char* op, const std::string& right) {
    operand(o, left);
    o.word(op);
    operand(o, right);
  }

  // `x in { … }` or `x not in { … }`. The set never holds every member: that would make the
  // comparison always true (or, negated, never).
  void membership(text_out& o, const std::string& left, const std::vector<std::string>& all, std::size_t max) {
    operand(o, left);
    o.word(all.size() > 1 && m_rng.chance(30) ? "not in" : "in");
    set_of(o, some(all, all.size() > 1 ? std::min(max, all.size() - 1) : max));
  }

  // Where a condition appears: anywhere, a transition guard (no task.state, which the source state
  // fixes) or an invariant (task attributes only).
  enum class scope { full, guard, task_only };

  // What a comparison reads. Each condition reads each field at most once, so no conjunction of
  // random comparisons contradicts itself (lints L0003/L0004 would flag it).
  enum class field_kind { attempts, time_in_state, age, mode, state, labels, assignee_role, attribute, actor_kind,
                          actor_role, actor_id, capabilities, event, now, id_or_project };

  bool allowed(field_kind f, scope sc) const {
    if (sc == scope::guard && f == field_kind::state) return false;
    if (sc == scope::task_only) {
      return f != field_kind::actor_kind && f != field_kind::actor_role && f != field_kind::actor_id &&
             f != field_kind::capabilities && f != field_kind::event && f != field_kind::now;
    }
    return true;
  }

  // A comparison (precedence 4).
  void comparison(text_out& o, scope sc) {
    static constexpr field_kind kinds[] = {
        field_kind::attempts, field_kind::time_in_state, field_kind::age,       field_kind::mode,
        field_kind::state,    field_kind::labels,        field_kind::assignee_role, field_kind::attribute,
        field_kind::attribute, field_kind::attribute,    field_kind::actor_kind, field_kind::actor_role,
        field_kind::actor_id, field_kind::capabilities,  field_kind::event,     field_kind::now,
        field_kind::id_or_project};
    for (int attempt = 0; attempt < 12; ++attempt) {
      const field_kind f = kinds[m_rng.below(std::size(kinds))];
      if (!allowed(f, sc)) continue;
      if (f == field_kind::attribute) {
        const attribute& a = m_rng.pick(v.attributes);
        if (!m_used.insert("task." + a.name).second) continue;
        attribute_comparison(o, a, sc);
        return;
      }
      if (!m_used.insert(std::to_string(static_cast<int>(f))).second) continue;
      field_comparison(o, f);
      return;
    }
    // Every field drawn is taken: a label of its own cannot contradict anything.
    compare(o, quoted("only-" + std::to_string(m_counter++)), "in", "task.labels");
  }

  void field_comparison(text_out& o, field_kind f) {
    switch (f) {
      case field_kind::attempts: compare(o, "task.attempts", ordered_op(), std::to_string(1 + m_rng.below(9))); break;
      case field_kind::time_in_state: compare(o, "task.time_in_state", ordered_op(), duration_lit()); break;
      case field_kind::age: compare(o, "task.age", ordered_op(), duration_lit()); break;
      case field_kind::mode: compare(o, "task.mode", eq_op(), m_rng.chance(50) ? "direct" : "plan_first"); break;
      case field_kind::state:
        if (m_rng.chance(50)) compare(o, "task.state", eq_op(), m_rng.pick(v.states));
        else membership(o, "task.state", v.states, 4);
        break;
      case field_kind::labels: {
        const auto r = m_rng.below(3);
        if (r == 0) {
          operand(o, quoted(m_rng.pick(v.labels)));
          o.word(m_rng.chance(80) ? "in" : "not in");
          operand(o, "task.labels");
        } else if (r == 1) {
          compare(o, "task.labels", "contains", quoted(m_rng.pick(v.labels)));
        } else {
          set_of(o, quoted_all(some(v.labels, 3)));
          o.word("subset");
          operand(o, "task.labels");
        }
        break;
      }
      case field_kind::assignee_role:
        if (m_rng.chance(70)) compare(o, "task.assignee_role", eq_op(), m_rng.pick(v.roles));
        else membership(o, "task.assignee_role", v.roles, 3);
        break;
      case field_kind::actor_kind:
        compare(o, "actor.kind", eq_op(), m_rng.pick(std::vector<std::string>{"agent", "human", "operator"}));
        break;
      case field_kind::actor_role: {
        const auto r = m_rng.below(4);
        if (r == 0) compare(o, "actor.role", eq_op(), m_rng.pick(v.roles));
        else if (r == 1) compare(o, "actor.role", "parent_of", "task.assignee_role");
        else if (r == 2) compare(o, "actor.role", "ancestor_of", "task.assignee_role");
        else compare(o, m_rng.pick(v.roles), "ancestor_of", "task.assignee_role");
        break;
      }
      case field_kind::actor_id: compare(o, "actor.id", eq_op(), m_rng.chance(70) ? "task.assignee" : string_lit()); break;
      case field_kind::capabilities:
        if (m_rng.chance(50)) compare(o, quoted(m_rng.pick(v.capabilities)), "in", "actor.capabilities");
        else compare(o, "actor.capabilities", "contains", quoted(m_rng.pick(v.capabilities)));
        break;
      case field_kind::event:
        if (m_rng.chance(50)) compare(o, "event", eq_op(), m_rng.pick(v.events));
        else membership(o, "event", v.events, 3);
        break;
      case field_kind::now: compare(o, "now", ordered_op(), m_rng.chance(50) ? "task.created_at" : "task.entered_at"); break;
      case field_kind::id_or_project:
        compare(o, m_rng.chance(50) ? "task.id" : "task.project", eq_op(), string_lit());
        break;
      case field_kind::attribute: break;
    }
  }

  void attribute_comparison(text_out& o, const attribute& a, scope sc) {
    const std::string path = "task." + a.name;
    switch (a.type) {
      case attr_type::string:
        if (m_rng.chance(70)) {
          compare(o, path, eq_op(), string_lit());
        } else {
          operand(o, path);
          o.word("in");
          set_of(o, {string_lit(), string_lit()});
        }
        break;
      case attr_type::int_: compare(o, path, ordered_op(), int_lit()); break;
      case attr_type::decimal: compare(o, path, ordered_op(), m_rng.chance(70) ? decimal_lit() : int_lit()); break;
      case attr_type::bool_: compare(o, path, eq_op(), m_rng.chance(50) ? "true" : "false"); break;
      case attr_type::duration: compare(o, path, ordered_op(), duration_lit()); break;
      case attr_type::timestamp:
        compare(o, path, ordered_op(), sc == scope::task_only ? "task.created_at" : "now");
        break;
      case attr_type::enum_:
        if (m_rng.chance(65)) {
          // Nothing is below the first member or above the last: keep clear of comparisons that
          // never or always hold (negated, the latter never hold either).
          const char* op = ordered_op();
          const std::string_view o2 = op;
          const std::size_t n = a.members.size();
          std::size_t k = m_rng.below(n);
          if (o2 == "<" || o2 == ">=") k = 1 + m_rng.below(n - 1);
          if (o2 == ">" || o2 == "<=") k = m_rng.below(n - 1);
          compare(o, path, op, a.members[k]);
        } else {
          membership(o, path, a.members, 3);
        }
        break;
      case attr_type::string_set: {
        const auto r = m_rng.below(3);
        if (r == 0) compare(o, quoted(m_rng.pick(v.labels)), "in", path);
        else if (r == 1) compare(o, path, "contains", string_lit());
        else compare(o, path, "subset", "task.labels");
        break;
      }
    }
  }

  // A bool operand (precedence 5).
  void bool_operand(text_out& o) {
    std::vector<std::string> options;
    if (!m_used.count("task.escalation_requested")) options.push_back("task.escalation_requested");
    for (const auto& a : v.attributes) {
      if (a.type == attr_type::bool_ && !m_used.count("task." + a.name)) options.push_back("task." + a.name);
    }
    if (options.empty()) {
      compare(o, quoted("only-" + std::to_string(m_counter++)), "in", "task.labels");
      return;
    }
    const std::string& pick = m_rng.pick(options);
    m_used.insert(pick);
    operand(o, pick);
  }

  void condition(text_out& o, int depth, int min_prec, scope sc) {
    enum { leaf, op_and, op_or, op_not } form = leaf;
    if (depth > 0) {
      const auto r = m_rng.below(100);
      form = r < 45 ? leaf : r < 70 ? op_and : r < 88 ? op_or : op_not;
    }
    const bool bare = form == leaf && m_rng.chance(10);
    const int prec = form == op_or ? 1 : form == op_and ? 2 : form == op_not ? 3 : 4;
    const bool parens = prec < min_prec || m_rng.chance(m_opts.messy ? 10 : 3);
    if (parens) o.open_paren();
    switch (form) {
      case op_or:
        condition(o, depth - 1, 1, sc);
        o.word("or");
        condition(o, depth - 1, 2, sc);
        break;
      case op_and:
        condition(o, depth - 1, 2, sc);
        o.word("and");
        condition(o, depth - 1, 3, sc);
        break;
      case op_not:
        o.word("not");
        condition(o, depth - 1, 3, sc);
        break;
      case leaf:
        if (bare) bool_operand(o);
        else comparison(o, sc);
        break;
    }
    if (parens) o.glue(")");
  }

  // A whole condition, at least of precedence `min_prec`.
  void top_condition(text_out& o, int min_prec, scope sc) {
    m_used.clear();
    condition(o, static_cast<int>(m_rng.below(static_cast<std::size_t>(m_opts.max_depth) + 1)), min_prec, sc);
  }

  void when(text_out& o, scope sc = scope::full) {
    o.word("when");
    top_condition(o, 1, sc);
  }

  // -------------------------------------------------------------------------------------------
  // Declarations

  // A route or obligation target may name any role or agent. An escalation names only the top
  // role (a root of the org) or one of its agents, so hand-offs cannot loop (lint L0008).
  void target(text_out& o, bool route, bool escalation = false) {
    const auto r = m_rng.below(route ? 2 : 4);
    if (r == 0) {
      o.word("role");
      o.word(escalation ? v.roles[0] : m_rng.pick(v.roles));
    } else if (r == 1) {
      o.word("agent");
      o.word(escalation ? v.agents[0] : m_rng.pick(v.agents));
    } else {
      o.word(r == 2 ? "parent" : "operator");
    }
  }

  void events(text_out& o) {
    o.word("on");
    const auto list = some(v.events, 4);
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (i > 0) o.glue(",");
      o.word(list[i]);
    }
  }

  void state_set(text_out& o, bool groups_ok, bool any_ok) {
    const auto r = m_rng.below(10);
    if (any_ok && r == 0) o.word("*");
    else if (groups_ok && r < 4) o.word(m_rng.pick(v.groups));
    else o.word(v.states[m_rng.below(v.states.size() - 2)]);
  }

  void invariant_body(text_out& o) {
    const auto r = m_rng.below(4);
    std::vector<std::size_t> guarded;
    for (std::size_t s = 0; s < v.protected_state.size(); ++s) {
      if (v.protected_state[s]) guarded.push_back(s);
    }
    if (r == 0 && !guarded.empty()) {
      if (m_rng.chance(50)) {
        when(o, scope::task_only);
      }
      const auto s = m_rng.pick(guarded);
      o.word("every");
      o.word("path");
      o.word("to");
      o.word(v.states[s]);
      o.word("passes");
      o.word(v.events[s - 1]);
    } else if (r <= 1) {
      o.word("reachable");
      state_set(o, true, true);
    } else if (r == 2) {
      o.word("terminates");
      o.word("from");
      state_set(o, true, true);
    } else {
      o.word("never");
      o.word(v.states[m_rng.chance(50) ? v.done() : v.cancelled()]);
      o.word("->");
      state_set(o, false, false);
    }
  }

  // A named rule of `kind` (not a route), optionally an override of `name`.
  void rule(text_out& o, rule_kind kind, const std::string& name, bool is_override) {
    if (is_override) o.word("override");
    switch (kind) {
      case rule_kind::gate:
        o.word("gate");
        o.word(name);
        when(o);
        if (m_rng.chance(60)) {
          o.word("because");
          o.word(string_lit());
        }
        break;
      case rule_kind::permit:
      case rule_kind::forbid:
        o.word(kind == rule_kind::permit ? "permit" : "forbid");
        o.word(name);
        events(o);
        if (kind == rule_kind::forbid) {
          // A label of its own keeps a forbid from covering every case of some permit (lints
          // L0005 and L0010); the rest of the condition is random.
          o.word("when");
          top_condition(o, 2, scope::full);
          o.word("and");
          o.word(quoted("hold-" + std::to_string(m_counter++)));
          o.word("in");
          o.word("task.labels");
          o.word("because");
          o.word(string_lit());
        } else if (m_rng.chance(85)) {
          when(o);
        }
        break;
      case rule_kind::escalate:
        o.word("escalate");
        o.word(name);
        when(o);
        o.word("->");
        target(o, false, true);
        break;
      case rule_kind::obligation: {
        o.word("obligation");
        o.word(name);
        events(o);
        if (m_rng.chance(50)) when(o);
        o.word("then");
        const std::size_t n = 1 + m_rng.below(3);
        for (std::size_t i = 0; i < n; ++i) {
          if (i > 0) o.glue(",");
          if (m_rng.chance(50)) {
            o.word("notify");
          } else {
            o.word("require");
            o.word("review");
            o.word("by");
          }
          target(o, false);
        }
        break;
      }
      case rule_kind::invariant:
        o.word("invariant");
        o.word(name);
        o.word("{");
        invariant_body(o);
        o.word("}");
        break;
      case rule_kind::route: break;
    }
  }

  void route(text_out& o, const std::string& name, bool is_override, int indent) {
    o.comments_before(1, true);
    if (is_override) o.word("override");
    if (name == "otherwise") {
      o.word("otherwise");
    } else {
      o.word("route");
      o.word(name);
      // Likewise a label of its own keeps a route from being shadowed by an earlier one (L0004).
      o.word("when");
      o.word(quoted("route-" + std::to_string(m_counter++)));
      o.word("in");
      o.word("task.labels");
      o.word("and");
      top_condition(o, 3, scope::full);
    }
    o.word("->");
    target(o, true);
    o.newline(indent);
  }

  struct extra_edge {
    std::string from, to, event;
    bool guarded = false;
  };

  // Splits [0, n) into `parts` contiguous ranges and returns range `which`.
  static std::pair<std::size_t, std::size_t> share(std::size_t n, std::size_t parts, std::size_t which) {
    return {n * which / parts, n * (which + 1) / parts};
  }

  std::string file(std::size_t index, std::size_t files, const std::vector<std::string>& names,
                   const std::vector<int>& layers) {
    text_out o(m_rng, m_opts);
    const bool entry = index + 1 == files;
    const int layer = layers[index];
    static const char* layer_names[] = {"global", "shared", "project"};

    o.comments_before(0, false);
    o.word("policy");
    o.word(entry ? "main_" + std::to_string(m_counter++) : "part" + std::to_string(index));
    o.word("version");
    o.word("\"1." + std::to_string(index) + "\"");
    if (files > 1 || m_layer_written) {
      o.word("layer");
      o.word(layer_names[layer]);
    }
    o.blank_line(0);
    if (entry) {
      for (std::size_t f = 0; f + 1 < files; ++f) {
        o.word("import");
        o.word(quoted(names[f]));
        o.newline(0);
      }
      if (files > 1) o.newline(0);
    }

    // Vocabulary blocks: roles, agents and attributes are shared out among the files; the
    // lifecycle core lives in the first file, extra transitions anywhere.
    std::vector<std::function<void()>> blocks;
    const auto [r0, r1] = share(v.roles.size(), files, index);
    const auto [a0, a1] = share(v.agents.size(), files, index);
    if (r1 > r0 || a1 > a0) {
      blocks.push_back([&, r0 = r0, r1 = r1, a0 = a0, a1 = a1] { org(o, r0, r1, a0, a1); });
    }
    const auto [t0, t1] = share(v.attributes.size(), files, index);
    if (t1 > t0) blocks.push_back([&, t0 = t0, t1 = t1] { task(o, t0, t1); });
    const auto [e0, e1] = share(m_extra_edges.size(), files, index);
    if (index == 0 || e1 > e0) blocks.push_back([&, e0 = e0, e1 = e1] { lifecycle(o, index == 0, e0, e1); });
    for (std::size_t b = blocks.size(); b > 1; --b) std::swap(blocks[b - 1], blocks[m_rng.below(b)]);
    for (const auto& b : blocks) {
      b();
      o.blank_line(0);
    }

    // Rules: this file's share, in random kinds; plus overrides of lower layers' rules.
    const auto [q0, q1] = share(std::max<std::size_t>(m_opts.rules, 1), files, index);
    std::vector<std::pair<std::string, bool>> routes;  // name, override
    if (index == 0) routes.emplace_back("otherwise", false);
    for (std::size_t i = q0; i < q1; ++i) {
      const rule_kind kind = pick_kind();
      // An override of a rule from a lower layer, now and then.
      if (layer > 0 && m_rng.chance(6)) {
        std::vector<rule_ref*> candidates;
        for (auto& r : m_rules) {
          if (r.layer < layer && !r.overridden && r.kind == kind) candidates.push_back(&r);
        }
        if (!candidates.empty()) {
          rule_ref* base = candidates[m_rng.below(candidates.size())];
          base->overridden = true;
          if (kind == rule_kind::route) {
            routes.emplace_back(base->name, true);
          } else {
            o.comments_before(0, true);
            rule(o, kind, base->name, true);
            o.newline(0);
            if (m_rng.chance(40)) o.newline(0);
          }
          continue;
        }
      }
      const std::string name = fresh(kind_prefix(kind));
      m_rules.push_back({kind, name, layer});
      if (kind == rule_kind::route) {
        routes.emplace_back(name, false);
        continue;
      }
      o.comments_before(0, true);
      rule(o, kind, name, false);
      o.newline(0);
      if (m_rng.chance(40)) o.newline(0);
      if (m_opts.comments && m_rng.chance(4)) {
        o.str() += "// ---- " + o.phrase();
        o.newline(0);
      }
    }
    if (entry && files > 1 && m_rng.chance(30)) {
      routes.emplace_back("otherwise", true);
    }
    if (!routes.empty()) {
      o.word("routing");
      o.word("{");
      o.newline(1);
      // The fallback goes last, as people write it.
      std::stable_partition(routes.begin(), routes.end(), [](const auto& r) { return r.first != "otherwise"; });
      for (std::size_t i = 0; i < routes.size(); ++i) {
        route(o, routes[i].first, routes[i].second, i + 1 < routes.size() ? 1 : 0);
      }
      o.word("}");
      o.newline(0);
    }
    if (entry) {
      // Every event can be performed by someone.
      o.newline(0);
      o.comments_before(0, true);
      o.word("permit");
      o.word(fresh("operators_act"));
      o.word("on");
      for (std::size_t i = 0; i < v.events.size(); ++i) {
        if (i > 0) o.glue(",");
        o.word(v.events[i]);
      }
      o.word("when");
      o.word("actor.kind");
      o.word("==");
      o.word("operator");
      o.newline(0);
    }
    if (m_opts.comments && m_rng.chance(20)) o.str() += "// end of file\n";
    return std::move(o.str());
  }

  rule_kind pick_kind() {
    const auto r = m_rng.below(100);
    if (r < 14) return rule_kind::route;
    if (r < 24) return rule_kind::gate;
    if (r < 48) return rule_kind::permit;
    if (r < 62) return rule_kind::forbid;
    if (r < 77) return rule_kind::escalate;
    if (r < 90) return rule_kind::obligation;
    return rule_kind::invariant;
  }

  static const char* kind_prefix(rule_kind k) {
    switch (k) {
      case rule_kind::route: return "rt";
      case rule_kind::gate: return "gate";
      case rule_kind::permit: return "allow";
      case rule_kind::forbid: return "deny";
      case rule_kind::escalate: return "esc";
      case rule_kind::obligation: return "ob";
      case rule_kind::invariant: return "inv";
    }
    return "rule";
  }

  void org(text_out& o, std::size_t r0, std::size_t r1, std::size_t a0, std::size_t a1) {
    o.comments_before(0, false);
    o.word("org");
    o.word("{");
    o.newline(1);
    for (std::size_t i = r0; i < r1; ++i) {
      o.comments_before(1, true);
      o.word("role");
      o.word(v.roles[i]);
      if (v.parent[i] >= 0) {
        o.word("reports_to");
        o.word(v.roles[static_cast<std::size_t>(v.parent[i])]);
      }
      o.newline(i + 1 < r1 || a1 > a0 ? 1 : 0);
    }
    static const char* kinds[] = {"agent", "human", "operator"};
    for (std::size_t i = a0; i < a1; ++i) {
      o.comments_before(1, true);
      o.word("agent");
      o.word(v.agents[i]);
      o.word("role");
      o.word(i == 0 ? v.roles[0] : m_rng.pick(v.roles));  // the first agent serves the top role
      if (m_rng.chance(40)) {
        o.word("kind");
        o.word(kinds[m_rng.below(3)]);
      }
      if (m_rng.chance(60)) {
        o.word("capabilities");
        const auto caps = m_rng.chance(10) ? std::vector<std::string>{} : quoted_all(some(v.capabilities, 4));
        set_of(o, caps);
      }
      o.newline(i + 1 < a1 ? 1 : 0);
    }
    o.word("}");
  }

  void task(text_out& o, std::size_t t0, std::size_t t1) {
    o.comments_before(0, false);
    o.word("task");
    o.word("{");
    o.newline(1);
    static const char* type_names[] = {"string", "int", "decimal", "bool", "duration", "timestamp", "enum", "set"};
    for (std::size_t i = t0; i < t1; ++i) {
      const attribute& a = v.attributes[i];
      o.comments_before(1, true);
      o.word(a.name);
      o.glue(":");
      o.word(type_names[static_cast<int>(a.type)]);
      if (a.type == attr_type::enum_) {
        set_of(o, a.members);
      } else if (a.type == attr_type::string_set) {
        o.glue("<");
        o.glue("string");
        o.glue(">");
      }
      const auto r = m_rng.below(3);
      if (r == 0 || a.type == attr_type::timestamp) {
        o.word(m_rng.chance(50) ? "required" : "optional");
      } else if (r == 1) {
        o.word("optional");
      } else {
        o.word("=");
        switch (a.type) {
          case attr_type::string: operand(o, string_lit()); break;
          case attr_type::int_: operand(o, int_lit()); break;
          case attr_type::decimal: operand(o, m_rng.chance(80) ? decimal_lit() : int_lit()); break;
          case attr_type::bool_: operand(o, m_rng.chance(50) ? "true" : "false"); break;
          case attr_type::duration: operand(o, duration_lit()); break;
          case attr_type::enum_: operand(o, m_rng.pick(a.members)); break;
          case attr_type::string_set: set_of(o, m_rng.chance(30) ? std::vector<std::string>{} : quoted_all(some(v.labels, 3))); break;
          case attr_type::timestamp: break;
        }
      }
      o.newline(i + 1 < t1 ? 1 : 0);
    }
    o.word("}");
  }

  void name_list(text_out& o, const std::vector<std::string>& names) {
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (i > 0) o.glue(",");
      o.word(names[i]);
    }
  }

  void lifecycle(text_out& o, bool core, std::size_t e0, std::size_t e1) {
    o.comments_before(0, false);
    o.word("lifecycle");
    o.word("{");
    o.newline(1);
    if (core) {
      o.word("states");
      name_list(o, v.states);
      o.newline(1);
      o.word("initial");
      o.word(v.states[0]);
      o.newline(1);
      o.word("terminal");
      name_list(o, {v.states[v.done()], v.states[v.cancelled()]});
      o.newline(1);
      for (std::size_t g = 0; g < v.groups.size(); ++g) {
        o.comments_before(1, true);
        o.word("group");
        o.word(v.groups[g]);
        o.word("=");
        std::vector<std::string> members;
        for (auto s : v.group_members[g]) members.push_back(v.states[s]);
        set_of(o, members);
        o.newline(1);
      }
      if (m_rng.chance(50)) o.newline(1);
      for (std::size_t s = 0; s + 2 < v.states.size(); ++s) {
        o.comments_before(1, true);
        o.word(v.states[s]);
        o.word("->");
        o.word(v.states[s + 1]);
        o.word("on");
        o.word(v.events[s]);
        o.newline(1);
      }
      o.word("*");
      o.word("->");
      o.word(v.states[v.cancelled()]);
      o.word("on");
      o.word(v.events[v.states.size() - 2]);
      o.newline(e1 > e0 ? 1 : 0);
    }
    for (std::size_t i = e0; i < e1; ++i) {
      const auto& e = m_extra_edges[i];
      o.comments_before(1, true);
      o.word(e.from);
      o.word("->");
      o.word(e.to);
      o.word("on");
      o.word(e.event);
      if (e.guarded) when(o, scope::guard);
      o.newline(i + 1 < e1 ? 1 : 0);
    }
    o.word("}");
  }

  splitmix64 m_rng;
  const gen_options& m_opts;
  vocabulary v;
  std::vector<extra_edge> m_extra_edges;
  std::vector<rule_ref> m_rules;
  std::size_t m_counter = 0;
  bool m_layer_written = false;
  std::set<std::string> m_used;  // fields the condition being generated reads
};

}  // namespace detail

// One self-contained policy file.
inline std::string generate_policy(std::uint64_t seed, const gen_options& options = {}) {
  auto files = detail::generator(seed, options).run(1);
  return std::move(files.begin()->second);
}

// A policy set of `files` files (name -> text) split across the global, shared and project
// layers, with `rules` named rules in all. `entry_file` imports every other file (paths relative
// to it, e.g. "global/g0.policy"); some rules in higher layers override rules of lower ones.
inline std::map<std::string, std::string> generate_policy_set(std::uint64_t seed, std::size_t files, std::size_t rules,
                                                              gen_options options = {}) {
  options.rules = rules;
  return detail::generator(seed, options).run(files);
}

}  // namespace agentos::dsl::gen
