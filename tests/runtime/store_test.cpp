// The task store end to end on real LMDB files with the shipped policy (policies/agent-os.policy):
// the article's lifecycle in both modes, denials, conflicts, escalation through the due index,
// the audit chain and its replay.
#include "runtime/service/store.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "runtime/store/lmdb.hpp"
#include "runtime/store/lmdb_kv.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace agentos::runtime;
using agentos::testing::temp_dir;
using nlohmann::json;

namespace {

constexpr std::int64_t t0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
constexpr std::int64_t hour = 3'600'000;
constexpr std::int64_t day = 24 * hour;

compiled_policy shipped() {
  auto p = load_policy(fs::path(AGENTOS_SOURCE_DIR) / "policies" / "agent-os.policy");
  if (!p.graph) ADD_FAILURE() << p.problems;
  return p;
}

std::unique_ptr<task_store> open_store(const fs::path& dir, std::optional<compiled_policy> policy = shipped()) {
  auto s = task_store::open(dir, std::move(policy));
  if (!s) {
    ADD_FAILURE() << s.error().message;
    return nullptr;
  }
  return std::move(*s);
}

json actor(const std::string& id) { return {{"id", id}}; }

outcome create(task_store& s, json task, std::int64_t now = t0, std::string id = {}) {
  create_op op;
  op.id = std::move(id);
  op.task = std::move(task);
  op.actor = actor("openclaw");
  op.now = now;
  return s.apply(op);
}

outcome move(task_store& s, const std::string& id, const std::string& event, const std::string& who, std::int64_t now,
             std::optional<artifact_input> artifact = std::nullopt, std::uint64_t expected = 0) {
  transition_op op;
  op.task_id = id;
  op.event = event;
  op.actor = actor(who);
  op.now = now;
  op.artifact = std::move(artifact);
  op.expected_version = expected;
  return s.apply(op);
}

std::string state_of(task_store& s, const std::string& id) {
  auto t = s.task(id);
  if (!t || !*t) return "<missing>";
  return (**t)["task"]["state"].get<std::string>();
}

#define EXPECT_APPLIED(o) EXPECT_EQ((o).status, outcome_status::applied) << (o).code << ": " << (o).message

}  // namespace

TEST(Store, DirectTaskRunsToDone) {
  temp_dir dir("agentos-store");
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  auto c = create(*s, {{"title", "book the dentist"}, {"kind", "scheduling"}});
  EXPECT_APPLIED(c);
  const std::string id = c.body["task"]["id"];
  EXPECT_EQ(id, "T-1");
  EXPECT_EQ(c.body["task"]["task"]["mode"], "direct");
  EXPECT_EQ(c.body["task"]["task"]["assignee"], "openclaw_ea");
  EXPECT_EQ(c.body["task"]["intake"]["route"]["rule"], "scheduling_and_admin");

  EXPECT_APPLIED(move(*s, id, "assign", "openclaw", t0 + 1));
  EXPECT_APPLIED(move(*s, id, "start", "openclaw_ea", t0 + 2));
  EXPECT_EQ(state_of(*s, id), "executing");
  EXPECT_APPLIED(move(*s, id, "submit_result", "openclaw_ea", t0 + 3, artifact_input{"result", "booked for Tuesday"}));
  EXPECT_APPLIED(move(*s, id, "accept_result", "openclaw", t0 + 4));
  EXPECT_EQ(state_of(*s, id), "done");

  auto arts = s->artifacts(id);
  ASSERT_TRUE(arts);
  ASSERT_EQ(arts->size(), 1u);
  EXPECT_EQ((*arts)[0]["kind"], "result");
  auto content = s->artifact_content(id, "result", 1);
  ASSERT_TRUE(content && *content);
  EXPECT_EQ(**content, "booked for Tuesday");

  // Done is terminal: nothing is due any more.
  auto t = s->task(id);
  EXPECT_TRUE((**t)["due_at"].is_null());
  auto v = s->verify();
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_TRUE(v->ok()) << (v->problems.empty() ? "" : v->problems[0]);
  EXPECT_EQ(v->replayed, 5u);  // intake + 4 transitions
}

