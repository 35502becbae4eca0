// Agents and their tokens, the policy routes and the metrics, over real HTTP (issue 5): the Http
// fixture's server on loopback over a real store, restarted (server and store) where a test needs
// to see what survives, and a copy of the shipped policy on disk where a test changes it.
#include <algorithm>
#include <cstring>
#include <future>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "engine/sha256.hpp"
#include "http_fixture.hpp"
#include "runtime/service/metrics.hpp"

using namespace agentos::testing::http_fixture;

namespace {

// The policy's files as a reload body: {"entry", "files": {path: text}}.
json policy_sources(const fs::path& dir) {
  json files = json::object();
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().extension() != ".policy") continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    files[e.path().lexically_relative(dir).generic_string()] = text.str();
  }
  return {{"entry", "agent-os.policy"}, {"files", files}};
}

// Replaces the one occurrence of `from` in `text`.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  EXPECT_EQ(text.find(from, at + 1), std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

constexpr const char* assignee_permit = "permit assignee_executes on start, submit_plan, submit_result, block";
constexpr const char* assignee_permit_without_start = "permit assignee_executes on submit_plan, submit_result, block";

struct text_reply {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

text_reply get_text(std::uint16_t port, const std::string& target) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return {res.result_int(), std::string(res[http::field::content_type]), res.body()};
}

// A Prometheus text exposition (0.0.4), parsed strictly: every line a HELP, a TYPE or a sample
// of a metric whose TYPE came first; samples keyed `name{a="x",b="y"}` with labels sorted.
struct exposition {
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;
  std::vector<std::string> problems;

  [[nodiscard]] double at(const std::string& key) const {
    const auto it = samples.find(key);
    return it == samples.end() ? 0.0 : it->second;
  }
};

exposition parse_exposition(const std::string& text) {
  static const std::regex comment(R"(# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*))");
  static const std::regex line(R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([-+]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\+Inf|NaN)))");
  static const std::regex pair(R"re(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"(,|$))re");
  exposition out;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) {
    std::smatch m;
    if (std::regex_match(l, m, comment)) {
      if (m[1] == "TYPE") {
        static const std::regex types("counter|gauge|histogram|summary|untyped");
        if (!std::regex_match(m[3].str(), types)) out.problems.push_back("bad type: " + l);
        out.types[m[2]] = m[3];
      }
      continue;
    }
    if (!std::regex_match(l, m, line)) {
      out.problems.push_back("not a sample: " + l);
      continue;
    }
    const std::string name = m[1];
    std::string family = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"})
      if (!out.types.count(family) && name.size() > std::strlen(suffix) &&
          name.compare(name.size() - std::strlen(suffix), std::string::npos, suffix) == 0)
        family = name.substr(0, name.size() - std::strlen(suffix));
    if (!out.types.count(family)) out.problems.push_back("sample before its TYPE: " + l);
    std::vector<std::string> labels;
    std::string rest = m[3];
    std::smatch p;
    while (!rest.empty() && std::regex_search(rest, p, pair) && p.position(0) == 0) {
      labels.push_back(p[1].str() + "=\"" + p[2].str() + "\"");
      rest = p.suffix();
    }
    if (!rest.empty()) out.problems.push_back("bad labels: " + l);
    std::sort(labels.begin(), labels.end());
    std::string key = name;
    if (!labels.empty()) {
      key += "{";
      for (std::size_t i = 0; i < labels.size(); ++i) key += (i ? "," : "") + labels[i];
      key += "}";
    }
    const std::string value = m[4];
    out.samples[key] = value == "+Inf" ? std::numeric_limits<double>::infinity() : std::stod(value);
  }
  return out;
}

}  // namespace

class HttpAdmin : public Http {
 protected:
  // Stops the server and the api; with `reopen_store`, closes the store and opens it again from
  // its directory (its own active policy); then serves again, reloading from `policy_entry`.
  void restart(const fs::path& policy_entry = {}, bool reopen_store = false) {
    m_server->stop();
    m_server.reset();
    m_api.reset();
    if (reopen_store) {
      m_store.reset();
      auto s = task_store::open(m_dir.path() / "data", std::nullopt);
      ASSERT_TRUE(s) << s.error().message;
      m_store = std::move(*s);
    }
    api_options options;
    options.policy_entry = policy_entry;
    serve_with(std::move(options));
  }

