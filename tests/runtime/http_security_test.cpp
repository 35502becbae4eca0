// Security over the real server (issue 5). Every authenticated route of the route table (iterated,
// so a new route is covered without touching this file) against every kind of bad credential;
// JSON a million levels deep and bodies over the limit on every POST route; unknown fields, wrong
// types, NUL bytes, invalid UTF-8 and huge strings in every field of every POST body; bad path
// segments and query strings on every route. Each is answered with a 4xx that writes nothing
// (the audit log, the tasks, the agents and the policy are compared before and after), and no
// request of any test is ever answered 500 (checked on /metrics after each test).
#include <functional>
#include <set>
#include <sstream>
#include <tuple>

#include "http_fixture.hpp"

namespace {

using namespace agentos::testing::http_fixture;

// What a request sends as Authorization (one entry per header; none: no header).
struct credential {
  std::string label;
  std::vector<std::string> authorization;
};

std::string key_of(const route_info& r) { return r.method + " " + r.pattern; }

// What a failure message shows of an answer: the client's error, or the start of the body.
std::string shown(const reply& r) { return r.status == 0 ? r.error : r.text.substr(0, 400); }

// The answer's error.details[name] (null when there is none).
json detail(const reply& r, const char* name) {
  if (!r.body.is_object() || !r.body.contains("error") || !r.body["error"].is_object()) return nullptr;
  const json details = r.body["error"].value("details", json::object());
  return details.is_object() ? details.value(name, json()) : json();
}

class HttpSecurity : public Http {
 protected:
  void SetUp() override {
    Http::SetUp();
    if (HasFatalFailure()) return;
    // Two issued tokens for claude: the second rotation revokes the first.
    revoked = rotate("claude");
    issued = rotate("claude");
    ASSERT_FALSE(revoked.empty());
    ASSERT_FALSE(issued.empty());
    ASSERT_NE(revoked, issued);
    routes = m_api->routes();
  }