TEST(Store, PlanFirstWithRevisionLoop) {
  temp_dir dir("agentos-store");
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  auto c = create(*s, {{"title", "migrate the billing database"}, {"kind", "engineering"}, {"risk", "medium"}});
  EXPECT_APPLIED(c);
  const std::string id = c.body["task"]["id"];
  EXPECT_EQ(c.body["task"]["task"]["mode"], "plan_first");
  EXPECT_EQ(c.body["task"]["task"]["assignee"], "claude_pm");
  EXPECT_EQ(c.body["task"]["intake"]["gates"], json::array({"risky"}));

  EXPECT_APPLIED(move(*s, id, "assign", "openclaw", t0 + 1));
  EXPECT_APPLIED(move(*s, id, "start", "claude_pm", t0 + 2));
  EXPECT_EQ(state_of(*s, id), "planning");
  // Executing before the plan is approved is not a transition the lifecycle has.
  auto early = move(*s, id, "submit_result", "claude_pm", t0 + 3);
  EXPECT_EQ(early.status, outcome_status::denied);
  EXPECT_APPLIED(move(*s, id, "submit_plan", "claude_pm", t0 + 4, artifact_input{"plan", "v1: dump and restore"}));
  EXPECT_APPLIED(move(*s, id, "request_plan_revision", "openclaw", t0 + 5));
  EXPECT_EQ(state_of(*s, id), "planning");
  EXPECT_APPLIED(move(*s, id, "submit_plan", "claude_pm", t0 + 6, artifact_input{"plan", "v2: logical replication"}));
  EXPECT_APPLIED(move(*s, id, "approve_plan", "openclaw", t0 + 7));
  EXPECT_EQ(state_of(*s, id), "executing");
  EXPECT_APPLIED(move(*s, id, "submit_result", "claude_pm", t0 + 8, artifact_input{"result", "migrated"}));
  EXPECT_APPLIED(move(*s, id, "accept_result", "openclaw", t0 + 9));
  EXPECT_EQ(state_of(*s, id), "done");

  auto t = s->task(id);
  EXPECT_EQ((**t)["artifacts"]["plan"], 2);
  EXPECT_EQ((**t)["task"]["attempts"], 1);  // back to planning once
  auto v2 = s->artifact_content(id, "plan", 2);
  ASSERT_TRUE(v2 && *v2);
  EXPECT_EQ(**v2, "v2: logical replication");
  auto v = s->verify();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok()) << (v->problems.empty() ? "" : v->problems[0]);
}

TEST(Store, DeniedSelfApprovalLeavesTaskUnchangedAndIsAudited) {
  temp_dir dir("agentos-store");
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  auto c = create(*s, {{"title", "risky change"}, {"kind", "engineering"}, {"risk", "medium"}});
  const std::string id = c.body["task"]["id"];
  EXPECT_APPLIED(move(*s, id, "assign", "openclaw", t0 + 1));
  EXPECT_APPLIED(move(*s, id, "start", "claude_pm", t0 + 2));
  EXPECT_APPLIED(move(*s, id, "submit_plan", "claude_pm", t0 + 3, artifact_input{"plan", "trust me"}));
  const json before = **s->task(id);

  auto self = move(*s, id, "approve_plan", "claude_pm", t0 + 4);
  EXPECT_EQ(self.status, outcome_status::denied);
  EXPECT_EQ(self.body["decision"]["allowed"], false);
  bool self_approval = false;
  for (const auto& r : self.body["decision"]["reasons"]) self_approval |= r["rule"] == "no_self_approval";
  EXPECT_TRUE(self_approval) << self.body["decision"].dump();
  EXPECT_EQ(**s->task(id), before);

  audit_filter f;
  f.task = id;
  f.effect = "deny";
  auto denials = s->audit(f);
  ASSERT_TRUE(denials);
  ASSERT_EQ(denials->size(), 1u);
  EXPECT_EQ((*denials)[0].record["actor"], "claude_pm");
  EXPECT_EQ((*denials)[0].record["event"], "approve_plan");
  EXPECT_EQ((*denials)[0].seq, self.body["audit_seq"]);
  auto v = s->verify();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok());
}

