// The three output formats describe the same diagnostics: JSON and SARIF are checked against the
// text output of the same run (code, severity, file, line, column), SARIF's required fields and
// internal references are checked, and the warning options (--allow, --deny) are applied by
// diagnostics::finish before any renderer sees them. Inputs are golden cases, so what is checked
// here is also what tests/dsl/golden/*.expected shows.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

#include "dsl/checker.hpp"
#include "dsl/codes.hpp"
#include "dsl/loader.hpp"
#include "dsl/render.hpp"

namespace agentos::dsl {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// One golden case with errors and warnings, and one whose labels are in another file.
const fs::path mixed_case = "tests/dsl/golden/errors_and_warnings.policy";
const fs::path two_file_case = "tests/dsl/golden/layer_override_different_kind";

void enter_source_dir() {
  std::error_code ec;
  if (!fs::exists(mixed_case, ec)) fs::current_path(AGENTOS_SOURCE_DIR);
}

// One `agentos check PATH` run through the library, with the given warning options.
struct run {
  source_manager sources;
  diagnostics diags;

  explicit run(const fs::path& path, const warning_options& warnings = {}) {
    enter_source_dir();
    std::vector<std::string> missing;
    const auto files = expand_paths({path.string()}, missing);
    EXPECT_TRUE(missing.empty()) << path;
    EXPECT_FALSE(files.empty()) << path;
    disk_files disk;
    workspace ws(sources, diags, disk);
    for (const auto& entry : ws.entry_points(files)) {
      if (auto loaded = ws.load(entry)) (void)check(std::move(*loaded), sources, diags);
    }
    diags.finish(warnings);
  }

  [[nodiscard]] const std::vector<diagnostic>& items() const { return diags.items(); }
  [[nodiscard]] std::string text() const { return render_text(items(), sources); }
  [[nodiscard]] json as_json() const { return json::parse(render_json(items(), sources)); }
  [[nodiscard]] json as_sarif() const { return json::parse(render_sarif(items(), sources, "9.9.9")); }
};

// The header lines of the text output: `file:line:col: severity[CODE]: message`.
struct text_header {
  std::string file;
  int line;
  int column;
  std::string severity;
  std::string code;
  std::string message;
};

std::vector<text_header> headers_of(const std::string& text) {
  static const std::regex header(R"(^(\S+):(\d+):(\d+): (error|warning|note)\[(\w+)\]: (.*)$)");
  std::vector<text_header> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, header)) {
      out.push_back({m[1], std::stoi(m[2]), std::stoi(m[3]), m[4], m[5], m[6]});
    }
  }
  return out;
}

std::vector<std::string> codes_of(const std::vector<diagnostic>& items) {
  std::vector<std::string> out;
  for (const auto& d : items) out.push_back(d.code);
  return out;
}

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// ---------------------------------------------------------------------------------------------
// The case itself

TEST(OutputFormat, mixed_case_has_errors_and_warnings) {
  const run r(mixed_case);
  EXPECT_GE(r.diags.count(severity::error), 2u);
  EXPECT_GE(r.diags.count(severity::warning), 2u);
}

