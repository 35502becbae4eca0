// The reconciler with a real store (LMDB, the shipped policy), the real projector and the real
// Paperclip: the projector's own writes are echoes, an operator's forbidden status jump is put
// back with the policy's reasons, a plan approved in Paperclip is approve_plan by alex, an
// ambiguous status is refused, a reassignment goes through the policy, the same row handled twice
// transitions once; and the drift check (library and CLI) sees what the reconciler has not fixed.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <filesystem>
#include <set>

#include "projection_fixture.hpp"
#include "runtime/projection/drift.hpp"
#include "runtime/projection/projector.hpp"
#include "runtime/projection/reconciler.hpp"
#include "runtime/service/store.hpp"

namespace agentos::runtime::projection {
namespace {

namespace fs = std::filesystem;
using testing::paperclip_server;

class ReconcilerTest : public projection_test {
 protected:
  void SetUp() override {
    set_up("reconciler");
    board = std::make_unique<paperclip_client>(url);
    proj = std::make_unique<projector>(*store, *client, options);
    auto e = proj->setup();
    ASSERT_FALSE(e) << e->code << ": " << e->message;
    cid = proj->company().id;
    pause_all(cid);
    reconciler_options ro;
    ro.clock = [this] { return t0 + (++clock); };
    ro.log = [this](const std::string& line) { log.push_back(line); };
    rec = std::make_unique<reconciler>(*store, *client, ro);
  }

  void project() {
    project_report r;
    auto e = proj->project(r);
    ASSERT_FALSE(e) << e->code << ": " << e->message;
    ASSERT_TRUE(r.dropped.empty()) << r.dropped[0];
  }
  // The company's activity rows not handed to the reconciler yet, oldest first.
  std::vector<json> new_rows() {
    auto rows = client->list_activity(cid, 500);
    EXPECT_TRUE(rows) << rows.error().message;
    std::vector<json> out;
    if (!rows) return out;
    for (auto it = rows->rbegin(); it != rows->rend(); ++it)
      if (seen.insert(str(*it, "id")).second) out.push_back(*it);
    return out;
  }
  // Hands every new row to the reconciler, as the projection loop does; the rows handed.
  std::vector<json> reconcile() {
    std::vector<json> rows = new_rows();
    for (const auto& row : rows) {
      const handle_result r = rec->handle(row);
      EXPECT_EQ(r.status, handle_status::done) << str(row, "action") << ": " << r.code << ": " << r.message;
    }
    return rows;
  }
  task_mapping mapped(const std::string& task) {
    auto m = find_mapping(task);
    EXPECT_TRUE(m) << task << " is not mapped";
    return m.value_or(task_mapping{});
  }
  json task(const std::string& id) {
    auto t = store->task(id);
    EXPECT_TRUE(t && *t);
    return t && *t ? **t : json();
  }
  // The task's transition audit records for `event` (actor, effect).
  std::vector<json> audited(const std::string& id, const std::string& event) {
    audit_filter f;
    f.task = id;
    f.event = event;
    auto entries = store->audit(f);
    EXPECT_TRUE(entries);
    std::vector<json> out;
    if (entries)
      for (const auto& e : *entries) out.push_back(e.record);
    return out;
  }
  std::vector<std::string> comments(const std::string& issue_id) {
    auto list = client->list_comments(issue_id);
    EXPECT_TRUE(list);
    std::vector<std::string> out;
    if (list)
      for (const auto& c : *list) out.push_back(str(c, "body"));
    return out;
  }
  // An engineering task, routed to claude, in `executing`.
  std::string executing_task() {
    const std::string id = create({{"title", "fix the flaky test"}, {"kind", "engineering"}});
    move(id, "assign", "openclaw");
    move(id, "start", "claude");
    return id;
  }
  // A plan-first task of claude_pm's waiting for its plan's review.
  std::string plan_review_task() {
    const std::string id = create({{"title", "migrate the billing database"}, {"kind", "engineering"}, {"risk", "medium"}});
    move(id, "assign", "openclaw");
    move(id, "start", "claude_pm");
    move(id, "submit_plan", "claude_pm", artifact_input{"plan", "1. snapshot\n2. migrate\n3. verify"});
    return id;
  }

