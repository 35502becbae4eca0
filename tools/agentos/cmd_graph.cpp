// `agentos graph --policy FILE [--output FILE] [--format dot|svg]`: draw the lifecycle as
// Graphviz DOT (or SVG through Graphviz's `dot`). One node per state (the initial state has an
// arrow from a dot, terminal states a double outline); one edge per transition after wildcard and
// group sources are expanded, labelled with its event, its guard as written in the policy
// (shortened when long) and who may act: the permits bound to the event from that state, and the
// forbids as "¬name". The plan gate is drawn in blue: edges on approve_plan bold, the other edges
// leaving a plan-review state (a state approve_plan leaves) dashed. The gates and escalation rules
// are listed under the graph, and so are the details of a wildcard or group transition whose
// edges all share them (those edges are grey, labelled with the event and a note number: without
// that, `* -> cancelled on cancel` buries the lifecycle under copies of one label). The output is
// deterministic (source order throughout), so it diffs.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "commands.hpp"
#include "engine/report.hpp"
#include "engine/explain.hpp"
#include "policy_loading.hpp"

extern char** environ;

namespace agentos::cli {

namespace ast = dsl::ast;

namespace {

struct graph_options {
  std::string policy;
  std::string output;
  std::string format = "dot";
};

// Guards longer than this are wrapped onto lines of about this width, at most this many lines.
constexpr std::size_t guard_width = 38;
constexpr std::size_t guard_lines = 3;
constexpr std::size_t legend_width = 90;

// The text of an expression as the policy wrote it: comments dropped, runs of whitespace (line
// breaks included) collapsed to one space, strings verbatim. An expression's span starts at its
// first operand and ends at its last, so `(a or b) and c` spans `a or b) and c`: parentheses are
// rebalanced at the ends, where the span cut them off.
std::string written(const dsl::source_manager& sources, const ast::expr* e) {
  if (e == nullptr || !e->where.valid() || e->where.file >= sources.size()) return {};
  const std::string_view src = sources.get(e->where.file).text();
  const std::string_view t = src.substr(e->where.begin, e->where.end - e->where.begin);
  std::string out;
  bool space = false;
  std::size_t depth = 0, unopened = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '/' && i + 1 < t.size() && t[i + 1] == '/') {
      while (i < t.size() && t[i] != '\n') ++i;
      space = true;
      continue;
    }
    if (c == '/' && i + 1 < t.size() && t[i + 1] == '*') {
      const auto end = t.find("*/", i + 2);
      i = end == std::string_view::npos ? t.size() : end + 1;
      space = true;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    if (c == '"') {
      std::size_t j = i + 1;
      while (j < t.size() && t[j] != '"') j += t[j] == '\\' ? 2 : 1;
      j = std::min(j, t.size() - 1);
      out.append(t.substr(i, j - i + 1));
      i = j;
      continue;
    }
    if (c == '(') ++depth;
    if (c == ')') {
      if (depth == 0) ++unopened;
      else --depth;
    }
    out += c;
  }
  return std::string(unopened, '(') + out + std::string(depth, ')');
}

// Breaks text at spaces into lines of about `width`; past `max_lines`, the rest becomes "…".
std::vector<std::string> wrap(const std::string& text, std::size_t width, std::size_t max_lines) {
  std::vector<std::string> lines;
  std::istringstream words(text);
  std::string word, line;
  while (words >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) lines.push_back(line);
  if (lines.size() > max_lines) {
    lines.resize(max_lines);
    lines.back() += " …";
  }
  return lines;
}

// Escapes text for a Graphviz HTML-like label.
std::string html(std::string_view s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// A DOT identifier, quoted.
std::string id(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// An escalation or obligation target as written: `parent` stays unresolved here.
std::string target_label(const engine::rule_graph& graph, const engine::target_ref& t) {
  return t.kind == ast::target_kind::parent ? "parent" : engine::target_text(graph, t);
}

const ast::expr* rule_condition(const engine::rule_graph& graph, const engine::rule_entry& r) {
  const dsl::policy_set& p = graph.policy();
  const auto i = static_cast<std::size_t>(r.source_index);
  switch (r.kind) {
    case engine::rule_kind::gate: return p.gates[i].rule->when.get();
    case engine::rule_kind::escalation: return p.escalations[i].rule->when.get();
    default: return nullptr;
  }
}

std::string render_dot(const engine::rule_graph& graph, const dsl::source_manager& sources) {
  const dsl::policy_set& p = graph.policy();
  const std::int32_t approve = graph.find_event("approve_plan");
  std::set<std::int32_t> plan_review;
  for (const auto& t : p.transitions) {
    if (approve >= 0 && t.event == approve) plan_review.insert(t.from);
  }

  std::ostringstream out;
  out << "// Lifecycle of policy " << graph.name() << " \"" << graph.declared_version() << "\" (" << graph.version()
      << ")\n";
  out << "// Generated by `agentos graph`; edges are transitions, labelled event / guard / who may act.\n";
  out << "digraph " << id(graph.name()) << " {\n";
  out << "  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=11, nodesep=0.5, ranksep=0.6, labelloc=b, "
         "labeljust=l];\n";
  out << "  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=12];\n";
  out << "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#555555\"];\n\n";

  out << "  __start [shape=point, width=0.15, label=\"\"];\n";
  for (std::size_t s = 0; s < p.states.size(); ++s) {
    const auto& st = p.states[s];
    out << "  " << id(st.name) << " [";
    std::vector<std::string> attrs;
    if (st.terminal) attrs.push_back("peripheries=2");
    if (st.initial) attrs.push_back("penwidth=2");
    if (plan_review.contains(static_cast<std::int32_t>(s))) {
      attrs.push_back("color=\"#1f5fbf\"");
      attrs.push_back("style=\"rounded,filled\"");
      attrs.push_back("fillcolor=\"#e6eefb\"");
    }
    for (std::size_t i = 0; i < attrs.size(); ++i) out << (i ? ", " : "") << attrs[i];
    out << "];\n";
  }
  if (p.initial >= 0) out << "  __start -> " << id(p.states[static_cast<std::size_t>(p.initial)].name) << ";\n";
  out << "\n";

  // Each edge's details (guard, who may act) as label lines. A transition written with a wildcard
  // or group source becomes several edges; when they all share the same details, the details are
  // listed once under the graph and the edges carry only the event and a note number, which keeps
  // `* -> cancelled on cancel` from burying the rest of the lifecycle.
  std::vector<std::string> details(p.transitions.size());
  for (std::size_t i = 0; i < p.transitions.size(); ++i) {
    const auto& t = p.transitions[i];
    std::string& label = details[i];
    if (t.guard != nullptr) {
      for (const auto& l : wrap("when " + written(sources, t.guard), guard_width, guard_lines)) {
        label += "<br/><i>" + html(l) + "</i>";
      }
    }
    std::vector<std::string> permits, forbids;
    for (const engine::rule_entry* r : graph.catalogue().for_event(t.event, t.from)) {
      if (r->kind == engine::rule_kind::permit) permits.push_back(r->name);
      if (r->kind == engine::rule_kind::forbid) forbids.push_back("¬" + r->name);
    }
    if (permits.empty()) {
      label += "<br/><font color=\"#b00020\">no permit: nobody may act</font>";
    } else {
      std::string who;
      for (const auto& n : permits) who += (who.empty() ? "" : ", ") + n;
      for (const auto& l : wrap("by " + who, guard_width, 4)) label += "<br/>" + html(l);
    }
    if (!forbids.empty()) {
      std::string no;
      for (const auto& n : forbids) no += (no.empty() ? "" : ", ") + n;
      for (const auto& l : wrap(no, guard_width, 4)) label += "<br/><font color=\"#b00020\">" + html(l) + "</font>";
    }
  }
  struct shared_note {
    const ast::transition_decl* decl = nullptr;
    std::size_t first = 0;  // the transition whose details stand for all
    std::size_t edges = 0;
  };
  std::vector<shared_note> notes;
  std::vector<std::size_t> note_of(p.transitions.size(), 0);  // 1-based note number, 0 for none
  for (std::size_t i = 0; i < p.transitions.size(); ++i) {
    const auto* decl = p.transitions[i].decl;
    if (decl == nullptr || note_of[i] != 0) continue;
    std::vector<std::size_t> same;
    for (std::size_t j = i; j < p.transitions.size(); ++j) {
      if (p.transitions[j].decl == decl) same.push_back(j);
    }
    const bool uniform = std::all_of(same.begin(), same.end(), [&](std::size_t j) { return details[j] == details[i]; });
    if (same.size() < 2 || !uniform) continue;
    notes.push_back({decl, i, same.size()});
    for (const std::size_t j : same) note_of[j] = notes.size();
  }

  for (std::size_t i = 0; i < p.transitions.size(); ++i) {
    const auto& t = p.transitions[i];
    const std::string event = p.events[static_cast<std::size_t>(t.event)];
    out << "  " << id(p.states[static_cast<std::size_t>(t.from)].name) << " -> "
        << id(p.states[static_cast<std::size_t>(t.to)].name) << " [label=<<b>" << html(event) << "</b>";
    out << (note_of[i] != 0 ? " [" + std::to_string(note_of[i]) + "]" : details[i]) << ">";
    if (approve >= 0 && t.event == approve) {
      out << ", color=\"#1f5fbf\", fontcolor=\"#1f5fbf\", penwidth=2.5";
    } else if (plan_review.contains(t.from)) {
      out << ", color=\"#1f5fbf\", fontcolor=\"#1f5fbf\", style=dashed";
    } else if (note_of[i] != 0) {
      out << ", color=\"#9a9a9a\", fontcolor=\"#6a6a6a\"";
    }
    out << "];\n";
  }

  // The legend under the graph: gates (the plan gate) and escalation rules, in source order.
  std::string legend = "<table border=\"0\" cellborder=\"0\" cellspacing=\"1\" cellpadding=\"1\">";
  const auto row = [&](const std::string& cell) { legend += "<tr><td align=\"left\">" + cell + "</td></tr>"; };
  row("<b>policy " + html(graph.name()) + " \"" + html(graph.declared_version()) + "\"</b>  " +
      html(graph.version().substr(0, 19)) + "…");
  const auto rules = [&](engine::rule_kind kind, const std::string& title, auto describe) {
    const auto list = graph.catalogue().of_kind(kind);
    if (list.empty()) return;
    row("<b>" + html(title) + "</b>");
    for (const engine::rule_entry* r : list) {
      const auto lines = wrap(describe(*r), legend_width, 3);
      for (std::size_t i = 0; i < lines.size(); ++i) row((i ? "        " : "  ") + html(lines[i]));
    }
  };
  if (!notes.empty()) {
    row("<b>transitions drawn as several edges (numbered on the edges)</b>");
    for (std::size_t n = 0; n < notes.size(); ++n) {
      const auto& d = *notes[n].decl;
      const std::string head = "[" + std::to_string(n + 1) + "] " + (d.from.any ? std::string("*") : d.from.name.text) +
                               " -> " + d.to.text + " on " + d.event.text + " (" + std::to_string(notes[n].edges) +
                               " edges)";
      // The details are already label markup: keep their line breaks as separate rows.
      std::string cells = html(head) + details[notes[n].first];
      std::size_t at = 0;
      std::string first = "  ";
      while (true) {
        const auto br = cells.find("<br/>", at);
        row(first + cells.substr(at, br == std::string::npos ? std::string::npos : br - at));
        if (br == std::string::npos) break;
        at = br + 5;
        first = "        ";
      }
    }
  }
  rules(engine::rule_kind::gate, "plan gates (any that holds makes a task plan_first; blue: plan review)",
        [&](const engine::rule_entry& r) { return r.name + ": when " + written(sources, rule_condition(graph, r)); });
  rules(engine::rule_kind::escalation, "escalations", [&](const engine::rule_entry& r) {
    std::string target = "?";
    for (const auto& e : graph.escalations()) {
      if (e.rule == r.id) target = target_label(graph, e.to);
    }
    return r.name + ": when " + written(sources, rule_condition(graph, r)) + " → " + target;
  });
  legend += "</table>";
  out << "\n  label=<" << legend << ">;\n";
  out << "}\n";
  return out.str();
}

// The first executable called `name` on PATH, or empty.
std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return {};
  std::istringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// Runs `dot -Tsvg` with `dot_text` on its stdin, writing to `output` (or our stdout).
int run_dot(const std::string& dot, const std::string& dot_text, const std::string& output) {
  int fds[2];
  if (::pipe(fds) != 0) {
    std::cerr << "agentos graph: cannot create a pipe: " << std::strerror(errno) << "\n";
    return exit_usage;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::vector<std::string> args{dot, "-Tsvg"};
  if (!output.empty()) {
    args.push_back("-o");
    args.push_back(output);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, dot.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[0]);
  if (spawned != 0) {
    ::close(fds[1]);
    std::cerr << "agentos graph: cannot run " << dot << ": " << std::strerror(spawned) << "\n";
    return exit_usage;
  }
  // A `dot` that dies early must not take us down with SIGPIPE: its exit status says what happened.
  const auto old = std::signal(SIGPIPE, SIG_IGN);
  std::size_t done = 0;
  while (done < dot_text.size()) {
    const auto n = ::write(fds[1], dot_text.data() + done, dot_text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fds[1]);
  std::signal(SIGPIPE, old);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::cerr << "agentos graph: `dot -Tsvg` failed";
    if (WIFEXITED(status)) std::cerr << " with exit status " << WEXITSTATUS(status);
    std::cerr << "\n";
    return exit_usage;
  }
  return exit_ok;
}

int run_graph(const graph_options& o) {
  if (o.format != "dot" && o.format != "svg") {
    std::cerr << "agentos graph: unknown format `" << o.format << "` (use dot or svg)\n";
    return exit_usage;
  }
  std::string dot;
  if (o.format == "svg") {
    dot = find_on_path("dot");
    if (dot.empty()) {
      std::cerr << "agentos graph: --format svg needs Graphviz's `dot` on PATH (install graphviz), "
                   "or use --format dot and render it elsewhere\n";
      return exit_usage;
    }
  }
  policy_loader loader;
  const loaded_policy& policy = loader.load(o.policy);
  if (!policy.graph) {
    std::cerr << "agentos graph: " << policy.problem << "\n";
    return policy.exit_code;
  }
  const std::string text = render_dot(*policy.graph, loader.sources());

  if (o.format == "svg") return run_dot(dot, text, o.output == "-" ? "" : o.output);
  if (o.output.empty() || o.output == "-") {
    std::cout << text;
    return exit_ok;
  }
  std::ofstream file(o.output, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) {
    std::cerr << "agentos graph: cannot write " << o.output << ": " << std::strerror(errno) << "\n";
    return exit_usage;
  }
  return exit_ok;
}

}  // namespace

void register_graph(CLI::App& app, command_result& result) {
  auto opts = std::make_shared<graph_options>();
  auto* cmd = app.add_subcommand("graph", "Draw a policy's lifecycle as Graphviz DOT or SVG");
  cmd->add_option("--policy,-p", opts->policy, "The policy's entry file")->required();
  cmd->add_option("--output,-o", opts->output, "Write to this file instead of stdout");
  cmd->add_option("--format", opts->format, "dot (Graphviz source) or svg (needs `dot` on PATH)")
      ->capture_default_str();
  cmd->footer(
      "Edges are transitions (wildcard and group sources expanded), labelled with the event, the\n"
      "guard, the permits that let someone act (`by ...`) and the forbids (`¬name`). Plan review is\n"
      "blue: approve_plan edges bold, the other edges out of a plan-review state dashed. Listed under\n"
      "the graph: the plan gates, the escalation rules, and the details of a wildcard or group\n"
      "transition whose edges all share them (its edges are grey and numbered). See docs/cli.md.\n"
      "Exit status: 0 on success; 1 when the policy has errors (diagnostics on stderr); 2 on usage\n"
      "errors, when a file cannot be written, or when --format svg is asked and `dot` is missing or fails.");
  cmd->callback([opts, &result] { result.exit_code = run_graph(*opts); });
}

}  // namespace agentos::cli
