// The formatter's contract: parse(format(x)) is the AST of x, format is idempotent, comments
// survive, and the layout is the documented canonical one (dsl/format.hpp). Checked on every
// policy in the repository, on generated policies (tidy and deliberately messy), and on targeted
// cases with exact expected text.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>

#include <sys/wait.h>
#include <unistd.h>

#include "ast_equal.hpp"
#include "dsl/checker.hpp"
#include "dsl/format.hpp"
#include "dsl/loader.hpp"
#include "dsl/parser.hpp"
#include "dsl/render.hpp"
#include "policy_gen.hpp"

namespace {

namespace fs = std::filesystem;
using namespace agentos::dsl;

struct parsed {
  source_manager sources;
  file_id id = no_file;
  ast::module module;
  diagnostics diags;
};

std::unique_ptr<parsed> parse_text(const std::string& name, const std::string& text) {
  auto p = std::make_unique<parsed>();
  p->id = p->sources.add(name, text);
  p->module = parse(p->sources.get(p->id), p->id, p->diags);
  return p;
}

std::string errors_of(const parsed& p) { return render_text(p.diags.items(), p.sources); }

// Formats `text` and checks the round trip and idempotence on the way; returns the formatted text.
std::string check_round_trip(const std::string& name, const std::string& text) {
  const auto original = parse_text(name, text);
  EXPECT_FALSE(original->diags.has_errors()) << name << " does not parse:\n" << errors_of(*original) << text;
  if (original->diags.has_errors()) return {};
  const std::string once = format_module(original->module, original->sources.get(original->id));

  const auto again = parse_text(name + " (formatted)", once);
  EXPECT_FALSE(again->diags.has_errors()) << "formatted " << name << " does not parse:\n"
                                          << errors_of(*again) << "--- formatted text:\n"
                                          << once;
  if (again->diags.has_errors()) return once;
  std::string why;
  EXPECT_TRUE(test::same_ast(original->module, again->module, &why))
      << name << ": formatting changed the AST at " << why << "\n--- original:\n"
      << text << "\n--- formatted:\n"
      << once;
  EXPECT_EQ(again->module.comments.size(), original->module.comments.size()) << name << ": comments were lost";

  const std::string twice = format_module(again->module, again->sources.get(again->id));
  EXPECT_EQ(twice, once) << name << ": formatting is not idempotent\n--- original:\n" << text;
  return once;
}

std::string fmt(const std::string& text) { return check_round_trip("case.policy", text); }

std::vector<fs::path> policy_files(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".policy") out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// ---------------------------------------------------------------------------------------------
// Round trips

TEST(FormatRoundTrip, RepositoryPolicies) {
  std::size_t count = 0;
  for (const char* dir : {AGENTOS_SOURCE_DIR "/policies", AGENTOS_SOURCE_DIR "/examples"}) {
    for (const auto& file : policy_files(dir)) {
      SCOPED_TRACE(file.string());
      check_round_trip(file.string(), read(file));
      ++count;
    }
  }
  if (count == 0) GTEST_SKIP() << "no policy files in the repository yet";
  EXPECT_GE(count, 1u);
}

// AGENTOS_FMT_SEEDS=N runs N seeds instead of 300 (for a longer hunt after a formatter change).
std::uint64_t seed_count(std::uint64_t fallback) {
  const char* env = std::getenv("AGENTOS_FMT_SEEDS");
  return env != nullptr && std::atoll(env) > 0 ? static_cast<std::uint64_t>(std::atoll(env)) : fallback;
}

TEST(FormatRoundTrip, GeneratedPolicies) {
  const std::uint64_t seeds = seed_count(300);
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    gen::gen_options o;
    o.rules = 5 + seed % 40;
    o.messy = seed % 2 == 0;
    o.comments = seed % 5 != 0;
    o.max_depth = static_cast<int>(seed % 4);
    const std::string text = gen::generate_policy(seed, o);
    SCOPED_TRACE("seed " + std::to_string(seed));
    check_round_trip("gen" + std::to_string(seed) + ".policy", text);
    if (::testing::Test::HasFailure()) break;  // one seed's failure is enough to read
  }
}