  // The net under every test: no request was answered 500 (nor 503: the store stays healthy, and
  // a store.corrupt is what a bad index entry looks like).
  void TearDown() override {
    const reply m = call(port, http::verb::get, "/metrics");
    EXPECT_EQ(m.status, 200u) << m.error;
    std::istringstream lines(m.text);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("agentos_http_requests_total{", 0) != 0) continue;
      const bool bad = line.find("status=\"500\"") != std::string::npos ||
                       line.find("status=\"503\"") != std::string::npos ||
                       line.find("status=\"other\"") != std::string::npos;
      EXPECT_FALSE(bad && line.substr(line.rfind(' ') + 1) != "0") << line;
    }
    Http::TearDown();
  }

  std::string rotate(const std::string& agent) {
    const reply r = post(port, "/api/agents/" + agent + "/token", json::object(), alex);
    EXPECT_EQ(r.status, 200u) << r.body.dump();
    return r.body.value("token", "");
  }

  // Everything a request could have written: the audit log (every write appends to it), the
  // tasks, the agents and the active policy.
  json world() {
    json w = {{"audit", get(port, "/api/audit?limit=10000", alex).body},
              {"tasks", get(port, "/api/tasks?limit=10000", alex).body},
              {"agents", get(port, "/api/agents", alex).body},
              {"policy", get(port, "/api/policy", alex).body}};
    EXPECT_TRUE(w["audit"].contains("records")) << w.dump();
    return w;
  }

  // `pattern` with its placeholders filled: {id} is the task `task_id` (an agent under
  // /api/agents/), {kind} and {version} an artifact's; `name` gets `value` instead. A new
  // placeholder fails here until it is given a value.
  std::string fill(const std::string& pattern, const std::string& task_id, const std::string& name = {},
                   const std::string& value = {}) {
    std::string out;
    std::size_t at = 0;
    while (at < pattern.size()) {
      const auto open = pattern.find('{', at);
      if (open == std::string::npos) break;
      const auto close = pattern.find('}', open);
      const std::string placeholder = pattern.substr(open + 1, close - open - 1);
      out += pattern.substr(at, open - at);
      if (placeholder == name) out += value;
      else if (placeholder == "id") out += pattern.rfind("/api/agents/", 0) == 0 ? rotated_agent : task_id;
      else if (placeholder == "kind") out += "result";
      else if (placeholder == "version") out += "1";
      else ADD_FAILURE() << "no value for {" << placeholder << "} of " << pattern << ": add one to fill()";
      at = close + 1;
    }
    return out + pattern.substr(at);
  }

  static std::vector<std::string> placeholders(const std::string& pattern) {
    std::vector<std::string> out;
    for (auto open = pattern.find('{'); open != std::string::npos; open = pattern.find('{', open + 1))
      out.push_back(pattern.substr(open + 1, pattern.find('}', open) - open - 1));
    return out;
  }

  // A well-formed body for each POST route, with every field it takes (so that each can be
  // mutated). A new POST route fails the tests until it has one here.
  json body_for(const std::string& pattern, const std::string& task_id) {
    const std::string block = "<<<AGENTOS:RESULT task=" + task_id + " version=1>>>\nfixed\n<<<AGENTOS:END>>>";
    const std::map<std::string, json> bodies = {
        {"/api/tasks", {{"id", "S-1"}, {"task", {{"title", "t"}, {"kind", "engineering"}, {"labels", {"x"}}}}}},
        {"/api/tasks/{id}/transitions",
         {{"event", "start"},
          {"expected_version", 1},
          {"comment", "c"},
          {"assign_to", "agent:claude"},
          {"artifact", {{"kind", "result"}, {"content", "x"}}}}},
        {"/api/tasks/{id}/reviews", {{"decision", "request_revision"}, {"comment", "c"}, {"expected_version", 1}}},
        {"/api/tasks/{id}/assign", {{"assignee", "agent:claude"}, {"expected_version", 1}}},
        {"/api/tasks/{id}/cancel", {{"reason", "r"}, {"expected_version", 1}}},
        {"/api/tasks/{id}/escalate", json::object()},
        {"/api/escalations/sweep", {{"limit", 10}}},
        {"/api/agents",
         {{"id", "newbie"}, {"role", "engineer"}, {"kind", "agent"}, {"capabilities", {"submit-result"}}}},
        {"/api/agents/{id}/token", json::object()},
        {"/api/projection/check", json::object()},
        {"/api/policy/evaluate", {{"event", "start"}, {"task_id", task_id}, {"now", 1'767'225'600'000}}},
        {"/api/policy/reload", {{"entry", "agent-os.policy"}, {"files", {{"agent-os.policy", "policy x"}}}}},
        {"/api/executions/callback", {{"task_id", task_id}, {"body", block}}},
        {"/api/webhooks",
         {{"id", "hook-" + task_id}, {"url", "http://127.0.0.1:9/hook"}, {"secret", "a-secret-of-thirty-two-bytes-ok!"},
          {"events", {"task.created"}}}},
    };
    const auto it = bodies.find(pattern);
    if (it == bodies.end()) {
      ADD_FAILURE() << "no body for POST " << pattern << ": add one to body_for()";
      return json::object();
    }
    return it->second;
  }

  std::vector<route_info> posts() const {
    std::vector<route_info> out;
    for (const auto& r : routes)
      if (r.method == "POST") out.push_back(r);
    return out;
  }

  // For every POST route and every string of its body (body_for), at any depth: fn(route,
  // target, where the string is, the body). Returns how many strings there were.
  std::size_t each_string(const std::string& task_id,
                          const std::function<void(const route_info&, const std::string&, const json::json_pointer&,
                                                   const json&)>& fn) {
    std::size_t n = 0;
    for (const auto& r : posts()) {
      const json body = body_for(r.pattern, task_id);
      const json flat = body.flatten();
      for (const auto& [where, v] : flat.items()) {
        if (!v.is_string()) continue;
        ++n;
        fn(r, fill(r.pattern, task_id), json::json_pointer(where), body);
      }
    }
    return n;
  }

  reply send(const route_info& r, const std::string& target, const std::string& body, const header_list& headers) {
    return call(port, http::string_to_verb(r.method), target, r.method == "GET" ? std::string() : body, {}, headers);
  }
  reply as_operator(const std::string& method, const std::string& target, const std::string& body) {
    return call(port, http::string_to_verb(method), target, method == "GET" ? std::string() : body, alex);
  }

  std::vector<route_info> routes;
  std::string revoked, issued;
  const std::string rotated_agent = "claude_qa";  // {id} of /api/agents/{id}/token: not claude
};

header_list headers_of(const credential& c) {
  header_list out;
  for (const auto& v : c.authorization) out.emplace_back("Authorization", v);
  return out;
}