TEST(Store, EscalationThroughTheDueIndex) {
  temp_dir dir("agentos-store");
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  auto c = create(*s, {{"title", "fix the flaky test"}, {"kind", "engineering"}});
  const std::string id = c.body["task"]["id"];
  EXPECT_EQ(c.body["task"]["task"]["assignee"], "claude");
  EXPECT_APPLIED(move(*s, id, "assign", "openclaw", t0));
  EXPECT_APPLIED(move(*s, id, "start", "claude", t0));
  auto t = s->task(id);
  ASSERT_TRUE((**t)["due_at"].is_number_integer());
  EXPECT_LE((**t)["due_at"].get<std::int64_t>(), t0 + day + 1);

  escalate_op early;
  early.now = t0 + hour / 2;
  auto none = s->apply(early);
  EXPECT_APPLIED(none);
  EXPECT_EQ(none.body["checked"], 0);  // nothing due: the sweep touched no task
  EXPECT_TRUE(none.body["fired"].empty());
  // Due (a one-hour threshold passed) but nothing holds yet.
  early.now = t0 + day - 1;
  auto quiet = s->apply(early);
  EXPECT_EQ(quiet.body["checked"], 1);
  EXPECT_TRUE(quiet.body["fired"].empty()) << quiet.body.dump();

  escalate_op late;
  late.now = t0 + day + 5;
  auto fired = s->apply(late);
  EXPECT_APPLIED(fired);
  ASSERT_EQ(fired.body["fired"].size(), 1u) << fired.body.dump();
  EXPECT_EQ(fired.body["fired"][0]["rule"], "stale");
  EXPECT_EQ(fired.body["fired"][0]["target"], "parent (role pm)");

  // Edge-triggered: a second sweep does not fire it again.
  late.now = t0 + 2 * day;
  auto again = s->apply(late);
  EXPECT_TRUE(again.body["fired"].empty()) << again.body.dump();

  auto events = s->outbox(0, 0);
  ASSERT_TRUE(events);
  int escalated = 0;
  for (const auto& e : *events) escalated += e["type"] == "task.escalated";
  EXPECT_EQ(escalated, 1);
  auto v = s->verify();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok()) << (v->problems.empty() ? "" : v->problems[0]);
}

TEST(Store, CancellationByAManager) {
  temp_dir dir("agentos-store");
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  auto c = create(*s, {{"title", "refactor"}, {"kind", "engineering"}});
  const std::string id = c.body["task"]["id"];
  EXPECT_APPLIED(move(*s, id, "assign", "openclaw", t0 + 1));
  EXPECT_APPLIED(move(*s, id, "start", "claude", t0 + 2));
  auto own = move(*s, id, "cancel", "claude", t0 + 3);
  EXPECT_EQ(own.status, outcome_status::denied);
  EXPECT_APPLIED(move(*s, id, "cancel", "claude_pm", t0 + 4));
  EXPECT_EQ(state_of(*s, id), "cancelled");
  EXPECT_TRUE((**s->task(id))["due_at"].is_null());
  task_filter f;
  f.state = "cancelled";
  auto listed = s->tasks(f);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  f.state = "executing";
  EXPECT_TRUE(s->tasks(f)->empty());
}

