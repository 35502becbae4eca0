// The projection loop: a real store with its notifier, the real Paperclip, and the two threads.
// A change in Paperclip reaches the activity handler through the WebSocket's signal (the bounded
// wait is set far longer than the test waits), rows come oldest first and once, a handler's
// `retry` holds the cursor; and the real `agentos serve --paperclip` started while Paperclip is
// down still serves, and projects once Paperclip is up.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "../runtime/temp_dir.hpp"
#include "paperclip_env.hpp"
#include "runtime/projection/projection_service.hpp"
#include "runtime/service/notifier.hpp"
#include "runtime/service/store.hpp"

extern char** environ;

namespace agentos::runtime::projection {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::paperclip_server;

std::string str(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

template <class F>
bool eventually(F done, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return done();
}

// Records the rows it is given; answers `retry` for the first `refusals` of them.
struct recording_handler : activity_handler {
  std::mutex mutex;
  std::vector<json> rows;
  int refusals = 0;
  handle_result handle(const json& row) override {
    std::lock_guard lock(mutex);
    rows.push_back(row);
    if (refusals > 0) {
      --refusals;
      return {handle_status::retry, "test.retry", "not yet"};
    }
    return {};
  }
  std::vector<json> seen() {
    std::lock_guard lock(mutex);
    return rows;
  }
};

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(paperclip_server::get().start());
    std::string error;
    auto url = parse_base_url(paperclip_server::get().url(), error);
    ASSERT_TRUE(url) << error;
    client = std::make_unique<paperclip_client>(*url);
    auto policy = load_policy(fs::path(AGENTOS_SOURCE_DIR) / "policies" / "agent-os.policy");
    ASSERT_TRUE(policy.graph) << policy.problems;
    auto s = task_store::open(dir.path() / "data", std::move(policy));
    ASSERT_TRUE(s) << s.error().message;
    store = std::move(*s);
    events = std::make_unique<notifier>(*store);
    options.paperclip = *url;
    options.projector.company_name = std::string("service ") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    options.projector.executor_url = "http://127.0.0.1:9/wake";
    options.projector.public_url = "http://127.0.0.1:8080";
    options.wait = 120s;  // only signals wake the loop within a test's patience
    options.first_retry = 200ms;
    options.log = [this](const std::string& line) {
      std::lock_guard lock(log_mutex);
      log.push_back(line);
    };
  }
  void TearDown() override {
    if (service) service->stop();
    service.reset();
    events.reset();
  }
  std::string create(const std::string& title) {
    create_op op;
    op.task = {{"title", title}, {"kind", "scheduling"}};
    op.actor = {{"id", "openclaw"}};
    op.now = 1'767'225'600'000;
    const outcome o = store->apply(op);
    EXPECT_EQ(o.status, outcome_status::applied) << o.message;
    return o.body["task"]["id"];
  }
  std::optional<task_mapping> mapped(const std::string& task) {
    std::optional<task_mapping> out;
    (void)mapping::read(*store, [&](kv::reader& r) -> result<void> {
      auto m = mapping::read_task(r, task);
      if (!m) return std::move(m).error();
      out = *m;
      return {};
    });
    return out;
  }
  std::optional<activity_cursor> cursor() {
    std::optional<activity_cursor> out;
    (void)mapping::read(*store, [&](kv::reader& r) -> result<void> {
      auto c = mapping::read_activity_cursor(r);
      if (!c) return std::move(c).error();
      out = *c;
      return {};
    });
    return out;
  }

  testing::temp_dir dir{"agentos-projection-service"};
  std::unique_ptr<paperclip_client> client;
  std::unique_ptr<task_store> store;
  std::unique_ptr<notifier> events;
  projection_options options;
  std::unique_ptr<projection_service> service;
  std::mutex log_mutex;
  std::vector<std::string> log;
};

