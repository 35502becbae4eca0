// The executor Paperclip's HTTP adapter wakes (runtime/projection): wakes parsed from bodies
// shaped like Paperclip's, then the real executor and its HTTP endpoint against the real server
// (the Http fixture: a fresh store, the shipped policy) — a direct task run to result_review, a
// plan_first task's plan and, after the parent's approval, its result; repeated wakes that change
// nothing; bad bodies (400, 413, 405); wakes it ignores; a server that is down for a moment;
// signed callbacks; a stop with jobs waiting.
#include <fstream>

#include "http_fixture.hpp"
#include "runtime/projection/executor.hpp"
#include "runtime/projection/wake.hpp"
#include "runtime/projection/wake_server.hpp"

namespace {

using namespace agentos::testing::http_fixture;
using namespace agentos::runtime::projection;

// A wake as Paperclip's HTTP adapter sends it (docs/paperclip.md): the payload template's keys,
// then agentId, runId and context, with the issue in context.paperclipWake.
json paperclip_wake(const std::string& agent, const std::string& task, const std::string& run = "run-1",
                    const std::string& reason = "issue_assigned") {
  const std::string description = "Fix the flaky test\n\nMode: direct. State: routed.\n\nagentos-task: " + task +
                                  "\nagentos-callback: http://127.0.0.1:8080/api/executions/callback\n";
  return {{"agentos_agent", agent},
          {"agentId", "4b1f0c8e-6a52-4d0e-9a39-1f6e2f9d1a11"},
          {"runId", run},
          {"context",
           {{"wakeReason", reason},
            {"wakeSource", "assignment"},
            {"issueId", "9d4a3c1e-2b7f-4e61-8f0a-5c3b2a1d0e9f"},
            {"taskId", "9d4a3c1e-2b7f-4e61-8f0a-5c3b2a1d0e9f"},
            {"source", "issue.create"},
            {"paperclipWake",
             {{"issue",
               {{"id", "9d4a3c1e-2b7f-4e61-8f0a-5c3b2a1d0e9f"},
                {"identifier", "AGE-1"},
                {"title", "fix the flaky test"},
                {"description", description},
                {"status", "todo"},
                {"priority", "medium"}}},
              {"comments", json::array()}}},
            {"paperclipTaskMarkdown", "# AGE-1 fix the flaky test\n\n" + description}}}};
}

// ---- parsing

TEST(Wake, ReadsAPaperclipWake) {
  const auto parsed = parse_wake(paperclip_wake("claude", "T-7", "run-9").dump());
  ASSERT_TRUE(std::holds_alternative<wake>(parsed));
  const wake& w = std::get<wake>(parsed);
  EXPECT_EQ(w.agent, "claude");
  EXPECT_EQ(w.task, "T-7");
  EXPECT_EQ(w.run_id, "run-9");
  EXPECT_EQ(w.paperclip_agent, "4b1f0c8e-6a52-4d0e-9a39-1f6e2f9d1a11");
  EXPECT_EQ(w.reason, "issue_assigned");
  EXPECT_EQ(w.issue, "AGE-1");
}

TEST(Wake, RefusesWhatIsNotAWake) {
  struct bad_case {
    std::string body, code, field;
  };
  json no_run = paperclip_wake("claude", "T-1");
  no_run.erase("runId");
  json empty_agent = paperclip_wake("claude", "T-1");
  empty_agent["agentId"] = "";
  json context_string = paperclip_wake("claude", "T-1");
  context_string["context"] = "issue_assigned";
  const std::vector<bad_case> cases = {
      {"", "wake.bad_json", ""},
      {"{\"runId\": ", "wake.bad_json", ""},
      {"not json", "wake.bad_json", ""},
      {nested(100), "wake.bad_json", ""},
      {"[]", "wake.not_an_object", ""},
      {"\"wake\"", "wake.not_an_object", ""},
      {no_run.dump(), "wake.missing_field", "runId"},
      {empty_agent.dump(), "wake.missing_field", "agentId"},
      {context_string.dump(), "wake.missing_field", "context"},
  };
  for (const auto& c : cases) {
    const auto parsed = parse_wake(c.body);
    ASSERT_TRUE(std::holds_alternative<wake_error>(parsed)) << c.body.substr(0, 80);
    EXPECT_EQ(std::get<wake_error>(parsed).code, c.code) << c.body.substr(0, 80);
    EXPECT_EQ(std::get<wake_error>(parsed).field, c.field) << c.body.substr(0, 80);
    EXPECT_FALSE(std::get<wake_error>(parsed).message.empty());
  }
}

TEST(Wake, AWakeWithoutAgentOrTaskStillParses) {
  json w = paperclip_wake("claude", "T-1");
  w.erase("agentos_agent");
  w["context"]["paperclipWake"]["issue"]["description"] = "a task made in Paperclip by hand";
  w["context"]["paperclipTaskMarkdown"] = "agentos-task: T-99";  // not read: the description is there
  const auto parsed = parse_wake(w.dump());
  ASSERT_TRUE(std::holds_alternative<wake>(parsed));
  EXPECT_EQ(std::get<wake>(parsed).agent, "");
  EXPECT_EQ(std::get<wake>(parsed).task, "");

  // Without the issue object, the Markdown rendering of the task is read instead.
  w["context"].erase("paperclipWake");
  const auto from_markdown = parse_wake(w.dump());
  ASSERT_TRUE(std::holds_alternative<wake>(from_markdown));
  EXPECT_EQ(std::get<wake>(from_markdown).task, "T-99");
  EXPECT_EQ(std::get<wake>(from_markdown).issue, "9d4a3c1e-2b7f-4e61-8f0a-5c3b2a1d0e9f");  // context.issueId
}

TEST(Wake, FindsTheTaskLine) {
  EXPECT_EQ(find_task_line("agentos-task: T-1"), "T-1");
  EXPECT_EQ(find_task_line("title\r\n  agentos-task:\tproj:T-2.b_c \r\nagentos-callback: x"), "proj:T-2.b_c");
  EXPECT_EQ(find_task_line("see agentos-task: T-1 below"), std::nullopt);  // not at the start of a line
  EXPECT_EQ(find_task_line("agentos-task:"), std::nullopt);
  EXPECT_EQ(find_task_line("agentos-task: T 1"), std::nullopt);
  EXPECT_EQ(find_task_line("agentos-task: T/1"), std::nullopt);
  EXPECT_EQ(find_task_line("agentos-task: " + std::string(129, 'a')), std::nullopt);
  EXPECT_EQ(find_task_line("agentos-task: " + std::string(128, 'a')), std::string(128, 'a'));
  // The first line decides: a second one is never read, even when the first is unusable.
  EXPECT_EQ(find_task_line("agentos-task: T-1\nagentos-task: T-2"), "T-1");
  EXPECT_EQ(find_task_line("agentos-task: bad id\nagentos-task: T-2"), std::nullopt);
  EXPECT_EQ(find_task_line("Agentos-Task: T-1"), std::nullopt);
}

TEST(ExecutorConfig, AgentosUrls) {
  std::string error;
  auto u = parse_agentos_url("http://127.0.0.1:8080", error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->prefix, "");
  u = parse_agentos_url("http://[::1]:9/agentos/", error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "9");
  EXPECT_EQ(u->prefix, "/agentos");
  EXPECT_EQ(u->host_header, "[::1]:9");
  u = parse_agentos_url("http://localhost", error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(u->port, "80");
  for (const char* bad : {"https://x", "127.0.0.1:8080", "http://", "http://:80", "http://h:0", "http://h:70000",
                          "http://h:8a", "http://u@h", "http://h/p?q", "http://[::1"}) {
    error.clear();
    EXPECT_FALSE(parse_agentos_url(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(ExecutorConfig, TokensFile) {
  temp_dir dir{"agentos-executor"};
  const auto file = dir.path() / "tokens.json";
  std::ofstream(file) << R"({"tok-b": "claude", "tok-a": "claude", "tok-c": "alex"})";
  std::string error;
  const auto tokens = load_agent_tokens(file, error);
  ASSERT_TRUE(tokens) << error;
  EXPECT_EQ(tokens->size(), 2u);
  EXPECT_EQ(tokens->at("claude"), "tok-a");  // the first in key order
  EXPECT_EQ(tokens->at("alex"), "tok-c");
  std::ofstream(file) << R"({"tok a": "claude"})";
  EXPECT_FALSE(load_agent_tokens(file, error));
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_FALSE(load_agent_tokens(dir.path() / "missing.json", error));
  EXPECT_NE(error.find("cannot read"), std::string::npos) << error;
}

// ---- against the real server

class Executor : public Http {
 protected:
  void SetUp() override {
    Http::SetUp();
    if (HasFatalFailure()) return;
    start_executor({});
  }
  void TearDown() override {
    release();
    m_wakes.reset();
    m_executor.reset();
    Http::TearDown();
  }

  // (Re)starts the executor and its endpoint, acting for the fixture's agents; `configure` may
  // change the options first.
  void start_executor(const std::function<void(executor_options&)>& configure) {
    m_wakes.reset();
    m_executor.reset();
    executor_options o;
    std::string error;
    auto url = parse_agentos_url("http://127.0.0.1:" + std::to_string(port), error);
    ASSERT_TRUE(url) << error;
    o.agentos = *url;
    auto tokens = load_agent_tokens(m_dir.path() / "tokens.json", error);
    ASSERT_TRUE(tokens) << error;
    o.tokens = *tokens;
    o.timeout = std::chrono::seconds(5);
    o.first_retry = std::chrono::milliseconds(100);
    o.log = [this](const std::string& line) {
      std::lock_guard lock(m_log_mutex);
      m_log.push_back(line);
    };
    if (configure) configure(o);
    const bool follow = o.follow_events;
    m_executor = std::make_unique<executor>(std::move(o));
    wake_server_options w;
    w.body_limit = 64 * 1024;
    m_wakes = std::make_unique<wake_server>(*m_executor, w);
    const std::string failed = m_wakes->start();
    ASSERT_TRUE(failed.empty()) << failed;
    wake_port = m_wakes->port();
    // The stream opens "from now": what the test does next must come after it.
    if (follow) {
      ASSERT_TRUE(m_executor->wait_following(std::chrono::seconds(10))) << log_text();
    }
  }

  reply send_wake(const json& body) { return call(wake_port, http::verb::post, "/", body.dump()); }
  // Sends a wake, expects it taken, and waits until the executor is idle again.
  void wake_and_settle(const std::string& agent, const std::string& task, const std::string& admitted = "queued") {
    const reply r = send_wake(paperclip_wake(agent, task, "run-" + std::to_string(++m_runs)));
    ASSERT_EQ(r.status, 202u) << r.text;
    EXPECT_EQ(r.body["status"], admitted) << r.text;
    EXPECT_EQ(r.body["task"], task);
    ASSERT_TRUE(m_executor->wait_idle(std::chrono::seconds(30))) << log_text();
  }

  // A new engineering task, assigned (intake -> routed) by the Chief of Staff.
  std::string routed_task(const json& fields, const std::string& assignee) {
    const reply created = post(port, "/api/tasks", {{"task", fields}}, openclaw);
    EXPECT_EQ(created.status, 201u) << created.text;
    const std::string id = created.body["task"]["id"].get<std::string>();
    const reply assigned = post(port, "/api/tasks/" + id + "/assign", {{"assignee", assignee}}, openclaw);
    EXPECT_EQ(assigned.status, 200u) << assigned.text;
    EXPECT_EQ(assigned.body["task"]["state"], "routed") << assigned.text;
    return id;
  }

  std::string artifact(const std::string& task, const std::string& kind, int version) {
    const reply r = get(port, "/api/tasks/" + task + "/artifacts/" + kind + "/" + std::to_string(version));
    EXPECT_EQ(r.status, 200u) << r.text;
    return r.body.value("content", std::string());
  }
  std::vector<std::string> audit_events(const std::string& task) {
    std::vector<std::string> out;
    const reply audit = get(port, "/api/audit?task=" + task + "&limit=1000");
    EXPECT_EQ(audit.status, 200u) << audit.text;
    for (const auto& rec : audit.body["records"])
      out.push_back(rec.value("kind", std::string()) + ":" + (rec["event"].is_string() ? rec["event"].get<std::string>() : "-") +
                    ":" + (rec["actor"].is_string() ? rec["actor"].get<std::string>() : "-") + ":" +
                    rec.value("effect", std::string()));
    return out;
  }
  std::string log_text() {
    std::lock_guard lock(m_log_mutex);
    std::string out;
    for (const auto& l : m_log) out += l + "\n";
    return out;
  }
  // Waits until `n` jobs of `task` have finished (jobs the event stream starts come on their own).
  std::vector<job_report> wait_reports(const std::string& task, std::size_t n) {
    for (int i = 0; i < 500 && reports_for(task).size() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(m_executor->wait_idle(std::chrono::seconds(30))) << log_text();
    auto out = reports_for(task);
    EXPECT_EQ(out.size(), n) << log_text();
    return out;
  }
  std::vector<job_report> reports_for(const std::string& task) {
    std::vector<job_report> out;
    for (auto& r : m_executor->reports())
      if (r.task == task) out.push_back(std::move(r));
    return out;
  }

  std::unique_ptr<executor> m_executor;
  std::unique_ptr<wake_server> m_wakes;
  std::uint16_t wake_port = 0;
  int m_runs = 0;
  std::mutex m_log_mutex;
  std::vector<std::string> m_log;
};

TEST_F(Executor, RunsADirectTaskToResultReview) {
  const std::string id = routed_task({{"title", "fix the flaky test"}, {"kind", "engineering"}}, "claude");
  wake_and_settle("claude", id);

  const json t = task(id);
  EXPECT_EQ(t["task"]["state"], "result_review") << t.dump();
  const std::uint64_t version = t["version"].get<std::uint64_t>();
  // The result went in at the version before the one it made.
  EXPECT_EQ(artifact(id, "result", 1), result_text("fix the flaky test", id, version - 1));
  const auto events = audit_events(id);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[events.size() - 2], "transition:start:claude:allow") << log_text();
  EXPECT_EQ(events.back(), "transition:submit_result:claude:allow") << log_text();
  const auto reports = reports_for(id);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].did, "took `start`; submitted the result v1");
  EXPECT_EQ(reports[0].state, "result_review");
  EXPECT_EQ(reports[0].calls,
            (std::vector<std::string>{"GET brief 200", "POST start 200", "GET brief 200", "POST callback 200"}));
  EXPECT_NE(log_text().find("agentos executor: " + id + " as claude (issue_assigned, run run-1): took `start`; "
                            "submitted the result v1; state result_review [GET brief 200, POST start 200"),
            std::string::npos)
      << log_text();

  // Woken again for the same state: it reads the brief and does nothing.
  wake_and_settle("claude", id);
  const json after = task(id);
  EXPECT_EQ(after["version"], t["version"]);
  EXPECT_EQ(audit_events(id), events);
  const auto again = reports_for(id);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[1].did, "nothing to do: a result is due after someone else acts (state result_review)");
  EXPECT_EQ(again[1].calls, std::vector<std::string>{"GET brief 200"});

  // The task was parked, waiting for its review: the parent's acceptance comes down the event
  // stream and runs it once more, which finds nothing to submit at all and parks it no longer.
  EXPECT_EQ(m_executor->parked(), 1u);
  const reply accepted = post(port, "/api/tasks/" + id + "/reviews", {{"decision", "accept_result"}}, claude_pm);
  ASSERT_EQ(accepted.status, 200u) << accepted.text;
  const auto done = wait_reports(id, 3);
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[2].reason, "event accept_result by claude_pm, result_review -> done");
  EXPECT_EQ(done[2].did, "nothing to do: nothing can be submitted in state done");
  EXPECT_EQ(m_executor->parked(), 0u);
  wake_and_settle("claude", id);
  EXPECT_EQ(task(id)["task"]["state"], "done");
  EXPECT_EQ(reports_for(id).back().did, "nothing to do: nothing can be submitted in state done");
  EXPECT_EQ(reports_for(id).size(), 4u);
}

TEST_F(Executor, PlanFirstTaskGetsItsPlanThenAfterApprovalItsResult) {
  const std::string id =
      routed_task({{"title", "migrate the schema"}, {"kind", "engineering"}, {"risk", "medium"}}, "claude_pm");
  EXPECT_EQ(task(id)["task"]["mode"], "plan_first");
  wake_and_settle("claude_pm", id);
  json t = task(id);
  EXPECT_EQ(t["task"]["state"], "plan_review") << log_text();
  EXPECT_EQ(artifact(id, "plan", 1), plan_text("migrate the schema", id, t["version"].get<std::uint64_t>() - 1));
  EXPECT_EQ(reports_for(id).back().did, "took `start`; submitted the plan v1");

  // Waiting for the review: a wake changes nothing.
  const auto before = audit_events(id);
  wake_and_settle("claude_pm", id);
  EXPECT_EQ(task(id)["version"], t["version"]);
  EXPECT_EQ(audit_events(id), before);

  // The parent of pm (chief_of_staff: openclaw) approves. No wake comes (Paperclip's may have come
  // too early, before the backend had the approval): the event stream runs the parked task.
  const reply approved = post(port, "/api/tasks/" + id + "/reviews", {{"decision", "approve_plan"}}, openclaw);
  ASSERT_EQ(approved.status, 200u) << approved.text;
  EXPECT_EQ(approved.body["task"]["state"], "executing");
  const auto reports = wait_reports(id, 3);
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[2].reason, "event approve_plan by openclaw, plan_review -> executing");
  EXPECT_EQ(reports[2].run_id, "run-2");  // the wake that parked it
  EXPECT_EQ(reports[2].did, "submitted the result v1");
  t = task(id);
  EXPECT_EQ(t["task"]["state"], "result_review") << log_text();
  EXPECT_EQ(artifact(id, "result", 1), result_text("migrate the schema", id, t["version"].get<std::uint64_t>() - 1));
  const auto events = audit_events(id);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back(), "transition:submit_result:claude_pm:allow");
  // Its own submission is on the stream too, at the version the job ended with: no job for it.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(m_executor->wait_idle(std::chrono::seconds(10)));
  EXPECT_EQ(reports_for(id).size(), 3u) << log_text();
}

