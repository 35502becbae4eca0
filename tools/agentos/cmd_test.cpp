// `agentos test PATH...`: run policy test files (`*.tests.json`, format in docs/cli.md): each case
// is a request plus the expected effect, target state, deny reasons, matched rules, obligations,
// route, mode, gates and escalations, and only the keys a case gives are checked. Output is a
// test runner's: a line per case, `- expected` / `+ actual` for each failed expectation, and a
// last line `N passed, M failed` that CI reads. A test file is validated as a whole before any of
// its cases runs, so a typo in a key or a rule name is a malformed file (exit 2, reported with the
// JSON pointer of the problem) rather than a test that silently checks nothing.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <set>

#include "commands.hpp"
#include "dsl/loader.hpp"
#include "engine/report.hpp"
#include "engine/explain.hpp"
#include "engine/request_json.hpp"
#include "policy_loading.hpp"

namespace agentos::cli {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

struct test_options {
  std::vector<std::string> paths;
  std::string format = "text";
  std::string filter;
  bool explain = false;
};

// ---------------------------------------------------------------------------------------------
// The test file, as read and validated

struct problem {
  std::string pointer;
  std::string message;
};

using string_list = std::vector<std::string>;

struct expectation {
  std::optional<std::string> effect;  // "allow" or "deny"
  std::optional<std::string> state;
  std::optional<string_list> reasons, matched, obligations;
  std::optional<std::string> route;  // "role x", "agent x" or "none"
  std::optional<std::string> mode;
  std::optional<string_list> gates, escalations;