TEST_F(ServiceTest, OutboxAndLiveEventsDriveTheLoop) {
  recording_handler handler;
  service = std::make_unique<projection_service>(*store, *events, options, &handler);
  service->start();
  ASSERT_TRUE(eventually([&] { return service->status().ready && service->status().events_connected; }, 30s));
  const std::string cid = service->status().company_id;
  ASSERT_FALSE(cid.empty());
  ASSERT_TRUE(eventually([&] { return cursor().has_value(); }, 10s)) << "the first round sets the activity cursor";

  // A new task reaches Paperclip through the outbox signal (the loop's own wait is 120 s).
  const std::string id = create("water the plants");
  ASSERT_TRUE(eventually([&] { return mapped(id).has_value(); }, 20s));
  const std::string issue = mapped(id)->issue;

  // An operator's comment in Paperclip reaches the handler through the WebSocket's signal.
  auto comment = client->add_comment(issue, "operator was here");
  ASSERT_TRUE(comment) << comment.error().message;
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& r : handler.seen())
          if (str(r, "action") == "issue.comment_added" && str(r, "entityId") == issue) return true;
        return false;
      },
      20s));
  // Each row once, oldest first, and the cursor on the last one handled.
  const auto rows = handler.seen();
  std::set<std::string> ids;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_TRUE(ids.insert(str(rows[i], "id")).second) << "offered twice: " << rows[i].dump();
    if (i > 0) {
      EXPECT_LE(str(rows[i - 1], "createdAt"), str(rows[i], "createdAt"));
    }
  }
  ASSERT_TRUE(eventually([&] { return cursor() && cursor()->id == str(handler.seen().back(), "id"); }, 5s));
  EXPECT_EQ(cursor()->created_at, str(handler.seen().back(), "createdAt"));

  const auto t0 = std::chrono::steady_clock::now();
  service->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_FALSE(service->status().events_connected);
}

TEST_F(ServiceTest, RetryHoldsTheCursorUntilTheRowIsHandled) {
  recording_handler handler;
  handler.refusals = 2;
  service = std::make_unique<projection_service>(*store, *events, options, &handler);
  service->start();
  ASSERT_TRUE(eventually([&] { return service->status().ready && cursor().has_value(); }, 30s));
  const std::string before = cursor()->id;
  auto issue = client->create_issue(service->status().company_id, {{"title", "made by the board"}});
  ASSERT_TRUE(issue);
  // Offered, refused twice (the cursor stays), then handled.
  ASSERT_TRUE(eventually([&] { return handler.seen().size() >= 3; }, 20s));
  const auto rows = handler.seen();
  EXPECT_EQ(str(rows[0], "id"), str(rows[1], "id"));
  EXPECT_EQ(str(rows[1], "id"), str(rows[2], "id"));
  EXPECT_EQ(str(rows[0], "action"), "issue.created");
  ASSERT_TRUE(eventually([&] { return cursor()->id == str(rows[0], "id"); }, 10s));
  EXPECT_NE(cursor()->id, before);
  std::lock_guard lock(log_mutex);
  bool logged = false;
  for (const auto& l : log) logged = logged || l.find("test.retry") != std::string::npos;
  EXPECT_TRUE(logged);
}

// ---- the real server

// Runs `agentos serve` in the background with its output in files.
class serve_process {
 public:
  serve_process(const fs::path& dir, const std::vector<std::string>& args) : m_dir(dir) {
    std::vector<std::string> argv = {AGENTOS_BINARY, "serve"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> raw;
    for (auto& a : argv) raw.push_back(a.data());
    raw.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, (dir / "serve.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, (dir / "serve.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&m_pid, AGENTOS_BINARY, &actions, nullptr, raw.data(), environ) != 0) m_pid = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~serve_process() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGKILL);
      ::waitpid(m_pid, nullptr, 0);
    }
  }
  [[nodiscard]] std::string out() const { return slurp(m_dir / "serve.out"); }
  [[nodiscard]] std::string err() const { return slurp(m_dir / "serve.err"); }
  // The port from "agentos: serving DIR on http://127.0.0.1:PORT".
  [[nodiscard]] int port() const {
    std::smatch m;
    const std::string o = out();
    return std::regex_search(o, m, std::regex("on http://127\\.0\\.0\\.1:([0-9]+)")) ? std::stoi(m[1]) : 0;
  }
  // SIGTERM, then the exit status (-1 when it had to be killed after `limit`).
  int terminate(std::chrono::milliseconds limit) {
    ::kill(m_pid, SIGTERM);
    const auto until = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (std::chrono::steady_clock::now() < until) {
      if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(50ms);
    }
    return -1;
  }

 private:
  static std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  fs::path m_dir;
  pid_t m_pid = -1;
};

