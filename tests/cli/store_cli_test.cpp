// End-to-end tests of the store commands (`agentos task`, `agentos store`, `agentos audit`): each
// test runs the real binary on a fresh data directory with the shipped policy
// (policies/agent-os.policy) and checks exit codes, stdout and stderr.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_fixture.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using agentos::testing::run_result;
using agentos::testing::quote;
using agentos::testing::slurp;

const std::string policy = std::string(AGENTOS_SOURCE_DIR) + "/policies/agent-os.policy";

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// A declared attribute of a task record's "task" (kept under "attributes").
json attribute(const json& task, const std::string& name) {
  const auto a = task.find("attributes");
  return a != task.end() && a->contains(name) ? (*a)[name] : json();
}

bool has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

class store_cli : public agentos::testing::agentos_cli_test {
 protected:
  // Runs agentos with `args` in the temporary directory (so the default --data is ./var there),
  // without an AGENTOS_ACTOR from the environment.
  run_result run(const std::vector<std::string>& args, const std::string& input = "") {
    return run_agentos(args, input, "env -u AGENTOS_ACTOR");
  }

  // `task create` of a plan-first engineering task (routed to claude_pm), at 2026-01-01T00:00:00Z.
  run_result create_risky() {
    return run({"task", "create", "--policy", policy, "--actor", "openclaw", "--now", "2026-01-01T00:00:00Z", "--set",
                "title=migrate the billing database", "--set", "kind=engineering", "--set", "risk=medium"});
  }

  // Creates T-1 and takes it to plan_review (version 4), the plan submitted by claude_pm.
  void to_plan_review() {
    ASSERT_EQ(create_risky().code, 0);
    auto r = run({"task", "transition", "T-1", "assign", "--actor", "openclaw", "--now", "2026-01-01T00:01:00Z"});
    ASSERT_EQ(r.code, 0) << r.err;
    r = run({"task", "transition", "T-1", "start", "--actor", "claude_pm", "--now", "2026-01-01T00:02:00Z"});
    ASSERT_EQ(r.code, 0) << r.err;
    write("plan.md", "1. dump\n2. restore\n");
    r = run({"task", "plan", "T-1", "--file", "plan.md", "--actor", "claude_pm", "--now", "2026-01-01T00:03:00Z"});
    ASSERT_EQ(r.code, 0) << r.err;
  }

  json show(const std::string& id, const std::string& data = "var") {
    const auto r = run({"task", "show", id, "--json", "--data", data});
    EXPECT_EQ(r.code, 0) << r.err;
    json j = json::parse(r.out, nullptr, false);
    return j.is_object() ? j : json::object();
  }
};

// ---------------------------------------------------------------------------------------------
// task