  [[nodiscard]] bool needs_decide() const { return effect || state || reasons || matched || obligations; }
  [[nodiscard]] bool needs_intake() const { return route || mode || gates; }
};

struct test_case {
  std::string name;
  std::size_t index = 0;  // position in "cases"
  json request;           // the case's own request (defaults not merged)
  expectation expect;
};

struct test_file {
  fs::path path;
  std::string policy;  // as written
  json defaults = json::object();
  std::vector<test_case> cases;
  std::vector<problem> problems;
};

// RFC 6901: `~` and `/` in a key are escaped.
std::string pointer_token(std::string_view key) {
  std::string out;
  for (const char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string case_pointer(std::size_t index) { return "/cases/" + std::to_string(index); }

class file_reader {
 public:
  explicit file_reader(test_file& out) : m_out(out) {}

  void read(const json& root) {
    if (!root.is_object()) {
      fail("", "a test file is a JSON object with \"policy\" and \"cases\"");
      return;
    }
    for (const auto& [key, value] : root.items()) {
      if (key != "policy" && key != "defaults" && key != "cases") {
        fail("/" + pointer_token(key), "unknown key `" + key + "` (expected policy, defaults, cases)");
      }
    }
    if (!root.contains("policy")) {
      fail("", "missing \"policy\": the entry policy file, relative to this file");
    } else if (!root["policy"].is_string() || root["policy"].get<std::string>().empty()) {
      fail("/policy", "expected the policy file's path as a non-empty string");
    } else {
      m_out.policy = root["policy"].get<std::string>();
    }
    if (root.contains("defaults")) {
      if (root["defaults"].is_object()) m_out.defaults = root["defaults"];
      else fail("/defaults", "expected an object: a partial request merged under every case's request");
    }
    if (!root.contains("cases")) {
      fail("", "missing \"cases\": an array of test cases");
      return;
    }
    const json& cases = root["cases"];
    if (!cases.is_array()) {
      fail("/cases", "expected an array of test cases");
      return;
    }
    std::set<std::string> names;
    for (std::size_t i = 0; i < cases.size(); ++i) read_case(cases[i], i, names);
  }

 private:
  void fail(std::string pointer, std::string message) { m_out.problems.push_back({std::move(pointer), std::move(message)}); }

  std::optional<std::string> one_of(const json& v, const std::string& ptr, std::initializer_list<std::string_view> allowed) {
    std::string list;
    for (const auto a : allowed) list += (list.empty() ? "" : " or ") + std::string("\"") + std::string(a) + "\"";
    if (v.is_string()) {
      const auto s = v.get<std::string>();
      if (std::find(allowed.begin(), allowed.end(), s) != allowed.end()) return s;
    }
    fail(ptr, "expected " + list + ", got " + v.dump());
    return std::nullopt;
  }

  std::optional<std::string> text(const json& v, const std::string& ptr) {
    if (v.is_string() && !v.get<std::string>().empty()) return v.get<std::string>();
    fail(ptr, "expected a non-empty string, got " + v.dump());
    return std::nullopt;
  }

  std::optional<string_list> texts(const json& v, const std::string& ptr) {
    if (!v.is_array()) {
      fail(ptr, "expected an array of strings, got " + v.dump());
      return std::nullopt;
    }
    string_list out;
    bool ok = true;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (auto s = text(v[i], ptr + "/" + std::to_string(i))) out.push_back(*s);
      else ok = false;
    }
    if (!ok) return std::nullopt;
    return out;
  }

  void read_case(const json& c, std::size_t index, std::set<std::string>& names) {
    const std::string ptr = case_pointer(index);
    if (!c.is_object()) {
      fail(ptr, "expected a test case object with \"name\", \"request\" and \"expect\"");
      return;
    }
    test_case tc;
    tc.index = index;
    bool ok = true;
    for (const auto& [key, value] : c.items()) {
      if (key != "name" && key != "request" && key != "expect") {
        fail(ptr + "/" + pointer_token(key), "unknown key `" + key + "` (expected name, request, expect)");
        ok = false;
      }
    }
    if (!c.contains("name")) {
      fail(ptr, "a test case needs a \"name\"");
      ok = false;
    } else if (auto n = text(c["name"], ptr + "/name")) {
      tc.name = *n;
      if (!names.insert(tc.name).second) {
        fail(ptr + "/name", "duplicate case name \"" + tc.name + "\" (names are unique within a file)");
        ok = false;
      }
    } else {
      ok = false;
    }
    if (c.contains("request")) {
      if (c["request"].is_object()) {
        tc.request = c["request"];
      } else {
        fail(ptr + "/request", "expected a request object");
        ok = false;
      }
    } else {
      tc.request = json::object();
    }
    if (!c.contains("expect")) {
      fail(ptr, "a test case needs an \"expect\" object");
      ok = false;
    } else if (!read_expect(c["expect"], ptr + "/expect", tc.expect)) {
      ok = false;
    }
    if (ok) m_out.cases.push_back(std::move(tc));
  }

  bool read_expect(const json& e, const std::string& ptr, expectation& x) {
    if (!e.is_object()) {
      fail(ptr, "expected an object of expectations");
      return false;
    }
    if (e.empty()) {
      fail(ptr, "expects nothing, so the case could never fail; give at least one expectation");
      return false;
    }
    const std::size_t before = m_out.problems.size();
    for (const auto& [key, v] : e.items()) {
      const std::string p = ptr + "/" + pointer_token(key);
      if (key == "effect") x.effect = one_of(v, p, {"allow", "deny"});
      else if (key == "state") x.state = text(v, p);
      else if (key == "reasons") x.reasons = texts(v, p);
      else if (key == "matched") x.matched = texts(v, p);
      else if (key == "obligations") x.obligations = texts(v, p);
      else if (key == "route") x.route = text(v, p);
      else if (key == "mode") x.mode = one_of(v, p, {"direct", "plan_first"});
      else if (key == "gates") x.gates = texts(v, p);
      else if (key == "escalations") x.escalations = texts(v, p);
      else {
        fail(p, "unknown expectation `" + key +
                    "` (expected effect, state, reasons, matched, obligations, route, mode, gates, escalations)");
      }
    }
    return m_out.problems.size() == before;
  }

  test_file& m_out;
};

// Objects merge key by key (the case wins); anything else is replaced by the case's value.
json merged(json base, const json& over) {
  if (!base.is_object() || !over.is_object()) return over;
  for (const auto& [key, value] : over.items()) {
    base[key] = base.contains(key) ? merged(base[key], value) : value;
  }
  return base;
}

bool has_pointer(const json& j, const std::string& pointer) {
  try {
    return j.contains(json::json_pointer(pointer));
  } catch (const json::exception&) {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Running cases

struct failure {
  std::string key;
  std::string note;  // how the key compares, when it is not plain equality
  std::string expected;
  std::string actual;
};

struct case_result {
  std::string name;
  enum class status { pass, fail } outcome = status::pass;
  std::vector<failure> failures;
  string_list reasons;      // the decision's deny reasons, as people read them
  std::string explanation;  // with --explain, for a failing case
  std::string not_run;      // why the case did not run (its policy has errors)
};

struct file_result {
  std::string file;
  std::string policy_name;
  std::string version;
  std::vector<case_result> cases;
  std::vector<problem> problems;
};

// ["a", "b"]: JSON strings, so names with spaces (transitions) stay readable.
std::string list_text(const string_list& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + ordered_json(items[i]).dump();
  return out + "]";
}

string_list sorted(string_list v) {
  std::sort(v.begin(), v.end());
  return v;
}

class case_runner {
 public:
  case_runner(const engine::rule_graph& graph, const dsl::source_manager& sources, bool explain)
      : m_graph(graph), m_sources(sources), m_explain(explain), m_buffer(graph) {}

  // Problems with names the policy does not know; empty when the expectation fits the policy.
  std::vector<problem> validate(const test_case& tc) const {
    std::vector<problem> out;
    const std::string ptr = case_pointer(tc.index) + "/expect";
    const expectation& x = tc.expect;
    const auto& cat = m_graph.catalogue();
    if (x.state && m_graph.find_state(*x.state) < 0) {
      out.push_back({ptr + "/state", "unknown state `" + *x.state + "`"});
    }
    if (x.route && *x.route != "none") {
      const auto space = x.route->find(' ');
      const std::string kind = x.route->substr(0, space);
      const std::string name = space == std::string::npos ? "" : x.route->substr(space + 1);
      if (kind == "role" && m_graph.find_role(name) >= 0) {
      } else if (kind == "agent" && m_graph.find_agent(name) >= 0) {
      } else if (kind == "role" || kind == "agent") {
        out.push_back({ptr + "/route", "unknown " + kind + " `" + name + "`"});
      } else {
        out.push_back({ptr + "/route", "expected \"role NAME\", \"agent NAME\" or \"none\", got \"" + *x.route + "\""});
      }
    }
    const auto names = [&](const std::optional<string_list>& list, const char* key, std::optional<engine::rule_kind> kind) {
      if (!list) return;
      for (std::size_t i = 0; i < list->size(); ++i) {
        const std::string& n = (*list)[i];
        const bool known = kind ? cat.find(*kind, n) != nullptr : !cat.named(n).empty();
        if (!known) {
          out.push_back({ptr + "/" + key + "/" + std::to_string(i),
                         "no " + std::string(kind ? std::string(engine::to_string(*kind)) + " rule" : "rule") +
                             " is called `" + n + "`"});
        }
      }
    };
    names(x.matched, "matched", std::nullopt);
    names(x.gates, "gates", engine::rule_kind::gate);
    names(x.escalations, "escalations", engine::rule_kind::escalation);
    return out;
  }

  case_result run(const test_case& tc, const engine::request& req) {
    case_result r;
    r.name = tc.name;
    const expectation& x = tc.expect;
    const engine::decision d =
        engine::decide(m_graph, req, m_buffer, {x.needs_intake(), x.needs_intake(), x.escalations.has_value()});
    if (x.needs_decide()) {
      for (const engine::deny_reason& reason : d.reasons) r.reasons.push_back(reason_text(m_graph, reason));
    }

    const auto equal = [&](const char* key, const std::optional<std::string>& want, const std::string& got) {
      if (want && *want != got) r.failures.push_back({key, "", *want, got});
    };
    const auto same_set = [&](const char* key, const std::optional<string_list>& want, const string_list& got) {
      if (want && sorted(*want) != sorted(got)) {
        r.failures.push_back({key, "exactly these, in any order", list_text(sorted(*want)), list_text(sorted(got))});
      }
    };
    // Each expected item must satisfy `fits` against some actual item.
    const auto each_in = [&](const char* key, const char* note, const std::optional<string_list>& want,
                             const string_list& got, auto fits) {
      if (!want) return;
      const bool ok = std::all_of(want->begin(), want->end(), [&](const std::string& w) {
        return std::any_of(got.begin(), got.end(), [&](const std::string& g) { return fits(w, g); });
      });
      if (!ok) r.failures.push_back({key, note, list_text(*want), list_text(got)});
    };

    equal("effect", x.effect, d.allowed ? "allow" : "deny");
    equal("state", x.state, d.edge == engine::no_rule ? "(no transition)" : state_name(m_graph, d.target));
    string_list messages;
    for (const engine::deny_reason& reason : d.reasons) messages.emplace_back(reason.message);
    each_in("reasons", "each a substring of some deny reason", x.reasons, messages,
            [](const std::string& w, const std::string& g) { return g.find(w) != std::string::npos; });
    string_list matched;
    for (const engine::rule_id id : d.matched) matched.push_back(m_graph.rule(id).name);
    each_in("matched", "each among the matched rules", x.matched, matched,
            [](const std::string& w, const std::string& g) { return w == g; });
    string_list obligations;
    for (const engine::obligation_hit& o : d.obligations) obligations.push_back(obligation_text(m_graph, o));
    each_in("obligations", "each among the obligations", x.obligations, obligations,
            [](const std::string& w, const std::string& g) { return w == g; });
    if (d.route) {
      equal("route", x.route, d.route->routed() ? engine::target_text(m_graph, d.route->to) : "none");
    }
    if (d.gate) {
      equal("mode", x.mode, engine::mode_name(d.gate->mode));
      string_list held;
      for (const engine::rule_id id : d.gate->held) held.push_back(m_graph.rule(id).name);
      same_set("gates", x.gates, held);
    }
    string_list fired;
    for (const engine::escalation_hit& h : d.escalations) fired.push_back(m_graph.rule(h.rule).name);
    same_set("escalations", x.escalations, fired);

    if (!r.failures.empty()) {
      r.outcome = case_result::status::fail;
      if (m_explain) {
        const auto e = engine::explain(m_graph, req, {x.needs_decide(), x.needs_intake(), x.escalations.has_value()});
        r.explanation = engine::render_text(m_graph, e, &m_sources);
      }
    }
    return r;
  }

 private:
  const engine::rule_graph& m_graph;
  const dsl::source_manager& m_sources;
  bool m_explain;
  engine::decision_buffer m_buffer;
};

// ---------------------------------------------------------------------------------------------

class test_run {
 public:
  explicit test_run(const test_options& o) : m_opts(o) {}

  int exit_code() const {
    if (m_problems > 0) return exit_usage;
    return m_failed > 0 ? exit_findings : exit_ok;
  }
  std::size_t selected() const { return m_passed + m_failed; }
  std::vector<file_result>& results() { return m_results; }
  std::size_t passed() const { return m_passed; }
  std::size_t failed() const { return m_failed; }

  void run_file(const fs::path& path) {
    file_result& fr = m_results.emplace_back();
    fr.file = path.string();
    test_file tf;
    tf.path = path;
    std::ifstream in(path, std::ios::binary);
    if (!in.is_open()) {
      problem_at(fr, {"", "cannot read the file"});
      return;
    }
    const std::string text(std::istreambuf_iterator<char>(in), {});
    json root;
    try {
      root = json::parse(text);
    } catch (const json::parse_error& e) {
      problem_at(fr, {"", std::string("not valid JSON: ") + e.what()});
      return;
    }
    file_reader(tf).read(root);
    for (auto& p : tf.problems) problem_at(fr, std::move(p));
    // With structural problems, the cases that did read are still checked against the policy
    // below (so one run reports every mistake), but nothing runs.
    const bool malformed = !fr.problems.empty();
    if (tf.policy.empty()) return;

    std::vector<const test_case*> chosen;
    for (const auto& tc : tf.cases) {
      if (m_opts.filter.empty() || tc.name.find(m_opts.filter) != std::string::npos) chosen.push_back(&tc);
    }
    if (chosen.empty()) return;  // nothing to check here: do not even load the policy

    const fs::path policy_path = path.parent_path() / tf.policy;
    const loaded_policy& policy = m_loader.load(policy_path);
    if (!policy.graph) {
      if (policy.exit_code == exit_usage) {
        problem_at(fr, {"/policy", policy.problem});
        return;
      }
      if (malformed) return;
      // The policy has errors (its diagnostics are printed): every case fails without running.
      std::cerr << "agentos test: " << fr.file << ": " << policy.problem << "\n";
      for (const test_case* tc : chosen) {
        case_result r;
        r.name = tc->name;
        r.outcome = case_result::status::fail;
        r.not_run = "not run: " + policy.problem;
        fr.cases.push_back(std::move(r));
        ++m_failed;
      }
      return;
    }
    const engine::rule_graph& graph = *policy.graph;
    fr.policy_name = graph.name();
    fr.version = graph.version();
    case_runner runner(graph, m_loader.sources(), m_opts.explain);

    // Validate every chosen case against the policy before running any, so a file is either
    // malformed (and nothing of it runs) or well-formed.
    std::vector<engine::request> requests;
    for (const test_case* tc : chosen) {
      for (auto& p : runner.validate(*tc)) problem_at(fr, std::move(p));
      const json request = merged(tf.defaults, tc->request);
      auto built = engine::request_from_json(request, graph);
      const std::string ptr = case_pointer(tc->index) + "/request";
      for (const auto& e : built.errors) {
        std::string where = ptr + e.pointer;
        if (!has_pointer(tc->request, e.pointer) && has_pointer(tf.defaults, e.pointer)) where = "/defaults" + e.pointer;
        problem_at(fr, {where, e.message});
      }
      if (tc->expect.needs_decide() && (!request.contains("event") || request["event"].is_null())) {
        problem_at(fr, {ptr, "the request has no \"event\", but effect, state, reasons, matched and obligations "
                             "are about a transition"});
      }
      if (built.ok()) requests.push_back(std::move(*built.value));
    }
    if (!fr.problems.empty()) return;
    for (std::size_t i = 0; i < chosen.size(); ++i) {
      auto r = runner.run(*chosen[i], requests[i]);
      (r.outcome == case_result::status::pass ? m_passed : m_failed) += 1;
      fr.cases.push_back(std::move(r));
    }
  }

 private:
  void problem_at(file_result& fr, problem p) {
    // A mistake in "defaults" shows up in every case's request: report it once.
    for (const auto& q : fr.problems) {
      if (q.pointer == p.pointer && q.message == p.message) return;
    }
    std::cerr << "agentos test: " << fr.file << ": " << (p.pointer.empty() ? "" : p.pointer + ": ") << p.message << "\n";
    fr.problems.push_back(std::move(p));
    ++m_problems;
  }

  const test_options& m_opts;
  policy_loader m_loader;
  std::vector<file_result> m_results;
  std::size_t m_passed = 0, m_failed = 0, m_problems = 0;
};

// ---------------------------------------------------------------------------------------------
// Reports

std::string indent(const std::string& text, const std::string& prefix) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += prefix + text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

void print_text(const std::vector<file_result>& results) {
  for (const auto& fr : results) {
    if (fr.cases.empty()) continue;
    std::cout << fr.file;
    if (!fr.policy_name.empty()) std::cout << " (policy " << fr.policy_name << ")";
    std::cout << "\n";
    for (const auto& c : fr.cases) {
      const bool pass = c.outcome == case_result::status::pass;
      std::cout << (pass ? "ok   " : "FAIL ") << c.name << "\n";
      if (pass) continue;
      if (!c.not_run.empty()) std::cout << "    " << c.not_run << "\n";
      for (const auto& f : c.failures) {
        std::cout << "    " << f.key << (f.note.empty() ? "" : " (" + f.note + ")") << "\n";
        std::cout << "    - expected: " << f.expected << "\n";
        std::cout << "    + actual:   " << f.actual << "\n";
      }
      if (!c.reasons.empty()) {
        std::cout << "    deny reasons:\n";
        for (const auto& reason : c.reasons) std::cout << "      " << reason << "\n";
      }
      if (!c.explanation.empty()) std::cout << "    explanation:\n" << indent(c.explanation, "      ");
    }
  }
}

ordered_json report_json(const std::vector<file_result>& results, std::size_t passed, std::size_t failed,
                         std::size_t problems) {
  ordered_json out;
  out["files"] = ordered_json::array();
  for (const auto& fr : results) {
    if (fr.cases.empty() && fr.problems.empty()) continue;  // --filter selected none of its cases
    ordered_json f;
    f["file"] = fr.file;
    f["policy"] = fr.policy_name.empty() ? ordered_json(nullptr) : ordered_json(fr.policy_name);
    f["version"] = fr.version.empty() ? ordered_json(nullptr) : ordered_json(fr.version);
    f["cases"] = ordered_json::array();
    for (const auto& c : fr.cases) {
      ordered_json jc;
      jc["name"] = c.name;
      jc["status"] = c.outcome == case_result::status::pass ? "pass" : "fail";
      if (!c.not_run.empty()) jc["not_run"] = c.not_run;
      jc["failures"] = ordered_json::array();
      for (const auto& fl : c.failures) {
        ordered_json jf;
        jf["key"] = fl.key;
        if (!fl.note.empty()) jf["compare"] = fl.note;
        jf["expected"] = fl.expected;
        jf["actual"] = fl.actual;
        jc["failures"].push_back(std::move(jf));
      }
      jc["reasons"] = c.reasons;
      if (!c.explanation.empty()) jc["explanation"] = c.explanation;
      f["cases"].push_back(std::move(jc));
    }
    f["problems"] = ordered_json::array();
    for (const auto& p : fr.problems) f["problems"].push_back({{"pointer", p.pointer}, {"message", p.message}});
    out["files"].push_back(std::move(f));
  }
  out["passed"] = passed;
  out["failed"] = failed;
  out["problems"] = problems;
  return out;
}

// Files and directories (searched recursively for *.tests.json, sorted); duplicates dropped.
std::vector<fs::path> find_test_files(const std::vector<std::string>& args, std::vector<std::string>& missing) {
  // The same file named twice (or through two paths) runs once.
  std::vector<fs::path> out;
  std::set<fs::path> seen;
  for (const auto& p : dsl::expand_paths(args, missing, ".tests.json")) {
    std::error_code ec;
    auto key = fs::weakly_canonical(p, ec);
    if (ec) key = p;
    if (seen.insert(key).second) out.push_back(p);
  }
  return out;
}

int run_test(const test_options& o) {
  if (o.format != "text" && o.format != "json") {
    std::cerr << "agentos test: unknown format `" << o.format << "` (use text or json)\n";
    return exit_usage;
  }
  std::vector<std::string> missing;
  const auto files = find_test_files(o.paths, missing);
  for (const auto& m : missing) std::cerr << "agentos test: no such file or directory: " << m << "\n";
  if (!missing.empty()) return exit_usage;
  if (files.empty()) {
    std::cerr << "agentos test: no *.tests.json files found\n";
    return exit_usage;
  }
  test_run run(o);
  for (const auto& f : files) run.run_file(f);

  std::size_t problems = 0;
  for (const auto& fr : run.results()) problems += fr.problems.size();
  if (o.format == "json") {
    std::cout << report_json(run.results(), run.passed(), run.failed(), problems).dump(2) << "\n";
  } else {
    print_text(run.results());
    if (problems > 0) {
      std::cout << problems << (problems == 1 ? " problem" : " problems")
                << " in test files (see stderr); the cases of those files did not run\n";
    }
    std::cout << run.passed() << " passed, " << run.failed() << " failed\n";
  }
  if (run.selected() == 0 && problems == 0) {
    std::cerr << "agentos test: no test case"
              << (o.filter.empty() ? " found" : " matches --filter \"" + o.filter + "\"") << "\n";
    return exit_usage;
  }
  return run.exit_code();
}

}  // namespace

void register_test(CLI::App& app, command_result& result) {
  auto opts = std::make_shared<test_options>();
  auto* cmd = app.add_subcommand("test", "Run policy test files (*.tests.json) and report each case");
  cmd->add_option("paths", opts->paths, "Test files or directories (searched recursively for *.tests.json)")
      ->required();
  cmd->add_option("--format", opts->format, "Output: text (a line per case) or json (a report for CI)")
      ->capture_default_str();
  cmd->add_option("--filter", opts->filter, "Run only the cases whose name contains this text");
  cmd->add_flag("--explain", opts->explain, "Print the engine's explanation trace for each failing case");
  cmd->footer(
      "The test-file format is documented in docs/cli.md. The last line of text output is\n"
      "`N passed, M failed`.\n"
      "Exit status: 0 when every case passes; 1 when a case fails (a policy with errors fails all\n"
      "its cases); 2 on usage errors, when no case was selected, or when a test file is malformed\n"
      "(reported with the file and the JSON pointer of the problem; its cases do not run).");
  cmd->callback([opts, &result] { result.exit_code = run_test(*opts); });
}

}  // namespace agentos::cli
