// `agentos hydrate` end to end: the real binary on a temporary project (paths with spaces), its
// exit codes, the text and JSON reports, --dry-run and --check changing nothing, --help.
#include <nlohmann/json.hpp>

#include "cli_fixture.hpp"

namespace fs = std::filesystem;
using agentos::testing::agentos_cli_test;
using agentos::testing::run_result;
using nlohmann::json;

namespace {

class HydrateCli : public agentos_cli_test {
protected:
  void SetUp() override {
    agentos_cli_test::SetUp();
    for (const auto* n : {"submit-plan", "github"}) write(std::string("skills/high/") + n + "/SKILL.md", n);
    for (const auto* n : {"submit-plan", "repo-map"}) write(std::string("skills/low/") + n + "/SKILL.md", n);
    write("work spaces/claude/README", "workspace");
    write("work spaces/codex/README", "workspace");
    write("conf/hydration.json", R"({
  // highest priority first
  "roots": ["../skills/high", "../skills/low"],
  "global_defaults": ["submit-plan"],
  "shared_integrations": ["github"],
  "project_defaults": { "agent_os": ["repo-map"], "other": [] },
  "workspaces": [
    { "path": "../work spaces/claude", "project": "agent_os", "agents": ["claude"] },
    { "path": "../work spaces/codex", "project": "other", "agents": ["codex"] }
  ]
}
)");
  }

  run_result hydrate(std::vector<std::string> args) {
    args.insert(args.begin(), {"hydrate", "--config", "conf/hydration.json"});
    return run_agentos(args, "", "");
  }

  fs::path link(const std::string& ws, const std::string& name) const {
    return m_dir / "work spaces" / ws / ".agents" / "skills" / name;
  }

  static json parse(const run_result& r) {
    auto j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }
};

TEST_F(HydrateCli, HydratesEveryWorkspaceAndASecondRunChangesNothing) {
  auto r = hydrate({});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("created " + link("claude", "github").string() + " -> "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hydrate: 2 workspaces, 5 links created, 0 replaced, 0 removed, 0 drift left\n"), std::string::npos)
      << r.out;
  EXPECT_TRUE(fs::is_symlink(link("claude", "repo-map")));
  EXPECT_EQ(fs::read_symlink(link("claude", "github")), fs::canonical(m_dir / "skills/high/github"));
  EXPECT_FALSE(fs::exists(fs::symlink_status(link("codex", "repo-map"))));

  r = hydrate({});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "hydrate: 2 workspaces, 0 links created, 0 replaced, 0 removed, 0 drift left\n");
  r = hydrate({"--check"});
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "hydrate --check: 2 workspaces, 0 drift findings\n");
}