TEST_F(store_cli, plan_first_task_runs_from_create_to_done) {
  auto r = create_risky();
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "T-1 created (version 1)")) << r.out;
  EXPECT_TRUE(has(r.out, "mode:     plan_first (gates: risky)")) << r.out;
  EXPECT_TRUE(has(r.out, "assignee: claude_pm (role pm)")) << r.out;
  EXPECT_TRUE(has(r.out, "route:    risky_engineering -> role pm")) << r.out;
  EXPECT_TRUE(fs::exists(m_dir / "var" / "data.mdb"));  // --data defaults to ./var

  r = run({"task", "transition", "T-1", "assign", "--actor", "openclaw", "--now", "2026-01-01T00:01:00Z"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines(r.out).at(0), "T-1: intake -> routed on assign (version 2)");
  r = run({"task", "transition", "T-1", "start", "--actor", "claude_pm", "--now", "2026-01-01T00:02:00Z"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines(r.out).at(0), "T-1: routed -> planning on start (version 3)");

  write("plan.md", "1. dump\n2. restore\n");
  r = run({"task", "plan", "T-1", "--file", "plan.md", "--actor", "claude_pm", "--now", "1767225780000"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines(r.out).at(0), "T-1: planning -> plan_review on submit_plan (version 4)");
  EXPECT_TRUE(has(r.out, "stored plan v1: 19 bytes, sha256 ")) << r.out;

  r = run({"task", "review", "T-1", "approve_plan", "--comment", "go ahead", "--actor", "openclaw", "--now",
           "2026-01-01T00:04:00Z", "--expect-version", "4"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines(r.out).at(0), "T-1: plan_review -> executing on approve_plan (version 5)");
  EXPECT_TRUE(has(r.out, "review recorded on plan v1")) << r.out;

  r = run({"task", "result", "T-1", "--file", "-", "--actor", "claude_pm", "--now", "2026-01-01T00:05:00Z"},
          "migrated with logical replication");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines(r.out).at(0), "T-1: executing -> result_review on submit_result (version 6)");
  r = run({"task", "review", "T-1", "accept_result", "--actor", "openclaw", "--now", "2026-01-01T00:06:00Z"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines(r.out).at(0), "T-1: result_review -> done on accept_result (version 7)");

  const json s = show("T-1");
  EXPECT_EQ(s["task"]["task"]["state"], "done");
  EXPECT_EQ(s["task"]["version"], 7);
  ASSERT_EQ(s["artifacts"].size(), 2u);
  EXPECT_EQ(s["artifacts"][0]["kind"], "plan");
  EXPECT_EQ(s["artifacts"][0]["size"], 19);
  EXPECT_EQ(s["artifacts"][1]["kind"], "result");
  ASSERT_EQ(s["reviews"].size(), 2u);
  EXPECT_EQ(s["reviews"][0]["comment"], "go ahead");
  EXPECT_EQ(s["reviews"][0]["by"], "openclaw");
  ASSERT_EQ(s["audit"].size(), 7u);  // intake and six transitions
  EXPECT_EQ(s["audit"][0]["kind"], "intake");
  EXPECT_EQ(s["audit"][6]["event"], "accept_result");

  r = run({"task", "show", "T-1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "task T-1 (version 7)")) << r.out;
  EXPECT_TRUE(has(r.out, "  state:       done since 2026-01-01T00:06:00Z\n")) << r.out;
  EXPECT_TRUE(has(r.out, "  title:       migrate the billing database\n")) << r.out;
  EXPECT_TRUE(has(r.out, s["artifacts"][0]["sha256"].get<std::string>())) << r.out;
  EXPECT_TRUE(has(r.out, "go ahead")) << r.out;
  bool audited = false;
  for (const auto& l : lines(r.out))
    audited |= has(l, "  6  ") && has(l, "2026-01-01T00:04:00Z") && has(l, "approve_plan") && has(l, "openclaw");
  EXPECT_TRUE(audited) << r.out;

  r = run({"task", "list"});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(lines(r.out).size(), 2u) << r.out;
  EXPECT_TRUE(has(lines(r.out)[0], "ID")) << r.out;
  EXPECT_TRUE(has(lines(r.out)[1], "T-1  done")) << r.out;
}

TEST_F(store_cli, denied_self_approval_exits_3_with_every_reason) {
  to_plan_review();
  const auto r =
      run({"task", "review", "T-1", "approve_plan", "--actor", "claude_pm", "--now", "2026-01-01T00:04:00Z"});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_EQ(lines(r.out).at(0), "T-1: approve_plan denied in plan_review (version 4 unchanged)") << r.out;
  EXPECT_TRUE(has(r.out, "  forbidden by no_self_approval: executors never approve their own plans")) << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
  const json s = show("T-1");
  EXPECT_EQ(s["task"]["task"]["state"], "plan_review");
  EXPECT_EQ(s["task"]["version"], 4);
  EXPECT_TRUE(s["reviews"].empty());  // a denied review records nothing but its audit record

  const auto j = run({"task", "transition", "T-1", "approve_plan", "--actor", "claude_pm", "--json"});
  EXPECT_EQ(j.code, 3);
  const json o = json::parse(j.out);
  EXPECT_EQ(o["status"], "denied");
  EXPECT_EQ(o["code"], "transition.denied");
  EXPECT_EQ(o["body"]["decision"]["allowed"], false);
}

TEST_F(store_cli, stale_expected_version_is_a_conflict) {
  ASSERT_EQ(create_risky().code, 0);
  auto r = run({"task", "transition", "T-1", "assign", "--actor", "openclaw", "--expect-version", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = run({"task", "transition", "T-1", "start", "--actor", "claude_pm", "--expect-version", "1"});
  EXPECT_EQ(r.code, 4);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(r.err, "agentos: error[task.version_conflict]: task T-1 is at version 2, not 1\n");
  EXPECT_EQ(show("T-1")["task"]["task"]["state"], "routed");
}

TEST_F(store_cli, unknown_task_is_an_error) {
  ASSERT_EQ(create_risky().code, 0);
  auto r = run({"task", "transition", "T-404", "start", "--actor", "claude"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "agentos: error[task.not_found]: no task T-404\n");
  r = run({"task", "show", "T-404"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "agentos: error[task.not_found]: no task T-404\n");
  r = run({"task", "escalate", "T-404"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "error[task.not_found]")) << r.err;
}

TEST_F(store_cli, set_values_are_typed_by_the_policy) {
  const auto r = run({"task",     "create",
                      "--policy", policy,
                      "--actor",  "openclaw",
                      "--id",     "pay-1",
                      "--set",    "title=2024",
                      "--set",    "kind=finance",
                      "--set",    "budget=12.50",
                      "--set",    "moves_money=true",
                      "--set",    "labels=production, hotfix",
                      "--set",    "due=2026-02-01T00:00:00Z"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "pay-1 created")) << r.out;
  const json t = show("pay-1")["task"]["task"];
  EXPECT_EQ(attribute(t, "title"), "2024");
  EXPECT_EQ(attribute(t, "budget"), "12.50");
  EXPECT_EQ(attribute(t, "moves_money"), true);
  EXPECT_EQ(t["labels"], json::array({"production", "hotfix"}));
  EXPECT_EQ(attribute(t, "due"), "2026-02-01T00:00:00Z");
}

TEST_F(store_cli, task_from_json_input_and_set_wins) {
  write("task.json", R"({"title": "from a file", "kind": "admin", "urgency": "soon"})");
  auto r =
      run({"task", "create", "--policy", policy, "--json-input", "task.json", "--set", "urgency=urgent", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json o = json::parse(r.out);
  EXPECT_EQ(o["status"], "applied");
  EXPECT_EQ(attribute(o["body"]["task"]["task"], "title"), "from a file");
  EXPECT_EQ(attribute(o["body"]["task"]["task"], "urgency"), "urgent");
  r = run({"task", "create", "--json-input", "-"}, "[1, 2]");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "agentos: error[cli.usage]: <stdin> is not a JSON object\n");
}

TEST_F(store_cli, invalid_task_lists_every_problem) {
  const auto r = run({"task", "create", "--policy", policy, "--set", "kind=gardening", "--set", "colour=red"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "agentos: error[request.invalid]: ")) << r.err;
  EXPECT_TRUE(has(r.err, "kind: `gardening` is not a member of kind")) << r.err;
  EXPECT_TRUE(has(r.err, "colour: unknown task attribute `colour`")) << r.err;
  EXPECT_TRUE(has(r.err, "  /task/title: required attribute `title` is missing")) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(run({"task", "create", "--set", "title"}).code, 2);
}

TEST_F(store_cli, idempotency_key_replays_the_first_outcome) {
  const std::vector<std::string> args = {"task",  "create", "--policy",   policy,  "--idempotency-key",
                                         "req-7", "--set",  "title=once", "--set", "kind=admin"};
  auto first = run(args);
  ASSERT_EQ(first.code, 0) << first.err;
  auto second = run(args);
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_TRUE(has(second.out, "T-1 created")) << second.out;
  EXPECT_TRUE(has(second.out, "replayed")) << second.out;
  EXPECT_EQ(lines(run({"task", "list"}).out).size(), 2u);
}

TEST_F(store_cli, cancel_and_list_filters) {
  ASSERT_EQ(create_risky().code, 0);
  ASSERT_EQ(run({"task", "create", "--set", "title=book the dentist", "--set", "kind=scheduling"}).code, 0);
  auto r = run({"task", "cancel", "T-2", "--actor", "openclaw"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines(r.out).at(0).rfind("T-2: intake -> cancelled on cancel", 0), 0u) << r.out;
  r = run({"task", "list", "--state", "cancelled", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json l = json::parse(r.out);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0]["id"], "T-2");
  r = run({"task", "list", "--assignee", "claude_pm"});
  ASSERT_EQ(lines(r.out).size(), 2u) << r.out;
  EXPECT_TRUE(has(r.out, "T-1")) << r.out;
  r = run({"task", "list", "--state", "done"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "no tasks\n");
}

TEST_F(store_cli, escalate_sweeps_the_due_index) {
  ASSERT_EQ(run({"task", "create", "--policy", policy, "--now", "2026-01-01T00:00:00Z", "--set",
                 "title=fix the flaky test", "--set", "kind=engineering"})
                .code,
            0);
  ASSERT_EQ(run({"task", "transition", "T-1", "assign", "--actor", "openclaw", "--now", "2026-01-01T00:00:00Z"}).code,
            0);
  ASSERT_EQ(run({"task", "transition", "T-1", "start", "--actor", "claude", "--now", "2026-01-01T00:00:00Z"}).code, 0);
  auto r = run({"task", "escalate", "--now", "2026-01-01T00:30:00Z"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "0 task(s) checked, 0 escalation(s) fired")) << r.out;
  EXPECT_TRUE(has(r.out, "next due: 2026-01-01T01:00:00Z")) << r.out;
  r = run({"task", "escalate", "--now", "2026-01-02T00:00:05Z"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "  T-1: stale -> parent (role pm) (audit ")) << r.out;
  r = run({"task", "escalate", "T-1", "--request", "--actor", "claude", "--now", "2026-01-02T00:00:06Z"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "T-1: escalation requested")) << r.out;
  EXPECT_EQ(run({"task", "escalate", "--request"}).code, 2);
}

// ---------------------------------------------------------------------------------------------
// audit

TEST_F(store_cli, audit_log_filters_and_json_lines) {
  to_plan_review();
  ASSERT_EQ(
      run({"task", "review", "T-1", "approve_plan", "--actor", "claude_pm", "--now", "2026-01-01T00:04:00Z"}).code, 3);

  auto r = run({"audit", "log"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto rows = lines(r.out);
  ASSERT_EQ(rows.size(), 7u) << r.out;  // header, policy, intake, assign, start, submit_plan, the denial
  EXPECT_EQ(rows[0].rfind("SEQ", 0), 0u);
  EXPECT_TRUE(has(rows[1], "policy")) << r.out;

  r = run({"audit", "log", "--task", "T-1"});
  EXPECT_EQ(lines(r.out).size(), 6u) << r.out;
  r = run({"audit", "log", "--effect", "deny"});
  rows = lines(r.out);
  ASSERT_EQ(rows.size(), 2u) << r.out;
  EXPECT_TRUE(has(rows[1], "2026-01-01T00:04:00Z  transition  T-1   claude_pm  approve_plan  deny")) << r.out;

  r = run({"audit", "log", "--json"});
  ASSERT_EQ(r.code, 0);
  const auto json_lines = lines(r.out);
  ASSERT_EQ(json_lines.size(), 6u);
  std::uint64_t seq = 0;
  for (const auto& l : json_lines) {
    const json rec = json::parse(l, nullptr, false);
    ASSERT_TRUE(rec.is_object()) << l;
    EXPECT_EQ(rec["seq"], ++seq);
    EXPECT_EQ(rec["hash"].get<std::string>().size(), 64u);
  }
  r = run({"audit", "log", "--json", "--actor", "claude_pm", "--since", "2026-01-01T00:02:00Z", "--until",
           "1767225780000"});
  ASSERT_EQ(lines(r.out).size(), 2u) << r.out;  // start and submit_plan
  EXPECT_EQ(json::parse(lines(r.out)[1])["event"], "submit_plan");
  r = run({"audit", "log", "--kind", "policy", "--limit", "1", "--json"});
  ASSERT_EQ(lines(r.out).size(), 1u);
  EXPECT_EQ(json::parse(r.out)["effect"], "activate");
  r = run({"audit", "log", "--since", "yesterday"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "error[cli.usage]: --since: `yesterday` is neither")) << r.err;
}

TEST_F(store_cli, audit_verify_replays_every_decision) {
  to_plan_review();
  auto r = run({"audit", "verify"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "audit: 5 records, chain ok, 4 decisions replayed against 1 policy version, 0 mismatches\n");
  r = run({"audit", "verify", "--json"});
  ASSERT_EQ(r.code, 0);
  const json v = json::parse(r.out);
  EXPECT_EQ(v["ok"], true);
  EXPECT_EQ(v["replayed"], 4);
}

// ---------------------------------------------------------------------------------------------
// store

TEST_F(store_cli, store_stat_check_and_backup) {
  to_plan_review();
  auto r = run({"store", "stat"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "active policy: agent_os \"1.0\" sha256:")) << r.out;
  EXPECT_TRUE(has(r.out, "audit records: 5\n")) << r.out;
  EXPECT_TRUE(has(r.out, "page size:")) << r.out;
  EXPECT_TRUE(has(r.out, "audit head:    seq 5, hash ")) << r.out;
  EXPECT_TRUE(has(r.out, "  tasks ")) << r.out;
  r = run({"store", "stat", "--json"});
  ASSERT_EQ(r.code, 0);
  const json st = json::parse(r.out);
  EXPECT_EQ(st["tables"]["tasks"], 1);
  EXPECT_EQ(st["audit_records"], 5);
  EXPECT_EQ(st["policy_name"], "agent_os");
  EXPECT_EQ(st["audit_head"]["seq"], 5);
  EXPECT_EQ(st["audit_head"]["hash"].get<std::string>().size(), 64u);
  EXPECT_GT(st["used_bytes"].get<std::size_t>(), 0u);

  r = run({"store", "check"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(lines(r.out).at(0), "store: 1 tasks, 3 index entries, 1 artifacts, ok") << r.out;
  EXPECT_TRUE(has(r.out, "chain ok")) << r.out;

  r = run({"store", "backup", "copy"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "written to copy (compacted")) << r.out;
  EXPECT_EQ(show("T-1", "copy")["task"]["version"], 4);
  EXPECT_EQ(run({"audit", "verify", "--data", "copy"}).code, 0);
  r = run({"store", "backup", "copy"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "already holds a store")) << r.err;
}

// ---------------------------------------------------------------------------------------------
// opening the store

TEST_F(store_cli, no_policy_says_to_pass_one) {
  auto r = run({"task", "create", "--set", "title=x"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "agentos: error[store.no_policy]: no store in ./var: pass --policy FILE")) << r.err;
  EXPECT_TRUE(has(r.err, "--policy policies/agent-os.policy")) << r.err;
  EXPECT_FALSE(fs::exists(m_dir / "var"));  // nothing created
  r = run({"task", "list"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "agentos: error[store.missing]: no store in ./var")) << r.err;
  r = run({"store", "stat", "--data", "elsewhere"});
  EXPECT_EQ(r.code, 2);
  EXPECT_FALSE(fs::exists(m_dir / "elsewhere"));
}

TEST_F(store_cli, policy_with_errors_exits_1_and_missing_policy_2) {
  write("broken.policy", "policy broken version \"1\"\ntask { x: nope }\n");
  auto r = run({"task", "create", "--policy", "broken.policy", "--set", "title=x"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(has(r.err, "agentos: error[policy.errors]: policy broken.policy has errors")) << r.err;
  EXPECT_TRUE(has(r.err, "broken.policy:2:")) << r.err;
  r = run({"task", "create", "--policy", "missing.policy", "--set", "title=x"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "agentos: error[cli.io]: no such file: missing.policy\n");
}

TEST_F(store_cli, store_open_in_another_process_is_explained) {
  ASSERT_EQ(create_risky().code, 0);
  // Hold the lock the store takes for its one owner, as a running server would.
  const int fd = ::open((m_dir / "var" / "agentos.lock").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  auto r = run({"task", "transition", "T-1", "assign", "--actor", "openclaw"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "agentos: error[store.locked]: ")) << r.err;
  EXPECT_TRUE(has(r.err, "store is open in another process (a running `agentos serve`?)")) << r.err;
  r = run({"task", "list"});
  EXPECT_EQ(r.code, 2);
  ::close(fd);
  EXPECT_EQ(run({"task", "list"}).code, 0);
}

TEST_F(store_cli, bad_time_and_usage_errors_exit_2) {
  auto r = run({"task", "create", "--policy", policy, "--now", "next tuesday", "--set", "title=x"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "--now: `next tuesday` is neither milliseconds since the epoch nor an RFC 3339 time"))
      << r.err;
  EXPECT_EQ(run({"task", "transition", "T-1"}).code, 2);  // the event is required
  r = run({"task", "transition", "T-1", "submit_result", "--artifact-kind", "result"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "--artifact-kind and --artifact-file go together")) << r.err;
  EXPECT_EQ(run({"task"}).code, 2);
  EXPECT_EQ(run({"store"}).code, 2);
  EXPECT_EQ(run({"audit", "frobnicate"}).code, 2);
}

TEST_F(store_cli, every_store_command_has_help) {
  const std::vector<std::vector<std::string>> commands = {{"task"},
                                                          {"task", "create"},
                                                          {"task", "show"},
                                                          {"task", "list"},
                                                          {"task", "transition"},
                                                          {"task", "plan"},
                                                          {"task", "result"},
                                                          {"task", "review"},
                                                          {"task", "cancel"},
                                                          {"task", "escalate"},
                                                          {"store"},
                                                          {"store", "stat"},
                                                          {"store", "check"},
                                                          {"store", "backup"},
                                                          {"audit"},
                                                          {"audit", "verify"},
                                                          {"audit", "log"}};
  for (auto args : commands) {
    args.push_back("--help");
    const auto r = run(args);
    EXPECT_EQ(r.code, 0) << args[0] << " " << args[1] << ": " << r.err;
    EXPECT_TRUE(has(r.out, "Usage:") || has(r.out, "USAGE")) << r.out;
  }
  EXPECT_TRUE(has(run({"task", "transition", "--help"}).out, "--expect-version"));
  EXPECT_TRUE(has(run({"audit", "log", "--help"}).out, "JSON Lines"));
}

}  // namespace

TEST_F(store_cli, serve_without_a_tokens_file_says_where_it_looked) {
  const auto r = run({"serve", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "agentos: error[cli.io]: --tokens: ")) << r.err;
  EXPECT_TRUE(has(r.err, "tokens.json")) << r.err;
  EXPECT_TRUE(has(r.err, "give --tokens FILE, or create DATA/tokens.json")) << r.err;
}
