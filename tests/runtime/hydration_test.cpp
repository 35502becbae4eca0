// Capability hydration on real directories: priority resolution, idempotence, every drift kind
// found by make_plan and repaired by hydrate where it is hydrate's to repair, entries hydrate does
// not manage left exactly as they were, concurrent runs (threads and processes), paths with
// spaces, missing roots, symlink loops, configuration errors with their codes and locations.
#include "runtime/hydration/hydration.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <thread>

#include <nlohmann/json.hpp>

#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace agentos::runtime::hydration;
using agentos::testing::temp_dir;
using nlohmann::json;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::vector<std::string> codes(const std::vector<error>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.code);
  return out;
}

std::string describe(const std::vector<error>& errors) {
  std::string out;
  for (const auto& e : errors) out += location(e) + ": error[" + e.code + "]: " + e.message + "\n";
  return out;
}

// Everything observable about a directory tree, for "left byte for byte alone": each entry's
// relative path with its kind, inode, and content (files) or target (links).
std::map<std::string, std::string> snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  const auto add = [&](const fs::path& p) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) return;
    std::string d = std::to_string(st.st_ino) + " " + std::to_string(st.st_mode) + " ";
    if (S_ISLNK(st.st_mode))
      d += "-> " + fs::read_symlink(p).string();
    else if (S_ISREG(st.st_mode))
      d += slurp(p);
    out[fs::relative(p, root.parent_path()).string()] = d;
  };
  add(root);
  if (fs::is_directory(fs::symlink_status(root))) {
    for (const auto& e : fs::recursive_directory_iterator(root)) add(e.path());
  }
  return out;
}

std::vector<std::string> temporary_names(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    // hydrate's temporary names end in ".tmp.<pid>.<16 hex digits>"
    const auto at = name.find(".tmp.");
    if (at != std::string::npos && at > 0 && name.size() > 17 && name[name.size() - 17] == '.' &&
        name.find_first_not_of("0123456789abcdef", name.size() - 16) == std::string::npos)
      out.push_back(name);
  }
  return out;
}

std::size_t count_kind(const plan& p, finding_kind k) {
  return static_cast<std::size_t>(
      std::count_if(p.findings.begin(), p.findings.end(), [&](const finding& f) { return f.kind == k; }));
}

const finding* find(const plan& p, finding_kind k, const std::string& name) {
  for (const auto& f : p.findings)
    if (f.kind == k && f.name == name) return &f;
  return nullptr;
}

// A project layout under a temporary directory whose every path has spaces in it:
//   <tmp>/conf dir/hydration.json, <tmp>/my skills/{high,low}, <tmp>/work spaces/{claude,codex}
class Hydration : public ::testing::Test {
protected:
  void SetUp() override {
    base = m_tmp.path();
    high = base / "my skills" / "high";
    low = base / "my skills" / "low";
    ws_claude = base / "work spaces" / "claude";
    ws_codex = base / "work spaces" / "codex";
    fs::create_directories(high);
    fs::create_directories(low);
    fs::create_directories(ws_claude);
    fs::create_directories(ws_codex);
    config_file = base / "conf dir" / "hydration.json";
    // high has submit-plan and github; low has all four, so submit-plan and github are shadowed.
    for (const auto* n : {"submit-plan", "github"}) skill(high, n);
    for (const auto* n : {"submit-plan", "submit-result", "github", "repo-map"}) skill(low, n);
  }

  static void skill(const fs::path& root, const std::string& name) {
    write_file(root / name / "SKILL.md", "# " + name + " from " + root.filename().string() + "\n");
  }

  json default_doc() const {
    return {{"roots", {"../my skills/high", "../my skills/low"}},
            {"global_defaults", {"submit-plan", "submit-result"}},
            {"shared_integrations", {"github"}},
            {"project_defaults", {{"agent_os", {"repo-map", "github"}}, {"other", json::array()}}},
            {"workspaces",
             {{{"path", "../work spaces/claude"}, {"project", "agent_os"}, {"agents", {"claude"}}},
              {{"path", "../work spaces/codex"}, {"project", "other"}, {"agents", {"codex", "codex-2"}}}}}};
  }

  config load(const json& doc) { return load_text(doc.dump(2)); }