TEST_F(Executor, ARevisionRequestBringsTheNextResult) {
  const std::string id = routed_task({{"title", "fix the flaky test"}, {"kind", "engineering"}}, "claude");
  wake_and_settle("claude", id);
  ASSERT_EQ(task(id)["task"]["state"], "result_review");
  const reply sent_back =
      post(port, "/api/tasks/" + id + "/reviews", {{"decision", "request_revision"}, {"comment", "add a test"}}, claude_pm);
  ASSERT_EQ(sent_back.status, 200u) << sent_back.text;
  EXPECT_EQ(sent_back.body["task"]["state"], "executing");
  const auto reports = wait_reports(id, 2);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1].reason, "event request_revision by claude_pm, result_review -> executing");
  EXPECT_EQ(reports[1].did, "submitted the result v2");
  EXPECT_EQ(task(id)["task"]["state"], "result_review");
}

TEST_F(Executor, OnlyTasksAWakeBroughtAreFollowed) {
  // A task nobody woke the executor for moves through its life without a job.
  const std::string id = routed_task({{"title", "fix the flaky test"}, {"kind", "engineering"}}, "claude");
  ASSERT_EQ(post(port, "/api/tasks/" + id + "/transitions", {{"event", "start"}}, claude).status, 200u);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(m_executor->wait_idle(std::chrono::seconds(5)));
  EXPECT_TRUE(reports_for(id).empty()) << log_text();
  EXPECT_EQ(m_executor->parked(), 0u);
  EXPECT_EQ(task(id)["task"]["state"], "executing");
}