std::string curl(const std::string& args) {
  std::string out;
  if (FILE* p = ::popen(("curl -sS -m 5 " + args + " 2>&1").c_str(), "r")) {
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

TEST(ServeWithPaperclip, OptionsAreChecked) {
  testing::temp_dir dir("agentos-serve-pc");
  fs::create_directories(dir.path() / "data");
  std::ofstream(dir.path() / "data" / "tokens.json") << R"({"tok-alex": "alex"})";
  const std::string data = (dir.path() / "data").string();
  const fs::path out = dir.path() / "o";
  auto run = [&](const std::string& args, const std::string& says) {
    const int rc = testing::shell("'" + std::string(AGENTOS_BINARY) + "' serve --data '" + data + "' --listen 127.0.0.1:0 " +
                                  args + " > '" + out.string() + "' 2>&1");
    std::ifstream in(out);
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    EXPECT_EQ(rc, 2) << args << "\n" << text;
    EXPECT_NE(text.find("error[cli.usage]"), std::string::npos) << args << "\n" << text;
    EXPECT_NE(text.find(says), std::string::npos) << args << "\n" << text;
  };
  run("--paperclip http://127.0.0.1:1", "needs --paperclip-executor");
  run("--paperclip https://127.0.0.1:1 --paperclip-executor http://x/", "only http://");
  run("--paperclip http://127.0.0.1:1/api --paperclip-executor http://x/", "no path");
  run("--paperclip http://127.0.0.1:1 --paperclip-executor ftp://x/", "--paperclip-executor `ftp://x/`");
  run("--paperclip http://127.0.0.1:1 --paperclip-executor http://x/ --paperclip-company ''", "--paperclip-company");
  run("--paperclip-executor http://x/", "need --paperclip URL");
  EXPECT_EQ(testing::shell("'" + std::string(AGENTOS_BINARY) + "' serve --help | grep -q -- --paperclip-executor"), 0);
}

TEST(ServeWithPaperclip, PaperclipDownAtStartThenUp) {
  if (testing::shell("command -v curl > /dev/null") != 0) GTEST_SKIP() << "curl is needed";
  auto& pc = paperclip_server::get();
  pc.stop();
  testing::temp_dir dir("agentos-serve-pc");
  fs::create_directories(dir.path() / "data");
  std::ofstream(dir.path() / "data" / "tokens.json") << R"({"tok-alex": "alex"})";
  serve_process serve(dir.path(), {"--policy", std::string(AGENTOS_SOURCE_DIR) + "/policies/agent-os.policy", "--data",
                                   (dir.path() / "data").string(), "--listen", "127.0.0.1:0", "--paperclip", pc.url(),
                                   "--paperclip-company", "serve while down", "--paperclip-executor",
                                   "http://127.0.0.1:9/wake"});
  ASSERT_TRUE(eventually([&] { return serve.port() != 0; }, 20s)) << serve.out() << serve.err();
  const std::string base = "http://127.0.0.1:" + std::to_string(serve.port());
  // Paperclip is down: the server serves all the same.
  EXPECT_NE(curl(base + "/health").find("ok"), std::string::npos);
  const std::string created = curl("-H 'Authorization: Bearer tok-alex' -H 'content-type: application/json' -d "
                                   "'{\"task\": {\"title\": \"projected later\", \"kind\": \"scheduling\"}}' " +
                                   base + "/api/tasks");
  EXPECT_NE(created.find("\"T-1\""), std::string::npos) << created;
  ASSERT_TRUE(eventually([&] { return serve.err().find("paperclip.unreachable") != std::string::npos; }, 10s))
      << serve.err();

  ASSERT_TRUE(pc.start());
  std::string error;
  paperclip_client c(*parse_base_url(pc.url(), error));
  std::string cid;
  ASSERT_TRUE(eventually(
      [&] {
        auto companies = c.list_companies();
        if (!companies) return false;
        for (const auto& co : *companies)
          if (str(co, "name") == "serve while down") cid = str(co, "id");
        if (cid.empty()) return false;
        auto issues = c.list_issues(cid);
        return issues && issues->size() == 1 && str((*issues)[0], "title") == "projected later";
      },
      90s))
      << serve.err();
  auto issues = c.list_issues(cid);
  ASSERT_TRUE(issues);
  EXPECT_NE(str((*issues)[0], "description").find("agentos-task: T-1\n"), std::string::npos);
  EXPECT_NE(str((*issues)[0], "description").find("agentos-callback: " + base + "/api/executions/callback"),
            std::string::npos);
  ASSERT_TRUE(eventually([&] { return serve.err().find("projecting into Paperclip company") != std::string::npos; }, 10s))
      << serve.err();
  EXPECT_EQ(serve.terminate(20s), 0) << serve.err();
}

}  // namespace
}  // namespace agentos::runtime::projection