  config load_text(const std::string& text) {
    write_file(config_file, text);
    auto r = load_config(config_file);
    EXPECT_TRUE(r.cfg.has_value()) << describe(r.errors);
    return r.cfg ? *r.cfg : config{};
  }

  std::vector<error> load_errors(const std::string& text) {
    write_file(config_file, text);
    auto r = load_config(config_file);
    EXPECT_FALSE(r.cfg.has_value());
    return r.errors;
  }

  const workspace& claude(const config& cfg) const { return cfg.workspaces.at(0); }
  fs::path skills_dir(const fs::path& ws) const { return ws / ".agents" / "skills"; }

  // Every expected skill is a correct link, nothing is left to do, no temporary names remain.
  void expect_consistent(const config& cfg, const workspace& ws) {
    const auto p = make_plan(cfg, ws);
    EXPECT_TRUE(p.errors.empty()) << describe(p.errors);
    EXPECT_TRUE(p.actions.empty());
    EXPECT_EQ(p.drift(), 0u);
    for (const auto& s : p.skills) {
      const auto link = skills_dir(ws.path) / s.name;
      ASSERT_TRUE(fs::is_symlink(link)) << link;
      EXPECT_EQ(fs::read_symlink(link), s.source);
    }
    EXPECT_TRUE(temporary_names(skills_dir(ws.path)).empty());
    EXPECT_TRUE(temporary_names(ws.path / ".agents").empty());
  }

  temp_dir m_tmp{"agentos hydration"};
  fs::path base, high, low, ws_claude, ws_codex, config_file;
};

TEST_F(Hydration, LoadsTheConfigurationWithCommentsAndRelativePaths) {
  const auto cfg = load_text(R"({
    // highest priority first
    "roots": ["../my skills/high", /* then */ "../my skills/low"],
    "global_defaults": ["submit-plan"],
    "project_defaults": { "agent_os": [] },
    "workspaces": [ { "path": "../work spaces/claude", "project": "agent_os", "agents": ["claude"] } ]
  })");
  ASSERT_EQ(cfg.roots.size(), 2u);
  EXPECT_EQ(cfg.roots[0], fs::canonical(high));
  EXPECT_EQ(cfg.roots[1], fs::canonical(low));
  ASSERT_EQ(cfg.workspaces.size(), 1u);
  EXPECT_EQ(cfg.workspaces[0].path, ws_claude.lexically_normal());
  EXPECT_EQ(cfg.workspaces[0].agents, std::vector<std::string>{"claude"});
}

TEST_F(Hydration, ResolvesEachSkillFromTheHighestPriorityRoot) {
  const auto cfg = load(default_doc());
  EXPECT_EQ(effective_names(cfg, "agent_os"),
            (std::vector<std::string>{"submit-plan", "submit-result", "github", "repo-map"}));  // github once
  const auto r = resolve(cfg, "agent_os");
  ASSERT_TRUE(r.errors.empty()) << describe(r.errors);
  ASSERT_EQ(r.skills.size(), 4u);
  const auto h = fs::canonical(high), l = fs::canonical(low);
  EXPECT_EQ(r.skills[0].source, h / "submit-plan");
  EXPECT_EQ(r.skills[0].shadows, std::vector<fs::path>{l / "submit-plan"});
  EXPECT_EQ(r.skills[1].source, l / "submit-result");
  EXPECT_TRUE(r.skills[1].shadows.empty());
  EXPECT_EQ(r.skills[2].source, h / "github");
  EXPECT_EQ(r.skills[3].source, l / "repo-map");

  // A file named like a skill is not a skill: the lower root's directory wins.
  fs::remove_all(high / "github");
  write_file(high / "github", "not a directory");
  EXPECT_EQ(resolve(cfg, "agent_os").skills[2].source, l / "github");
}