TEST(FormatRoundTrip, GeneratedPolicySetFiles) {
  const std::uint64_t seeds = seed_count(300) / 15;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    gen::gen_options o;
    o.messy = seed % 2 == 1;
    for (const auto& [name, text] : gen::generate_policy_set(seed, 2 + seed % 5, 40, o)) {
      SCOPED_TRACE("seed " + std::to_string(seed) + " file " + name);
      check_round_trip(name, text);
    }
    if (::testing::Test::HasFailure()) break;
  }
}

TEST(FormatRoundTrip, FormattedRepositoryPoliciesAreCanonical) {
  // `agentos fmt --check policies examples` runs in CI too; this says which file and where.
  for (const char* dir : {AGENTOS_SOURCE_DIR "/policies", AGENTOS_SOURCE_DIR "/examples"}) {
    for (const auto& file : policy_files(dir)) {
      const std::string text = read(file);
      const auto p = parse_text(file.string(), text);
      if (p->diags.has_errors()) continue;  // reported by RepositoryPolicies
      const std::string formatted = format_module(p->module, p->sources.get(p->id));
      EXPECT_EQ(formatted, text) << file << " is not formatted; run `agentos fmt " << file.string() << "`";
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Golden files: tests/dsl/format_golden/<case>.policy is formatted to exactly <case>.formatted.
// To accept an intended change of layout:
//   AGENTOS_UPDATE_GOLDEN=1 ./dsl_tests --gtest_filter='FormatGolden*'
// rewrites the expected files; review the diff before committing it.

const fs::path format_golden_root = fs::path(AGENTOS_SOURCE_DIR) / "tests/dsl/format_golden";

std::vector<std::string> format_golden_cases() {
  std::vector<std::string> names;
  for (const auto& file : policy_files(format_golden_root)) names.push_back(file.stem().string());
  return names;
}

class FormatGoldenFile : public ::testing::TestWithParam<std::string> {};

TEST_P(FormatGoldenFile, MatchesExpected) {
  const fs::path input = format_golden_root / (GetParam() + ".policy");
  const fs::path expected_file = format_golden_root / (GetParam() + ".formatted");
  const std::string formatted = check_round_trip(input.string(), read(input));
  if (const char* update = std::getenv("AGENTOS_UPDATE_GOLDEN"); update != nullptr && std::string(update) == "1") {
    std::ofstream(expected_file, std::ios::binary) << formatted;
    return;
  }
  ASSERT_TRUE(fs::exists(expected_file)) << expected_file << " is missing; run with AGENTOS_UPDATE_GOLDEN=1";
  EXPECT_EQ(formatted, read(expected_file)) << "to accept: AGENTOS_UPDATE_GOLDEN=1 dsl_tests --gtest_filter='FormatGolden*'";
  // The expected text is itself canonical.
  EXPECT_EQ(check_round_trip(expected_file.string(), read(expected_file)), read(expected_file));
}

INSTANTIATE_TEST_SUITE_P(FormatGolden, FormatGoldenFile, ::testing::ValuesIn(format_golden_cases()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(FormatGoldenFile);

TEST(FormatGoldenCases, Exist) { EXPECT_GE(format_golden_cases().size(), 4u); }

// ---------------------------------------------------------------------------------------------
// The generator's own promise: its output checks clean.

TEST(FormatGenerator, GeneratedPoliciesCheckClean) {
  const std::uint64_t seeds = seed_count(300) * 2 / 5;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    gen::gen_options o;
    o.rules = 5 + seed % 60;
    o.messy = seed % 3 == 0;
    const std::string text = gen::generate_policy(seed, o);
    source_manager sources;
    diagnostics diags;
    auto result = check_text("gen.policy", text, sources, diags);
    diags.finish();
    EXPECT_TRUE(result.ok && diags.empty()) << "seed " << seed << ":\n" << render_text(diags.items(), sources) << text;
    if (::testing::Test::HasFailure()) break;
  }
}

// A file provider over an in-memory set of files.
class memory_files final : public file_provider {
 public:
  explicit memory_files(std::map<std::string, std::string> files) : m_files(std::move(files)) {}
  status read(const fs::path& path, std::string& text, std::string&) override {
    const auto it = m_files.find(path.lexically_normal().generic_string());
    if (it == m_files.end()) return status::not_found;
    text = it->second;
    return status::ok;
  }

 private:
  std::map<std::string, std::string> m_files;
};

TEST(FormatGenerator, GeneratedPolicySetsCheckClean) {
  const fs::path root = fs::temp_directory_path() / ("agentos-gen-" + std::to_string(::getpid()));
  const std::uint64_t seeds = seed_count(300) / 10;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    gen::gen_options o;
    o.messy = seed % 4 == 0;
    const std::size_t files = 1 + seed % 7;
    const auto set = gen::generate_policy_set(seed, files, 20 + 7 * seed, o);
    ASSERT_EQ(set.size(), files);
    ASSERT_TRUE(set.count(std::string(gen::entry_file)));
    fs::remove_all(root);
    for (const auto& [name, text] : set) {
      fs::create_directories((root / name).parent_path());
      std::ofstream(root / name, std::ios::binary) << text;
    }
    source_manager sources;
    diagnostics diags;
    disk_files disk;
    workspace ws(sources, diags, disk);
    auto loaded = ws.load(root / gen::entry_file);
    ASSERT_TRUE(loaded.has_value());
    EXPECT_EQ(loaded->modules.size(), files);
    auto result = check(std::move(*loaded), sources, diags);
    diags.finish();
    std::string all;
    for (const auto& [name, text] : set) all += "=== " + name + "\n" + text;
    EXPECT_TRUE(result.ok && diags.empty()) << "seed " << seed << ":\n" << render_text(diags.items(), sources) << all;
    if (::testing::Test::HasFailure()) break;
  }
  fs::remove_all(root);
}

TEST(FormatGenerator, IsDeterministic) {
  gen::gen_options o;
  o.messy = true;
  EXPECT_EQ(gen::generate_policy(42, o), gen::generate_policy(42, o));
  EXPECT_NE(gen::generate_policy(42, o), gen::generate_policy(43, o));
  EXPECT_EQ(gen::generate_policy_set(7, 5, 100), gen::generate_policy_set(7, 5, 100));
}

TEST(FormatGenerator, RuleCountIsHonoured) {
  // Named rules: every `route`, gate, permit, forbid, escalate, obligation, invariant and the
  // fallback; generate_policy_set adds the fallback and one operator permit to `rules`.
  const auto set = gen::generate_policy_set(3, 4, 200);
  std::size_t rules = 0;
  for (const auto& [name, text] : set) {
    const auto p = parse_text(name, text);
    ASSERT_FALSE(p->diags.has_errors()) << errors_of(*p);
    for (const auto& d : p->module.declarations) {
      if (const auto* r = std::get_if<ast::routing_block>(&d)) rules += r->routes.size();
      else if (!std::holds_alternative<ast::org_block>(d) && !std::holds_alternative<ast::task_block>(d) &&
               !std::holds_alternative<ast::lifecycle_block>(d)) {
        ++rules;
      }
    }
  }
  EXPECT_GE(rules, 200u);
  EXPECT_LE(rules, 204u);
}

// ---------------------------------------------------------------------------------------------
// Layout

TEST(FormatLayout, CanonicalIndentationAndSpacing) {
  const std::string messy = R"(policy   p version"1.0"   layer   shared
import"a.policy"   import "b.policy"
org{role a role b reports_to a
agent x role b kind human capabilities{"c1","c2"}}
task {risk:enum{low,high}=low   cost : decimal optional tags:set < string > = {}}
lifecycle { states s1,s2 , s3 initial s1 terminal s3
group g={s1,s2}
s1->s2 on go when task.risk>=high   g -> s3 on stop *->s3 on cancel }
routing{route r1 when "x"in task.labels->role a otherwise->agent x}
gate g1 when task.cost>1.5 because"why"
)";
  EXPECT_EQ(fmt(messy), R"(policy p version "1.0" layer shared

import "a.policy"
import "b.policy"

org {
  role a
  role b reports_to a
  agent x role b kind human capabilities { "c1", "c2" }
}

task {
  risk: enum { low, high } = low
  cost: decimal optional
  tags: set<string> = {}
}

lifecycle {
  states s1, s2, s3
  initial s1
  terminal s3
  group g = { s1, s2 }
  s1 -> s2 on go when task.risk >= high
  g -> s3 on stop
  * -> s3 on cancel
}

routing {
  route r1 when "x" in task.labels -> role a
  otherwise -> agent x
}

gate g1 when task.cost > 1.50 because "why"
)");
}

TEST(FormatLayout, EveryRuleKind) {
  const std::string text = R"(policy p version "1"
override gate g when true
permit p1 on a, b
forbid f1 on a when actor.id == task.assignee because "no"
override escalate e1 when task.attempts >= 3 -> parent
escalate e2 when task.attempts >= 4 -> role boss
escalate e3 when task.attempts >= 5 -> agent bot
escalate e4 when task.attempts >= 6 -> operator
obligation o1 on a when task.risk == high then notify role a, require review by operator
invariant i1 { reachable * }
invariant i2 { terminates from open }
invariant i3 { never done -> s1 }
invariant i4 { every path to s2 passes go }
invariant i5 { when task.mode == plan_first every path to s2 passes go }
)";
  EXPECT_EQ(fmt(text), R"(policy p version "1"

override gate g when true
permit p1 on a, b
forbid f1 on a when actor.id == task.assignee because "no"
override escalate e1 when task.attempts >= 3 -> parent
escalate e2 when task.attempts >= 4 -> role boss
escalate e3 when task.attempts >= 5 -> agent bot
escalate e4 when task.attempts >= 6 -> operator
obligation o1 on a when task.risk == high then notify role a, require review by operator
invariant i1 { reachable * }
invariant i2 { terminates from open }
invariant i3 { never done -> s1 }
invariant i4 { every path to s2 passes go }

invariant i5 {
  when task.mode == plan_first
  every path to s2 passes go
}
)");
}

TEST(FormatLayout, BlankLinesAreKeptButNeverDoubled) {
  const std::string text =
      "\n\npolicy p version \"1\"\nimport \"a.policy\"\n\n\n\nimport \"b.policy\"\ngate a when true\ngate b when true\n\n\n"
      "gate c when true\norg {\n\n  role x\n\n\n  role y\n\n}\ngate d when true\n\n\n";
  EXPECT_EQ(fmt(text), R"(policy p version "1"

import "a.policy"

import "b.policy"

gate a when true
gate b when true

gate c when true

org {
  role x

  role y
}

gate d when true
)");
}

TEST(FormatLayout, EmptyBlocks) {
  EXPECT_EQ(fmt("policy p version \"1\" org { } task{}"), "policy p version \"1\"\n\norg {}\n\ntask {}\n");
  EXPECT_EQ(fmt("policy p version \"1\" org { // nobody yet\n}"),
            "policy p version \"1\"\n\norg { // nobody yet\n}\n");
}

TEST(FormatLayout, LongRulesWrapAtClauses) {
  const std::string text = R"(policy p version "1"
permit assignee_executes_everything on start, submit_plan, submit_result, block when actor.id == task.assignee
forbid no_peer_approval on approve_plan when actor.kind == agent because "approval comes from the parent role, not from a peer"
permit operator_may_act on cancel, reassign, escalate_task, approve_plan, request_plan_revision, accept_result, request_revision when actor.kind == operator
escalate stale when task.state in { planning, plan_review, executing, result_review, blocked } and task.time_in_state > 24h and task.assignee_role != chief_of_staff -> parent
obligation review_plan on start_mitigation when task.mode == plan_first then require review by role oncall_lead
gate costly when task.cost >= 100.00 or task.budget > 0.00 and task.cost > task.budget because "work estimated at 100.00 or more is planned first"
)";
  EXPECT_EQ(fmt(text), R"(policy p version "1"

permit assignee_executes_everything on start, submit_plan, submit_result, block
  when actor.id == task.assignee
forbid no_peer_approval on approve_plan
  when actor.kind == agent
  because "approval comes from the parent role, not from a peer"
permit operator_may_act
  on cancel, reassign, escalate_task, approve_plan, request_plan_revision, accept_result,
     request_revision
  when actor.kind == operator
escalate stale
  when task.state in { planning, plan_review, executing, result_review, blocked }
   and task.time_in_state > 1d
   and task.assignee_role != chief_of_staff
  -> parent
obligation review_plan on start_mitigation
  when task.mode == plan_first
  then require review by role oncall_lead
gate costly when task.cost >= 100.00 or (task.budget > 0.00 and task.cost > task.budget)
  because "work estimated at 100.00 or more is planned first"
)");
}