  // `client` is the projector's and the reconciler's.
  std::unique_ptr<paperclip_client> board;  // the operator in Paperclip
  std::unique_ptr<projector> proj;
  std::unique_ptr<reconciler> rec;
  std::string cid;
  std::set<std::string> seen;
  std::vector<std::string> log;
};

TEST_F(ReconcilerTest, TheProjectorsOwnWritesAreEchoes) {
  const std::string id = executing_task();
  project();
  // The backend moves on before the projector shows it: the issue still says in_progress, which
  // from result_review would read as request_revision if the projector's write were taken for the
  // operator's.
  move(id, "submit_result", "claude", artifact_input{"result", "the race is fixed"});
  const auto rows = reconcile();
  ASSERT_FALSE(rows.empty());
  int updates = 0;
  for (const auto& r : rows) updates += str(r, "action") == "issue.updated";
  EXPECT_GE(updates, 1) << "the projector's status and assignee PATCHes";
  EXPECT_EQ(rec->stats().submitted, 0u);
  EXPECT_GE(rec->stats().echoes, 1u);
  EXPECT_EQ(task(id)["version"], 4);
  EXPECT_EQ(task(id)["task"]["state"], "result_review");
  EXPECT_EQ(audited(id, "request_revision").size(), 0u);
  project();
  EXPECT_EQ(str(issue(mapped(id).issue), "status"), "in_review");
  reconcile();
  EXPECT_EQ(rec->stats().submitted, 0u);
}

TEST_F(ReconcilerTest, AForbiddenStatusJumpIsPutBackWithThePolicysReasons) {
  const std::string id = executing_task();
  project();
  reconcile();
  const task_mapping m = mapped(id);
  ASSERT_TRUE(board->patch_issue(m.issue, {{"status", "done"}}));

  const auto rows = reconcile();
  EXPECT_EQ(rec->stats().submitted, 1u);
  EXPECT_EQ(rec->stats().denied, 1u);
  // The issue is back where the task is, and says why.
  EXPECT_EQ(str(issue(m.issue), "status"), "in_progress");
  const auto said = comments(m.issue);
  ASSERT_FALSE(said.empty());
  EXPECT_EQ(said.front().rfind(std::string(refused_prefix), 0), 0u) << said.front();
  EXPECT_NE(said.front().find("- no transition"), std::string::npos) << said.front();
  // The denial is the policy's, audited as alex's accept_result; the task did not move.
  const auto denied = audited(id, "accept_result");
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0]["actor"], "alex");
  EXPECT_EQ(denied[0]["effect"], "deny");
  EXPECT_EQ(task(id)["task"]["state"], "executing");
  EXPECT_EQ(mapped(id).status, "in_progress");

  // The revert's own row is an echo, and the operator's row handled again (a catch-up after a
  // crash) is superseded: nothing is submitted a second time.
  reconcile();
  for (const auto& row : rows) EXPECT_EQ(rec->handle(row).status, handle_status::done);
  EXPECT_EQ(rec->stats().submitted, 1u);
  EXPECT_EQ(audited(id, "accept_result").size(), 1u);
  EXPECT_EQ(str(issue(m.issue), "status"), "in_progress");
}

TEST_F(ReconcilerTest, APlanApprovedInPaperclipIsApprovePlanByTheOperator) {
  const std::string id = plan_review_task();
  project();
  reconcile();
  const task_mapping m = mapped(id);
  ASSERT_TRUE(m.approval) << "the projector asks the board for the plan";
  ASSERT_TRUE(board->resolve_approval(*m.approval, "approve", "ship it"));

  const auto rows = reconcile();
  EXPECT_EQ(rec->stats().applied, 1u);
  const json t = task(id);
  EXPECT_EQ(t["task"]["state"], "executing");
  const auto approvals = audited(id, "approve_plan");
  ASSERT_EQ(approvals.size(), 1u);
  EXPECT_EQ(approvals[0]["actor"], "alex");
  EXPECT_EQ(approvals[0]["effect"], "allow");
  auto reviews = store->reviews(id);
  ASSERT_TRUE(reviews);
  ASSERT_FALSE(reviews->empty());
  EXPECT_EQ(reviews->back()["comment"], "ship it") << reviews->back().dump();

  // The same approval row again, before the projector has caught up (a crash after the
  // submission): the idempotency key replays the first outcome; one transition, one record.
  const std::uint64_t version = t["version"];
  for (const auto& row : rows) {
    if (str(row, "action") == "approval.approved") {
      EXPECT_EQ(rec->handle(row).status, handle_status::done);
    }
  }
  EXPECT_EQ(audited(id, "approve_plan").size(), 1u);
  EXPECT_EQ(task(id)["version"], version);

  // The projector then shows the task executing and settles the approval; nothing comes back.
  project();
  EXPECT_EQ(str(issue(m.issue), "status"), "in_progress");
  EXPECT_FALSE(mapped(id).approval);
  const std::uint64_t submitted = rec->stats().submitted;
  reconcile();
  EXPECT_EQ(rec->stats().submitted, submitted);
  EXPECT_EQ(task(id)["version"], version);
}