TEST_F(Hydration, HydratesAndASecondRunChangesNothing) {
  const auto cfg = load(default_doc());
  const auto first = hydrate(cfg, claude(cfg));
  ASSERT_TRUE(first.errors.empty()) << describe(first.errors);
  ASSERT_EQ(first.actions.size(), 4u);
  for (const auto& a : first.actions) EXPECT_EQ(a.kind, action_kind::create);
  EXPECT_EQ(first.drift(), 0u);
  expect_consistent(cfg, claude(cfg));
  EXPECT_TRUE(fs::read_symlink(skills_dir(ws_claude) / "github").is_absolute());
  EXPECT_EQ(slurp(skills_dir(ws_claude) / "github" / "SKILL.md"), "# github from high\n");

  const auto manifest = skills_dir(ws_claude) / ".agentos-hydration.json";
  const auto before = snapshot(skills_dir(ws_claude));
  struct stat st1 {};
  ASSERT_EQ(::stat(manifest.c_str(), &st1), 0);
  const auto second = hydrate(cfg, claude(cfg));
  EXPECT_TRUE(second.errors.empty());
  EXPECT_TRUE(second.actions.empty());
  EXPECT_TRUE(second.findings.empty());
  EXPECT_EQ(snapshot(skills_dir(ws_claude)), before);  // not a link or the manifest rewritten
  struct stat st2 {};
  ASSERT_EQ(::stat(manifest.c_str(), &st2), 0);
  EXPECT_EQ(st1.st_mtim.tv_sec, st2.st_mtim.tv_sec);
  EXPECT_EQ(st1.st_mtim.tv_nsec, st2.st_mtim.tv_nsec);

  // The other workspace gets its own project's set.
  ASSERT_TRUE(hydrate(cfg, cfg.workspaces[1]).errors.empty());
  EXPECT_EQ(hydrated_skills(ws_codex), (std::vector<std::string>{"github", "submit-plan", "submit-result"}));
}

TEST_F(Hydration, CheckFindsMissingAndHydrateCreatesIt) {
  const auto cfg = load(default_doc());
  ASSERT_TRUE(hydrate(cfg, claude(cfg)).errors.empty());
  fs::remove(skills_dir(ws_claude) / "repo-map");
  const auto p = make_plan(cfg, claude(cfg));
  ASSERT_NE(find(p, finding_kind::missing, "repo-map"), nullptr);
  EXPECT_EQ(p.drift(), 1u);
  ASSERT_EQ(p.actions.size(), 1u);
  EXPECT_EQ(p.actions[0].kind, action_kind::create);
  EXPECT_FALSE(fs::exists(fs::symlink_status(skills_dir(ws_claude) / "repo-map")));  // make_plan changed nothing
  const auto h = hydrate(cfg, claude(cfg));
  EXPECT_EQ(h.actions.size(), 1u);
  expect_consistent(cfg, claude(cfg));
}

TEST_F(Hydration, CheckFindsAStaleLinkToALowerPriorityRootAndHydrateReplacesIt) {
  fs::remove_all(high / "github");
  const auto cfg = load(default_doc());
  ASSERT_TRUE(hydrate(cfg, claude(cfg)).errors.empty());
  EXPECT_EQ(fs::read_symlink(skills_dir(ws_claude) / "github"), fs::canonical(low) / "github");
  skill(high, "github");  // a higher-priority root gains the skill
  const auto p = make_plan(cfg, claude(cfg));
  ASSERT_NE(find(p, finding_kind::stale, "github"), nullptr);
  ASSERT_EQ(p.actions.size(), 1u);
  EXPECT_EQ(p.actions[0].kind, action_kind::replace);
  EXPECT_EQ(p.actions[0].previous, fs::canonical(low) / "github");
  const auto h = hydrate(cfg, claude(cfg));
  ASSERT_EQ(h.actions.size(), 1u);
  EXPECT_EQ(h.drift(), 0u);
  EXPECT_EQ(fs::read_symlink(skills_dir(ws_claude) / "github"), fs::canonical(high) / "github");
  expect_consistent(cfg, claude(cfg));
}

TEST_F(Hydration, CheckFindsALinkNoLongerInTheSetAndHydrateRemovesIt) {
  auto doc = default_doc();
  const auto cfg = load(doc);
  ASSERT_TRUE(hydrate(cfg, claude(cfg)).errors.empty());
  doc["project_defaults"]["agent_os"] = json::array();
  const auto smaller = load(doc);
  const auto p = make_plan(smaller, claude(smaller));
  ASSERT_NE(find(p, finding_kind::stale, "repo-map"), nullptr);
  ASSERT_EQ(p.actions.size(), 1u);
  EXPECT_EQ(p.actions[0].kind, action_kind::remove);
  ASSERT_EQ(hydrate(smaller, claude(smaller)).actions.size(), 1u);
  EXPECT_FALSE(fs::exists(fs::symlink_status(skills_dir(ws_claude) / "repo-map")));
  EXPECT_TRUE(fs::exists(low / "repo-map" / "SKILL.md"));  // the source is untouched
  expect_consistent(smaller, claude(smaller));
  EXPECT_EQ(hydrated_skills(ws_claude), (std::vector<std::string>{"github", "submit-plan", "submit-result"}));
}