TEST(FormatLayout, LongGateConditionMovesToItsOwnLine) {
  const std::string text =
      "policy p version \"1\"\ngate big when task.kind == engineering and task.risk >= medium and \"production\" in "
      "task.labels and task.cost > 100.00 because \"x\"\n";
  EXPECT_EQ(fmt(text), R"(policy p version "1"

gate big
  when task.kind == engineering
   and task.risk >= medium
   and "production" in task.labels
   and task.cost > 100.00
  because "x"
)");
}

TEST(FormatLayout, LongBlockItemsWrap) {
  const std::string text = R"(policy p version "1"
org { agent openclaw role chief_of_staff capabilities { "intake", "route", "submit-plan", "submit-result", "review-plan" } }
lifecycle {
  states triggered, acknowledged, mitigation_plan, mitigating, mitigated, postmortem, postmortem_review, closed
  initial triggered
  triggered -> acknowledged on acknowledge when task.severity == sev1 or task.severity == sev2 or task.labels contains "page" or task.labels contains "pager"
}
)";
  EXPECT_EQ(fmt(text), R"(policy p version "1"

org {
  agent openclaw role chief_of_staff
    capabilities { "intake", "route", "submit-plan", "submit-result", "review-plan" }
}

lifecycle {
  states triggered, acknowledged, mitigation_plan, mitigating, mitigated, postmortem,
         postmortem_review, closed
  initial triggered
  triggered -> acknowledged on acknowledge
    when task.severity == sev1
      or task.severity == sev2
      or task.labels contains "page"
      or task.labels contains "pager"
}
)");
}