// A refusal: a 4xx in the error shape.
void expect_refused(const reply& r, const std::string& what) {
  EXPECT_GE(r.status, 400u) << what << ": " << shown(r);
  EXPECT_LT(r.status, 500u) << what << ": " << shown(r);
  EXPECT_NE(error_code_of(r), "<no error>") << what << ": not the error shape: " << shown(r);
}

// ---- the token matrix

TEST_F(HttpSecurity, EveryAuthenticatedRouteRefusesEveryBadCredential) {
  const std::vector<credential> refused = {
      {"no Authorization header", {}},
      {"another scheme", {"Basic dG9rLWFsZXg6"}},
      {"the token without a scheme", {alex}},
      {"the scheme alone", {"Bearer"}},
      {"the scheme and blanks", {"Bearer   "}},
      {"two tokens in one header", {std::string("Bearer ") + alex + " " + claude}},
      {"two tokens, comma-separated", {std::string("Bearer ") + alex + "," + claude}},
      {"two Authorization headers", {std::string("Bearer ") + alex, std::string("Bearer ") + claude}},
      {"the same header twice", {std::string("Bearer ") + alex, std::string("Bearer ") + alex}},
      {"an unknown token", {"Bearer not-a-token"}},
      {"a known token in another case", {"Bearer TOK-ALEX"}},
      {"a very long token", {"Bearer " + std::string(7000, 'x')}},
      {"a revoked token", {"Bearer " + revoked}},
  };
  const std::vector<credential> agents = {{"claude's token from the tokens file", {std::string("Bearer ") + claude}},
                                          {"claude's issued token", {"Bearer " + issued}}};
  const credential operator_token{"alex's token (operator)", {std::string("Bearer ") + alex}};
  // The routes that refuse any member but an operator. claude is the assignee of the task each
  // route is tried on, so on every other route it is in scope: a 403 anywhere else, or none
  // here, fails the test (a new operator-only route is added to this list).
  const std::set<std::string> operator_only = {"POST /api/agents",          "POST /api/agents/{id}/token",
                                               "POST /api/policy/reload",    "POST /api/escalations/sweep",
                                               "GET /api/webhooks",          "POST /api/webhooks",
                                               "GET /api/webhooks/{id}",     "DELETE /api/webhooks/{id}",
                                               "GET /api/webhooks/{id}/deliveries", "POST /api/projection/check"};
  // The only routes that answer without a token: all reads that show nothing of a task or a token.
  const std::set<std::string> open_routes = {"GET /health", "GET /metrics", "GET /api/openapi.json"};

  std::set<std::string> keys;
  for (const auto& r : routes) keys.insert(key_of(r));
  for (const auto& k : operator_only) EXPECT_TRUE(keys.count(k)) << k << " is no longer a route";

  // A fresh engineering task (assigned to claude) per route, so no route's effect meets another's.
  std::map<std::string, std::string> task_of;
  std::size_t authenticated = 0;
  for (const auto& r : routes) {
    if (!r.authenticated) continue;
    ++authenticated;
    task_of[key_of(r)] = create_engineering();
  }
  ASSERT_GE(authenticated, 20u) << "the route table shrank: is routes() still the whole table?";

  const json before = world();
  for (const auto& r : routes) {
    if (!r.authenticated) continue;
    const std::string& id = task_of[key_of(r)];
    const std::string target = fill(r.pattern, id);
    const std::string body = r.method == "POST" ? body_for(r.pattern, id).dump() : std::string();
    for (const auto& c : refused) {
      const reply x = send(r, target, body, headers_of(c));
      const std::string what = key_of(r) + " with " + c.label;
      EXPECT_EQ(x.status, 401u) << what << ": " << shown(x);
      EXPECT_EQ(error_code_of(x), "auth.unauthenticated") << what;
      const auto challenge = x.headers.find("WWW-Authenticate");
      EXPECT_TRUE(challenge != x.headers.end() && challenge->second == "Bearer") << what;
    }
  }
  EXPECT_EQ(world(), before) << "a refused request wrote something";

  std::size_t forbidden = 0;
  for (const auto& r : routes) {
    if (!r.authenticated) continue;
    const std::string& id = task_of[key_of(r)];
    const std::string target = fill(r.pattern, id);
    const std::string body = r.method == "POST" ? body_for(r.pattern, id).dump() : std::string();
    const bool operator_route = operator_only.count(key_of(r)) > 0;
    for (const auto& c : agents) {
      const reply x = send(r, target, body, headers_of(c));
      const std::string what = key_of(r) + " with " + c.label;
      EXPECT_NE(x.status, 0u) << what << ": " << shown(x);
      EXPECT_LT(x.status, 500u) << what << ": " << shown(x);
      EXPECT_NE(x.status, 401u) << what << ": " << shown(x);
      if (operator_route) {
        EXPECT_EQ(x.status, 403u) << what << ": " << shown(x);
        EXPECT_EQ(error_code_of(x), "auth.forbidden") << what;
        forbidden += x.status == 403u;
      } else {
        EXPECT_NE(x.status, 403u) << what << " (is it operator-only? then add it to operator_only): " << shown(x);
      }
    }
    const reply x = send(r, target, body, headers_of(operator_token));
    EXPECT_NE(x.status, 0u) << key_of(r) << ": " << shown(x);
    EXPECT_LT(x.status, 500u) << key_of(r) << ": " << shown(x);
    EXPECT_NE(x.status, 401u) << key_of(r) << ": " << shown(x);
    EXPECT_NE(x.status, 403u) << key_of(r) << ": the operator was refused: " << shown(x);
  }
  EXPECT_EQ(forbidden, 2 * operator_only.size());

  // The open routes answer whatever is (or is not) sent as a credential.
  std::size_t open = 0;
  for (const auto& r : routes) {
    if (r.authenticated) continue;
    ++open;
    EXPECT_TRUE(open_routes.count(key_of(r))) << key_of(r) << " answers without a token: is that intended?";
    std::vector<credential> all = refused;
    all.insert(all.end(), agents.begin(), agents.end());
    all.push_back(operator_token);
    for (const auto& c : all) {
      const reply x = send(r, r.pattern, {}, headers_of(c));
      EXPECT_EQ(x.status, 200u) << key_of(r) << " with " << c.label << ": " << shown(x);
    }
  }
  EXPECT_GE(open, 2u);  // /health and /metrics
}

