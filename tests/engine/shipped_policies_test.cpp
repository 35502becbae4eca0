// The shipped policies (policies/, examples/) compile into graphs, and the compiled graph decides
// exactly as the reference interpreter on many random requests against each of them: real
// layering, overrides, imports and the authors' own conditions.
#include <gtest/gtest.h>

#include <filesystem>

#include "dsl/checker.hpp"
#include "dsl/loader.hpp"
#include "differential.hpp"
#include "engine/explain.hpp"
#include "random_policy.hpp"

namespace {

using namespace agentos;
using namespace agentos::engine;
using namespace agentos::engine::testing;

std::vector<std::filesystem::path> entry_files() {
  std::vector<std::string> missing;
  const auto files = dsl::expand_paths({std::string(AGENTOS_SOURCE_DIR) + "/policies", std::string(AGENTOS_SOURCE_DIR) + "/examples"},
                                       missing);
  dsl::source_manager sources;
  dsl::diagnostics diags;
  dsl::disk_files disk;
  dsl::workspace ws(sources, diags, disk);
  return ws.entry_points(files);
}

std::shared_ptr<const rule_graph> load(const std::filesystem::path& entry, std::string& errors) {
  dsl::source_manager sources;
  dsl::diagnostics diags;
  dsl::disk_files disk;
  dsl::workspace ws(sources, diags, disk);
  auto loaded = ws.load(entry);
  if (!loaded) return nullptr;
  auto checked = dsl::check(std::move(*loaded), sources, diags);
  for (const auto& d : diags.items()) {
    if (d.level == dsl::severity::error) errors += d.code + ": " + d.message + "\n";
  }
  if (!checked.ok) return nullptr;
  return compile(std::shared_ptr<const dsl::policy_set>(std::move(checked.set)));
}

TEST(shipped_policies, compile_and_match_the_reference) {
  const auto entries = entry_files();
  ASSERT_GE(entries.size(), 4u) << "policies/ and the three examples";
  decision_buffer buf;
  for (const auto& entry : entries) {
    std::string errors;
    const auto g = load(entry, errors);
    ASSERT_TRUE(g) << entry << ":\n" << errors;
    EXPECT_GT(g->catalogue().size(), 10u) << entry;
    std::mt19937_64 rng(42);
    differential_stats stats;
    for (int k = 0; k < 5000; ++k) {
      const request r = random_request(rng, *g);
      ASSERT_TRUE(same_answers(*g, r, buf, stats)) << entry << ", request " << k << "\n"
                                                   << render_text(*g, explain(*g, r, explain_options{true, true, true}));
    }
    EXPECT_GT(stats.allowed, 0) << entry;
    EXPECT_LT(stats.allowed, stats.decisions) << entry;
  }
}

TEST(shipped_policies, versions_are_stable_across_loads) {
  for (const auto& entry : entry_files()) {
    std::string errors;
    const auto a = load(entry, errors);
    const auto b = load(entry, errors);
    ASSERT_TRUE(a && b) << errors;
    EXPECT_EQ(a->version(), b->version()) << entry;
  }
}

}  // namespace