  // A copy of the shipped policies in the test's directory, to change on disk.
  fs::path copy_policies() {
    const fs::path dir = m_dir.path() / "policies";
    fs::copy(fs::path(AGENTOS_SOURCE_DIR) / "policies", dir, fs::copy_options::recursive);
    return dir;
  }

  std::size_t audit_count() {
    const reply r = get(port, "/api/audit?limit=10000", alex);
    EXPECT_EQ(r.status, 200u);
    return r.body["records"].size();
  }

  std::string active_version() { return get(port, "/api/policy").body.value("version", std::string("<none>")); }

  // Registers `id` as an engineer; returns its token.
  std::string register_engineer(const std::string& id) {
    const reply r = post(port, "/api/agents", {{"id", id}, {"role", "engineer"}, {"capabilities", {"submit-result"}}}, alex);
    EXPECT_EQ(r.status, 201u) << r.body.dump();
    return r.body.value("token", std::string());
  }

  // Creates an engineering task (routed to claude) and assigns it: it is `routed`, ready to start.
  std::string routed_task() {
    const std::string id = create_engineering();
    const reply r = post(port, "/api/tasks/" + id + "/transitions", {{"event", "assign"}}, openclaw);
    EXPECT_EQ(r.status, 200u) << r.body.dump();
    return id;
  }
};

// ---- agents and tokens

TEST_F(HttpAdmin, AgentsListTheOrgChartAndItsAgents) {
  const reply r = get(port, "/api/agents");
  ASSERT_EQ(r.status, 200u) << r.body.dump();
  EXPECT_EQ(r.body["policy"], m_store->graph()->version());
  bool pm_under_chief = false;
  for (const auto& role : r.body["roles"])
    if (role["name"] == "pm") pm_under_chief = role["reports_to"] == "chief_of_staff";
  EXPECT_TRUE(pm_under_chief) << r.body["roles"].dump();
  json claude_entry, alex_entry;
  for (const auto& a : r.body["agents"]) {
    if (a["id"] == "claude") claude_entry = a;
    if (a["id"] == "alex") alex_entry = a;
  }
  EXPECT_EQ(claude_entry["role"], "engineer");
  EXPECT_EQ(claude_entry["reports_to"], "pm");
  EXPECT_EQ(claude_entry["kind"], "agent");
  EXPECT_EQ(claude_entry["source"], "policy");
  EXPECT_EQ(claude_entry["capabilities"], json({"submit-plan", "submit-result", "repo-write"}));
  EXPECT_EQ(alex_entry["kind"], "operator");
  EXPECT_EQ(alex_entry["reports_to"], nullptr);
  EXPECT_EQ(get(port, "/api/agents", "").status, 401u);
}

