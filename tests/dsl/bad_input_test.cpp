// Hostile and broken input: whatever the bytes, the front end answers with a diagnostic (the
// specific code for the problem) and never crashes, hangs or throws. Every input also goes through
// all three renderers, since a report that cannot be printed is as bad as a crash.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "dsl/checker.hpp"
#include "dsl/loader.hpp"
#include "dsl/render.hpp"

namespace agentos::dsl {
namespace {

namespace fs = std::filesystem;

// A small valid policy, so each test's mistake is the only one.
constexpr std::string_view valid_policy =
    "policy bad_input version \"1.0\"\n"
    "lifecycle {\n"
    "  states open, closed\n"
    "  initial open\n"
    "  terminal closed\n"
    "  open -> closed on close\n"
    "}\n";

struct outcome {
  std::vector<diagnostic> items;
  std::string text;

  [[nodiscard]] bool has(std::string_view code) const {
    return std::any_of(items.begin(), items.end(), [&](const diagnostic& d) { return d.code == code; });
  }
  [[nodiscard]] std::vector<std::string> codes() const {
    std::vector<std::string> out;
    for (const auto& d : items) out.push_back(d.code);
    return out;
  }
  [[nodiscard]] const diagnostic* first(std::string_view code) const {
    for (const auto& d : items) {
      if (d.code == code) return &d;
    }
    return nullptr;
  }
};

// Renders every format; each must succeed and the machine formats must be valid JSON.
void render_all(const std::vector<diagnostic>& items, const source_manager& sources, outcome& out) {
  EXPECT_NO_THROW({
    out.text = render_text(items, sources);
    const auto json = nlohmann::json::parse(render_json(items, sources));
    EXPECT_EQ(json["diagnostics"].size(), items.size());
    const auto sarif = nlohmann::json::parse(render_sarif(items, sources, "test"));
    EXPECT_EQ(sarif["runs"][0]["results"].size(), items.size());
  });
}

// Parses and checks in-memory text as one policy file.
outcome check_source(std::string text) {
  outcome out;
  source_manager sources;
  diagnostics diags;
  EXPECT_NO_THROW({
    (void)check_text("bad.policy", std::move(text), sources, diags);
    diags.finish();
  });
  out.items = diags.items();
  render_all(out.items, sources, out);
  return out;
}

// A fresh directory under the system's temporary directory, removed afterwards.
class temp_dir {
 public:
  temp_dir() {
    std::random_device seed;
    m_path = fs::temp_directory_path() / ("agentos-bad-input-" + std::to_string(seed()) + "-" + std::to_string(seed()));
    fs::create_directories(m_path);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  [[nodiscard]] const fs::path& path() const { return m_path; }
  fs::path write(const std::string& name, std::string_view text) const {
    const fs::path p = m_path / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

 private:
  fs::path m_path;
};

// Checks the files under `root` the way `agentos check root` does.
outcome check_directory(const fs::path& root) {
  outcome out;
  source_manager sources;
  diagnostics diags;
  EXPECT_NO_THROW({
    std::vector<std::string> missing;
    const auto files = expand_paths({root.string()}, missing);
    EXPECT_TRUE(missing.empty());
    disk_files disk;
    workspace ws(sources, diags, disk);
    for (const auto& entry : ws.entry_points(files)) {
      if (auto loaded = ws.load(entry)) (void)check(std::move(*loaded), sources, diags);
    }
    diags.finish();
  });
  out.items = diags.items();
  render_all(out.items, sources, out);
  return out;
}

std::string with_valid(std::string_view extra) { return std::string(valid_policy) + std::string(extra); }

// The valid policy with one import after its header.
std::string importing(std::string_view path) {
  const auto header_end = valid_policy.find('\n') + 1;
  return std::string(valid_policy.substr(0, header_end)) + "import \"" + std::string(path) + "\"\n" +
         std::string(valid_policy.substr(header_end));
}

// ---------------------------------------------------------------------------------------------
// The baseline: the policy the other tests break is itself clean.

TEST(BadInput, baseline_policy_is_clean) {
  const auto r = check_source(std::string(valid_policy));
  EXPECT_TRUE(r.items.empty()) << r.text;
}

TEST(BadInput, a_set_with_syntax_errors_is_not_ok) {
  // check() reports nothing new for it, but the set is incomplete: the engine must not take it.
  source_manager sources;
  diagnostics diags;
  const auto result = check_text("bad.policy", with_valid("gate g task.risk\n"), sources, diags);
  EXPECT_TRUE(diags.has_errors());
  EXPECT_FALSE(result.ok);
  ASSERT_NE(result.set, nullptr);
  EXPECT_EQ(result.set->states.size(), 2u);  // what did parse is still there, for an editor
}

// ---------------------------------------------------------------------------------------------
// Empty and nearly empty files

TEST(BadInput, empty_file_reports_missing_header) {
  const auto r = check_source("");
  EXPECT_EQ(r.codes(), std::vector<std::string>{"E1007"}) << r.text;
}

TEST(BadInput, whitespace_and_comments_only_report_missing_header) {
  const auto r = check_source("\n\n   \t\n// nothing here yet\n/* still nothing */\n");
  EXPECT_EQ(r.codes(), std::vector<std::string>{"E1007"}) << r.text;
}

TEST(BadInput, header_only_reports_missing_lifecycle) {
  const auto r = check_source("policy empty version \"0\"\n");
  EXPECT_EQ(r.codes(), std::vector<std::string>{"E3011"}) << r.text;
}

// ---------------------------------------------------------------------------------------------
// Binary garbage and encodings

TEST(BadInput, random_binary_garbage_reports_invalid_utf8) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 20; ++round) {
    std::string garbage(4096, '\0');
    for (auto& c : garbage) c = static_cast<char>(byte(rng));
    garbage[100] = '\0';  // always at least one NUL
    const auto r = check_source(garbage);
    EXPECT_TRUE(r.has("E1004")) << "round " << round << ": " << r.text;
    EXPECT_EQ(r.items.size(), 1u) << r.text;
  }
}

TEST(BadInput, nul_byte_in_otherwise_valid_policy) {
  std::string text = with_valid("// trailing\n");
  const auto at = text.find("trailing");
  text[at] = '\0';
  const auto r = check_source(text);
  ASSERT_TRUE(r.has("E1004")) << r.text;
  const auto* d = r.first("E1004");
  EXPECT_EQ(d->primary.begin, at);
  EXPECT_NE(d->message.find("NUL"), std::string::npos) << d->message;
}

TEST(BadInput, executable_header_is_rejected_as_binary) {
  const std::string elf("\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0", 20);
  const auto r = check_source(elf);
  EXPECT_EQ(r.codes(), std::vector<std::string>{"E1004"}) << r.text;
}

struct bad_utf8 {
  const char* what;
  std::string bytes;
  std::size_t bad_at = 0;  // offset of the first bad byte within `bytes`
};

void PrintTo(const bad_utf8& b, std::ostream* os) { *os << b.what; }

class BadInputUtf8 : public testing::TestWithParam<bad_utf8> {};

TEST_P(BadInputUtf8, is_reported_at_the_bad_byte) {
  // The bad bytes sit inside a comment and inside a string of a valid policy.
  for (const std::string prefix : {"// note: ", "forbid f on close because \""}) {
    const std::string head = with_valid(prefix);
    const auto r = check_source(head + GetParam().bytes + (prefix[0] == '/' ? "\n" : "\"\n"));
    ASSERT_TRUE(r.has("E1004")) << GetParam().what << ": " << r.text;
    EXPECT_EQ(r.items.size(), 1u) << r.text;
    EXPECT_EQ(r.first("E1004")->primary.begin, head.size() + GetParam().bad_at) << GetParam().what;
    // The shown source line replaces the bad byte rather than echoing it.
    EXPECT_EQ(r.text.find(GetParam().bytes), std::string::npos) << GetParam().what;
  }
}

INSTANTIATE_TEST_SUITE_P(BadInput, BadInputUtf8,
                         testing::Values(bad_utf8{"overlong_slash", "\xC0\xAF"},
                                         bad_utf8{"overlong_three_bytes", "\xE0\x80\xAF"},
                                         bad_utf8{"lone_continuation", "\x80"},
                                         bad_utf8{"high_surrogate", "\xED\xA0\x80"},
                                         bad_utf8{"low_surrogate", "\xED\xBF\xBF"},
                                         bad_utf8{"beyond_unicode", "\xF4\x90\x80\x80"},
                                         bad_utf8{"truncated_sequence", "\xE2\x82"},
                                         bad_utf8{"invalid_lead_byte", "\xFF"},
                                         bad_utf8{"latin1_e_acute", "caf\xE9", 3}),
                         [](const testing::TestParamInfo<bad_utf8>& info) { return std::string(info.param.what); });

TEST(BadInput, valid_multibyte_utf8_is_accepted) {
  // The other side of the encoding check: real UTF-8 must not be flagged.
  const auto r = check_source(with_valid("// caf\xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x9A\x80\n"
                                         "forbid f on close because \"na\xC3\xAFve \xE6\x97\xA5\xE6\x9C\xAC\"\n"));
  EXPECT_TRUE(r.items.empty()) << r.text;
}

TEST(BadInput, byte_order_mark_is_skipped) {
  const auto r = check_source("\xEF\xBB\xBF" + std::string(valid_policy));
  EXPECT_TRUE(r.items.empty()) << r.text;
}

TEST(BadInput, byte_order_mark_elsewhere_is_not_a_name) {
  const auto r = check_source(with_valid("gate g when \xEF\xBB\xBFtrue\n"));
  EXPECT_TRUE(r.has("E1008")) << r.text;
}

TEST(BadInput, windows_line_endings_are_accepted) {
  std::string text;
  for (const char c : with_valid("// comment\n")) {
    if (c == '\n') text += '\r';
    text += c;
  }
  const auto r = check_source(text);
  EXPECT_TRUE(r.items.empty()) << r.text;
}

// ---------------------------------------------------------------------------------------------
// Size and depth limits

TEST(BadInput, ten_megabyte_file_reports_file_too_large) {
  std::string text = with_valid("");
  const std::string line = "// padding padding padding padding padding padding padding padding padding\n";
  while (text.size() < 10u * 1024 * 1024) text += line;
  const auto r = check_source(text);
  EXPECT_EQ(r.codes(), std::vector<std::string>{"E1005"}) << r.text;
}

TEST(BadInput, ten_megabyte_file_on_disk_reports_file_too_large) {
  temp_dir dir;
  dir.write("huge.policy", with_valid("") + std::string(10u * 1024 * 1024, '\n'));
  const auto r = check_directory(dir.path());
  EXPECT_EQ(r.codes(), std::vector<std::string>{"E1005"}) << r.text;
}

TEST(BadInput, file_at_the_size_limit_is_parsed) {
  std::string text = with_valid("");
  text.append(parse_limits{}.max_bytes - text.size(), '\n');
  const auto r = check_source(text);
  EXPECT_TRUE(r.items.empty()) << r.text;
}

TEST(BadInput, hundred_thousand_nested_parentheses) {
  const std::size_t n = 100'000;
  const std::string parens = std::string(n, '(') + "true" + std::string(n, ')');
  const auto r = check_source(with_valid("gate deep when " + parens + "\n"));
  EXPECT_TRUE(r.has("E1006")) << r.text;
}

TEST(BadInput, unbalanced_hundred_thousand_open_parentheses) {
  const auto r = check_source(with_valid("gate deep when " + std::string(100'000, '(') + "\n"));
  EXPECT_TRUE(r.has("E1006")) << r.text;
}

TEST(BadInput, hundred_thousand_nots) {
  std::string chain;
  for (int i = 0; i < 100'000; ++i) chain += "not ";
  const auto r = check_source(with_valid("gate deep when " + chain + "true\n"));
  EXPECT_TRUE(r.has("E1006")) << r.text;
}

TEST(BadInput, nesting_at_the_limit_is_accepted) {
  const std::size_t n = 200;  // grammar::max_nesting
  const std::string parens = std::string(n, '(') + "true" + std::string(n, ')');
  const auto r = check_source(with_valid("gate deep when " + parens + "\n"));
  EXPECT_TRUE(r.items.empty()) << r.text;
}

TEST(BadInput, hundred_thousand_operand_and_chain) {
  std::string chain = "true";
  for (int i = 1; i < 100'000; ++i) chain += " and true";
  const auto r = check_source(with_valid("gate wide when " + chain + "\n"));
  ASSERT_TRUE(r.has("E1006")) << r.text;
  EXPECT_NE(r.first("E1006")->message.find("100000 operands"), std::string::npos) << r.first("E1006")->message;
}

TEST(BadInput, long_chains_nested_at_every_level) {
  // Each level is a chain just under the operand limit whose first operand opens the next level,
  // so the expression tree is far deeper than either limit alone: it must still be refused or
  // checked without exhausting the stack.
  std::string expr = "true";
  for (int level = 0; level < 200; ++level) {
    std::string next = "(" + expr + ")";
    for (int i = 1; i < 999; ++i) next += " and true";
    expr = std::move(next);
  }
  const auto r = check_source(with_valid("gate deep when " + expr + "\n"));
  EXPECT_TRUE(r.has("E1006")) << r.items.size();
}

TEST(BadInput, many_broken_rules_are_each_reported) {
  // Recovery is per declaration and linear: 20,000 broken rules give 20,000 diagnostics.
  std::string text = with_valid("");
  for (int i = 0; i < 20'000; ++i) text += "gate g" + std::to_string(i) + " task.risk\n";
  const auto r = check_source(text);
  EXPECT_EQ(r.items.size(), 20'000u);
  EXPECT_TRUE(std::all_of(r.items.begin(), r.items.end(), [](const diagnostic& d) { return d.code == "E1021"; }));
}

TEST(BadInput, one_megabyte_line) {
  const auto r = check_source(with_valid("gate wide when \"" + std::string(1u << 20, 'x') + "\" == 1\n"));
  EXPECT_TRUE(r.has("E4001")) << r.items.size();
}

// ---------------------------------------------------------------------------------------------
// Unterminated strings and comments

TEST(BadInput, unterminated_string) {
  const auto r = check_source(with_valid("forbid f on close because \"never closed\n"));
  EXPECT_EQ(r.codes(), std::vector<std::string>{"E1002"}) << r.text;
}

TEST(BadInput, unterminated_string_at_end_of_file) {
  const auto r = check_source(with_valid("forbid f on close because \"never closed"));
  EXPECT_EQ(r.codes(), std::vector<std::string>{"E1002"}) << r.text;
}

TEST(BadInput, unterminated_string_ending_in_a_backslash) {
  const auto r = check_source(with_valid("forbid f on close because \"a\\"));
  EXPECT_TRUE(r.has("E1010") || r.has("E1002")) << r.text;
}

TEST(BadInput, unterminated_block_comment) {
  const auto r = check_source(with_valid("/* never closed\ngate g when true\n"));
  EXPECT_EQ(r.codes(), std::vector<std::string>{"E1003"}) << r.text;
}

TEST(BadInput, unterminated_block_comment_of_two_characters) {
  const auto r = check_source(with_valid("/*"));
  EXPECT_EQ(r.codes(), std::vector<std::string>{"E1003"}) << r.text;
}

// ---------------------------------------------------------------------------------------------
// Imports and files

TEST(BadInput, import_of_a_missing_file) {
  temp_dir dir;
  dir.write("main.policy", importing("nowhere/missing.policy"));
  const auto r = check_directory(dir.path());
  EXPECT_EQ(r.codes(), std::vector<std::string>{"E2001"}) << r.text;
}

TEST(BadInput, import_of_a_directory) {
  temp_dir dir;
  dir.write("main.policy", importing("shared"));
  fs::create_directories(dir.path() / "shared");
  const auto r = check_directory(dir.path());
  EXPECT_EQ(r.codes(), std::vector<std::string>{"E2002"}) << r.text;
}

TEST(BadInput, import_of_itself) {
  temp_dir dir;
  dir.write("main.policy", importing("main.policy"));
  const auto r = check_directory(dir.path());
  EXPECT_EQ(r.codes(), std::vector<std::string>{"E2003"}) << r.text;
}

TEST(BadInput, import_cycle_of_two_files) {
  temp_dir dir;
  dir.write("a.policy", importing("b.policy"));
  dir.write("b.policy", "policy b version \"1\"\nimport \"a.policy\"\n");
  const auto r = check_directory(dir.path());
  EXPECT_EQ(r.codes(), std::vector<std::string>{"E2003"}) << r.text;
}

TEST(BadInput, import_of_a_binary_file) {
  temp_dir dir;
  dir.write("main.policy", importing("blob.bin"));
  dir.write("blob.bin", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
  const auto r = check_directory(dir.path());
  EXPECT_EQ(r.codes(), std::vector<std::string>{"E1004"}) << r.text;
}

TEST(BadInput, import_through_a_symlink_loop) {
  temp_dir dir;
  dir.write("main.policy", importing("loop.policy"));
  fs::create_symlink("loop.policy", dir.path() / "loop.policy");
  const auto r = check_directory(dir.path());
  EXPECT_EQ(r.codes(), std::vector<std::string>{"E2004"}) << r.text;
}

TEST(BadInput, entry_that_does_not_exist_or_is_a_directory) {
  temp_dir dir;
  source_manager sources;
  diagnostics diags;
  disk_files disk;
  workspace ws(sources, diags, disk);
  EXPECT_NO_THROW({
    EXPECT_FALSE(ws.load(dir.path() / "missing.policy"));
    EXPECT_FALSE(ws.load(dir.path()));
  });
  diags.finish();
  std::vector<std::string> codes;
  for (const auto& d : diags.items()) codes.push_back(d.code);
  std::sort(codes.begin(), codes.end());
  EXPECT_EQ(codes, (std::vector<std::string>{"E2001", "E2002"}));
  outcome out;
  render_all(diags.items(), sources, out);
}

}  // namespace
}  // namespace agentos::dsl