TEST_F(ReconcilerTest, PaperclipsOwnMovesArePutBack) {
  const std::string id = executing_task();
  project();
  reconcile();
  const task_mapping m = mapped(id);
  const std::size_t records = store->audit({}).value().size();
  // What execution recovery does after a failed run (seen with `agentos serve` and an executor
  // that cannot be reached): the issue becomes blocked, and the activity has only a system row
  // saying so, no issue.updated. The status is set here as recovery sets it, and the reconciler
  // is handed a row of that shape.
  {
    // Paperclip lets an issue become blocked only with a blocker, a pending approval or an
    // unblockDescriptor (422 otherwise).
    auto blocked = board->patch_issue(
        m.issue, {{"status", "blocked"}, {"unblockDescriptor", {{"owner", "board"}, {"action", "retry the run"}}}});
    ASSERT_TRUE(blocked) << blocked.error().message << " " << blocked.error().body.dump();
  }
  const json recovered = {{"id", "recovery-1"}, {"actorType", "system"}, {"action", "issue.execution_recovery_settled"},
                          {"entityType", "issue"}, {"entityId", m.issue}, {"details", {{"outcome", "blocked"}}}};
  EXPECT_EQ(rec->handle(recovered).status, handle_status::done);
  EXPECT_EQ(rec->stats().restored, 1u);
  EXPECT_EQ(str(issue(m.issue), "status"), "in_progress");
  const auto said = comments(m.issue);
  ASSERT_FALSE(said.empty());
  EXPECT_EQ(said.front().rfind(std::string(restored_prefix), 0), 0u) << said.front();
  // The board's row for the same status is superseded now, and the put-back is an echo.
  reconcile();
  EXPECT_EQ(rec->stats().submitted, 0u);
  EXPECT_EQ(store->audit({}).value().size(), records);
  EXPECT_EQ(task(id)["task"]["state"], "executing");
}

TEST_F(ReconcilerTest, PuttingBackToBlockedSaysWhoUnblocks) {
  const std::string id = executing_task();
  project();
  reconcile();
  move(id, "block", "claude");  // not projected: the put-back itself writes `blocked`
  const task_mapping m = mapped(id);
  ASSERT_TRUE(board->patch_issue(m.issue, {{"status", "in_review"}}));
  reconcile();
  EXPECT_EQ(rec->stats().denied, 1u);
  const json i = issue(m.issue);
  EXPECT_EQ(str(i, "status"), "blocked") << i.dump();
  EXPECT_EQ(mapped(id).status, "blocked");
  EXPECT_EQ(task(id)["task"]["state"], "blocked");
}

TEST_F(ReconcilerTest, AnAmbiguousStatusIsRefusedWithoutADecision) {
  const std::string id = plan_review_task();
  project();
  reconcile();
  const task_mapping m = mapped(id);
  const std::size_t records = store->audit({}).value().size();
  ASSERT_TRUE(board->patch_issue(m.issue, {{"status", "in_progress"}}));
  reconcile();
  EXPECT_EQ(rec->stats().refused, 1u);
  EXPECT_EQ(rec->stats().submitted, 0u);
  EXPECT_EQ(store->audit({}).value().size(), records) << "a refusal decides nothing, so nothing is audited";
  EXPECT_EQ(str(issue(m.issue), "status"), "in_review");
  const auto said = comments(m.issue);
  ASSERT_FALSE(said.empty());
  EXPECT_NE(said.front().find("ambiguous: "), std::string::npos) << said.front();
  EXPECT_NE(said.front().find("approve_plan"), std::string::npos) << said.front();
  EXPECT_EQ(task(id)["task"]["state"], "plan_review");
}