TEST_F(HttpAdmin, OperatorRegistersAnAgentWhoseTokenActsAsIt) {
  const reply r = post(port, "/api/agents", {{"id", "gemini"}, {"role", "engineer"}, {"capabilities", {"submit-result"}}}, alex);
  ASSERT_EQ(r.status, 201u) << r.body.dump();
  const std::string token = r.body.value("token", std::string());
  EXPECT_EQ(token.rfind("aos_", 0), 0u) << token;
  EXPECT_EQ(token.size(), 4u + 43u) << "32 random bytes, base64url";
  EXPECT_EQ(r.body["agent"]["id"], "gemini");
  EXPECT_EQ(r.body["agent"]["reports_to"], "pm");
  EXPECT_EQ(r.body["agent"]["source"], "registered");
  EXPECT_EQ(r.body["token_id"], agentos::engine::sha256_hex(token).substr(0, 16));

  const reply listed = get(port, "/api/agents", token);
  ASSERT_EQ(listed.status, 200u) << "the new token is accepted";
  bool found = false;
  for (const auto& a : listed.body["agents"]) found |= a["id"] == "gemini" && a["role"] == "engineer" && a["kind"] == "agent";
  EXPECT_TRUE(found) << listed.body.dump();

  // The token's owner is the actor: on a task assigned to it, gemini (an engineer) may act but
  // may not accept its own result; the denial names it. On claude's task it is out of scope (403).
  const std::string id = create_engineering();
  EXPECT_EQ(post(port, "/api/tasks/" + id + "/transitions", {{"event", "assign"}}, token).status, 403u);
  const reply given = post(port, "/api/tasks/" + id + "/assign", {{"assignee", "gemini"}}, alex);
  ASSERT_EQ(given.status, 200u) << given.body.dump();
  const reply assign = post(port, "/api/tasks/" + id + "/transitions", {{"event", "accept_result"}}, token);
  EXPECT_EQ(assign.status, 422u) << assign.body.dump();
  const reply audit = get(port, "/api/audit?task=" + id);
  ASSERT_FALSE(audit.body["records"].empty());
  EXPECT_EQ(audit.body["records"].back()["actor"], "gemini") << audit.body.dump();

  // Ids are taken once; a bad registration is a 400 and writes nothing.
  const std::size_t records = audit_count();
  EXPECT_EQ(error_code_of(post(port, "/api/agents", {{"id", "gemini"}, {"role", "qa"}}, alex)), "agent.exists");
  EXPECT_EQ(error_code_of(post(port, "/api/agents", {{"id", "claude"}, {"role", "qa"}}, alex)), "agent.exists");
  EXPECT_EQ(error_code_of(post(port, "/api/agents", {{"id", "x1"}, {"role", "astronaut"}}, alex)), "agent.bad_role");
  EXPECT_EQ(error_code_of(post(port, "/api/agents", {{"id", "x2"}, {"role", "qa"}, {"kind", "robot"}}, alex)),
            "agent.bad_kind");
  EXPECT_EQ(error_code_of(post(port, "/api/agents", {{"id", "bad id!"}, {"role", "qa"}}, alex)), "agent.bad_id");
  EXPECT_EQ(error_code_of(post(port, "/api/agents", {{"id", "x3"}, {"role", "qa"}, {"token", "mine"}}, alex)),
            "request.unknown_field");
  EXPECT_EQ(error_code_of(post(port, "/api/agents", {{"id", "x4"}, {"role", "qa"}, {"capabilities", "all"}}, alex)),
            "request.invalid");
  EXPECT_EQ(post(port, "/api/agents", {{"id", "x5"}, {"role", "qa"}, {"capabilities", {""}}}, alex).status, 400u);
  EXPECT_EQ(audit_count(), records);
}

TEST_F(HttpAdmin, AgentTokensCannotRegisterOrRotate) {
  const std::size_t records = audit_count();
  const reply r = post(port, "/api/agents", {{"id", "mallory"}, {"role", "chief_of_staff"}, {"kind", "operator"}}, openclaw);
  EXPECT_EQ(r.status, 403u) << r.body.dump();
  EXPECT_EQ(error_code_of(r), "auth.forbidden");
  EXPECT_FALSE(r.body.contains("token"));
  const reply rotate = call(port, http::verb::post, "/api/agents/claude/token", {}, claude_pm);
  EXPECT_EQ(rotate.status, 403u) << rotate.body.dump();
  EXPECT_EQ(post(port, "/api/agents", {{"id", "mallory"}, {"role", "qa"}}, "").status, 401u);
  const reply agents = get(port, "/api/agents");
  ASSERT_EQ(agents.status, 200u);
  for (const auto& a : agents.body["agents"]) EXPECT_NE(a["id"], "mallory");
  EXPECT_EQ(audit_count(), records);
  auto tokens = m_store->tokens();
  ASSERT_TRUE(tokens);
  EXPECT_TRUE(tokens->empty());
}