TEST_F(Hydration, CheckFindsDanglingLinksAndHydrateRepairsThem) {
  const auto cfg = load(default_doc());
  ASSERT_TRUE(hydrate(cfg, claude(cfg)).errors.empty());
  fs::remove_all(high / "submit-plan");  // the source went away; low still has the skill
  const auto p = make_plan(cfg, claude(cfg));
  ASSERT_NE(find(p, finding_kind::dangling, "submit-plan"), nullptr);
  EXPECT_EQ(hydrated_skills(ws_claude), (std::vector<std::string>{"github", "repo-map", "submit-result"}));
  ASSERT_TRUE(hydrate(cfg, claude(cfg)).errors.empty());
  EXPECT_EQ(fs::read_symlink(skills_dir(ws_claude) / "submit-plan"), fs::canonical(low) / "submit-plan");
  expect_consistent(cfg, claude(cfg));

  // A dangling link of a skill that left the set is removed.
  auto doc = default_doc();
  doc["project_defaults"]["agent_os"] = {"github"};
  const auto smaller = load(doc);
  fs::remove_all(low / "repo-map");
  const auto q = make_plan(smaller, claude(smaller));
  ASSERT_NE(find(q, finding_kind::dangling, "repo-map"), nullptr);
  ASSERT_TRUE(hydrate(smaller, claude(smaller)).errors.empty());
  EXPECT_FALSE(fs::exists(fs::symlink_status(skills_dir(ws_claude) / "repo-map")));
  expect_consistent(smaller, claude(smaller));
}

TEST_F(Hydration, HandMadeLinksAndCopiesAreReportedAndLeftAlone) {
  const auto cfg = load(default_doc());
  const auto dir = skills_dir(ws_claude);
  fs::create_directories(dir);
  // A hand copy of an expected skill, a hand-made link for another, and a local skill not in the set.
  write_file(dir / "github" / "SKILL.md", "# my own github, edited\n");
  write_file(dir / "github" / "notes" / "n.txt", "local notes");
  fs::create_directory_symlink(base / "elsewhere", dir / "repo-map");
  write_file(dir / "local-tool" / "SKILL.md", "# local\n");
  write_file(dir / "README", "hand-written file");
  const auto before_copy = snapshot(dir / "github");
  const auto before_link = snapshot(dir / "repo-map");
  const auto before_local = snapshot(dir / "local-tool");
  const auto before_file = snapshot(dir / "README");

  const auto p = make_plan(cfg, claude(cfg));
  ASSERT_TRUE(p.errors.empty()) << describe(p.errors);
  EXPECT_NE(find(p, finding_kind::unmanaged_copy, "github"), nullptr);
  EXPECT_NE(find(p, finding_kind::shadowed, "repo-map"), nullptr);
  EXPECT_NE(find(p, finding_kind::unmanaged, "local-tool"), nullptr);
  EXPECT_NE(find(p, finding_kind::unmanaged, "README"), nullptr);
  EXPECT_EQ(p.drift(), 4u);  // submit-plan, submit-result missing; github, repo-map occupied
  EXPECT_EQ(count_kind(p, finding_kind::missing), 2u);

  const auto h = hydrate(cfg, claude(cfg));
  ASSERT_TRUE(h.errors.empty()) << describe(h.errors);
  EXPECT_EQ(h.actions.size(), 2u);  // only the two missing links
  EXPECT_EQ(h.drift(), 2u);         // the copy and the hand-made link are for a person to remove
  EXPECT_NE(find(h, finding_kind::unmanaged_copy, "github"), nullptr);
  EXPECT_NE(find(h, finding_kind::shadowed, "repo-map"), nullptr);
  EXPECT_EQ(snapshot(dir / "github"), before_copy);
  EXPECT_EQ(snapshot(dir / "repo-map"), before_link);
  EXPECT_EQ(snapshot(dir / "local-tool"), before_local);
  EXPECT_EQ(snapshot(dir / "README"), before_file);
  EXPECT_EQ(hydrated_skills(ws_claude), (std::vector<std::string>{"submit-plan", "submit-result"}));

  // Once a person removes them, hydrate links the declared skills.
  fs::remove_all(dir / "github");
  fs::remove(dir / "repo-map");
  ASSERT_EQ(hydrate(cfg, claude(cfg)).actions.size(), 2u);
  EXPECT_EQ(hydrated_skills(ws_claude), (std::vector<std::string>{"github", "repo-map", "submit-plan", "submit-result"}));
}