TEST_F(ReconcilerTest, AReassignmentGoesThroughThePolicy) {
  const std::string id = create({{"title", "tidy the build"}, {"kind", "engineering"}});
  move(id, "assign", "openclaw");  // routed, claude's
  project();
  reconcile();
  std::map<std::string, std::string> agent;
  ASSERT_TRUE(mapping::read(*store, [&](kv::reader& r) {
    return mapping::for_each_agent(r, [&](std::string_view a, std::string_view p) {
      agent.emplace(std::string(a), std::string(p));
      return true;
    });
  }));
  const task_mapping m = mapped(id);
  ASSERT_TRUE(board->patch_issue(m.issue, {{"assigneeAgentId", agent["codex"]}}));
  reconcile();
  EXPECT_EQ(rec->stats().applied, 1u);
  const json t = task(id);
  EXPECT_EQ(t["task"]["assignee"], "codex");
  EXPECT_EQ(t["task"]["state"], "routed");
  const auto records = audited(id, "reassign");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["actor"], "alex");

  // Unassigning is not something an agentos task can be: put back to codex.
  ASSERT_TRUE(board->patch_issue(m.issue, {{"assigneeAgentId", nullptr}}));
  reconcile();
  EXPECT_EQ(str(issue(m.issue), "assigneeAgentId"), agent["codex"]);
  EXPECT_EQ(task(id)["task"]["assignee"], "codex");
}

TEST_F(ReconcilerTest, ACommentWithoutACommentEventStaysInPaperclip) {
  const std::string id = executing_task();
  project();
  reconcile();
  const task_mapping m = mapped(id);
  ASSERT_TRUE(board->add_comment(m.issue, "how is it going?"));
  const std::uint64_t version = task(id)["version"];
  reconcile();
  EXPECT_EQ(rec->stats().not_reconciled, 1u);
  EXPECT_EQ(rec->stats().submitted, 0u);
  EXPECT_EQ(task(id)["version"], version);
}

TEST_F(ReconcilerTest, DriftIsReportedUntilReconciled) {
  const std::string id = executing_task();
  project();
  reconcile();
  {
    const drift_result clean = check_drift(*store, *client);
    ASSERT_TRUE(clean.report) << clean.error->code << ": " << clean.error->message;
    EXPECT_TRUE(clean.report->clean()) << clean.report->to_text();
    EXPECT_EQ(clean.report->tasks, 1u);
    EXPECT_EQ(clean.report->agents, 7u);
  }
  const task_mapping m = mapped(id);
  ASSERT_TRUE(board->patch_issue(m.issue, {{"status", "done"}}));
  const drift_result drift = check_drift(*store, *client);
  ASSERT_TRUE(drift.report);
  ASSERT_EQ(drift.report->findings.size(), 1u) << drift.report->to_text();
  EXPECT_EQ(drift.report->findings[0].kind, "issue.status");
  EXPECT_EQ(drift.report->findings[0].expected, "in_progress");
  EXPECT_EQ(drift.report->findings[0].actual, "done");

  // The CLI reads the same, from the data directory once no process holds it.
  rec.reset();
  proj.reset();
  store.reset();
  const std::string out = (dir.path() / "check.json").string();
  const std::string cmd = std::string("'") + AGENTOS_BINARY + "' projection check --data '" +
                          (dir.path() / "data").string() + "' --paperclip " + paperclip_server::get().url() +
                          " --format json > '" + out + "'";
  EXPECT_EQ(testing::shell(cmd), 1);
  std::ifstream in(out);
  const json report = json::parse(in, nullptr, false);
  ASSERT_TRUE(report.is_object());
  EXPECT_EQ(report["clean"], false);
  ASSERT_EQ(report["findings"].size(), 1u);
  EXPECT_EQ(report["findings"][0]["kind"], "issue.status");

  // Reconciled: the issue is put back, and the check is clean again.
  open_store();
  proj = std::make_unique<projector>(*store, *client, options);
  reconciler_options ro;
  ro.log = [this](const std::string& line) { log.push_back(line); };
  rec = std::make_unique<reconciler>(*store, *client, ro);
  reconcile();
  EXPECT_EQ(str(issue(m.issue), "status"), "in_progress");
  store.reset();
  rec.reset();
  proj.reset();
  EXPECT_EQ(testing::shell(std::string("'") + AGENTOS_BINARY + "' projection check --data '" +
                           (dir.path() / "data").string() + "' --paperclip " + paperclip_server::get().url() +
                           " > /dev/null"),
            0);
}

}  // namespace
}  // namespace agentos::runtime::projection
