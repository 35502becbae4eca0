// Diagnostic renderers: exact text layout (carets, labels, gutters, sanitising), and the JSON and
// SARIF documents' fields and internal cross-references.
#include "dsl/render.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <nlohmann/json.hpp>
#include <string>

#include "dsl/codes.hpp"

namespace agentos::dsl {
namespace {

using nlohmann::json;

constexpr std::string_view policy_a =
    "policy a version \"1\"\n"
    "org {\n"
    "  role engineer reports_to pmm\n"
    "}\n";

constexpr std::string_view policy_b =
    "policy b version \"1\"\n"
    "import \"a.policy\"\n";

// The span of the `nth` (0-based) occurrence of `needle` in file `file` of `sources`.
span find(const source_manager& sources, file_id file, std::string_view needle, int nth = 0) {
  const std::string_view text = sources.get(file).text();
  std::size_t at = text.find(needle);
  for (int i = 0; i < nth && at != std::string_view::npos; ++i) at = text.find(needle, at + 1);
  EXPECT_NE(at, std::string_view::npos) << needle;
  return {file, static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(at + needle.size())};
}

diagnostic make(std::string code, span primary, std::string message, severity level = severity::error) {
  diagnostic d;
  d.code = std::move(code);
  d.level = level;
  d.primary = primary;
  d.message = std::move(message);
  return d;
}

std::string text_of(const diagnostic& d, const source_manager& sources, render_options options = {}) {
  return render_text({d}, sources, options);
}

// ---------------------------------------------------------------------------------------------
// Text

TEST(render_text, single_character_caret) {
  source_manager sources;
  const auto a = sources.add("a.policy", std::string(policy_a));
  const auto d = make("E1001", find(sources, a, "{"), "unexpected input");
  EXPECT_EQ(text_of(d, sources),
            "a.policy:2:5: error[E1001]: unexpected input\n"
            "  |\n"
            "2 | org {\n"
            "  |     ^\n");
}

TEST(render_text, multi_character_span_with_primary_label) {
  source_manager sources;
  const auto a = sources.add("policies/a.policy", std::string(policy_a));
  auto d = make("E3003", find(sources, a, "pmm"), "unknown role `pmm`");
  d.labels.push_back({d.primary, "not declared in the org"});
  EXPECT_EQ(text_of(d, sources),
            "policies/a.policy:3:28: error[E3003]: unknown role `pmm`\n"
            "  |\n"
            "3 |   role engineer reports_to pmm\n"
            "  |                            ^~~ not declared in the org\n");
}

TEST(render_text, only_first_label_on_the_primary_span_goes_after_the_caret) {
  source_manager sources;
  const auto a = sources.add("a.policy", std::string(policy_a));
  auto d = make("E3003", find(sources, a, "pmm"), "unknown role `pmm`");
  d.labels.push_back({d.primary, "first"});
  d.labels.push_back({d.primary, "second"});
  EXPECT_EQ(text_of(d, sources),
            "a.policy:3:28: error[E3003]: unknown role `pmm`\n"
            "  |\n"
            "3 |   role engineer reports_to pmm\n"
            "  |                            ^~~ first\n"
            "  |                            --- second\n");
}

TEST(render_text, empty_span_at_end_of_file_without_newline) {
  source_manager sources;
  const auto a = sources.add("a.policy", "policy a version \"1\"\norg {");
  const span eof{a, 26, 26};
  auto d = make("E1012", eof, "a block is not closed with `}`");
  d.labels.push_back({eof, "expected `}`"});
  EXPECT_EQ(text_of(d, sources),
            "a.policy:2:6: error[E1012]: a block is not closed with `}`\n"
            "  |\n"
            "2 | org {\n"
            "  |      ^ expected `}`\n");
}

TEST(render_text, empty_span_at_end_of_file_after_newline) {
  source_manager sources;
  const auto a = sources.add("a.policy", "org {\n");
  const auto d = make("E1012", span{a, 6, 6}, "a block is not closed with `}`");
  EXPECT_EQ(text_of(d, sources),
            "a.policy:2:1: error[E1012]: a block is not closed with `}`\n"
            "  |\n"
            "2 |\n"
            "  | ^\n");
}

TEST(render_text, label_on_another_line_of_the_same_file) {
  source_manager sources;
  const auto a = sources.add("a.policy", "org {\n  role pm\n  role pm\n}\n");
  auto d = make("E3007", find(sources, a, "pm", 1), "`pm` is defined twice");
  d.labels.push_back({d.primary, "defined again"});
  d.labels.push_back({find(sources, a, "pm", 0), "first defined here"});
  EXPECT_EQ(text_of(d, sources),
            "a.policy:3:8: error[E3007]: `pm` is defined twice\n"
            "  |\n"
            "2 |   role pm\n"
            "  |        -- first defined here\n"
            "3 |   role pm\n"
            "  |        ^~ defined again\n");
}

TEST(render_text, distant_lines_are_separated_and_the_gutter_fits_the_widest_number) {
  source_manager sources;
  std::string text = "org {\n  role pm\n";
  for (int i = 0; i < 8; ++i) text += "\n";
  text += "  role pm\n}\n";
  const auto a = sources.add("a.policy", text);
  auto d = make("E3007", find(sources, a, "pm", 1), "`pm` is defined twice");
  d.labels.push_back({find(sources, a, "pm", 0), "first defined here"});
  EXPECT_EQ(text_of(d, sources),
            "a.policy:11:8: error[E3007]: `pm` is defined twice\n"
            "   |\n"
            " 2 |   role pm\n"
            "   |        -- first defined here\n"
            "...\n"
            "11 |   role pm\n"
            "   |        ^~\n");
}

TEST(render_text, label_on_the_same_line_gets_its_own_underline_row) {
  source_manager sources;
  const auto a = sources.add("a.policy", std::string(policy_a));
  auto d = make("E3003", find(sources, a, "pmm"), "unknown role `pmm`");
  d.labels.push_back({find(sources, a, "engineer"), "in this role"});
  EXPECT_EQ(text_of(d, sources),
            "a.policy:3:28: error[E3003]: unknown role `pmm`\n"
            "  |\n"
            "3 |   role engineer reports_to pmm\n"
            "  |                            ^~~\n"
            "  |        -------- in this role\n");
}

TEST(render_text, label_in_another_file) {
  source_manager sources;
  const auto a = sources.add("policies/a.policy", std::string(policy_a));
  const auto b = sources.add("policies/b.policy", std::string(policy_b));
  auto d = make("E3003", find(sources, a, "pmm"), "unknown role `pmm`");
  d.labels.push_back({find(sources, b, "\"a.policy\""), "imported here"});
  EXPECT_EQ(text_of(d, sources),
            "policies/a.policy:3:28: error[E3003]: unknown role `pmm`\n"
            "  |\n"
            "3 |   role engineer reports_to pmm\n"
            "  |                            ^~~\n"
            "  |\n"
            " ::: policies/b.policy:2:8\n"
            "  |\n"
            "2 | import \"a.policy\"\n"
            "  |        ---------- imported here\n");
}

TEST(render_text, notes_and_help) {
  source_manager sources;
  const auto a = sources.add("a.policy", std::string(policy_a));
  auto d = make("E3003", find(sources, a, "pmm"), "unknown role `pmm`");
  d.labels.push_back({d.primary, "not declared in the org"});
  d.notes = {"roles are declared in `org { ... }`", "a role may report to one role\nand only one"};
  d.help = "did you mean `pm`?";
  EXPECT_EQ(text_of(d, sources),
            "a.policy:3:28: error[E3003]: unknown role `pmm`\n"
            "  |\n"
            "3 |   role engineer reports_to pmm\n"
            "  |                            ^~~ not declared in the org\n"
            "  |\n"
            "  = note: roles are declared in `org { ... }`\n"
            "  = note: a role may report to one role\n"
            "          and only one\n"
            "  = help: did you mean `pm`?\n");
}

TEST(render_text, tabs_are_one_column_in_the_line_and_under_it) {
  source_manager sources;
  const auto a = sources.add("a.policy", "org {\n\trole\tengineer reports_to pmm\n}\n");
  const auto d = make("E3003", find(sources, a, "pmm"), "unknown role `pmm`");
  // The header column counts bytes: a tab is one byte.
  EXPECT_EQ(text_of(d, sources),
            "a.policy:2:27: error[E3003]: unknown role `pmm`\n"
            "  |\n"
            "2 |  role engineer reports_to pmm\n"
            "  |                           ^~~\n");
}

TEST(render_text, span_over_several_lines_is_underlined_to_the_end_of_its_first_line) {
  source_manager sources;
  const auto a = sources.add("a.policy", "org {\n}\n");
  const auto d = make("W0105", span{a, 0, 7}, "a block declares nothing", severity::warning);
  EXPECT_EQ(text_of(d, sources),
            "a.policy:1:1: warning[W0105]: a block declares nothing\n"
            "  |\n"
            "1 | org {\n"
            "  | ^~~~~\n");
}

TEST(render_text, diagnostic_without_a_location_has_no_snippet) {
  source_manager sources;
  auto d = make("E2004", span{}, "cannot read `x.policy`: permission denied");
  EXPECT_EQ(text_of(d, sources), "agentos: error[E2004]: cannot read `x.policy`: permission denied\n");
  d.notes = {"checked as part of `policies/`"};
  EXPECT_EQ(text_of(d, sources),
            "agentos: error[E2004]: cannot read `x.policy`: permission denied\n"
            "  = note: checked as part of `policies/`\n");
}

TEST(render_text, unknown_file_id_is_treated_as_no_location) {
  source_manager sources;
  const auto d = make("E2004", span{7, 0, 1}, "stale span");
  EXPECT_EQ(text_of(d, sources), "agentos: error[E2004]: stale span\n");
}

TEST(render_text, labels_without_a_primary_are_shown_under_their_file) {
  source_manager sources;
  const auto b = sources.add("b.policy", std::string(policy_b));
  auto d = make("E2003", span{}, "files import each other in a cycle");
  d.labels.push_back({find(sources, b, "\"a.policy\""), "imports a.policy"});
  d.labels.push_back({span{}, "which imports b.policy"});
  EXPECT_EQ(text_of(d, sources),
            "agentos: error[E2003]: files import each other in a cycle\n"
            " ::: b.policy:2:8\n"
            "  |\n"
            "2 | import \"a.policy\"\n"
            "  |        ---------- imports a.policy\n"
            "  |\n"
            "  = note: which imports b.policy\n");
}

TEST(render_text, unsafe_bytes_become_question_marks_and_keep_columns) {
  source_manager sources;
  // An invalid byte, a control byte, a right-to-left override (3 bytes) and an é (2 bytes).
  const auto a = sources.add("a.policy", "x \xff\x01 \xe2\x80\xae \xc3\xa9 pmm\n");
  const auto d = make("E3003", find(sources, a, "pmm"), "bad \x1b[31mname\xc0");
  EXPECT_EQ(text_of(d, sources),
            "a.policy:1:13: error[E3003]: bad ?[31mname?\n"
            "  |\n"
            "1 | x ?? ? \xc3\xa9 pmm\n"
            "  |          ^~~\n");
}

TEST(render_text, span_inside_a_multibyte_character_covers_the_whole_character) {
  source_manager sources;
  const auto a = sources.add("a.policy", "a \xc3\xa9 b\n");
  const auto d = make("E1004", span{a, 3, 4}, "the file is not valid UTF-8 text");
  EXPECT_EQ(text_of(d, sources),
            "a.policy:1:4: error[E1004]: the file is not valid UTF-8 text\n"
            "  |\n"
            "1 | a \xc3\xa9 b\n"
            "  |   ^\n");
}

TEST(render_text, out_of_range_span_is_clamped) {
  source_manager sources;
  const auto a = sources.add("a.policy", "org {");
  const auto d = make("E1012", span{a, 3, 900}, "x");
  EXPECT_EQ(text_of(d, sources),
            "a.policy:1:4: error[E1012]: x\n"
            "  |\n"
            "1 | org {\n"
            "  |    ^~\n");
}

TEST(render_text, diagnostics_are_separated_by_a_blank_line) {
  source_manager sources;
  const auto a = sources.add("a.policy", std::string(policy_a));
  std::vector<diagnostic> items;
  items.push_back(make("E1001", find(sources, a, "{"), "one"));
  items.push_back(make("E2004", span{}, "two"));
  EXPECT_EQ(render_text(items, sources),
            "a.policy:2:5: error[E1001]: one\n"
            "  |\n"
            "2 | org {\n"
            "  |     ^\n"
            "\n"
            "agentos: error[E2004]: two\n");
  EXPECT_EQ(render_text({}, sources), "");
}

TEST(render_text, color_is_opt_in) {
  source_manager sources;
  const auto a = sources.add("a.policy", std::string(policy_a));
  auto d = make("E3003", find(sources, a, "pmm"), "unknown role `pmm`");
  d.labels.push_back({find(sources, a, "engineer"), "here"});
  d.help = "did you mean `pm`?";
  EXPECT_EQ(text_of(d, sources).find('\x1b'), std::string::npos);

  const std::string colored = text_of(d, sources, {.color = true});
  EXPECT_NE(colored.find("\x1b[1;31merror[E3003]\x1b[0m"), std::string::npos) << colored;
  EXPECT_NE(colored.find("\x1b[1;31m^~~\x1b[0m"), std::string::npos) << colored;
  EXPECT_NE(colored.find("\x1b[1;36m-------- here\x1b[0m"), std::string::npos) << colored;
  EXPECT_NE(colored.find("= \x1b[1;36mhelp\x1b[0m: did you mean"), std::string::npos) << colored;

  d.level = severity::warning;
  EXPECT_NE(text_of(d, sources, {.color = true}).find("\x1b[1;33mwarning[E3003]\x1b[0m"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Summary and format names

TEST(render_summary, counts_by_severity) {
  EXPECT_EQ(render_summary({}), "no problems");
  std::vector<diagnostic> items;
  items.push_back(make("E1001", span{}, "a"));
  EXPECT_EQ(render_summary(items), "1 error");
  items.push_back(make("E1001", span{}, "b"));
  items.push_back(make("W0105", span{}, "c", severity::warning));
  EXPECT_EQ(render_summary(items), "2 errors, 1 warning");
  items.push_back(make("W0105", span{}, "d", severity::warning));
  items.push_back(make("X", span{}, "e", severity::note));
  EXPECT_EQ(render_summary(items), "2 errors, 2 warnings, 1 note");
  std::vector<diagnostic> warnings_only{make("W0105", span{}, "c", severity::warning)};
  EXPECT_EQ(render_summary(warnings_only), "1 warning");
}

TEST(parse_output_format, accepts_exactly_the_three_names) {
  EXPECT_EQ(parse_output_format("text"), output_format::text);
  EXPECT_EQ(parse_output_format("json"), output_format::json);
  EXPECT_EQ(parse_output_format("sarif"), output_format::sarif);
  EXPECT_EQ(parse_output_format("JSON"), std::nullopt);
  EXPECT_EQ(parse_output_format(""), std::nullopt);
  EXPECT_EQ(parse_output_format("xml"), std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// JSON

TEST(render_json, fields) {
  source_manager sources;
  const auto a = sources.add("policies/a.policy", std::string(policy_a));
  const auto b = sources.add("policies/b.policy", std::string(policy_b));
  std::vector<diagnostic> items;
  auto d = make("E3003", find(sources, a, "pmm"), "unknown role `pmm`");
  d.labels.push_back({find(sources, b, "\"a.policy\""), "imported here"});
  d.notes = {"n1"};
  d.help = "did you mean `pm`?";
  items.push_back(d);
  items.push_back(make("W0105", span{a, 21, 27}, "empty", severity::warning));
  items.push_back(make("E2004", span{}, "unreadable"));

  const std::string out = render_json(items, sources);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\n');
  EXPECT_NE(out.find("\n  \"diagnostics\": ["), std::string::npos) << "indented by 2";
  const json j = json::parse(out);
  EXPECT_EQ(j["version"], 1);
  ASSERT_EQ(j["diagnostics"].size(), 3u);

  const json& first = j["diagnostics"][0];
  EXPECT_EQ(first["code"], "E3003");
  EXPECT_EQ(first["severity"], "error");
  EXPECT_EQ(first["message"], "unknown role `pmm`");
  EXPECT_EQ(first["file"], "policies/a.policy");
  EXPECT_EQ(first["line"], 3);
  EXPECT_EQ(first["column"], 28);
  EXPECT_EQ(first["end_line"], 3);
  EXPECT_EQ(first["end_column"], 31);
  EXPECT_EQ(first["begin_offset"], d.primary.begin);
  EXPECT_EQ(first["end_offset"], d.primary.end);
  ASSERT_EQ(first["labels"].size(), 1u);
  EXPECT_EQ(first["labels"][0]["file"], "policies/b.policy");
  EXPECT_EQ(first["labels"][0]["line"], 2);
  EXPECT_EQ(first["labels"][0]["column"], 8);
  EXPECT_EQ(first["labels"][0]["end_line"], 2);
  EXPECT_EQ(first["labels"][0]["end_column"], 18);
  EXPECT_EQ(first["labels"][0]["message"], "imported here");
  EXPECT_EQ(first["notes"], json::array({"n1"}));
  EXPECT_EQ(first["help"], "did you mean `pm`?");

  const json& second = j["diagnostics"][1];
  EXPECT_EQ(second["severity"], "warning");
  EXPECT_EQ(second["line"], 2);
  EXPECT_EQ(second["end_line"], 3);  // the span ends just past the newline
  EXPECT_EQ(second["end_column"], 1);
  EXPECT_TRUE(second["labels"].empty());
  EXPECT_TRUE(second["notes"].empty());
  EXPECT_TRUE(second["help"].is_null());

  const json& third = j["diagnostics"][2];
  EXPECT_TRUE(third["file"].is_null());
  EXPECT_TRUE(third["line"].is_null());
  EXPECT_TRUE(third["begin_offset"].is_null());

  EXPECT_EQ(j["summary"]["errors"], 2);
  EXPECT_EQ(j["summary"]["warnings"], 1);
}

TEST(render_json, invalid_utf8_does_not_throw) {
  source_manager sources;
  const auto a = sources.add("bad\xff.policy", "x");
  const std::vector<diagnostic> items{make("E1004", span{a, 0, 1}, "bad \xc0 byte")};
  std::string out;
  ASSERT_NO_THROW(out = render_json(items, sources));
  const json j = json::parse(out, nullptr, false);
  EXPECT_FALSE(j.is_discarded());
  EXPECT_EQ(j["diagnostics"][0]["message"], "bad \xef\xbf\xbd byte");  // U+FFFD
}

TEST(render_json, empty_list_is_a_complete_document) {
  source_manager sources;
  const json j = json::parse(render_json({}, sources));
  EXPECT_EQ(j["version"], 1);
  EXPECT_TRUE(j["diagnostics"].is_array());
  EXPECT_TRUE(j["diagnostics"].empty());
  EXPECT_EQ(j["summary"]["errors"], 0);
  EXPECT_EQ(j["summary"]["warnings"], 0);
}

// ---------------------------------------------------------------------------------------------
// SARIF

json sarif_of(const std::vector<diagnostic>& items, const source_manager& sources) {
  return json::parse(render_sarif(items, sources, "1.2.3"));
}

TEST(render_sarif, required_fields) {
  source_manager sources;
  const auto a = sources.add("policies/a.policy", std::string(policy_a));
  auto d = make("E3003", find(sources, a, "pmm"), "unknown role `pmm`");
  d.help = "did you mean `pm`?";
  const json j = sarif_of({d}, sources);

  EXPECT_EQ(j["$schema"], "https://json.schemastore.org/sarif-2.1.0.json");
  EXPECT_EQ(j["version"], "2.1.0");
  ASSERT_EQ(j["runs"].size(), 1u);
  const json& run = j["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["name"], "agentos");
  EXPECT_EQ(run["tool"]["driver"]["version"], "1.2.3");
  EXPECT_EQ(run["tool"]["driver"]["informationUri"], "https://github.com/agentic-os/agentic-os");
  ASSERT_EQ(run["results"].size(), 1u);
  const json& result = run["results"][0];
  EXPECT_EQ(result["ruleId"], "E3003");
  EXPECT_EQ(result["level"], "error");
  EXPECT_EQ(result["message"]["text"], "unknown role `pmm` help: did you mean `pm`?");
  ASSERT_EQ(result["locations"].size(), 1u);
  const json& physical = result["locations"][0]["physicalLocation"];
  EXPECT_EQ(physical["artifactLocation"]["uri"], "policies/a.policy");
  const json& region = physical["region"];
  EXPECT_EQ(region["startLine"], 3);
  EXPECT_EQ(region["startColumn"], 28);
  EXPECT_EQ(region["endLine"], 3);
  EXPECT_EQ(region["endColumn"], 31);
  EXPECT_EQ(region["charOffset"], d.primary.begin);
  EXPECT_EQ(region["charLength"], 3);
}

TEST(render_sarif, one_rule_per_code_with_documentation) {
  source_manager sources;
  const json j = sarif_of({}, sources);
  const json& rules = j["runs"][0]["tool"]["driver"]["rules"];
  const auto codes = all_codes();
  ASSERT_EQ(rules.size(), codes.size());
  for (std::size_t i = 0; i < codes.size(); ++i) {
    EXPECT_EQ(rules[i]["id"], codes[i].code);
    EXPECT_EQ(rules[i]["name"], codes[i].name);
    EXPECT_EQ(rules[i]["shortDescription"]["text"], codes[i].summary);
    EXPECT_EQ(rules[i]["defaultConfiguration"]["level"], std::string(to_string(codes[i].default_level)));
  }
  for (const auto& rule : rules) {
    const std::string uri = rule["helpUri"];
    const std::string id = rule["id"];
    std::string lower = id;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(uri, "https://github.com/agentic-os/agentic-os/blob/main/docs/diagnostics.md#" + lower);
  }
  EXPECT_TRUE(j["runs"][0]["results"].empty());
  EXPECT_TRUE(j["runs"][0]["artifacts"].empty());
}

TEST(render_sarif, rule_and_artifact_indexes_are_consistent) {
  source_manager sources;
  const auto a = sources.add("policies/a.policy", std::string(policy_a));
  const auto b = sources.add("policies\\b.policy", std::string(policy_b));
  const auto a_again = sources.add("policies/a.policy", std::string(policy_a));
  std::vector<diagnostic> items;
  auto d1 = make("W0105", find(sources, b, "import"), "w", severity::error);  // promoted by --deny
  items.push_back(d1);
  auto d2 = make("E3003", find(sources, a, "pmm"), "unknown role `pmm`");
  d2.labels.push_back({find(sources, b, "\"a.policy\""), "imported here"});
  d2.labels.push_back({find(sources, a, "engineer"), ""});  // no message: not a related location
  d2.labels.push_back({find(sources, a, "engineer"), "this role"});
  items.push_back(d2);
  items.push_back(make("E1001", find(sources, a_again, "org"), "x"));
  items.push_back(make("Z9999", find(sources, a, "org"), "from a newer pass"));
  items.push_back(make("E2004", span{}, "unreadable"));

  const json j = sarif_of(items, sources);
  const json& run = j["runs"][0];
  const json& rules = run["tool"]["driver"]["rules"];
  const json& artifacts = run["artifacts"];
  ASSERT_EQ(run["results"].size(), items.size());

  // Two distinct URIs, even though three file ids were used.
  ASSERT_EQ(artifacts.size(), 2u);
  EXPECT_EQ(artifacts[0]["location"]["uri"], "policies/b.policy");
  EXPECT_EQ(artifacts[1]["location"]["uri"], "policies/a.policy");

  auto check_location = [&](const json& location) {
    const json& artifact = location["physicalLocation"]["artifactLocation"];
    const std::size_t index = artifact["index"];
    ASSERT_LT(index, artifacts.size());
    EXPECT_EQ(artifacts[index]["location"]["uri"], artifact["uri"]);
  };
  for (const json& result : run["results"]) {
    const std::size_t index = result["ruleIndex"];
    ASSERT_LT(index, rules.size());
    EXPECT_EQ(rules[index]["id"], result["ruleId"]);
    for (const json& location : result["locations"]) check_location(location);
    if (result.contains("relatedLocations")) {
      for (const json& location : result["relatedLocations"]) check_location(location);
    }
  }

  EXPECT_EQ(run["results"][0]["level"], "error");
  EXPECT_EQ(run["results"][0]["ruleId"], "W0105");
  const json& related = run["results"][1]["relatedLocations"];
  ASSERT_EQ(related.size(), 2u);
  EXPECT_EQ(related[0]["message"]["text"], "imported here");
  EXPECT_EQ(related[1]["message"]["text"], "this role");
  EXPECT_NE(related[0]["id"], related[1]["id"]);
  EXPECT_EQ(run["results"][3]["ruleId"], "Z9999");
  EXPECT_EQ(rules.back()["id"], "Z9999");
  EXPECT_TRUE(run["results"][4]["locations"].empty());
}

TEST(render_sarif, regions_count_code_points_and_keep_bytes) {
  source_manager sources;
  // "é" is two bytes but one code point.
  const auto a = sources.add("dir name/\xc3\xa9.policy", "\xc3\xa9\n  x \xc3\xa9 pmm\n");
  const auto d = make("E3003", find(sources, a, "pmm"), "unknown role `pmm`");
  const json j = sarif_of({d}, sources);
  const json& run = j["runs"][0];
  EXPECT_EQ(run["columnKind"], "unicodeCodePoints");
  const json& location = run["results"][0]["locations"][0]["physicalLocation"];
  EXPECT_EQ(location["artifactLocation"]["uri"], "dir%20name/%C3%A9.policy");
  const json& region = location["region"];
  EXPECT_EQ(region["startLine"], 2);
  EXPECT_EQ(region["startColumn"], 7);
  EXPECT_EQ(region["endColumn"], 10);
  EXPECT_EQ(region["charOffset"], 8);
  EXPECT_EQ(region["charLength"], 3);
  EXPECT_EQ(region["byteOffset"], d.primary.begin);
  EXPECT_EQ(region["byteLength"], 3);
}

}  // namespace
}  // namespace agentos::dsl