// The header carries one token, without blanks or commas: a tokens file with a token that could
// never be presented is refused when it is read (the server does not start), not ignored.
TEST(HttpSecurityTokens, ATokenThatCannotBePresentedIsRefusedWhenLoaded) {
  std::string error;
  EXPECT_TRUE(bearer_tokens::from_json(json{{"aos_Ab-9_x.~+/=", "alex"}}, error)) << error;
  for (const std::string& bad : std::vector<std::string>{"two words", "a,b", "tab\there", "line\n", std::string("nul\0", 4)}) {
    EXPECT_FALSE(bearer_tokens::from_json(json{{bad, "alex"}}, error)) << bad;
    EXPECT_NE(error.find("could not be presented"), std::string::npos) << error;
  }
}

TEST_F(HttpSecurity, RevokedTokenStaysRevokedAndTheNewOneWorks) {
  const std::string id = create_engineering();
  EXPECT_EQ(get(port, "/api/tasks/" + id, issued).status, 200u);
  EXPECT_EQ(get(port, "/api/tasks/" + id, revoked).status, 401u);
  // A rotation by the agent itself is refused, and does not revoke anything.
  const reply self = post(port, "/api/agents/claude/token", json::object(), issued);
  EXPECT_EQ(self.status, 403u) << shown(self);
  EXPECT_EQ(get(port, "/api/tasks/" + id, issued).status, 200u);
  // The operator's rotation revokes it from the next request on.
  const std::string next = rotate("claude");
  EXPECT_EQ(get(port, "/api/tasks/" + id, issued).status, 401u);
  EXPECT_EQ(get(port, "/api/tasks/" + id, next).status, 200u);
}

// ---- limits: depth and size on every POST route

TEST_F(HttpSecurity, MillionDeepJsonAndOversizedBodiesOnEveryPostRoute) {
  const std::string id = create_engineering();
  const json before = world();
  const std::string arrays(1'000'000, '['), objects(1'000'000, '{');
  ASSERT_LT(arrays.size(), std::size_t{1} << 20) << "must stay under the body limit to reach the API";
  const std::string oversized(std::size_t{2} << 20, '[');
  for (const auto& r : posts()) {
    const std::string target = fill(r.pattern, id);
    for (const std::string* deep : {&arrays, &objects}) {
      const reply x = as_operator(r.method, target, *deep);
      EXPECT_EQ(x.status, 400u) << key_of(r) << ": " << shown(x);
      EXPECT_EQ(error_code_of(x), "request.too_deep") << key_of(r);
    }
    for (const std::string& token : {std::string(alex), std::string()}) {
      const reply x = call(port, http::verb::post, target, oversized, token);
      EXPECT_EQ(x.status, 413u) << key_of(r) << ": " << shown(x);
      EXPECT_EQ(error_code_of(x), "request.too_large") << key_of(r);
    }
    EXPECT_EQ(get(port, "/health", "").status, 200u) << "after " << key_of(r);
  }
  EXPECT_EQ(world(), before);
}

