// The projector with a real store (LMDB, the shipped policy) and the real Paperclip: the org as
// agents with reportsTo, a task's whole life (issue, statuses in order, plan document, approval,
// work product), and projecting again (a second run, a restart, a crash before the mapping was
// recorded) creating nothing twice.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "projection_fixture.hpp"
#include "runtime/projection/projector.hpp"
#include "runtime/projection/status.hpp"
#include "runtime/service/store.hpp"

namespace agentos::runtime::projection {
namespace {

namespace fs = std::filesystem;
using testing::paperclip_server;

class ProjectorTest : public projection_test {
 protected:
  void SetUp() override { set_up("projector"); }

  std::unique_ptr<projector> fresh_projector() { return std::make_unique<projector>(*store, *client, options); }

  project_report project(projector& p) {
    project_report r;
    auto e = p.project(r);
    EXPECT_FALSE(e) << e->code << ": " << e->message;
    EXPECT_TRUE(r.dropped.empty()) << r.dropped[0];
    EXPECT_EQ(r.cursor, store->outbox_head());
    return r;
  }
  std::optional<task_mapping> mapped(const std::string& task) { return find_mapping(task); }
  std::size_t count(pc_result<json> list) {
    EXPECT_TRUE(list) << list.error().message;
    return list ? list->size() : 0;
  }
};

TEST(ProjectionStatus, OneMappingForEveryState) {
  const std::map<std::string, std::string> expected = {
      {"intake", "backlog"},        {"routed", "todo"},       {"planning", "in_progress"},
      {"plan_review", "in_review"}, {"executing", "in_progress"}, {"result_review", "in_review"},
      {"blocked", "blocked"},       {"escalated", "blocked"}, {"done", "done"},
      {"cancelled", "cancelled"}};
  for (const auto& [state, status] : expected) {
    EXPECT_EQ(paperclip_status(state, false), status) << state;
    EXPECT_TRUE(is_paperclip_status(paperclip_status(state, true)));
  }
  EXPECT_EQ(paperclip_status("qa_hold", false), "in_progress");
  EXPECT_EQ(paperclip_status("archived", true), "done");
  EXPECT_FALSE(is_paperclip_status("finished"));
  EXPECT_EQ(paperclip_role("chief_of_staff"), "ceo");
  EXPECT_EQ(paperclip_role("senior_engineer"), "engineer");
  EXPECT_EQ(paperclip_role("accountant"), "cfo");
  EXPECT_EQ(paperclip_role("qa"), "qa");
  EXPECT_EQ(paperclip_role("executive_assistant"), "general");
}

TEST_F(ProjectorTest, OrgBecomesAgentsThatReportToTheirParentRole) {
  auto p = fresh_projector();
  auto e = p->setup();
  ASSERT_FALSE(e) << e->code << ": " << e->message;
  const std::string cid = p->company().id;
  ASSERT_FALSE(cid.empty());
  EXPECT_EQ(p->company().name, options.company_name);
  EXPECT_FALSE(p->store_id().empty());

  auto agents = client->list_agents(cid);
  ASSERT_TRUE(agents);
  std::map<std::string, json> by_name;
  for (const auto& a : *agents) by_name[str(a, "name")] = a;
  // The shipped org's agents; alex (the operator) is not an agent of Paperclip.
  const std::set<std::string> names = {"openclaw", "claude_pm", "ledger", "openclaw_ea", "claude", "codex", "claude_qa"};
  std::set<std::string> got;
  for (const auto& [n, a] : by_name) got.insert(n);
  EXPECT_EQ(got, names);
  auto id = [&](const std::string& n) { return str(by_name[n], "id"); };
  EXPECT_TRUE(by_name["openclaw"]["reportsTo"].is_null());
  EXPECT_EQ(str(by_name["claude_pm"], "reportsTo"), id("openclaw"));
  EXPECT_EQ(str(by_name["ledger"], "reportsTo"), id("openclaw"));
  EXPECT_EQ(str(by_name["openclaw_ea"], "reportsTo"), id("openclaw"));
  EXPECT_EQ(str(by_name["claude"], "reportsTo"), id("claude_pm"));
  EXPECT_EQ(str(by_name["codex"], "reportsTo"), id("claude_pm"));
  EXPECT_EQ(str(by_name["claude_qa"], "reportsTo"), id("claude_pm"));
  EXPECT_EQ(str(by_name["openclaw"], "role"), "ceo");
  EXPECT_EQ(str(by_name["claude_pm"], "role"), "pm");
  EXPECT_EQ(str(by_name["ledger"], "role"), "cfo");
  EXPECT_EQ(str(by_name["claude"], "role"), "engineer");
  EXPECT_EQ(str(by_name["claude_qa"], "role"), "qa");
  for (const auto& [n, a] : by_name) {
    EXPECT_EQ(str(a, "adapterType"), "http") << n;
    EXPECT_EQ(a["adapterConfig"]["url"], options.executor_url) << n;
    EXPECT_EQ(a["adapterConfig"]["payloadTemplate"]["agentos_agent"], n) << n;
  }
  // The mapping holds the same ids.
  std::map<std::string, std::string> stored;
  ASSERT_TRUE(mapping::read(*store, [&](kv::reader& r) {
    return mapping::for_each_agent(r, [&](std::string_view a, std::string_view pid) {
      stored.emplace(std::string(a), std::string(pid));
      return true;
    });
  }));
  EXPECT_EQ(stored.size(), names.size());
  for (const auto& n : names) EXPECT_EQ(stored[n], id(n)) << n;

  // Again, and from a new projector (a restart): nothing new, and a changed executor URL is
  // corrected in place.
  options.executor_url = "http://127.0.0.1:10/wake";
  auto again = fresh_projector();
  ASSERT_FALSE(again->setup());
  EXPECT_EQ(again->company().id, cid);
  EXPECT_EQ(again->store_id(), p->store_id());
  auto after = client->list_agents(cid);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->size(), names.size());
  for (const auto& a : *after) EXPECT_EQ(a["adapterConfig"]["url"], "http://127.0.0.1:10/wake") << str(a, "name");
  auto companies = client->list_companies();
  ASSERT_TRUE(companies);
  int named = 0;
  for (const auto& c : *companies) named += str(c, "name") == options.company_name;
  EXPECT_EQ(named, 1);
}

TEST_F(ProjectorTest, TaskLifeIsProjectedStepByStep) {
  auto p = fresh_projector();
  ASSERT_FALSE(p->setup());
  const std::string cid = p->company().id;
  pause_all(cid);
  std::map<std::string, std::string> agent_ids;
  auto listed = client->list_agents(cid);
  ASSERT_TRUE(listed);
  for (const auto& a : *listed) agent_ids[str(a, "name")] = str(a, "id");

  const std::string id = create({{"title", "migrate the billing database"},
                                 {"brief", "Move billing to the new cluster without downtime."},
                                 {"kind", "engineering"},
                                 {"risk", "medium"}});
  auto r = project(*p);
  EXPECT_EQ(r.projected, 1u);
  auto m = mapped(id);
  ASSERT_TRUE(m);
  json i = issue(m->issue);
  EXPECT_EQ(str(i, "title"), "migrate the billing database");
  EXPECT_EQ(str(i, "status"), "backlog");
  EXPECT_EQ(str(i, "assigneeAgentId"), agent_ids["claude_pm"]);
  EXPECT_EQ(str(i, "identifier"), m->identifier);
  const std::string description = str(i, "description");
  EXPECT_NE(description.find("Move billing to the new cluster without downtime."), std::string::npos) << description;
  EXPECT_NE(description.find("\nagentos-task: " + id + "\n"), std::string::npos) << description;
  EXPECT_NE(description.find("\nagentos-callback: http://127.0.0.1:8080/api/executions/callback\n"), std::string::npos)
      << description;
  EXPECT_NE(description.find("plan_first"), std::string::npos);
  EXPECT_EQ(m->status, "backlog");
  EXPECT_EQ(m->assignee, agent_ids["claude_pm"]);
  EXPECT_EQ(m->task_version, 1u);

  auto step = [&](const std::string& event, const std::string& who, const std::string& status,
                  std::optional<artifact_input> artifact = std::nullopt) {
    move(id, event, who, std::move(artifact));
    project(*p);
    EXPECT_EQ(str(issue(m->issue), "status"), status) << "after " << event;
    auto now = mapped(id);
    ASSERT_TRUE(now);
    EXPECT_EQ(now->status, status);
    auto t = store->record(id);
    ASSERT_TRUE(t && *t);
    EXPECT_EQ(now->task_version, (*t)->version);
  };
  step("assign", "openclaw", "todo");
  step("start", "claude_pm", "in_progress");
  step("submit_plan", "claude_pm", "in_review", artifact_input{"plan", "1. replicate\n2. switch over\n3. verify"});

  // The plan as a document and an approval waiting for the board.
  m = mapped(id);
  ASSERT_TRUE(m->approval);
  ASSERT_TRUE(m->plan_document_revision);
  auto doc = client->get_document(m->issue, "plan");
  ASSERT_TRUE(doc && *doc);
  EXPECT_EQ(str(**doc, "body"), "1. replicate\n2. switch over\n3. verify");
  EXPECT_EQ(str(**doc, "latestRevisionId"), *m->plan_document_revision);
  auto approval = client->get_approval(*m->approval);
  ASSERT_TRUE(approval);
  EXPECT_EQ(str(*approval, "status"), "pending");
  EXPECT_EQ(str(*approval, "type"), "request_board_approval");
  EXPECT_EQ((*approval)["payload"]["task"], id);
  EXPECT_EQ((*approval)["payload"]["version"], 1);
  EXPECT_EQ((*approval)["payload"]["plan"], "1. replicate\n2. switch over\n3. verify");
  EXPECT_EQ(count(client->list_issue_approvals(m->issue)), 1u);
  const std::string approval_id = *m->approval;

  // Approved in agentos: the Paperclip approval follows and leaves the mapping.
  step("approve_plan", "openclaw", "in_progress");
  EXPECT_FALSE(mapped(id)->approval);
  auto settled = client->get_approval(approval_id);
  ASSERT_TRUE(settled);
  EXPECT_EQ(str(*settled, "status"), "approved");

  step("submit_result", "claude_pm", "in_review", artifact_input{"result", "billing runs on the new cluster"});
  m = mapped(id);
  ASSERT_TRUE(m->result_work_product);
  auto products = client->list_work_products(m->issue);
  ASSERT_TRUE(products);
  ASSERT_EQ(products->size(), 1u);
  EXPECT_EQ(str((*products)[0], "externalId"), id + ":result:1");
  EXPECT_EQ(str((*products)[0], "provider"), "agentos");
  EXPECT_EQ(str((*products)[0], "type"), "artifact");
  EXPECT_EQ(str((*products)[0], "summary"), "billing runs on the new cluster");
  EXPECT_EQ(str((*products)[0], "status"), "ready_for_review");

  step("accept_result", "openclaw", "done");
  products = client->list_work_products(m->issue);
  ASSERT_TRUE(products);
  EXPECT_EQ(str((*products)[0], "status"), "approved");

  // The board-side history, oldest first: the statuses in the order the task went through them.
  auto activity = client->call("GET", "/companies/" + cid + "/activity?entityType=issue&entityId=" + m->issue + "&limit=500");
  ASSERT_TRUE(activity);
  std::vector<std::string> statuses;
  for (auto it = activity->body.rbegin(); it != activity->body.rend(); ++it) {
    const json& d = (*it)["details"];
    if (str(*it, "action") == "issue.updated" && d.contains("changes") && d["changes"].contains("status"))
      statuses.push_back(d["changes"]["status"]["to"]);
  }
  EXPECT_EQ(statuses, (std::vector<std::string>{"todo", "in_progress", "in_review", "in_progress", "in_review", "done"}));
}

// Paperclip refuses to enter `blocked` without a blocker, a pending approval or an unblock
// descriptor; the projector sends the descriptor, so a blocked task is shown blocked.
TEST_F(ProjectorTest, BlockedTaskIsShownBlockedWithWhoUnblocksIt) {
  auto p = fresh_projector();
  ASSERT_FALSE(p->setup());
  pause_all(p->company().id);
  const std::string id = create({{"title", "rotate the API keys"}, {"kind", "engineering"}});
  project(*p);
  auto m = mapped(id);
  ASSERT_TRUE(m);
  for (const auto& [event, who] : std::vector<std::pair<std::string, std::string>>{
           {"assign", "openclaw"}, {"start", "claude"}, {"block", "claude"}})
    move(id, event, who);
  auto r = project(*p);
  EXPECT_TRUE(r.dropped.empty()) << r.dropped.front();
  EXPECT_EQ(str(issue(m->issue), "status"), "blocked");
  EXPECT_EQ(mapped(id)->status, "blocked");
  move(id, "unblock", "claude");
  project(*p);
  EXPECT_EQ(str(issue(m->issue), "status"), "in_progress");
}

TEST_F(ProjectorTest, ProjectingAgainCreatesNothingTwice) {
  auto p = fresh_projector();
  ASSERT_FALSE(p->setup());
  const std::string cid = p->company().id;
  pause_all(cid);
  const std::string a = create({{"title", "rotate the API keys"}, {"kind", "engineering"}, {"risk", "medium"}});
  const std::string b = create({{"title", "rotate the API keys"}, {"kind", "scheduling"}});  // same title: two issues
  move(a, "assign", "openclaw");
  move(a, "start", "claude_pm");
  move(a, "submit_plan", "claude_pm", artifact_input{"plan", "rotate one key at a time"});
  move(b, "assign", "openclaw");
  move(b, "start", "openclaw_ea");
  move(b, "submit_result", "openclaw_ea", artifact_input{"result", "rotated"});
  project(*p);
  auto ma = mapped(a), mb = mapped(b);
  ASSERT_TRUE(ma && mb);
  EXPECT_NE(ma->issue, mb->issue);
  EXPECT_EQ(count(client->list_issues(cid)), 2u);
  EXPECT_EQ(count(client->list_agents(cid)), 7u);
  auto doc = client->get_document(ma->issue, "plan");
  ASSERT_TRUE(doc && *doc);
  const int revision = (**doc).value("latestRevisionNumber", 0);

  // A second run, and a restart (a new projector on the same store): nothing to do.
  auto second = project(*p);
  EXPECT_EQ(second.projected, 0u);
  auto restarted = fresh_projector();
  auto third = project(*restarted);
  EXPECT_EQ(third.projected, 0u);

  // A crash after Paperclip's writes but before the mapping commit: the cursor back at 0 and the
  // tasks' mappings gone. Every event is projected again, and every create finds what exists.
  ASSERT_TRUE(mapping::write(*store, [&](kv::writer& w) -> result<void> {
    for (const auto& m : {*ma, *mb}) {
      if (auto r = w.del(kv::table::projection, mapping::issue_key(m.issue)); !r) return std::move(r).error();
    }
    if (auto r = w.del(kv::table::projection, mapping::task_key(a)); !r) return std::move(r).error();
    if (auto r = w.del(kv::table::projection, mapping::task_key(b)); !r) return std::move(r).error();
    return mapping::write_outbox_cursor(w, 0);
  }));
  auto after_crash = fresh_projector();
  auto replay = project(*after_crash);
  EXPECT_GT(replay.projected, 0u);
  auto ra = mapped(a), rb = mapped(b);
  ASSERT_TRUE(ra && rb);
  EXPECT_EQ(ra->issue, ma->issue);
  EXPECT_EQ(rb->issue, mb->issue);
  EXPECT_EQ(ra->approval, ma->approval);
  EXPECT_EQ(rb->result_work_product, mb->result_work_product);
  EXPECT_EQ(count(client->list_issues(cid)), 2u);
  EXPECT_EQ(count(client->list_agents(cid)), 7u);
  EXPECT_EQ(count(client->list_issue_approvals(ma->issue)), 1u);
  EXPECT_EQ(count(client->list_work_products(mb->issue)), 1u);
  doc = client->get_document(ma->issue, "plan");
  ASSERT_TRUE(doc && *doc);
  EXPECT_EQ((**doc).value("latestRevisionNumber", 0), revision);
  EXPECT_EQ(str(issue(ma->issue), "status"), "in_review");
  EXPECT_EQ(str(issue(mb->issue), "status"), "in_review");
}

TEST_F(ProjectorTest, OneRefusedEventIsDroppedAndTheRestGoOn) {
  auto p = fresh_projector();
  ASSERT_FALSE(p->setup());
  pause_all(p->company().id);
  const std::string a = create({{"title", "first"}, {"kind", "scheduling"}});
  project(*p);
  auto ma = mapped(a);
  ASSERT_TRUE(ma);
  // The issue is deleted in Paperclip: its next update is refused (404) for good.
  ASSERT_TRUE(client->call("DELETE", "/issues/" + ma->issue));
  move(a, "assign", "openclaw");
  const std::string b = create({{"title", "second"}, {"kind", "scheduling"}});
  project_report r;
  ASSERT_FALSE(p->project(r));
  ASSERT_EQ(r.dropped.size(), 1u);
  EXPECT_NE(r.dropped[0].find("paperclip.http"), std::string::npos) << r.dropped[0];
  EXPECT_EQ(r.cursor, store->outbox_head());
  EXPECT_TRUE(mapped(b));
}

}  // namespace
}  // namespace agentos::runtime::projection