// ---------------------------------------------------------------------------------------------
// Expressions

// Parentheses where precedence needs them, plus two kept for readers (see format.hpp).
TEST(FormatExpressions, ParenthesesWherePrecedenceOrReadersNeedThem) {
  const auto when = [](const std::string& cond) {
    const std::string out = fmt("policy p version \"1\"\ngate g when " + cond + "\n");
    const std::string prefix = "policy p version \"1\"\n\ngate g when ";
    EXPECT_EQ(out.substr(0, prefix.size()), prefix);
    return out.size() > prefix.size() ? out.substr(prefix.size(), out.size() - prefix.size() - 1) : out;
  };
  EXPECT_EQ(when("(a or b) and c"), "(a or b) and c");
  EXPECT_EQ(when("a or (b and c)"), "a or (b and c)");
  EXPECT_EQ(when("a or b and c"), "a or (b and c)");
  EXPECT_EQ(when("a and b or c"), "(a and b) or c");
  EXPECT_EQ(when("((a))"), "a");
  EXPECT_EQ(when("(a and b) and c"), "a and b and c");
  EXPECT_EQ(when("a and (b and c)"), "a and (b and c)");
  EXPECT_EQ(when("a or (b or c)"), "a or (b or c)");
  EXPECT_EQ(when("not (a and b)"), "not (a and b)");
  EXPECT_EQ(when("not (x == 1)"), "not (x == 1)");
  EXPECT_EQ(when("not x == 1"), "not (x == 1)");
  EXPECT_EQ(when("not not a"), "not not a");
  EXPECT_EQ(when("(not a) and b"), "not a and b");
  EXPECT_EQ(when("x == (not a)"), "x == (not a)");
  EXPECT_EQ(when("(x == 1) == true"), "(x == 1) == true");
  EXPECT_EQ(when("(task.attempts) >= (3)"), "task.attempts >= 3");
  EXPECT_EQ(when("task.state not in {a,b}"), "task.state not in { a, b }");
  EXPECT_EQ(when("not task.state in {a}"), "not (task.state in { a })");
  EXPECT_EQ(when("actor.role   parent_of   task.assignee_role"), "actor.role parent_of task.assignee_role");
  EXPECT_EQ(when("{\"a\"}subset task.labels"), "{ \"a\" } subset task.labels");
  EXPECT_EQ(when("x in {}"), "x in {}");
  EXPECT_EQ(when("now>task.due and event==go"), "now > task.due and event == go");
}