// ---- bodies: unknown fields, bad JSON, wrong types, NUL, invalid UTF-8, huge strings

TEST_F(HttpSecurity, UnknownFieldsAreRefusedAndNeverStored) {
  const std::string id = create_engineering();
  const json before = world();
  const std::string marker = "smuggled-7f3a9c";
  for (const auto& r : posts()) {
    json body = body_for(r.pattern, id);
    body["smuggled"] = marker;
    const reply x = as_operator(r.method, fill(r.pattern, id), body.dump());
    EXPECT_EQ(x.status, 400u) << key_of(r) << ": " << shown(x);
    EXPECT_EQ(error_code_of(x), "request.unknown_field") << key_of(r) << ": " << shown(x);
    EXPECT_EQ(detail(x, "field"), "smuggled") << key_of(r);
  }
  // Deeper down: a task attribute the policy does not declare, a field of an artifact, and the
  // fields a client could use to act as someone else or choose its own token.
  const std::string moves = "/api/tasks/" + id + "/transitions";
  const std::vector<std::tuple<std::string, json, std::string>> nested = {
      {"/api/tasks", {{"task", {{"title", "t"}, {"kind", "engineering"}, {"smuggled", marker}}}}, openclaw},
      {"/api/tasks", {{"task", {{"title", "t"}, {"kind", "engineering"}, {"attributes", {{"smuggled", marker}}}}}}, openclaw},
      {moves, {{"event", "start"}, {"artifact", {{"kind", "result"}, {"content", "x"}, {"smuggled", marker}}}}, claude},
      {moves, {{"event", "accept_result"}, {"actor", "alex"}}, claude},
      {moves, {{"event", "accept_result"}, {"actor", {{"id", "alex"}, {"kind", "operator"}}}}, claude},
      {"/api/tasks/" + id + "/reviews", {{"decision", "accept_result"}, {"by", "alex"}}, claude},
      {"/api/executions/callback", {{"task_id", id}, {"body", marker}, {"actor", "alex"}}, claude},
      {"/api/agents", {{"id", "newbie"}, {"role", "engineer"}, {"token", marker}}, alex},
  };
  for (const auto& [target, body, token] : nested) {
    const reply x = post(port, target, body, token);
    EXPECT_EQ(x.status, 400u) << target << " " << body.dump() << ": " << shown(x);
  }
  const json after = world();
  EXPECT_EQ(after, before) << "a refused request wrote something";
  EXPECT_EQ(after.dump().find(marker), std::string::npos);
}

TEST_F(HttpSecurity, MalformedBodiesAre400OnEveryPostRoute) {
  const std::string id = create_engineering();
  const json before = world();
  // Not a body any route takes (every POST route either requires a JSON object or takes none
  // at all: an empty body is left out, as it is a well-formed request on some).
  const std::vector<std::string> bodies = {
      "{", "}", "{\"a\":}", "{\"a\" 1}", "{'a': 1}", "{\"a\":1,}", "{}x", "{} {}", "nul", "NaN",
      "[1, 2]", "true", "7", "\"text\"", "null", "\xff",
      "{\"a\":\"\xff\"}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\\udc00\"}",
      "{\"a\":\"\\ud800\"}", "{\"a\":\"\\u00\"}", "{\"a\":\"tab\there\"}", "{\"a\":1e999999}",
      std::string("{\"a\"\0:1}", 8),
  };
  for (const auto& r : posts()) {
    const std::string target = fill(r.pattern, id);
    for (const auto& b : bodies) {
      const reply x = as_operator(r.method, target, b);
      EXPECT_EQ(x.status, 400u) << key_of(r) << " `" << b << "`: " << shown(x);
      const std::string code = error_code_of(x);
      EXPECT_TRUE(code == "request.malformed" || code == "request.invalid") << key_of(r) << " `" << b << "`: " << code;
    }
  }
  EXPECT_EQ(world(), before);
}