TEST(Store, StaleVersionIsAConflict) {
  temp_dir dir("agentos-store");
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  auto c = create(*s, {{"title", "x"}, {"kind", "engineering"}});
  const std::string id = c.body["task"]["id"];
  EXPECT_APPLIED(move(*s, id, "assign", "openclaw", t0 + 1, std::nullopt, 1));
  auto stale = move(*s, id, "start", "claude", t0 + 2, std::nullopt, 1);
  EXPECT_EQ(stale.status, outcome_status::conflict);
  EXPECT_EQ(stale.code, "task.version_conflict");
  EXPECT_EQ(state_of(*s, id), "routed");
  EXPECT_APPLIED(move(*s, id, "start", "claude", t0 + 2, std::nullopt, 2));
}

TEST(Store, ConcurrentCallersOnOneVersionHaveExactlyOneWinner) {
  temp_dir dir("agentos-store");
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  auto c = create(*s, {{"title", "x"}, {"kind", "engineering"}});
  const std::string id = c.body["task"]["id"];
  std::vector<std::future<outcome>> racing;
  for (int i = 0; i < 16; ++i) {
    transition_op op;
    op.task_id = id;
    op.event = "assign";
    op.actor = actor("openclaw");
    op.now = t0 + 1;
    op.expected_version = 1;
    racing.push_back(s->submit(op));
  }
  int applied = 0, conflicts = 0;
  for (auto& f : racing) {
    auto o = f.get();
    applied += o.status == outcome_status::applied;
    conflicts += o.status == outcome_status::conflict;
  }
  EXPECT_EQ(applied, 1);
  EXPECT_EQ(conflicts, 15);
  EXPECT_EQ((**s->task(id))["version"], 2);
}

TEST(Store, BadInputIsRejectedWithoutWriting) {
  temp_dir dir("agentos-store");
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  auto missing_title = create(*s, {{"kind", "engineering"}});
  EXPECT_EQ(missing_title.status, outcome_status::invalid);
  EXPECT_NE(missing_title.message.find("title"), std::string::npos) << missing_title.message;
  auto bad_enum = create(*s, {{"title", "x"}, {"kind", "gardening"}});
  EXPECT_EQ(bad_enum.status, outcome_status::invalid);
  auto owned = create(*s, {{"title", "x"}, {"state", "done"}});
  EXPECT_EQ(owned.status, outcome_status::invalid);
  auto unknown = move(*s, "T-404", "start", "claude", t0);
  EXPECT_EQ(unknown.status, outcome_status::not_found);

  auto c = create(*s, {{"title", "x"}, {"kind", "engineering"}});
  const std::string id = c.body["task"]["id"];
  EXPECT_APPLIED(move(*s, id, "assign", "openclaw", t0 + 1));
  EXPECT_APPLIED(move(*s, id, "start", "claude", t0 + 2));
  auto huge = move(*s, id, "submit_result", "claude", t0 + 3, artifact_input{"result", std::string(2 << 20, 'x')});
  EXPECT_EQ(huge.status, outcome_status::invalid);
  EXPECT_EQ(huge.code, "artifact.too_large");
  auto binary = move(*s, id, "submit_result", "claude", t0 + 3, artifact_input{"result", std::string("\xff\xfe", 2)});
  EXPECT_EQ(binary.code, "artifact.not_utf8");
  auto bad_event = move(*s, id, "fly", "claude", t0 + 3);
  EXPECT_EQ(bad_event.status, outcome_status::invalid);
  EXPECT_EQ(state_of(*s, id), "executing");
  EXPECT_EQ((**s->task(id))["version"], 3);
  // Only the one successful create and its two transitions were audited (plus the policy).
  auto all = s->audit({});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 4u);
}

TEST(Store, IdempotencyKeyReturnsTheFirstOutcome) {
  temp_dir dir("agentos-store");
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  create_op op;
  op.task = {{"title", "once"}, {"kind", "admin"}};
  op.actor = actor("openclaw");
  op.now = t0;
  op.idempotency_key = "req-1";
  auto first = s->apply(op);
  auto second = s->apply(op);
  EXPECT_APPLIED(first);
  EXPECT_APPLIED(second);
  EXPECT_EQ(second.body["task"]["id"], first.body["task"]["id"]);
  EXPECT_EQ(second.body["replayed"], true);
  EXPECT_EQ(s->tasks({})->size(), 1u);
}