TEST_F(HttpAdmin, RotationRevokesTheOldTokenAndTokensSurviveARestart) {
  const std::string first = register_engineer("gemini");
  ASSERT_EQ(get(port, "/api/tasks", first).status, 200u);

  const reply rotated = call(port, http::verb::post, "/api/agents/gemini/token", {}, alex);
  ASSERT_EQ(rotated.status, 200u) << rotated.body.dump();
  const std::string second = rotated.body.value("token", std::string());
  EXPECT_NE(second, first);
  EXPECT_EQ(rotated.body["revoked"], json::array({agentos::engine::sha256_hex(first).substr(0, 16)}));
  const reply old = get(port, "/api/tasks", first);
  EXPECT_EQ(old.status, 401u) << "a revoked token is refused at once";
  EXPECT_EQ(error_code_of(old), "auth.unauthenticated");
  EXPECT_EQ(get(port, "/api/tasks", second).status, 200u);

  // The store keeps hashes, never the tokens.
  auto stored = m_store->tokens();
  ASSERT_TRUE(stored);
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].hash, agentos::engine::sha256_hex(second));
  EXPECT_EQ((*stored)[0].agent, "gemini");

  // A policy agent can be given a store token too; rotating it again leaves one valid token.
  const reply for_claude = call(port, http::verb::post, "/api/agents/claude/token", "{}", alex);
  ASSERT_EQ(for_claude.status, 200u) << for_claude.body.dump();
  EXPECT_TRUE(for_claude.body["revoked"].empty());
  const std::string claude_store_token = for_claude.body.value("token", std::string());
  EXPECT_EQ(get(port, "/api/tasks", claude_store_token).status, 200u);

  const reply unknown = call(port, http::verb::post, "/api/agents/nobody/token", {}, alex);
  EXPECT_EQ(unknown.status, 404u);
  EXPECT_EQ(error_code_of(unknown), "agent.not_found");
  EXPECT_EQ(error_code_of(call(port, http::verb::post, "/api/agents/gemini/token", R"({"ttl": 5})", alex)),
            "request.unknown_field");

  restart({}, true);
  EXPECT_EQ(get(port, "/api/tasks", second).status, 200u) << "an issued token survives a restart";
  EXPECT_EQ(get(port, "/api/tasks", claude_store_token).status, 200u);
  EXPECT_EQ(get(port, "/api/tasks", first).status, 401u) << "a revoked token stays revoked";
  EXPECT_EQ(get(port, "/api/tasks", openclaw).status, 200u) << "the tokens file still counts";
  const reply audit = get(port, "/api/audit?limit=10000", alex);
  std::size_t token_records = 0;
  for (const auto& rec : audit.body["records"]) {
    if (rec["kind"] != "token") continue;
    ++token_records;
    EXPECT_EQ(rec["actor"], "alex");
    EXPECT_EQ(rec.dump().find(second), std::string::npos) << "a token reached the audit log";
  }
  EXPECT_EQ(token_records, 3u);
  auto checked = m_store->check();
  ASSERT_TRUE(checked);
  EXPECT_TRUE(checked->ok()) << (checked->problems.empty() ? "" : checked->problems[0]);
}

// ---- policy

TEST_F(HttpAdmin, PolicyShowsTheActiveVersionAndItsFiles) {
  const reply r = get(port, "/api/policy", claude);
  ASSERT_EQ(r.status, 200u) << r.body.dump();
  EXPECT_EQ(r.body["version"], m_store->graph()->version());
  EXPECT_EQ(r.body["version"].get<std::string>().rfind("sha256:", 0), 0u);
  EXPECT_EQ(r.body["name"], "agent_os");
  EXPECT_EQ(r.body["declared_version"], "1.0");
  EXPECT_EQ(r.body["entry"], "agent-os.policy");
  EXPECT_EQ(r.body["reload_source"], nullptr);
  std::set<std::string> paths;
  for (const auto& f : r.body["files"]) {
    paths.insert(f["path"].get<std::string>());
    EXPECT_EQ(f["sha256"].get<std::string>().size(), 64u);
    EXPECT_GT(f["bytes"].get<std::size_t>(), 0u);
  }
  EXPECT_EQ(paths, (std::set<std::string>{"agent-os.policy", "global/defaults.policy", "shared/integrations.policy"}));
}