// Each body that differs from `body` in the type of one value, at any depth: a string becomes a
// number, a bool, an array or an object; a number a string, a fraction, a bool, an array or an
// object; an object or an array something else. `where` names the value (a JSON pointer).
std::vector<std::pair<std::string, json>> retyped(const json& body) {
  std::vector<std::pair<std::string, json>> out;
  std::function<void(const json::json_pointer&, const json&)> visit = [&](const json::json_pointer& at, const json& v) {
    std::vector<json> wrong;
    if (v.is_string()) wrong = {7, true, json::array(), json::object()};
    else if (v.is_number()) wrong = {"7", 1.5, true, json::array(), json::object()};
    else if (v.is_object()) wrong = {"x", 7, json::array()};
    else if (v.is_array()) wrong = {"x", 7, json::object()};
    if (!at.empty())
      for (const auto& w : wrong) {
        json copy = body;
        copy[at] = w;
        out.emplace_back(at.to_string() + " = " + w.dump(), std::move(copy));
      }
    if (v.is_object())
      for (const auto& [k, x] : v.items()) visit(at / k, x);
    else if (v.is_array())
      for (std::size_t i = 0; i < v.size(); ++i) visit(at / i, v[i]);
  };
  visit(json::json_pointer(), body);
  return out;
}

TEST_F(HttpSecurity, WrongTypesAre400AndWriteNothing) {
  const std::string id = create_engineering();
  const json before = world();
  std::size_t tried = 0;
  for (const auto& r : posts()) {
    const std::string target = fill(r.pattern, id);
    for (const auto& [where, body] : retyped(body_for(r.pattern, id))) {
      ++tried;
      const reply x = as_operator(r.method, target, body.dump());
      EXPECT_EQ(x.status, 400u) << key_of(r) << " with " << where << ": " << shown(x);
    }
  }
  EXPECT_GT(tried, 100u);
  EXPECT_EQ(world(), before);
}

TEST_F(HttpSecurity, NulInAnyStringOrKeyIs400) {
  const std::string id = create_engineering();
  const json before = world();
  const std::string nul("a\0b", 3);
  const std::size_t strings = each_string(id, [&](const route_info& r, const std::string& target,
                                                 const json::json_pointer& at, json body) {
    body[at] = nul;
    const reply x = as_operator(r.method, target, body.dump());
    EXPECT_EQ(x.status, 400u) << key_of(r) << " " << at.to_string() << ": " << shown(x);
    EXPECT_EQ(detail(x, "pointer"), at.to_string()) << key_of(r) << ": " << shown(x);
  });
  EXPECT_GE(strings, 20u);
  for (const auto& r : posts()) {
    json keyed = body_for(r.pattern, id);
    keyed[nul] = 1;
    const reply x = as_operator(r.method, fill(r.pattern, id), keyed.dump());
    EXPECT_EQ(x.status, 400u) << key_of(r) << ": " << shown(x);
  }
  EXPECT_EQ(world(), before);
}

// The bug this guards: a project holding a NUL made the by_project index entry `a \0 T-1 \0 T-2`,
// which a list by project `a` read as an entry for the missing task `T-1 \0 T-2` (503
// store.corrupt for everyone listing that project).
TEST_F(HttpSecurity, NulInAProjectIsRefusedByTheApiAndTheStore) {
  const std::string id = create_engineering();
  const reply x = post(port, "/api/tasks", {{"task", {{"title", "t"}, {"project", "a" + std::string(1, '\0') + id}}}}, alex);
  EXPECT_EQ(x.status, 400u) << shown(x);
  create_op op;
  op.task = {{"title", "t"}, {"project", "a" + std::string(1, '\0') + id}};
  op.actor = {{"id", "alex"}};
  op.now = 1;
  const outcome o = m_store->apply(std::move(op));
  EXPECT_EQ(o.status, outcome_status::invalid) << o.message;
  const reply list = get(port, "/api/tasks?project=a", alex);
  EXPECT_EQ(list.status, 200u) << shown(list);
  EXPECT_EQ(list.body.value("tasks", json()), json::array()) << shown(list);
}