TEST_F(Hydration, ALinkRepointedByHandIsNoLongerManaged) {
  const auto cfg = load(default_doc());
  ASSERT_TRUE(hydrate(cfg, claude(cfg)).errors.empty());
  const auto link = skills_dir(ws_claude) / "github";
  fs::remove(link);
  fs::create_directory_symlink(fs::canonical(low) / "github", link);  // by hand, to the lower root
  const auto p = make_plan(cfg, claude(cfg));
  ASSERT_NE(find(p, finding_kind::shadowed, "github"), nullptr);
  EXPECT_TRUE(p.actions.empty());
  const auto before = snapshot(link);
  EXPECT_EQ(hydrate(cfg, claude(cfg)).drift(), 1u);
  EXPECT_EQ(snapshot(link), before);
  // And once the skill leaves the set, hydrate does not remove it either.
  auto doc = default_doc();
  doc["shared_integrations"] = json::array();
  doc["project_defaults"]["agent_os"] = {"repo-map"};
  const auto smaller = load(doc);
  const auto h = hydrate(smaller, claude(smaller));
  ASSERT_TRUE(h.errors.empty());
  EXPECT_NE(find(h, finding_kind::unmanaged, "github"), nullptr);
  EXPECT_EQ(snapshot(link), before);
}

TEST_F(Hydration, LeftoversOfAnInterruptedRunAreRemovedUnderTheLock) {
  const auto cfg = load(default_doc());
  const auto dir = skills_dir(ws_claude);
  fs::create_directories(dir);
  fs::create_directory_symlink(high / "github", dir / ".github.tmp.123.00000000deadbeef");
  write_file(dir / ".agentos-hydration.json.tmp.123.00000000deadbeef", "{");
  // Hidden files of a person that merely look like temporary names are not hydrate's.
  for (const auto* name : {".notes.tmp.txt", ".github.tmp.123.deadbeef", ".x.tmp.1.00000000DEADBEEF", ".tmp.1.0000000000000000"})
    write_file(dir / name, "mine");
  ASSERT_TRUE(hydrate(cfg, claude(cfg)).errors.empty());
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir / ".github.tmp.123.00000000deadbeef")));
  EXPECT_FALSE(fs::exists(dir / ".agentos-hydration.json.tmp.123.00000000deadbeef"));
  for (const auto* name : {".notes.tmp.txt", ".github.tmp.123.deadbeef", ".x.tmp.1.00000000DEADBEEF", ".tmp.1.0000000000000000"})
    EXPECT_EQ(slurp(dir / name), "mine") << name;
  expect_consistent(cfg, claude(cfg));
}

TEST_F(Hydration, ATamperedManifestCannotReachOutsideTheSkillsDirectory) {
  const auto cfg = load(default_doc());
  ASSERT_TRUE(hydrate(cfg, claude(cfg)).errors.empty());
  const auto outside = ws_claude / "precious";
  fs::create_directory_symlink(high / "github", outside);
  write_file(skills_dir(ws_claude) / ".agentos-hydration.json",
             json({{"version", 1}, {"links", {{"../../precious", {(high / "github").string()}}}}}).dump());
  const auto h = hydrate(cfg, claude(cfg));
  ASSERT_TRUE(h.errors.empty()) << describe(h.errors);
  EXPECT_TRUE(fs::is_symlink(outside));
  // The manifest no longer names the links hydrate made: they are now somebody else's.
  EXPECT_EQ(count_kind(h, finding_kind::shadowed), 4u);
}