TEST_F(Executor, WithoutFollowingAWakeIsNeededAfterTheReview) {
  start_executor([](executor_options& o) { o.follow_events = false; });
  const std::string id =
      routed_task({{"title", "migrate the schema"}, {"kind", "engineering"}, {"risk", "medium"}}, "claude_pm");
  wake_and_settle("claude_pm", id);
  ASSERT_EQ(task(id)["task"]["state"], "plan_review");
  EXPECT_EQ(m_executor->parked(), 0u);
  ASSERT_EQ(post(port, "/api/tasks/" + id + "/reviews", {{"decision", "approve_plan"}}, openclaw).status, 200u);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(m_executor->wait_idle(std::chrono::seconds(5)));
  EXPECT_EQ(reports_for(id).size(), 1u);
  EXPECT_EQ(task(id)["task"]["state"], "executing");
  wake_and_settle("claude_pm", id);
  EXPECT_EQ(reports_for(id).back().did, "submitted the result v1");
}

TEST_F(Executor, FollowsTheStreamAcrossAServerRestart) {
  const std::string id =
      routed_task({{"title", "migrate the schema"}, {"kind", "engineering"}, {"risk", "medium"}}, "claude_pm");
  wake_and_settle("claude_pm", id);
  ASSERT_EQ(task(id)["task"]["state"], "plan_review");
  ASSERT_EQ(m_executor->parked(), 1u);
  // The server goes away and comes back on the same port; the approval made after that still
  // reaches the parked task, through the reconnected stream.
  const std::uint16_t api_port = port;
  m_server->stop();
  m_server.reset();
  for (int i = 0; i < 250 && m_executor->wait_following(std::chrono::milliseconds(0)); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(m_executor->wait_following(std::chrono::milliseconds(0)));
  http_options again;
  again.port = api_port;
  m_server = std::make_unique<http_server>(*m_api, again);
  ASSERT_EQ(m_server->start(), "");
  ASSERT_TRUE(m_executor->wait_following(std::chrono::seconds(10))) << log_text();
  ASSERT_EQ(post(port, "/api/tasks/" + id + "/reviews", {{"decision", "approve_plan"}}, openclaw).status, 200u);
  const auto reports = wait_reports(id, 2);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1].did, "submitted the result v1");
  EXPECT_NE(log_text().find("not following the server's events: "), std::string::npos) << log_text();
  EXPECT_NE(log_text().find("following the server's events (after event "), std::string::npos) << log_text();
}