TEST_F(HttpSecurity, InvalidUtf8InAnyStringIs400) {
  const std::string id = create_engineering();
  const json before = world();
  const std::string hole = "@@not-utf8@@";
  // A stray continuation byte, an overlong `/`, a UTF-16 surrogate encoded as UTF-8, a lone
  // surrogate escape, a truncated sequence.
  const std::vector<std::string> invalid = {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\\udc00", "\xe2\x82"};
  const std::size_t strings = each_string(id, [&](const route_info& r, const std::string& target,
                                                 const json::json_pointer& at, json body) {
    body[at] = hole;
    const std::string text = body.dump();
    const auto where = text.find(hole);
    ASSERT_NE(where, std::string::npos);
    for (const auto& bad : invalid) {
      std::string sent = text;
      sent.replace(where, hole.size(), "x" + bad + "y");
      const reply x = as_operator(r.method, target, sent);
      EXPECT_EQ(x.status, 400u) << key_of(r) << " " << at.to_string() << ": " << shown(x);
      EXPECT_EQ(error_code_of(x), "request.malformed") << key_of(r) << " " << at.to_string();
    }
  });
  EXPECT_GE(strings, 20u);
  EXPECT_EQ(world(), before);
}

TEST_F(HttpSecurity, HugeStringsAreRefusedWhereTheyWouldBeStored) {
  const std::string id = create_engineering();
  const json before = world();
  const std::string huge(512 * 1024, 'h');
  const std::string moves = "/api/tasks/" + id + "/transitions";
  struct attempt {
    std::string target;
    json body;
    const char* token;
    unsigned status;
    std::string code;
  };
  const std::vector<attempt> attempts = {
      {"/api/tasks", {{"id", huge}, {"task", {{"title", "t"}}}}, openclaw, 400, "task.bad_id"},
      {"/api/tasks", {{"task", {{"title", huge}, {"kind", "engineering"}}}}, openclaw, 400, "task.too_large"},
      {"/api/tasks", {{"task", {{"title", "t"}, {"brief", huge}}}}, openclaw, 400, "task.too_large"},
      {"/api/tasks", {{"task", {{"title", "t"}, {"project", huge}}}}, openclaw, 400, "task.too_large"},
      {"/api/tasks", {{"task", {{"title", "t"}, {"labels", {huge}}}}}, openclaw, 400, "task.too_large"},
      {"/api/tasks", {{"task", {{"title", "t"}, {"kind", huge}}}}, openclaw, 400, "task.too_large"},
      {"/api/tasks", {{"task", {{"title", "t"}, {huge, 1}}}}, openclaw, 400, "task.too_large"},
      {moves, {{"event", huge}}, claude, 400, "request.invalid"},
      {moves, {{"event", "start"}, {"assign_to", huge}}, alex, 400, "request.bad_assignee"},
      {moves, {{"event", "start"}, {"artifact", {{"kind", huge}, {"content", "x"}}}}, claude, 400, "artifact.bad_kind"},
      {"/api/tasks/" + id + "/reviews", {{"decision", huge}}, claude_pm, 400, "request.invalid"},
      {"/api/tasks/" + id + "/assign", {{"assignee", huge}}, alex, 400, "request.bad_assignee"},
      {"/api/agents", {{"id", huge}, {"role", "engineer"}}, alex, 400, "agent.bad_id"},
      {"/api/agents", {{"id", "newbie"}, {"role", huge}}, alex, 400, "agent.bad_role"},
      {"/api/policy/evaluate", {{"event", huge}, {"task_id", id}}, claude, 400, "request.invalid"},
      {"/api/policy/evaluate", {{"event", "start"}, {"task_id", huge}}, claude, 404, "task.not_found"},
      {"/api/executions/callback", {{"task_id", huge}, {"body", "x"}}, claude, 404, "task.not_found"},
  };
  for (const auto& a : attempts) {
    const reply x = post(port, a.target, a.body, a.token);
    const std::string what = a.target + " " + a.body.dump().substr(0, 60);
    EXPECT_EQ(x.status, a.status) << what << ": " << shown(x);
    EXPECT_EQ(error_code_of(x), a.code) << what;
  }
  // Headers: an idempotency key over 255 characters, a header over the 8 KiB limit.
  const reply key = call(port, http::verb::post, moves, json{{"event", "start"}}.dump(), claude,
                         {{"Idempotency-Key", std::string(300, 'k')}});
  EXPECT_EQ(key.status, 400u) << shown(key);
  EXPECT_EQ(error_code_of(key), "request.bad_idempotency_key");
  const reply header = call(port, http::verb::post, moves, json{{"event", "start"}}.dump(), claude,
                            {{"X-Note", std::string(16 * 1024, 'n')}});
  EXPECT_EQ(header.status, 431u) << shown(header);
  EXPECT_EQ(world(), before);
  // Just under the limit is fine: the limit is on size, not on long text as such.
  const reply fits = post(port, "/api/tasks", {{"task", {{"title", "t"}, {"brief", std::string(60 * 1024, 'b')}}}}, openclaw);
  EXPECT_EQ(fits.status, 201u) << shown(fits);
}

// ---- the target: path segments and the query

TEST_F(HttpSecurity, BadPathSegmentsAre4xxOnEveryRoute) {
  const std::string id = create_engineering();
  const json before = world();
  // NUL, invalid UTF-8 (a stray byte, an overlong `/`, a surrogate), encoded slashes and dots
  // (which must stay inside one segment), malformed escapes, a long segment.
  const std::vector<std::string> bad = {"%00", "a%00b", "%FF%FE", "%C0%AF", "%ED%A0%80", "%2F", id + "%2Fbrief",
                                        "..%2F..%2Fhealth", "..", "%2e%2e", "%zz", "%", "%4", std::string(4000, 'x')};
  std::size_t tried = 0;
  for (const auto& r : routes) {
    const std::string body = r.method == "POST" ? body_for(r.pattern, id).dump() : std::string();
    for (const auto& name : placeholders(r.pattern)) {
      for (const auto& value : bad) {
        ++tried;
        const std::string target = fill(r.pattern, id, name, value);
        const reply x = as_operator(r.method, target, body);
        expect_refused(x, key_of(r) + " at " + target.substr(0, 80));
        EXPECT_FALSE(x.body.is_discarded()) << "the answer is not valid JSON: " << shown(x);
      }
    }
  }
  EXPECT_GT(tried, 100u);
  // An encoded slash is part of the id, not a path separator: no brief, no other route.
  const reply slash = get(port, "/api/tasks/" + id + "%2Fbrief", alex);
  EXPECT_EQ(slash.status, 404u) << shown(slash);
  EXPECT_EQ(error_code_of(slash), "task.not_found");
  EXPECT_NE(slash.text.find("no task " + id + "/brief"), std::string::npos) << shown(slash);
  EXPECT_EQ(world(), before);
}

TEST_F(HttpSecurity, LongAndMalformedQueryStrings) {
  const std::string id = create_engineering();
  const json before = world();
  std::string many;
  for (int i = 0; i < 1500; ++i) many += "a=" + std::to_string(i) + "&";
  for (const auto& r : routes) {
    const std::string target = fill(r.pattern, id);
    const std::string body = r.method == "POST" ? body_for(r.pattern, id).dump() : std::string();
    const std::string what = key_of(r);
    // Over the 8 KiB header limit: refused before anything else, whatever the route.
    const reply huge = as_operator(r.method, target + "?q=" + std::string(100'000, 'q'), body);
    EXPECT_EQ(huge.status, 431u) << what << ": " << shown(huge);
    const reply escape = as_operator(r.method, target + "?a=%zz", body);
    EXPECT_EQ(escape.status, 400u) << what << ": " << shown(escape);
    EXPECT_EQ(error_code_of(escape), "request.bad_target") << what;
    if (r.method != "GET") continue;  // a POST with a good query would act: reads only from here
    for (const std::string& query : std::vector<std::string>{"?q=" + std::string(7000, 'q'), "?limit=" + std::string(7000, '9'),
                                    "?task=" + std::string(7000, 't'), "?state=%00&assignee=%FF&after=%C0%AF",
                                    "?" + many, "?&&&==&=&", "?limit=-1", "?limit=0x10", "?limit=1e3"}) {
      const reply x = as_operator(r.method, target + query, {});
      EXPECT_NE(x.status, 0u) << what << query.substr(0, 40) << ": " << shown(x);
      EXPECT_LT(x.status, 500u) << what << query.substr(0, 40) << ": " << shown(x);
      const bool listing = r.pattern == "/api/tasks" || r.pattern == "/api/audit";
      if (listing && query.rfind("?limit=", 0) == 0) {
        EXPECT_EQ(x.status, 400u) << what << query.substr(0, 40);
      }
    }
  }
  EXPECT_EQ(world(), before);
}

}  // namespace