TEST_F(Hydration, AnInvalidManifestIsAnError) {
  const auto cfg = load(default_doc());
  write_file(skills_dir(ws_claude) / ".agentos-hydration.json", "[1, 2");
  const auto p = make_plan(cfg, claude(cfg));
  EXPECT_EQ(codes(p.errors), std::vector<std::string>{"hydration.manifest_invalid"});
  const auto h = hydrate(cfg, claude(cfg));
  EXPECT_EQ(codes(h.errors), std::vector<std::string>{"hydration.manifest_invalid"});
  EXPECT_TRUE(h.actions.empty());
  EXPECT_TRUE(hydrated_skills(ws_claude).empty());
}

TEST_F(Hydration, ConcurrentThreadsLeaveAConsistentTree) {
  const auto cfg = load(default_doc());
  for (int round = 0; round < 40; ++round) {
    // Drift to repair: every link gone (even rounds) or one replaced by a stale one (odd rounds).
    if (round % 2 == 0) {
      fs::remove_all(skills_dir(ws_claude));
    } else {
      fs::remove_all(high / "github");
      ASSERT_TRUE(hydrate(cfg, claude(cfg)).errors.empty());
      skill(high, "github");
    }
    std::atomic<int> created{0}, replaced{0}, errors{0};
    const auto run = [&] {
      const auto h = hydrate(cfg, claude(cfg));
      errors += static_cast<int>(h.errors.size());
      for (const auto& a : h.actions) (a.kind == action_kind::create ? created : replaced)++;
    };
    std::thread a(run), b(run), c(run);
    a.join();
    b.join();
    c.join();
    ASSERT_EQ(errors.load(), 0) << "round " << round;
    // One run did all the work; the others found nothing left to do.
    EXPECT_EQ(created.load(), round % 2 == 0 ? 4 : 0) << "round " << round;
    EXPECT_EQ(replaced.load(), round % 2 == 0 ? 0 : 1) << "round " << round;
    expect_consistent(cfg, claude(cfg));
    if (HasFailure()) break;
  }
}