TEST_F(Executor, BadBodiesAre400AndQueueNothing) {
  auto expect_error = [&](const reply& r, unsigned status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.text;
    EXPECT_EQ(error_code_of(r), code) << r.text;
    EXPECT_TRUE(r.body["error"]["message"].is_string()) << r.text;
  };
  expect_error(call(wake_port, http::verb::post, "/", "{not json"), 400, "wake.bad_json");
  expect_error(call(wake_port, http::verb::post, "/", ""), 400, "wake.bad_json");
  expect_error(call(wake_port, http::verb::post, "/", "[1, 2]"), 400, "wake.not_an_object");
  json no_context = paperclip_wake("claude", "T-1");
  no_context.erase("context");
  const reply missing = send_wake(no_context);
  expect_error(missing, 400, "wake.missing_field");
  EXPECT_EQ(missing.body["error"]["details"]["field"], "context");
  json no_run = paperclip_wake("claude", "T-1");
  no_run["runId"] = 7;
  expect_error(send_wake(no_run), 400, "wake.missing_field");
  // Over --max-body (64 KiB here): 413, and the connection is closed after the answer.
  expect_error(call(wake_port, http::verb::post, "/", std::string(100 * 1024, ' ')), 413, "request.too_large");
  reply put = call(wake_port, http::verb::put, "/", paperclip_wake("claude", "T-1").dump());
  expect_error(put, 405, "request.method_not_allowed");
  EXPECT_EQ(put.headers["Allow"], "GET, POST");
  const reply health = call(wake_port, http::verb::get, "/health");
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(health.body["status"], "ok");
  ASSERT_TRUE(m_executor->wait_idle(std::chrono::seconds(5)));
  EXPECT_TRUE(m_executor->reports().empty());
}