TEST(FormatExpressions, Literals) {
  const auto lit = [](const std::string& l) {
    const std::string out = fmt("policy p version \"1\"\ngate g when x == " + l + "\n");
    const std::string prefix = "policy p version \"1\"\n\ngate g when x == ";
    return out.size() > prefix.size() ? out.substr(prefix.size(), out.size() - prefix.size() - 1) : out;
  };
  // Durations: whole units, largest first.
  EXPECT_EQ(lit("90m"), "1h30m");
  EXPECT_EQ(lit("1h30m"), "1h30m");
  EXPECT_EQ(lit("30m1h"), "1h30m");
  EXPECT_EQ(lit("500ms"), "500ms");
  EXPECT_EQ(lit("1500ms"), "1s500ms");
  EXPECT_EQ(lit("0s"), "0s");
  EXPECT_EQ(lit("0ms"), "0s");
  EXPECT_EQ(lit("24h"), "1d");
  EXPECT_EQ(lit("36h"), "1d12h");
  EXPECT_EQ(lit("7d"), "7d");
  EXPECT_EQ(lit("3600s"), "1h");
  // Decimals: as few digits as needed, at least two after the point.
  EXPECT_EQ(lit("500.0"), "500.00");
  EXPECT_EQ(lit("0.125"), "0.125");
  EXPECT_EQ(lit("0.5"), "0.50");
  EXPECT_EQ(lit("1.500000"), "1.50");
  EXPECT_EQ(lit("-2.25"), "-2.25");
  EXPECT_EQ(lit("-0.0"), "0.00");
  EXPECT_EQ(lit("0.000001"), "0.000001");
  // Ints and bools.
  EXPECT_EQ(lit("007"), "7");
  EXPECT_EQ(lit("-12"), "-12");
  EXPECT_EQ(lit("true"), "true");
  // Strings are re-escaped; a raw tab becomes \t.
  EXPECT_EQ(lit(R"("a\"b\\c\nd\te")"), R"("a\"b\\c\nd\te")");
  EXPECT_EQ(lit("\"tab\there\""), R"("tab\there")");
  EXPECT_EQ(lit("\"ünï → 日本\""), "\"ünï → 日本\"");
  EXPECT_EQ(lit(R"("// not a comment /* nor this */")"), R"("// not a comment /* nor this */")");
}

TEST(FormatExpressions, LiteralSpellingFunctions) {
  EXPECT_EQ(format_duration(90 * 60'000), "1h30m");
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(86'400'000 + 1), "1d1ms");
  EXPECT_EQ(format_decimal(500'000'000), "500.00");
  EXPECT_EQ(format_decimal(125'000), "0.125");
  EXPECT_EQ(format_decimal(-1), "-0.000001");
  EXPECT_EQ(format_decimal(std::numeric_limits<std::int64_t>::min()), "-9223372036854.775808");
  EXPECT_EQ(format_string_literal("a\"\\\n\t"), R"("a\"\\\n\t")");
}

// ---------------------------------------------------------------------------------------------
// Comments

TEST(FormatComments, LineTrailingBlockAndDocCommentsAreKept) {
  const std::string text = R"(// File header.
// Second line.

/// The policy.
policy p version "1" // trailing on the header

/* block
   comment */
org {   // on the brace line
  /// Doc for a.
  role a    // trailing on a
  // between
  role b reports_to a /* trailing block */
  // last in block
}
/// Doc for the gate.
gate g when true   
// at the end
)";
  EXPECT_EQ(fmt(text), R"(// File header.
// Second line.

/// The policy.
policy p version "1" // trailing on the header

/* block
   comment */
org { // on the brace line
  /// Doc for a.
  role a // trailing on a
  // between
  role b reports_to a /* trailing block */
  // last in block
}

/// Doc for the gate.
gate g when true
// at the end
)");
}

TEST(FormatComments, DocCommentsStayAttached) {
  const std::string text = "policy p version \"1\"\n/// one\n/// two   \npermit x on a\norg {\n  /// doc\n  role r\n}\n";
  const auto p = parse_text("a.policy", fmt(text));
  ASSERT_FALSE(p->diags.has_errors());
  const auto& permit = std::get<ast::permission_rule>(p->module.declarations.at(0));
  EXPECT_EQ(permit.doc, "one\ntwo");
  const auto& org = std::get<ast::org_block>(p->module.declarations.at(1));
  EXPECT_EQ(std::get<ast::role_decl>(org.items.at(0)).doc, "doc");
}

TEST(FormatComments, CommentsInsideItemsBreakTheLine) {
  const std::string text = R"(policy p version "1"
permit x on a, // the first event
  b when /* inline */ task.attempts > 1 // why
  and task.risk == high
forbid y on a when true because /* reason follows */ "r"
)";
  EXPECT_EQ(fmt(text), R"(policy p version "1"

permit x on a, // the first event
  b when /* inline */ task.attempts > 1 // why
  and task.risk == high
forbid y on a when true because /* reason follows */ "r"
)");
}

TEST(FormatComments, CommentsOnTheirOwnLineInsideAnItem) {
  const std::string text = "policy p version \"1\"\nescalate e\n  // the condition\n  when task.attempts > 3\n  -> parent\n";
  EXPECT_EQ(fmt(text), "policy p version \"1\"\n\nescalate e\n  // the condition\n  when task.attempts > 3 -> parent\n");
}

TEST(FormatComments, CommentsInsideInvariantsAndExpressions) {
  fmt("policy p version \"1\"\ninvariant i { // why\n reachable * }\n");
  fmt("policy p version \"1\"\ngate g when ( // open\n a or b) and c\n");
  fmt("policy p version \"1\"\ngate g when x in { a, // first\n b /* second */ }\n");
  fmt("policy p version \"1\" /* a */ layer /* b */ shared /* c */\n");
  fmt("policy p version \"1\"\ntask { a: /* t */ set /* u */ < string > /* v */ = /* w */ {} }\n");
  fmt("policy p version \"1\"\ngate g when a // one\n// two\n/* three */ and b\n");
  // A comment inside parentheses the output drops moves in front of the parentheses it keeps.
  EXPECT_EQ(fmt("policy p version \"1\"\ngate g when a and ( ( /* c */ b) == 1 or d)\n"),
            "policy p version \"1\"\n\ngate g when a and /* c */ (b == 1 or d)\n");
  fmt("policy p version \"1\"\nforbid f on a /// not a doc here\n because \"r\"\npermit q on a\n");
}

TEST(FormatComments, TrailingWhitespaceAndCarriageReturns) {
  EXPECT_EQ(fmt("policy p version \"1\"   // note   \r\ngate g when true\r\n"),
            "policy p version \"1\" // note\n\ngate g when true\n");
}

// ---------------------------------------------------------------------------------------------
// `agentos fmt`

namespace cli {

struct run_result {
  int status = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs the agentos binary with `args` (already shell-quoted) in `dir`, with optional stdin text.
run_result agentos(const fs::path& dir, const std::string& args, const std::string& input = "") {
  const fs::path in = dir / ".stdin", out = dir / ".stdout", err = dir / ".stderr";
  std::ofstream(in, std::ios::binary) << input;
  const std::string command = "cd '" + dir.string() + "' && '" AGENTOS_BINARY "' " + args + " <'" + in.string() +
                              "' >'" + out.string() + "' 2>'" + err.string() + "'";
  const int raw = std::system(command.c_str());
  run_result r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = read(out);
  r.err = read(err);
  fs::remove(in);
  fs::remove(out);
  fs::remove(err);
  return r;
}

class FormatCli : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = fs::temp_directory_path() /
            ("agentos-fmt-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }

  void write(const std::string& name, const std::string& text) {
    fs::create_directories((m_dir / name).parent_path());
    std::ofstream(m_dir / name, std::ios::binary) << text;
  }
  std::string contents(const std::string& name) { return read(m_dir / name); }

  // Everything in the directory, so a test can see that no temporary file was left behind.
  std::vector<std::string> listing() {
    std::vector<std::string> names;
    for (const auto& e : fs::recursive_directory_iterator(m_dir)) names.push_back(fs::relative(e.path(), m_dir).string());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path m_dir;
};

const std::string messy = "policy  p version \"1\"\ngate g when (a) and b // why\n";
const std::string tidy = "policy p version \"1\"\n\ngate g when a and b // why\n";

TEST_F(FormatCli, RewritesChangedFilesInPlace) {
  write("a.policy", messy);
  write("sub/b.policy", tidy);
  fs::permissions(m_dir / "a.policy", fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  const auto r = agentos(m_dir, "fmt .");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "reformatted: ./a.policy\n");
  EXPECT_EQ(contents("a.policy"), tidy);
  EXPECT_EQ(contents("sub/b.policy"), tidy);
  EXPECT_EQ(fs::status(m_dir / "a.policy").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  EXPECT_EQ(listing(), (std::vector<std::string>{"a.policy", "sub", "sub/b.policy"}));

  const auto again = agentos(m_dir, "fmt a.policy sub");
  EXPECT_EQ(again.status, 0);
  EXPECT_EQ(again.out, "");  // nothing for unchanged files
  EXPECT_EQ(again.err, "");
}

TEST_F(FormatCli, CheckListsFilesThatWouldChange) {
  write("b.policy", messy);
  write("a.policy", tidy);
  write("c/d.policy", messy);
  const auto r = agentos(m_dir, "fmt --check .");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "would reformat: ./b.policy\nwould reformat: ./c/d.policy\n");
  EXPECT_EQ(contents("b.policy"), messy);  // untouched
  EXPECT_EQ(agentos(m_dir, "fmt --check a.policy").status, 0);
}

TEST_F(FormatCli, DiffIsAUnifiedDiffThatPatchAccepts) {
  std::string before = "policy p version \"1\"\n";
  for (int i = 0; i < 30; ++i) before += "gate g" + std::to_string(i) + " when " + (i % 10 == 0 ? "(a)" : "a") + "\n";
  write("x.policy", before);
  const auto r = agentos(m_dir, "fmt --diff x.policy");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(contents("x.policy"), before);  // untouched
  // The same hunks as GNU `diff -u`.
  std::string expected = "--- a/x.policy\n+++ b/x.policy\n@@ -1,5 +1,6 @@\n policy p version \"1\"\n-gate g0 when (a)\n+\n+gate g0 when a\n";
  expected += " gate g1 when a\n gate g2 when a\n gate g3 when a\n";
  for (int hunk : {10, 20}) {
    const int old_start = hunk - 1, new_start = hunk;
    expected += "@@ -" + std::to_string(old_start) + ",7 +" + std::to_string(new_start) + ",7 @@\n";
    for (int i = hunk - 3; i < hunk; ++i) expected += " gate g" + std::to_string(i) + " when a\n";
    expected += "-gate g" + std::to_string(hunk) + " when (a)\n+gate g" + std::to_string(hunk) + " when a\n";
    for (int i = hunk + 1; i < hunk + 4; ++i) expected += " gate g" + std::to_string(i) + " when a\n";
  }
  EXPECT_EQ(r.out, expected);
  if (std::system("command -v patch >/dev/null 2>&1") == 0) {
    write("x.diff", r.out);
    EXPECT_EQ(std::system(("cd '" + m_dir.string() + "' && patch -s -p1 < x.diff").c_str()), 0);
    const auto p = parse_text("x.policy", before);
    EXPECT_EQ(contents("x.policy"), format_module(p->module, p->sources.get(p->id)));
  }
}

TEST_F(FormatCli, DiffMarksAMissingFinalNewline) {
  write("x.policy", "policy p version \"1\"\n\ngate g when a");
  const auto r = agentos(m_dir, "fmt --diff x.policy");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out,
            "--- a/x.policy\n+++ b/x.policy\n@@ -1,3 +1,3 @@\n policy p version \"1\"\n \n-gate g when a\n"
            "\\ No newline at end of file\n+gate g when a\n");
}

TEST_F(FormatCli, FileThatDoesNotParseIsLeftAloneAndReported) {
  const std::string broken = "policy p version \"1\"\ngate g when (a and\n";
  write("bad.policy", broken);
  write("good.policy", messy);
  const auto r = agentos(m_dir, "fmt bad.policy good.policy");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(contents("bad.policy"), broken);
  EXPECT_EQ(contents("good.policy"), tidy);  // the other file is still formatted
  EXPECT_NE(r.err.find("bad.policy:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("error[E1"), std::string::npos) << r.err;
}

TEST_F(FormatCli, MissingPathIsAUsageError) {
  write("a.policy", messy);
  const auto r = agentos(m_dir, "fmt a.policy nope.policy");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("nope.policy"), std::string::npos);
  EXPECT_EQ(contents("a.policy"), messy);
}

TEST_F(FormatCli, StdinToStdout) {
  const auto r = agentos(m_dir, "fmt -", messy);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, tidy);
  const auto check = agentos(m_dir, "fmt --check -", messy);
  EXPECT_EQ(check.status, 1);
  EXPECT_EQ(check.out, "would reformat: <stdin>\n");
  EXPECT_EQ(agentos(m_dir, "fmt --check -", tidy).status, 0);
  EXPECT_EQ(agentos(m_dir, "fmt -", "policy p version").status, 1);
}

TEST_F(FormatCli, BinaryInputIsReportedNotFormatted) {
  const std::string garbage("policy p version \"1\"\n\0\xff\xfe", 25);
  write("bin.policy", garbage);
  const auto r = agentos(m_dir, "fmt bin.policy");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(contents("bin.policy"), garbage);
}

}  // namespace cli

}  // namespace