TEST_F(HttpAdmin, EvaluateIsADryRunWithReasons) {
  const std::string id = routed_task();
  const json before = task(id);
  const std::size_t records = audit_count();

  // The caller is the actor by default: claude is the assignee and may start.
  const reply allow = post(port, "/api/policy/evaluate", {{"event", "start"}, {"task_id", id}}, claude);
  ASSERT_EQ(allow.status, 200u) << allow.body.dump();
  EXPECT_EQ(allow.body["dry_run"], true);
  EXPECT_EQ(allow.body["decision"]["allowed"], true);
  EXPECT_EQ(allow.body["decision"]["target"], "executing");
  EXPECT_EQ(allow.body["policy"], m_store->graph()->version());
  bool assignee_permit_holds = false;
  for (const auto& p : allow.body["trace"]["permits"])
    assignee_permit_holds |= p["rule"] == "assignee_executes" && p["verdict"] == "holds";
  EXPECT_TRUE(assignee_permit_holds) << allow.body["trace"].dump();
  EXPECT_FALSE(allow.body["explanation"].get<std::string>().empty());

  // Another actor, named in the body: openclaw may not start claude's task.
  const reply deny = post(port, "/api/policy/evaluate", {{"event", "start"}, {"task_id", id}, {"actor", "openclaw"}}, claude);
  ASSERT_EQ(deny.status, 200u) << deny.body.dump();
  EXPECT_EQ(deny.body["decision"]["allowed"], false);
  ASSERT_FALSE(deny.body["decision"]["reasons"].empty());
  EXPECT_EQ(deny.body["decision"]["reasons"][0]["kind"], "no_permit") << deny.body.dump();

  // An inline task: accepting one's own result is a self-approval, with the forbid's reason.
  const json own = {{"event", "accept_result"},
                    {"task", {{"id", "T-x"}, {"state", "result_review"}, {"assignee", "claude"}, {"title", "t"}}},
                    {"actor", {{"id", "claude"}}}};
  const reply self = post(port, "/api/policy/evaluate", own, openclaw);
  ASSERT_EQ(self.status, 200u) << self.body.dump();
  EXPECT_EQ(self.body["decision"]["allowed"], false);
  bool no_self_approval = false;
  for (const auto& r : self.body["decision"]["reasons"])
    no_self_approval |= r["kind"] == "forbidden" && r["rule"] == "no_self_approval";
  EXPECT_TRUE(no_self_approval) << self.body.dump();

  // A registered agent evaluated by id takes its registered role.
  register_engineer("gemini");
  const reply gemini = post(port, "/api/policy/evaluate", {{"event", "start"}, {"task_id", id}, {"actor", "gemini"}}, claude);
  ASSERT_EQ(gemini.status, 200u) << gemini.body.dump();
  EXPECT_EQ(gemini.body["request"]["actor"]["role"], "engineer");
  EXPECT_EQ(gemini.body["decision"]["allowed"], false);

  // Nothing was written: the task and the audit log are as they were (but for the registration).
  EXPECT_EQ(task(id), before);
  EXPECT_EQ(audit_count(), records + 2) << "only the registration's two records";

  // Bad input is a 400 (or 404 for an unknown task), never a 500.
  EXPECT_EQ(post(port, "/api/policy/evaluate", {{"event", "start"}}, claude).status, 400u);
  EXPECT_EQ(post(port, "/api/policy/evaluate", {{"event", "start"}, {"task_id", id}, {"task", json::object()}}, claude).status,
            400u);
  EXPECT_EQ(error_code_of(post(port, "/api/policy/evaluate", {{"event", "start"}, {"task_id", "T-404"}}, claude)),
            "task.not_found");
  const reply unknown_event = post(port, "/api/policy/evaluate", {{"event", "fly"}, {"task_id", id}}, claude);
  EXPECT_EQ(unknown_event.status, 400u);
  EXPECT_EQ(unknown_event.body["error"]["details"]["errors"][0]["pointer"], "/event") << unknown_event.body.dump();
  EXPECT_EQ(post(port, "/api/policy/evaluate", {{"event", "start"}, {"task_id", id}, {"actor", 7}}, claude).status, 400u);
  EXPECT_EQ(error_code_of(post(port, "/api/policy/evaluate", {{"event", "start"}, {"task_id", id}, {"x", 1}}, claude)),
            "request.unknown_field");
  EXPECT_EQ(post(port, "/api/policy/evaluate", {{"event", "start"}, {"task_id", id}}, "").status, 401u);
}

TEST_F(HttpAdmin, ReloadNeverActivatesABrokenPolicy) {
  const std::string version = active_version();
  const std::size_t records = audit_count();
  json sources = policy_sources(fs::path(AGENTOS_SOURCE_DIR) / "policies");
  std::string& text = sources["files"]["agent-os.policy"].get_ref<std::string&>();
  text = replaced(text, assignee_permit, "permit assignee_executes on start, submit_plan, teleport, block");

  const reply broken = post(port, "/api/policy/reload", sources, alex);
  ASSERT_EQ(broken.status, 422u) << broken.body.dump();
  EXPECT_EQ(error_code_of(broken), "policy.invalid");
  const json& diagnostics = broken.body["error"]["details"]["diagnostics"];
  ASSERT_FALSE(diagnostics.empty()) << broken.body.dump();
  bool located = false;
  for (const auto& d : diagnostics) {
    if (d["severity"] != "error") continue;
    EXPECT_FALSE(d["code"].get<std::string>().empty());
    EXPECT_FALSE(d["message"].get<std::string>().empty());
    located |= d["file"] == "agent-os.policy" && d["line"].is_number() && d["column"].is_number();
  }
  EXPECT_TRUE(located) << diagnostics.dump();
  EXPECT_NE(broken.body["error"]["details"]["text"].get<std::string>().find("teleport"), std::string::npos);

  // A syntax error too.
  json garbled = policy_sources(fs::path(AGENTOS_SOURCE_DIR) / "policies");
  garbled["files"]["agent-os.policy"] = garbled["files"]["agent-os.policy"].get<std::string>() + "\npermit when {{\n";
  EXPECT_EQ(post(port, "/api/policy/reload", garbled, alex).status, 422u);

  EXPECT_EQ(active_version(), version);
  EXPECT_EQ(m_store->graph()->version(), version);
  EXPECT_EQ(audit_count(), records) << "a failed reload wrote something";

  // Only an operator reloads; without sources or a file to read, it says what to send.
  EXPECT_EQ(error_code_of(post(port, "/api/policy/reload", policy_sources(fs::path(AGENTOS_SOURCE_DIR) / "policies"), claude_pm)),
            "auth.forbidden");
  EXPECT_EQ(error_code_of(call(port, http::verb::post, "/api/policy/reload", {}, alex)), "policy.no_source");
  EXPECT_EQ(post(port, "/api/policy/reload", {{"entry", "missing.policy"}, {"files", {{"a.policy", "x"}}}}, alex).status, 400u);
  EXPECT_EQ(post(port, "/api/policy/reload", {{"entry", "/etc/passwd"}, {"files", {{"/etc/passwd", "x"}}}}, alex).status, 400u);
  EXPECT_EQ(active_version(), version);
}