TEST_F(Executor, IgnoresWakesItCannotActOn) {
  const std::string id = routed_task({{"title", "fix the flaky test"}, {"kind", "engineering"}}, "claude");
  const json before = task(id);
  const auto events = audit_events(id);

  // An agent without a token, a wake without agentos_agent, an issue without the task line: 202,
  // "ignored" with the reason, logged, nothing queued.
  reply r = send_wake(paperclip_wake("nobody", id));
  EXPECT_EQ(r.status, 202u) << r.text;
  EXPECT_EQ(r.body["status"], "ignored");
  EXPECT_NE(r.body["reason"].get<std::string>().find("no token for agent `nobody`"), std::string::npos) << r.text;
  json no_agent = paperclip_wake("claude", id);
  no_agent.erase("agentos_agent");
  r = send_wake(no_agent);
  EXPECT_EQ(r.status, 202u);
  EXPECT_EQ(r.body["status"], "ignored");
  EXPECT_TRUE(r.body["agent"].is_null());
  json no_line = paperclip_wake("claude", id);
  no_line["context"]["paperclipWake"]["issue"]["description"] = "made by hand in Paperclip";
  r = send_wake(no_line);
  EXPECT_EQ(r.status, 202u);
  EXPECT_EQ(r.body["status"], "ignored");
  EXPECT_NE(r.body["reason"].get<std::string>().find("agentos-task"), std::string::npos) << r.text;
  ASSERT_TRUE(m_executor->wait_idle(std::chrono::seconds(5)));
  EXPECT_TRUE(m_executor->reports().empty());
  EXPECT_NE(log_text().find("ignored a wake (run run-1, Paperclip agent 4b1f0c8e-6a52-4d0e-9a39-1f6e2f9d1a11, issue "
                            "AGE-1): no token for agent `nobody`"),
            std::string::npos)
      << log_text();

  // An agent of ours that is not the task's assignee: the job reads the brief and stops there.
  wake_and_settle("claude_qa", id);
  EXPECT_EQ(reports_for(id).back().did, "nothing to do: the task is assigned to claude, not claude_qa");
  // A task that does not exist: 404 from the server, not retried.
  wake_and_settle("claude", "T-404");
  const auto missing = reports_for("T-404");
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_FALSE(missing[0].transient);
  EXPECT_NE(missing[0].did.find("failed reading the brief: HTTP 404 task.not_found"), std::string::npos) << missing[0].did;

  EXPECT_EQ(task(id)["version"], before["version"]);
  EXPECT_EQ(audit_events(id), events);
}