TEST_F(Hydration, ConcurrentProcessesFlippingBetweenTwoConfigurationsLeaveAConsistentTree) {
  auto doc = default_doc();
  const auto both = load(doc);
  const auto both_file = base / "conf dir" / "both.json";
  fs::copy_file(config_file, both_file);
  doc["roots"] = {"../my skills/low"};
  doc["project_defaults"]["agent_os"] = {"repo-map"};
  const auto low_only = load(doc);
  const auto low_file = base / "conf dir" / "low.json";
  fs::copy_file(config_file, low_file);

  std::vector<pid_t> children;
  for (int child = 0; child < 3; ++child) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int failures = 0;
      for (int i = 0; i < 30; ++i) {
        const auto loaded = load_config((i + child) % 2 == 0 ? both_file : low_file);
        if (!loaded.cfg) {
          ++failures;
          continue;
        }
        failures += static_cast<int>(hydrate(*loaded.cfg, loaded.cfg->workspaces.at(0)).errors.size());
      }
      ::_exit(failures == 0 ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (const pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  // The tree is exactly what one of the two configurations makes, whichever ran last.
  const auto a = make_plan(both, claude(both));
  const auto b = make_plan(low_only, claude(low_only));
  const bool settled_both = a.errors.empty() && a.actions.empty() && a.drift() == 0;
  const bool settled_low = b.errors.empty() && b.actions.empty() && b.drift() == 0;
  EXPECT_TRUE(settled_both || settled_low);
  EXPECT_TRUE(temporary_names(skills_dir(ws_claude)).empty());
  expect_consistent(settled_both ? both : low_only, claude(settled_both ? both : low_only));
}

TEST_F(Hydration, PathsWithSpacesWorkEverywhere) {
  skill(high, "with space");
  auto doc = default_doc();
  doc["project_defaults"]["agent_os"] = {"repo-map"};
  const auto cfg = load(doc);
  // Skill names may not contain spaces, but every directory on the way does.
  ASSERT_NE(ws_claude.string().find(' '), std::string::npos);
  ASSERT_NE(high.string().find(' '), std::string::npos);
  ASSERT_TRUE(hydrate(cfg, claude(cfg)).errors.empty());
  expect_consistent(cfg, claude(cfg));
  EXPECT_EQ(slurp(skills_dir(ws_claude) / "submit-plan" / "SKILL.md"), "# submit-plan from high\n");
  EXPECT_FALSE(valid_skill_name("with space"));
}

TEST_F(Hydration, AMissingRootIsAnErrorNamingIt) {
  auto doc = default_doc();
  doc["roots"] = {"../my skills/high", "../no such root"};
  const auto errors = load_errors(doc.dump());
  ASSERT_EQ(codes(errors), std::vector<std::string>{"hydration.root_missing"});
  EXPECT_EQ(errors[0].pointer, "/roots/1");
  EXPECT_NE(errors[0].message.find("../no such root"), std::string::npos);
  EXPECT_EQ(location(errors[0]), config_file.string() + "#/roots/1");

  write_file(base / "a file", "x");
  doc["roots"] = {"../a file"};
  EXPECT_EQ(codes(load_errors(doc.dump())), std::vector<std::string>{"hydration.root_missing"});
}

TEST_F(Hydration, ASkillInNoRootIsAnErrorListingTheRoots) {
  auto doc = default_doc();
  doc["project_defaults"]["agent_os"] = {"repo-map", "nowhere"};
  const auto cfg = load(doc);
  const auto r = resolve(cfg, "agent_os");
  ASSERT_EQ(codes(r.errors), std::vector<std::string>{"hydration.skill_not_found"});
  EXPECT_EQ(r.errors[0].pointer, "/project_defaults/agent_os/1");
  EXPECT_NE(r.errors[0].message.find(fs::canonical(high).string()), std::string::npos);
  EXPECT_NE(r.errors[0].message.find(fs::canonical(low).string()), std::string::npos);
  const auto h = hydrate(cfg, claude(cfg));
  EXPECT_EQ(codes(h.errors), std::vector<std::string>{"hydration.skill_not_found"});
  EXPECT_TRUE(h.actions.empty());
  EXPECT_FALSE(fs::exists(ws_claude / ".agents"));  // nothing half done
}

TEST_F(Hydration, ASymlinkLoopAsASourceIsAClearError) {
  fs::remove_all(high / "github");
  fs::create_directory_symlink(high / "github", high / "github");  // github -> itself
  const auto cfg = load(default_doc());
  const auto p = make_plan(cfg, claude(cfg));
  ASSERT_EQ(codes(p.errors), std::vector<std::string>{"hydration.source_loop"});
  EXPECT_EQ(p.errors[0].file, fs::canonical(high) / "github");
  EXPECT_NE(p.errors[0].message.find("loop"), std::string::npos);
  EXPECT_TRUE(p.actions.empty());
  EXPECT_EQ(codes(hydrate(cfg, claude(cfg)).errors), std::vector<std::string>{"hydration.source_loop"});

  // A loop in a lower-priority root behind a real source is shadowed and harmless.
  fs::remove(high / "github");
  skill(high, "github");
  fs::remove_all(low / "github");
  fs::create_directory_symlink(low / "github", low / "github");
  ASSERT_TRUE(hydrate(cfg, claude(cfg)).errors.empty());
  expect_consistent(cfg, claude(cfg));
}

TEST_F(Hydration, AMissingWorkspaceIsAnError) {
  auto doc = default_doc();
  doc["workspaces"][0]["path"] = "../work spaces/gone";
  const auto cfg = load(doc);
  EXPECT_EQ(codes(make_plan(cfg, claude(cfg)).errors), std::vector<std::string>{"hydration.workspace_missing"});
  EXPECT_EQ(codes(hydrate(cfg, claude(cfg)).errors), std::vector<std::string>{"hydration.workspace_missing"});
  EXPECT_FALSE(fs::exists(base / "work spaces" / "gone"));
}

TEST_F(Hydration, ASyntaxErrorHasLineAndColumn) {
  const auto errors = load_errors("{\n  \"roots\": [\"a\",]\n}\n");
  ASSERT_EQ(codes(errors), std::vector<std::string>{"hydration.config_syntax"});
  EXPECT_EQ(errors[0].line, 2u);
  EXPECT_EQ(errors[0].column, 17u);  // the `]` after the trailing comma
  EXPECT_EQ(location(errors[0]), config_file.string() + ":2:17");
  EXPECT_EQ(errors[0].message.find("[json.exception"), std::string::npos);

  const auto eof = load_errors("// only a comment\n{ \"roots\": [");
  ASSERT_EQ(codes(eof), std::vector<std::string>{"hydration.config_syntax"});
  EXPECT_EQ(eof[0].line, 2u);

  const auto unreadable = load_config(base / "no such file.json");
  EXPECT_EQ(codes(unreadable.errors), std::vector<std::string>{"hydration.io"});
}

TEST_F(Hydration, ValidationErrorsCarryTheirJsonPointer) {
  const auto expect_one = [&](json doc, const std::string& pointer, const std::string& words) {
    const auto errors = load_errors(doc.dump());
    ASSERT_EQ(errors.size(), 1u) << describe(errors);
    EXPECT_EQ(errors[0].code, "hydration.config_invalid");
    EXPECT_EQ(errors[0].pointer, pointer) << describe(errors);
    EXPECT_NE(errors[0].message.find(words), std::string::npos) << errors[0].message;
    EXPECT_EQ(errors[0].line, 0u);
  };
  auto d = default_doc();
  d["extra"] = 1;
  expect_one(d, "/extra", "unknown key");
  d = default_doc();
  d["workspaces"][1]["colour"] = "red";
  expect_one(d, "/workspaces/1/colour", "unknown key");
  d = default_doc();
  d["global_defaults"] = "submit-plan";
  expect_one(d, "/global_defaults", "array");
  d = default_doc();
  d["global_defaults"] = {"submit-plan", 3};
  expect_one(d, "/global_defaults/1", "string");
  d = default_doc();
  d["global_defaults"] = {"submit-plan", ""};
  expect_one(d, "/global_defaults/1", "empty");
  d = default_doc();
  d["shared_integrations"] = {"github", "github"};
  expect_one(d, "/shared_integrations/1", "twice");
  for (const auto* bad : {"../x", "a/b", ".hidden", "..", "-dash", "sp ace"}) {
    d = default_doc();
    d["project_defaults"]["agent_os"] = {bad};
    expect_one(d, "/project_defaults/agent_os/0", "not a valid skill name");
  }
  d = default_doc();
  d["workspaces"][1]["path"] = "../work spaces/./claude";
  expect_one(d, "/workspaces/1/path", "listed twice");
  d = default_doc();
  d["workspaces"][1]["agents"] = {"codex", "claude"};
  expect_one(d, "/workspaces/1/agents/1", "already in workspace /workspaces/0");
  d = default_doc();
  d["workspaces"][1]["project"] = "nope";
  expect_one(d, "/workspaces/1/project", "project_defaults");
  d = default_doc();
  d["workspaces"][0].erase("project");
  expect_one(d, "/workspaces/0", "missing key `project`");
  d = default_doc();
  d["roots"] = {"../my skills/low", "../my skills/high/../low"};
  expect_one(d, "/roots/1", "listed twice");
  d = default_doc();
  d["workspaces"][0]["agents"] = "claude";
  expect_one(d, "/workspaces/0/agents", "array");
  d = default_doc();
  d.erase("roots");
  expect_one(d, "", "missing key `roots`");

  // Every problem is reported, not only the first.
  d = default_doc();
  d["extra"] = true;
  d["global_defaults"] = {"../up"};
  d["workspaces"][1]["agents"] = {"claude"};
  EXPECT_EQ(load_errors(d.dump()).size(), 3u);
  EXPECT_EQ(codes(load_errors("[1, 2]")), std::vector<std::string>{"hydration.config_invalid"});
}

TEST_F(Hydration, HydratedSkillsListsOnlyManagedLinksToExistingDirectories) {
  EXPECT_TRUE(hydrated_skills(base / "no such workspace").empty());
  EXPECT_TRUE(hydrated_skills(ws_claude).empty());
  const auto cfg = load(default_doc());
  ASSERT_TRUE(hydrate(cfg, claude(cfg)).errors.empty());
  EXPECT_EQ(hydrated_skills(ws_claude), (std::vector<std::string>{"github", "repo-map", "submit-plan", "submit-result"}));
  write_file(skills_dir(ws_claude) / "local" / "SKILL.md", "hand");  // unmanaged: not listed
  fs::remove_all(low / "repo-map");                                  // dangling: not listed
  EXPECT_EQ(hydrated_skills(ws_claude), (std::vector<std::string>{"github", "submit-plan", "submit-result"}));
}

}  // namespace