TEST_F(HttpAdmin, ReloadActivatesAChangedPolicyForTheNextTransition) {
  const fs::path dir = copy_policies();
  const fs::path entry = dir / "agent-os.policy";
  restart(entry);
  const std::string original = active_version();
  EXPECT_EQ(get(port, "/api/policy").body["reload_source"], entry.string());

  // Unchanged files: nothing to activate.
  const reply same = call(port, http::verb::post, "/api/policy/reload", {}, alex);
  ASSERT_EQ(same.status, 200u) << same.body.dump();
  EXPECT_EQ(same.body["activated"], false);

  // The assignee may no longer start: the file changes on disk and is reloaded.
  const std::string id = routed_task();
  std::string text;
  {
    std::ifstream in(entry);
    std::stringstream s;
    s << in.rdbuf();
    text = s.str();
  }
  std::ofstream(entry, std::ios::trunc) << replaced(text, assignee_permit, assignee_permit_without_start);
  const reply reloaded = call(port, http::verb::post, "/api/policy/reload", {}, alex);
  ASSERT_EQ(reloaded.status, 200u) << reloaded.body.dump();
  EXPECT_EQ(reloaded.body["activated"], true);
  EXPECT_EQ(reloaded.body["previous"], original);
  const std::string changed = reloaded.body["version"];
  EXPECT_NE(changed, original);
  EXPECT_EQ(active_version(), changed);
  EXPECT_TRUE(reloaded.body["audit_seq"].is_number());

  const reply start = post(port, "/api/tasks/" + id + "/transitions", {{"event", "start"}}, claude);
  EXPECT_EQ(start.status, 422u) << "the next transition is decided by the new policy: " << start.body.dump();
  EXPECT_EQ(start.body["error"]["details"]["decision"]["version"], changed);

  // Back to the original, sent as sources: the assignee starts again.
  const reply back = post(port, "/api/policy/reload", policy_sources(fs::path(AGENTOS_SOURCE_DIR) / "policies"), alex);
  ASSERT_EQ(back.status, 200u) << back.body.dump();
  EXPECT_EQ(back.body["version"], original);
  EXPECT_EQ(back.body["previous"], changed);
  const reply again = post(port, "/api/tasks/" + id + "/transitions", {{"event", "start"}}, claude);
  EXPECT_EQ(again.status, 200u) << again.body.dump();
  EXPECT_EQ(again.body["decision"]["version"], original);

  // Both activations are audited, and the store reopens with the last one active.
  std::size_t activations = 0;
  const reply audit = get(port, "/api/audit?limit=10000", alex);
  for (const auto& rec : audit.body["records"]) activations += rec["kind"] == "policy" ? 1 : 0;
  EXPECT_EQ(activations, 3u) << "at open, then two reloads";
  restart(entry, true);
  EXPECT_EQ(active_version(), original);
  auto verified = m_store->verify();
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified->ok()) << (verified->problems.empty() ? "" : verified->problems[0]);
  EXPECT_GT(verified->replayed, 0u);
}

// ---- metrics