TEST_F(HydrateCli, CheckReportsDriftAsJsonAndExitsOne) {
  ASSERT_EQ(hydrate({}).code, 0);
  fs::remove(link("claude", "repo-map"));                                                     // missing
  fs::create_directories(m_dir / "work spaces/codex/.agents/skills/local");                   // unmanaged
  fs::remove(link("codex", "github"));
  fs::create_directory_symlink(m_dir / "skills/low/submit-plan", link("codex", "github"));    // shadowed
  const auto r = hydrate({"--check", "--format", "json"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  const auto j = parse(r);
  EXPECT_EQ(j["mode"], "check");
  ASSERT_EQ(j["workspaces"].size(), 2u);
  EXPECT_EQ(j["workspaces"][0]["project"], "agent_os");
  EXPECT_EQ(j["workspaces"][0]["skills"][1]["name"], "github");
  EXPECT_EQ(j["workspaces"][0]["skills"][0]["shadows"].size(), 1u);  // submit-plan is also in low
  std::map<std::string, std::string> kinds;
  for (const auto& f : j["findings"]) kinds[f["name"].get<std::string>()] = f["kind"].get<std::string>();
  EXPECT_EQ(kinds, (std::map<std::string, std::string>{{"repo-map", "missing"}, {"github", "shadowed"}, {"local", "unmanaged"}}));
  for (const auto& f : j["findings"]) EXPECT_EQ(f["drift"], f["kind"] != "unmanaged");
  ASSERT_EQ(j["actions"].size(), 1u);
  EXPECT_EQ(j["actions"][0]["kind"], "create");
  EXPECT_EQ(j["actions"][0]["name"], "repo-map");
  EXPECT_TRUE(j["errors"].empty());
  EXPECT_EQ(j["summary"]["drift"], 2);
  EXPECT_EQ(j["summary"]["unmanaged"], 1);
  EXPECT_FALSE(fs::exists(fs::symlink_status(link("claude", "repo-map"))));  // --check changed nothing

  // hydrate repairs the missing link and leaves the hand-made one: drift is left, exit 1.
  const auto h = hydrate({});
  EXPECT_EQ(h.code, 1) << h.out;
  EXPECT_NE(h.out.find("drift[shadowed]"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("1 link created, 0 replaced, 0 removed, 1 drift left"), std::string::npos) << h.out;
  EXPECT_EQ(fs::read_symlink(link("codex", "github")), m_dir / "skills/low/submit-plan");
}

TEST_F(HydrateCli, DryRunChangesNothing) {
  const auto r = hydrate({"--dry-run"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("would create " + link("claude", "submit-plan").string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hydrate --dry-run: 2 workspaces, 5 links to create, 0 to replace, 0 to remove"), std::string::npos)
      << r.out;
  EXPECT_FALSE(fs::exists(m_dir / "work spaces/claude/.agents"));
  EXPECT_FALSE(fs::exists(m_dir / "work spaces/codex/.agents"));
  const auto j = parse(hydrate({"--dry-run", "--format", "json", "--project", "other"}));
  EXPECT_EQ(j["mode"], "dry-run");
  EXPECT_EQ(j["workspaces"].size(), 1u);
  EXPECT_EQ(j["actions"].size(), 2u);
  EXPECT_FALSE(fs::exists(m_dir / "work spaces/codex/.agents"));
}

TEST_F(HydrateCli, SelectsWorkspacesByProjectAndDirectory) {
  auto r = hydrate({"--project", "other"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(fs::exists(m_dir / "work spaces/claude/.agents"));
  EXPECT_TRUE(fs::is_symlink(link("codex", "github")));

  r = hydrate({"--workspace", "work spaces/claude"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(link("claude", "repo-map")));

  // A directory not in the configuration needs --project.
  write("work spaces/new one/README", "x");
  r = hydrate({"--workspace", "work spaces/new one"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--project"), std::string::npos) << r.err;
  r = hydrate({"--workspace", "work spaces/new one", "--project", "agent_os"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(link("new one", "repo-map")));

  EXPECT_EQ(hydrate({"--project", "nope"}).code, 2);
  EXPECT_EQ(hydrate({"--workspace", "work spaces/claude", "--project", "other"}).code, 2);
  EXPECT_EQ(hydrate({"--check", "--dry-run"}).code, 2);
  EXPECT_EQ(hydrate({"--format", "yaml"}).code, 2);
}

TEST_F(HydrateCli, ConfigurationErrorsExitTwoWithTheirLocation) {
  write("conf/broken.json", "{\n  \"roots\": [\"../skills/high\",]\n}\n");
  auto r = run_agentos({"hydrate", "--config", "conf/broken.json"}, "", "");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("conf/broken.json:2:30: error[hydration.config_syntax]: ", 0), 0u) << r.err;

  write("conf/missing-root.json", R"({"roots": ["../skills/gone"], "project_defaults": {}, "workspaces": []})");
  r = run_agentos({"hydrate", "--config", "conf/missing-root.json", "--check"}, "", "");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("conf/missing-root.json#/roots/0: error[hydration.root_missing]: source root `../skills/gone`"),
            std::string::npos)
      << r.err;

  r = run_agentos({"hydrate", "--config", "conf/missing-root.json", "--format", "json"}, "", "");
  EXPECT_EQ(r.code, 2);
  const auto j = parse(r);
  ASSERT_EQ(j["errors"].size(), 1u);
  EXPECT_EQ(j["errors"][0]["code"], "hydration.root_missing");
  EXPECT_EQ(j["errors"][0]["pointer"], "/roots/0");

  r = run_agentos({"hydrate", "--config", "conf/none.json"}, "", "");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("error[hydration.io]"), std::string::npos) << r.err;

  // A skill in no root fails its workspace (exit 2) and names the roots searched.
  write("conf/unknown-skill.json", R"({"roots": ["../skills/low"], "global_defaults": ["nowhere"],
    "project_defaults": {"p": []}, "workspaces": [{"path": "../work spaces/claude", "project": "p"}]})");
  r = run_agentos({"hydrate", "--config", "conf/unknown-skill.json"}, "", "");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("#/global_defaults/0: error[hydration.skill_not_found]: skill `nowhere`"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(m_dir / "work spaces/claude/.agents"));
}

TEST_F(HydrateCli, HelpExplainsTheCommand) {
  const auto r = run_agentos({"hydrate", "--help"}, "", "");
  EXPECT_EQ(r.code, 0);
  for (const auto* words : {"--check", "--dry-run", "--workspace", "--project", "--format", "policies/hydration.json",
                            "shadowed", "unmanaged_copy", "Exit status", "docs/hydration.md"})
    EXPECT_NE(r.out.find(words), std::string::npos) << words << "\n" << r.out;
  EXPECT_NE(run_agentos({"--help"}, "", "").out.find("hydrate"), std::string::npos);
}

}  // namespace