TEST(Store, ReopenKeepsEverythingAndUsesTheStoredPolicy) {
  temp_dir dir("agentos-store");
  std::string id;
  {
    auto s = open_store(dir.path());
    ASSERT_TRUE(s);
    id = create(*s, {{"title", "x"}, {"kind", "engineering"}}).body["task"]["id"];
    EXPECT_APPLIED(move(*s, id, "assign", "openclaw", t0 + 1));
  }
  auto s = open_store(dir.path(), std::nullopt);  // no policy given: the store's own
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->graph());
  EXPECT_EQ(state_of(*s, id), "routed");
  EXPECT_APPLIED(move(*s, id, "start", "claude", t0 + 2));
  auto again = create(*s, {{"title", "y"}});
  EXPECT_EQ(again.body["task"]["id"], "T-2");
  auto v = s->verify();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok());
}

TEST(Store, TamperedAuditRecordIsDetected) {
  temp_dir dir("agentos-store");
  {
    auto s = open_store(dir.path());
    ASSERT_TRUE(s);
    auto id = create(*s, {{"title", "x"}, {"kind", "engineering"}}).body["task"]["id"].get<std::string>();
    EXPECT_APPLIED(move(*s, id, "assign", "openclaw", t0 + 1));
    EXPECT_APPLIED(move(*s, id, "start", "claude", t0 + 2));
  }
  {
    // Rewrite record 3 (the assign) to claim a different actor, keeping its hash.
    auto e = env::open(dir.path());
    ASSERT_TRUE(e);
    auto tables = lmdb_tables::open(*e);
    ASSERT_TRUE(tables);
    auto t = e->begin_write();
    lmdb_kv w(*t, *tables);
    auto raw = w.get(kv::table::audit, kv::be64(3));
    ASSERT_TRUE(raw && *raw);
    std::string value(**raw);
    const auto at = value.find("\"openclaw\"");
    ASSERT_NE(at, std::string::npos);
    value.replace(at, 10, "\"mallory\"");
    ASSERT_TRUE(w.put(kv::table::audit, kv::be64(3), value));
    ASSERT_TRUE(t->commit());
  }
  auto s = open_store(dir.path(), std::nullopt);
  ASSERT_TRUE(s);
  auto v = s->verify();
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->ok());
  EXPECT_GE(v->chain_breaks, 1u);
  ASSERT_FALSE(v->problems.empty());
  EXPECT_NE(v->problems[0].find("record 3"), std::string::npos) << v->problems[0];
}

TEST(Store, CheckAndBackup) {
  temp_dir dir("agentos-store");
  temp_dir copy("agentos-backup");
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  for (int i = 0; i < 20; ++i) create(*s, {{"title", "t" + std::to_string(i)}, {"kind", "engineering"}});
  auto rep = s->check();
  ASSERT_TRUE(rep);
  EXPECT_TRUE(rep->ok()) << (rep->problems.empty() ? "" : rep->problems[0]);
  EXPECT_EQ(rep->tasks, 20u);
  ASSERT_TRUE(s->backup(copy.path() / "b"));
  s.reset();
  auto b = open_store(copy.path() / "b", std::nullopt);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->tasks({})->size(), 20u);
  auto st = b->stat();
  ASSERT_TRUE(st);
  EXPECT_FALSE(st->active_policy.empty());
}