TEST_F(HttpAdmin, MetricsAreValidPrometheusTextAndMove) {
  const text_reply first = get_text(port, "/metrics");
  ASSERT_EQ(first.status, 200u);
  EXPECT_EQ(first.content_type, "text/plain; version=0.0.4; charset=utf-8");
  const exposition before = parse_exposition(first.body);
  EXPECT_TRUE(before.problems.empty()) << before.problems[0];
  EXPECT_EQ(before.types.at("agentos_transition_duration_seconds"), "histogram");
  EXPECT_EQ(before.types.at("agentos_decisions_total"), "counter");
  EXPECT_GT(before.at("agentos_store_used_bytes"), 0.0);
  EXPECT_GE(before.at("agentos_store_map_size_bytes"), before.at("agentos_store_used_bytes"));
  EXPECT_EQ(before.at("agentos_tasks{state=\"routed\"}"), 0.0);
  EXPECT_EQ(before.samples.count("agentos_tasks{state=\"intake\"}"), 1u) << "every state of the policy is listed";
  EXPECT_EQ(before.at("agentos_policy_info{declared_version=\"1.0\",name=\"agent_os\",version=\"" +
                      m_store->graph()->version() + "\"}"),
            1.0);

  const std::string id = routed_task();  // one allowed assign
  const reply denied = post(port, "/api/tasks/" + id + "/transitions", {{"event", "start"}}, openclaw);
  ASSERT_EQ(denied.status, 422u);
  ASSERT_EQ(post(port, "/api/policy/evaluate", {{"event", "start"}, {"task_id", id}}, claude).status, 200u);

  const exposition after = parse_exposition(get_text(port, "/metrics").body);
  EXPECT_TRUE(after.problems.empty()) << after.problems[0];
  EXPECT_EQ(after.at("agentos_decisions_total{effect=\"allow\",event=\"assign\"}"), 1.0);
  EXPECT_EQ(after.at("agentos_decisions_total{effect=\"deny\",event=\"start\"}"), 1.0);
  EXPECT_EQ(after.at("agentos_decisions_total{effect=\"allow\",event=\"start\"}"), 0.0) << "a dry run is no decision";
  EXPECT_EQ(after.at("agentos_transition_duration_seconds_count"), 2.0);
  EXPECT_EQ(after.at("agentos_transition_duration_seconds_bucket{le=\"+Inf\"}"), 2.0);
  EXPECT_GT(after.at("agentos_transition_duration_seconds_sum"), 0.0);
  double previous = 0;
  for (const double le : service_metrics::latency_bounds) {
    char bound[32];
    std::snprintf(bound, sizeof bound, "%.9g", le);
    const double n = after.at("agentos_transition_duration_seconds_bucket{le=\"" + std::string(bound) + "\"}");
    EXPECT_GE(n, previous) << "buckets are cumulative";
    previous = n;
  }
  const std::string transitions = "method=\"POST\",route=\"/api/tasks/{id}/transitions\"";
  EXPECT_EQ(after.at("agentos_http_requests_total{" + transitions + ",status=\"200\"}"), 1.0);
  EXPECT_EQ(after.at("agentos_http_requests_total{" + transitions + ",status=\"422\"}"), 1.0);
  EXPECT_EQ(after.at("agentos_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"200\"}"), 1.0);
  EXPECT_EQ(after.at("agentos_tasks{state=\"routed\"}"), 1.0);
  EXPECT_GE(after.at("agentos_writer_commits_total"), before.at("agentos_writer_commits_total") + 3);
  EXPECT_EQ(after.at("agentos_writer_batch_size_count"), after.at("agentos_writer_commits_total"));
  EXPECT_EQ(after.at("agentos_writer_batch_size_bucket{le=\"+Inf\"}"), after.at("agentos_writer_commits_total"));
  EXPECT_EQ(after.at("agentos_writer_batch_size_sum"), after.at("agentos_writer_operations_total"));
  EXPECT_GT(after.at("agentos_audit_records"), before.at("agentos_audit_records"));
  EXPECT_EQ(after.at("agentos_store_read_ok"), 1.0);

  get(port, "/api/nothing");
  const exposition unmatched = parse_exposition(get_text(port, "/metrics").body);
  EXPECT_EQ(unmatched.at("agentos_http_requests_total{method=\"\",route=\"unmatched\",status=\"404\"}"), 1.0);
}