TEST(OutputFormat, format_names) {
  EXPECT_EQ(parse_output_format("text"), output_format::text);
  EXPECT_EQ(parse_output_format("json"), output_format::json);
  EXPECT_EQ(parse_output_format("sarif"), output_format::sarif);
  EXPECT_EQ(parse_output_format("JSON"), std::nullopt);
  EXPECT_EQ(parse_output_format("xml"), std::nullopt);
  EXPECT_EQ(parse_output_format(""), std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// JSON

TEST(OutputFormat, json_agrees_with_text) {
  for (const auto& path : {mixed_case, two_file_case}) {
    const run r(path);
    const auto headers = headers_of(r.text());
    const json doc = r.as_json();
    ASSERT_EQ(doc["version"], 1);
    const json& diags = doc["diagnostics"];
    ASSERT_EQ(diags.size(), r.items().size()) << path;
    ASSERT_EQ(headers.size(), diags.size()) << r.text();
    for (std::size_t i = 0; i < diags.size(); ++i) {
      const json& d = diags[i];
      SCOPED_TRACE(path.string() + " diagnostic " + std::to_string(i) + ": " + d.dump());
      EXPECT_EQ(d["code"], headers[i].code);
      EXPECT_EQ(d["severity"], headers[i].severity);
      EXPECT_EQ(d["file"], headers[i].file);
      EXPECT_EQ(d["line"], headers[i].line);
      EXPECT_EQ(d["column"], headers[i].column);
      EXPECT_EQ(d["message"], headers[i].message);
      // Positions agree with the byte offsets they come from.
      const auto& src = r.sources.get(r.items()[i].primary.file);
      const auto begin = src.position(d["begin_offset"].get<std::uint32_t>());
      const auto end = src.position(d["end_offset"].get<std::uint32_t>());
      EXPECT_EQ(d["line"], begin.line);
      EXPECT_EQ(d["column"], begin.column);
      EXPECT_EQ(d["end_line"], end.line);
      EXPECT_EQ(d["end_column"], end.column);
      EXPECT_LE(d["begin_offset"].get<std::uint32_t>(), d["end_offset"].get<std::uint32_t>());
      EXPECT_EQ(d["labels"].size(), r.items()[i].labels.size());
      EXPECT_EQ(d["notes"].size(), r.items()[i].notes.size());
      if (r.items()[i].help.empty()) EXPECT_TRUE(d["help"].is_null());
      else EXPECT_EQ(d["help"], r.items()[i].help);
    }
    EXPECT_EQ(doc["summary"]["errors"], r.diags.count(severity::error));
    EXPECT_EQ(doc["summary"]["warnings"], r.diags.count(severity::warning));
    EXPECT_EQ(doc["summary"]["notes"], r.diags.count(severity::note));
  }
}

TEST(OutputFormat, json_labels_point_into_other_files) {
  const run r(two_file_case);
  const json doc = r.as_json();
  ASSERT_EQ(doc["diagnostics"].size(), 1u);
  const json& d = doc["diagnostics"][0];
  EXPECT_EQ(d["code"], "E3010");
  ASSERT_EQ(d["labels"].size(), 1u);
  EXPECT_EQ(d["labels"][0]["file"], "tests/dsl/golden/layer_override_different_kind/global/defaults.policy");
  EXPECT_EQ(d["labels"][0]["line"], 10);
  EXPECT_EQ(d["labels"][0]["column"], 8);
  EXPECT_EQ(d["labels"][0]["message"], "the rule it would replace");
}

TEST(OutputFormat, json_for_a_clean_run_is_empty_but_complete) {
  const source_manager sources;
  const json doc = json::parse(render_json({}, sources));
  EXPECT_EQ(doc["version"], 1);
  EXPECT_TRUE(doc["diagnostics"].is_array());
  EXPECT_TRUE(doc["diagnostics"].empty());
  EXPECT_EQ(doc["summary"], json({{"errors", 0}, {"warnings", 0}, {"notes", 0}}));
}

// ---------------------------------------------------------------------------------------------
// SARIF

TEST(OutputFormat, sarif_required_fields) {
  const run r(mixed_case);
  const json log = r.as_sarif();
  EXPECT_EQ(log["version"], "2.1.0");
  ASSERT_TRUE(log.contains("$schema"));
  EXPECT_NE(log["$schema"].get<std::string>().find("sarif-2.1.0"), std::string::npos);
  ASSERT_TRUE(log["runs"].is_array());
  ASSERT_EQ(log["runs"].size(), 1u);
  const json& driver = log["runs"][0]["tool"]["driver"];
  EXPECT_EQ(driver["name"], "agentos");
  EXPECT_EQ(driver["version"], "9.9.9");
  EXPECT_TRUE(driver["informationUri"].get<std::string>().starts_with("https://"));
  EXPECT_TRUE(log["runs"][0]["results"].is_array());
}

TEST(OutputFormat, sarif_rules_are_every_code_once) {
  const run r(mixed_case);
  const json log = r.as_sarif();
  const json& rules = log["runs"][0]["tool"]["driver"]["rules"];
  std::set<std::string> ids;
  for (const json& rule : rules) {
    const std::string id = rule["id"];
    EXPECT_TRUE(ids.insert(id).second) << "duplicate rule " << id;
    const auto info = find_code(id);
    ASSERT_TRUE(info) << id;
    EXPECT_EQ(rule["name"], info->name);
    EXPECT_EQ(rule["shortDescription"]["text"], info->summary);
    EXPECT_EQ(rule["defaultConfiguration"]["level"], to_string(info->default_level));
    const std::string help = rule["helpUri"];
    EXPECT_TRUE(help.starts_with("https://")) << help;  // SARIF requires an absolute URI
    EXPECT_TRUE(help.ends_with("docs/diagnostics.md#" + lowercase(id))) << help;
  }
  EXPECT_EQ(ids.size(), all_codes().size());
}

TEST(OutputFormat, sarif_results_agree_with_json) {
  for (const auto& path : {mixed_case, two_file_case}) {
    SCOPED_TRACE(path.string());
    const run r(path);
    const json diags = r.as_json()["diagnostics"];
    const json log = r.as_sarif();
    const json& run0 = log["runs"][0];
    const json& rules = run0["tool"]["driver"]["rules"];
    const json& results = run0["results"];
    const json& artifacts = run0["artifacts"];
    ASSERT_EQ(results.size(), diags.size());

    std::set<std::string> artifact_uris;
    for (const json& a : artifacts) EXPECT_TRUE(artifact_uris.insert(a["location"]["uri"]).second) << a.dump();

    // Every artifactLocation names an artifact by index and URI, and every artifact is used.
    std::set<std::size_t> used;
    auto check_location = [&](const json& location, const json& file, const json& line, const json& column) {
      const json& physical = location["physicalLocation"];
      const json& artifact = physical["artifactLocation"];
      const auto index = artifact["index"].get<std::size_t>();
      ASSERT_LT(index, artifacts.size());
      EXPECT_EQ(artifacts[index]["location"]["uri"], artifact["uri"]);
      EXPECT_EQ(artifact["uri"], file);  // these file names need no percent-encoding
      EXPECT_EQ(physical["region"]["startLine"], line);
      EXPECT_EQ(physical["region"]["startColumn"], column);  // ASCII: code points == bytes
      used.insert(index);
    };

    for (std::size_t i = 0; i < results.size(); ++i) {
      const json& result = results[i];
      const json& d = diags[i];
      SCOPED_TRACE(result.dump());
      const std::string rule_id = result["ruleId"];
      EXPECT_EQ(rule_id, d["code"]);
      const auto rule_index = result["ruleIndex"].get<std::size_t>();
      ASSERT_LT(rule_index, rules.size());
      EXPECT_EQ(rules[rule_index]["id"], rule_id);
      EXPECT_EQ(result["level"], d["severity"]);
      EXPECT_TRUE(result["message"]["text"].get<std::string>().starts_with(d["message"].get<std::string>()));
      ASSERT_EQ(result["locations"].size(), 1u);
      check_location(result["locations"][0], d["file"], d["line"], d["column"]);
      const json& region = result["locations"][0]["physicalLocation"]["region"];
      EXPECT_EQ(region["endLine"], d["end_line"]);
      EXPECT_EQ(region["endColumn"], d["end_column"]);
      EXPECT_EQ(region["byteOffset"], d["begin_offset"]);
      EXPECT_EQ(region["byteLength"], d["end_offset"].get<std::uint32_t>() - d["begin_offset"].get<std::uint32_t>());

      // Related locations are the labels that have a message, in order, with unique ids.
      std::vector<json> labels;
      for (const json& l : d["labels"]) {
        if (!l["message"].get<std::string>().empty()) labels.push_back(l);
      }
      const json related = result.value("relatedLocations", json::array());
      ASSERT_EQ(related.size(), labels.size());
      std::set<int> ids;
      for (std::size_t k = 0; k < related.size(); ++k) {
        EXPECT_TRUE(ids.insert(related[k]["id"].get<int>()).second);
        EXPECT_EQ(related[k]["message"]["text"], labels[k]["message"]);
        check_location(related[k], labels[k]["file"], labels[k]["line"], labels[k]["column"]);
      }
    }
    EXPECT_EQ(used.size(), artifacts.size()) << "an artifact no location refers to";
  }
}

TEST(OutputFormat, sarif_two_file_case_has_two_artifacts) {
  const run r(two_file_case);
  const json log = r.as_sarif();
  const json& artifacts = log["runs"][0]["artifacts"];
  ASSERT_EQ(artifacts.size(), 2u);
  EXPECT_EQ(artifacts[0]["location"]["uri"], "tests/dsl/golden/layer_override_different_kind/project.policy");
  EXPECT_EQ(artifacts[1]["location"]["uri"], "tests/dsl/golden/layer_override_different_kind/global/defaults.policy");
}

TEST(OutputFormat, every_sarif_help_anchor_exists_in_the_docs) {
  enter_source_dir();
  std::ifstream in("docs/diagnostics.md");
  ASSERT_TRUE(in) << "docs/diagnostics.md is missing";
  std::stringstream docs;
  docs << in.rdbuf();
  const std::string text = docs.str();
  for (const auto& info : all_codes()) {
    const std::string code(info.code);
    EXPECT_NE(text.find("<a id=\"" + lowercase(code) + "\"></a>"), std::string::npos) << "no anchor for " << code;
    EXPECT_NE(text.find("## " + code + " " + std::string(info.name) + "\n"), std::string::npos)
        << "no heading `## " << code << " " << info.name << "`";
  }
}

// ---------------------------------------------------------------------------------------------
// Warning options

// What `--allow NAME...` and `--deny NAME...` build (cmd_check.cpp); `warnings` denies them all.
warning_options allowing(std::vector<std::string> names) {
  warning_options w;
  w.allow = std::move(names);
  return w;
}

warning_options denying(const std::vector<std::string>& names) {
  warning_options w;
  for (const auto& n : names) {
    if (n == "warnings") w.deny_all_warnings = true;
    else w.deny.push_back(n);
  }
  return w;
}

std::size_t count_code(const std::vector<diagnostic>& items, std::string_view code) {
  const auto n = std::count_if(items.begin(), items.end(), [&](const diagnostic& d) { return d.code == code; });
  return static_cast<std::size_t>(n);
}

const diagnostic* find_diag(const std::vector<diagnostic>& items, std::string_view code) {
  for (const auto& d : items) {
    if (d.code == code) return &d;
  }
  return nullptr;
}

TEST(OutputFormat, allow_silences_a_warning_by_name_or_code) {
  const run plain(mixed_case);
  ASSERT_EQ(count_code(plain.items(), "W0103"), 1u);
  ASSERT_EQ(count_code(plain.items(), "W0102"), 1u);

  const run allowed(mixed_case, allowing({"unused-group", "W0102"}));
  EXPECT_EQ(count_code(allowed.items(), "W0103"), 0u);
  EXPECT_EQ(count_code(allowed.items(), "W0102"), 0u);
  EXPECT_EQ(allowed.items().size(), plain.items().size() - 2);
  EXPECT_EQ(allowed.diags.count(severity::error), plain.diags.count(severity::error));
  // Silenced warnings are gone from every format, not only the text.
  EXPECT_EQ(allowed.text().find("W0103"), std::string::npos);
  EXPECT_EQ(allowed.as_json()["summary"]["warnings"], plain.diags.count(severity::warning) - 2);
  const json log = allowed.as_sarif();
  for (const json& result : log["runs"][0]["results"]) EXPECT_NE(result["ruleId"], "W0103");
}

TEST(OutputFormat, allow_cannot_silence_an_error) {
  const run plain(mixed_case);
  const run allowed(mixed_case, allowing({"type-mismatch", "E4006"}));
  EXPECT_EQ(codes_of(allowed.items()), codes_of(plain.items()));
}

TEST(OutputFormat, deny_promotes_one_warning_to_an_error) {
  const run plain(mixed_case);
  const run denied(mixed_case, denying({"self-comparison"}));
  const diagnostic* d = find_diag(denied.items(), "W0104");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->level, severity::error);
  EXPECT_EQ(find_diag(denied.items(), "W0103")->level, severity::warning);
  EXPECT_EQ(denied.diags.count(severity::error), plain.diags.count(severity::error) + 1);
  EXPECT_NE(denied.text().find("error[W0104]"), std::string::npos) << denied.text();
  const json doc = denied.as_json();
  for (const json& j : doc["diagnostics"]) {
    if (j["code"] == "W0104") {
      EXPECT_EQ(j["severity"], "error");
    }
  }
  const json log = denied.as_sarif();
  for (const json& result : log["runs"][0]["results"]) {
    if (result["ruleId"] == "W0104") {
      EXPECT_EQ(result["level"], "error");
    }
  }
}

TEST(OutputFormat, deny_warnings_promotes_all_of_them) {
  const run plain(mixed_case);
  const run denied(mixed_case, denying({"warnings"}));
  EXPECT_EQ(denied.diags.count(severity::warning), 0u);
  EXPECT_EQ(denied.diags.count(severity::error), plain.items().size());
  EXPECT_EQ(codes_of(denied.items()), codes_of(plain.items()));
}

TEST(OutputFormat, deny_makes_a_warning_only_run_fail) {
  const run plain("tests/dsl/golden/unused_state_group.policy");
  EXPECT_FALSE(plain.diags.has_errors());
  const run denied("tests/dsl/golden/unused_state_group.policy", denying({"W0103"}));
  EXPECT_TRUE(denied.diags.has_errors());
}

TEST(OutputFormat, allow_wins_over_deny) {
  warning_options both = denying({"unused-group"});
  both.allow = {"unused-group"};
  const run r(mixed_case, both);
  EXPECT_EQ(count_code(r.items(), "W0103"), 0u);
}

// ---------------------------------------------------------------------------------------------
// The command line: formats and exit status (0 clean, 1 errors, 2 usage). Skipped when the binary
// has not been built (the tests of the library do not depend on it).

struct command_result {
  int status = -1;
  std::string out;
};

command_result agentos(const std::string& args) {
  command_result r;
  const std::string command = std::string(AGENTOS_BINARY) + " " + args + " 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) r.out.append(buffer, n);
  const int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class OutputFormatCli : public testing::Test {
 protected:
  void SetUp() override {
    enter_source_dir();
    if (!fs::exists(AGENTOS_BINARY)) GTEST_SKIP() << "agentos binary not built: " << AGENTOS_BINARY;
  }
};

TEST_F(OutputFormatCli, exit_status_and_formats) {
  // The command may add the engine's graph lints to what the library run reports, so its formats
  // are compared with each other.
  const auto text = agentos("check --color never " + mixed_case.string());
  EXPECT_EQ(text.status, 1);
  EXPECT_GE(headers_of(text.out).size(), run(mixed_case).items().size()) << text.out;

  const auto as_json = agentos("check --format json " + mixed_case.string());
  EXPECT_EQ(as_json.status, 1);
  EXPECT_EQ(json::parse(as_json.out)["diagnostics"].size(), headers_of(text.out).size());

  const auto as_sarif = agentos("check --format sarif " + mixed_case.string());
  EXPECT_EQ(as_sarif.status, 1);
  EXPECT_EQ(json::parse(as_sarif.out)["version"], "2.1.0");

  EXPECT_EQ(agentos("check --format xml " + mixed_case.string()).status, 2);
  EXPECT_EQ(agentos("check --allow no-such-warning " + mixed_case.string()).status, 2);
  EXPECT_EQ(agentos("check tests/dsl/golden/no-such-file.policy").status, 2);
  // Warnings alone pass, unless denied.
  EXPECT_EQ(agentos("check tests/dsl/golden/unused_state_group.policy").status, 0);
  EXPECT_EQ(agentos("check --deny unused-group tests/dsl/golden/unused_state_group.policy").status, 1);
  EXPECT_EQ(agentos("check --deny warnings tests/dsl/golden/unused_state_group.policy").status, 1);
}

}  // namespace
}  // namespace agentos::dsl