TEST(Store, LingerGathersConcurrentCallersIntoOneCommit) {
  temp_dir dir("agentos-store");
  store_options options;
  options.linger = std::chrono::milliseconds(20);
  auto s = task_store::open(dir.path(), shipped(), options);
  ASSERT_TRUE(s) << s.error().message;
  std::vector<std::future<outcome>> pending;
  for (int i = 0; i < 8; ++i) {
    create_op op;
    op.task = {{"title", "t" + std::to_string(i)}, {"kind", "admin"}};
    op.actor = actor("openclaw");
    op.now = t0;
    pending.push_back((*s)->submit(op));
  }
  for (auto& f : pending) EXPECT_APPLIED(f.get());
  const auto st = (*s)->stats();
  EXPECT_EQ(st.operations, 8u);
  EXPECT_LT(st.commits, 8u);  // the writer waited for more work instead of committing each alone
  EXPECT_GE(st.max_batch, 2u);
}

// The writer applies a batch straight in its transaction and runs it again with nested
// transactions only when one operation has to be undone alone. Here one operation writes and
// then refuses (an outcome that is not acknowledged): its write must vanish while the operations
// batched with it commit, with the ids, audit chain and answers a nested run gives.
TEST(Store, AnOperationUndoneAloneLeavesTheRestOfItsBatch) {
  temp_dir dir("agentos-store");
  store_options options;
  options.linger = std::chrono::milliseconds(20);
  auto s = task_store::open(dir.path(), shipped(), options);
  ASSERT_TRUE(s) << s.error().message;
  auto& store = **s;
  std::vector<std::future<outcome>> pending;
  auto submit_create = [&](int i) {
    create_op op;
    op.task = {{"title", "t" + std::to_string(i)}, {"kind", "admin"}};
    op.actor = actor("openclaw");
    op.now = t0;
    pending.push_back(store.submit(op));
  };
  submit_create(0);
  submit_create(1);
  record_op refuses;
  refuses.write = [](kv::writer& w) -> result<outcome> {
    if (auto r = w.put(kv::table::meta, "probe", "written"); !r) return std::move(r).error();
    outcome o;
    o.status = outcome_status::invalid;
    o.code = "test.refused";
    o.message = "refused after writing";
    return o;
  };
  std::future<outcome> refused = store.submit(refuses);
  submit_create(2);
  submit_create(3);

  EXPECT_EQ(refused.get().code, "test.refused");
  std::vector<std::string> ids;
  for (auto& f : pending) {
    const outcome o = f.get();
    EXPECT_APPLIED(o);
    ids.push_back(o.body["task"]["id"].get<std::string>());
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"T-1", "T-2", "T-3", "T-4"}));
  EXPECT_GE(store.stats().nested_retries, 1u);

  record_op probe;
  probe.write = [](kv::writer& w) -> result<outcome> {
    auto v = w.get(kv::table::meta, "probe");
    if (!v) return std::move(v).error();
    outcome o;
    o.status = outcome_status::invalid;  // nothing to commit
    o.code = *v ? "probe.present" : "probe.absent";
    return o;
  };
  EXPECT_EQ(store.apply(probe).code, "probe.absent");
  for (const auto& id : ids) EXPECT_EQ(state_of(store, id), "intake");
  auto v = store.verify();
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_TRUE(v->ok());
  EXPECT_EQ(v->mismatches, 0u);
}

// Operations refused before they write (a stale version) stay in the straight-through run: no
// nested retry for a batch of conflicts.
TEST(Store, RefusalsThatWroteNothingNeedNoNestedRun) {
  temp_dir dir("agentos-store");
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  auto c = create(*s, {{"title", "x"}, {"kind", "engineering"}});
  const std::string id = c.body["task"]["id"];
  const outcome stale = move(*s, id, "assign", "openclaw", t0 + 1, std::nullopt, 7);
  EXPECT_EQ(stale.status, outcome_status::conflict);
  EXPECT_EQ(s->stats().nested_retries, 0u);
  EXPECT_APPLIED(move(*s, id, "assign", "openclaw", t0 + 2, std::nullopt, 1));
  EXPECT_EQ(s->stats().nested_retries, 0u);
}