TEST(ServiceMetrics, EventTableCountsFromManyThreads) {
  temp_dir dir{"agentos-metrics"};
  auto policy = load_policy(fs::path(AGENTOS_SOURCE_DIR) / "policies" / "agent-os.policy");
  ASSERT_TRUE(policy.graph) << policy.problems;
  auto store = task_store::open(dir.path() / "data", std::move(policy));
  ASSERT_TRUE(store) << store.error().message;
  service_metrics metrics(std::vector<std::pair<std::string, std::string>>{{"GET", "/health"}});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < 1000; ++i) {
        metrics.decision("event_" + std::to_string(i % 300), (i + t) % 2 == 0, std::chrono::microseconds(700));
        metrics.request(0, 200);
      }
    });
  for (auto& t : threads) t.join();
  const exposition e = parse_exposition(metrics.render(**store));
  EXPECT_TRUE(e.problems.empty()) << e.problems[0];
  double total = 0;
  for (const auto& [key, value] : e.samples)
    if (key.rfind("agentos_decisions_total{", 0) == 0) total += value;
  EXPECT_EQ(total, 4000.0) << "every decision is counted, in a slot of its own or under other";
  EXPECT_GT(e.at("agentos_decisions_total{effect=\"allow\",event=\"other\"}") +
                e.at("agentos_decisions_total{effect=\"deny\",event=\"other\"}"),
            0.0)
      << "300 names overflow the 256 slots";
  EXPECT_EQ(e.at("agentos_decisions_total{effect=\"allow\",event=\"event_0\"}") +
                e.at("agentos_decisions_total{effect=\"deny\",event=\"event_0\"}"),
            16.0);
  EXPECT_EQ(e.at("agentos_transition_duration_seconds_bucket{le=\"0.0005\"}"), 0.0);
  EXPECT_EQ(e.at("agentos_transition_duration_seconds_bucket{le=\"0.001\"}"), 4000.0);
  EXPECT_EQ(e.at("agentos_http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"}"), 4000.0);
}

TEST(StoreActivate, OperationsQueuedBeforeUseTheOldPolicyAndThoseAfterTheNew) {
  temp_dir dir{"agentos-activate"};
  auto original = load_policy(fs::path(AGENTOS_SOURCE_DIR) / "policies" / "agent-os.policy");
  ASSERT_TRUE(original.graph) << original.problems;
  const std::string old_version = original.graph->version();
  auto opened = task_store::open(dir.path() / "data", std::move(original));
  ASSERT_TRUE(opened) << opened.error().message;
  task_store& store = **opened;

  json sources = policy_sources(fs::path(AGENTOS_SOURCE_DIR) / "policies");
  policy_bundle bundle;
  bundle.entry = "agent-os.policy";
  for (const auto& [path, text] : sources["files"].items()) bundle.files[path] = text.get<std::string>();
  bundle.files["agent-os.policy"] = replaced(bundle.files["agent-os.policy"], assignee_permit, assignee_permit_without_start);
  compiled_policy changed = compile_bundle(bundle);
  ASSERT_TRUE(changed.graph) << changed.problems;
  const std::string new_version = changed.graph->version();
  ASSERT_NE(new_version, old_version);

  auto create = [&] {
    create_op op;
    op.task = {{"title", "t"}, {"kind", "engineering"}};
    op.actor = {{"id", "openclaw"}};
    op.now = 1'767'225'600'000;
    return store.submit(std::move(op));
  };
  std::vector<std::future<outcome>> before, after;
  for (int i = 0; i < 50; ++i) before.push_back(create());
  const outcome activated = store.activate(std::move(changed), 1'767'225'600'000);
  ASSERT_EQ(activated.status, outcome_status::applied) << activated.message;
  EXPECT_EQ(activated.body["activated"], true);
  EXPECT_EQ(store.graph()->version(), new_version);
  for (int i = 0; i < 50; ++i) after.push_back(create());

  auto version_of = [&](std::future<outcome>& f) {
    const outcome o = f.get();
    EXPECT_EQ(o.status, outcome_status::applied) << o.message;
    auto t = store.task(o.body["task"]["id"].get<std::string>());
    EXPECT_TRUE(t && *t);
    return (t && *t) ? (**t)["policy"].get<std::string>() : std::string();
  };
  for (auto& f : before) EXPECT_EQ(version_of(f), old_version);
  for (auto& f : after) EXPECT_EQ(version_of(f), new_version);

  // A policy with errors is refused before it reaches the queue.
  compiled_policy broken;
  broken.problems = "error";
  EXPECT_EQ(store.activate(std::move(broken), 0).status, outcome_status::invalid);
  EXPECT_EQ(store.graph()->version(), new_version);
}