TEST_F(Executor, RepeatedWakesForAWaitingTaskMakeOneJob) {
  const std::string id = routed_task({{"title", "fix the flaky test"}, {"kind", "engineering"}}, "claude");
  // The first job blocks inside the server (its brief read waits on the fixture's clock), so the
  // wakes that follow find it running (a new job is queued) and then waiting (merged into it).
  hold();
  EXPECT_EQ(send_wake(paperclip_wake("claude", id, "run-1")).body["status"], "queued");
  wait_entered();
  EXPECT_EQ(send_wake(paperclip_wake("claude", id, "run-2")).body["status"], "queued");
  EXPECT_EQ(send_wake(paperclip_wake("claude", id, "run-3")).body["status"], "merged");
  EXPECT_EQ(send_wake(paperclip_wake("claude", id, "run-4", "finish_successful_run_handoff")).body["status"], "merged");
  release();
  ASSERT_TRUE(m_executor->wait_idle(std::chrono::seconds(30))) << log_text();
  const auto reports = reports_for(id);
  ASSERT_EQ(reports.size(), 2u) << log_text();
  EXPECT_EQ(reports[0].run_id, "run-1");
  EXPECT_EQ(reports[0].did, "took `start`; submitted the result v1");
  EXPECT_EQ(reports[1].run_id, "run-4");  // the last wake merged carries the job
  EXPECT_EQ(reports[1].reason, "finish_successful_run_handoff");
  EXPECT_EQ(reports[1].did, "nothing to do: a result is due after someone else acts (state result_review)");
  EXPECT_EQ(task(id)["task"]["state"], "result_review");
}

TEST_F(Executor, RetriesWhileTheServerIsDown) {
  const std::string id = routed_task({{"title", "fix the flaky test"}, {"kind", "engineering"}}, "claude");
  const std::uint16_t api_port = port;
  m_server->stop();
  m_server.reset();
  const reply r = send_wake(paperclip_wake("claude", id));
  ASSERT_EQ(r.status, 202u);
  // Until the first attempt has failed.
  for (int i = 0; i < 200 && reports_for(id).empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_FALSE(reports_for(id).empty()) << log_text();
  EXPECT_TRUE(reports_for(id)[0].transient);
  EXPECT_EQ(reports_for(id)[0].calls, std::vector<std::string>{"GET brief no answer"});
  // The server comes back on the same port; a retry finishes the job.
  http_options again;
  again.port = api_port;
  m_server = std::make_unique<http_server>(*m_api, again);
  ASSERT_EQ(m_server->start(), "");
  ASSERT_TRUE(m_executor->wait_idle(std::chrono::seconds(30))) << log_text();
  EXPECT_EQ(task(id)["task"]["state"], "result_review") << log_text();
  const auto reports = reports_for(id);
  EXPECT_EQ(reports.back().did, "took `start`; submitted the result v1");
  EXPECT_GE(reports.back().attempt, 2u);
  EXPECT_NE(log_text().find("retrying in 100 ms (attempt 2 of 6)"), std::string::npos) << log_text();
}

TEST_F(Executor, SignsCallbacksWhenGivenASecret) {
  constexpr const char* secret = "claude-secret-0123456789";
  api_options options;
  options.executor.signatures.secrets = {{"claude", secret}};
  options.executor.signatures.required = true;
  serve_with(std::move(options));
  const std::string id = routed_task({{"title", "fix the flaky test"}, {"kind", "engineering"}}, "claude");

  // Without the secret: the callback is refused (401), which no retry would change.
  start_executor({});
  wake_and_settle("claude", id);
  auto reports = reports_for(id);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_FALSE(reports[0].transient);
  EXPECT_NE(reports[0].did.find("failed calling back: HTTP 401 auth.signature_required"), std::string::npos)
      << reports[0].did;
  EXPECT_EQ(task(id)["task"]["state"], "executing");

  // With it (and the server's clock, which the fixture fixes): taken.
  start_executor([&](executor_options& o) {
    o.secrets = {{"claude", secret}};
    o.clock = [this] { return clock(); };
  });
  wake_and_settle("claude", id);
  reports = reports_for(id);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].did, "submitted the result v1");
  EXPECT_EQ(task(id)["task"]["state"], "result_review");
}

TEST_F(Executor, StopFinishesTheJobInFlightAndDropsTheQueue) {
  const std::string a = routed_task({{"title", "first"}, {"kind", "engineering"}}, "claude");
  const std::string b = routed_task({{"title", "second"}, {"kind", "engineering"}}, "claude");
  hold();
  EXPECT_EQ(send_wake(paperclip_wake("claude", a)).body["status"], "queued");
  wait_entered();
  EXPECT_EQ(send_wake(paperclip_wake("claude", b)).body["status"], "queued");
  // The job in flight waits for an answer the held server will not give: stop abandons it.
  m_wakes->stop();
  m_executor->stop();
  release();
  const auto reports = m_executor->reports();
  ASSERT_EQ(reports.size(), 1u) << log_text();
  EXPECT_EQ(reports[0].task, a);
  EXPECT_NE(reports[0].did.find("abandoned: the executor is stopping"), std::string::npos) << reports[0].did;
  EXPECT_NE(log_text().find("stopped; dropped the waiting jobs of " + b), std::string::npos) << log_text();
  EXPECT_EQ(m_executor->enqueue({"run-9", "pc", "claude", b, "", ""}).what, admission::ignored);
  EXPECT_EQ(task(b)["task"]["state"], "routed");
}

}  // namespace
