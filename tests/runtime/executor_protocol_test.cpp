// The executor protocol's pure parts: the marker parser (every way a write-back can be wrong),
// the execution brief over the shipped policy, and the request signatures (RFC 4231 vectors, the
// window, replays, bounded memory).
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>

#include "runtime/service/executor_protocol.hpp"
#include "runtime/service/policy_bundle.hpp"
#include "runtime/service/request_signatures.hpp"

namespace {

using namespace agentos::runtime;
using nlohmann::json;

constexpr std::size_t max_bytes = 1 << 20;

marker_parse parse(std::string_view text, std::string_view task = "T-1", std::size_t max = max_bytes) {
  return parse_markers(text, task, max);
}

// The error code of a text that must not parse ("<ok>" when it does).
std::string code_of(std::string_view text, std::string_view task = "T-1", std::size_t max = max_bytes) {
  const marker_parse p = parse(text, task, max);
  return p.ok() ? "<ok>" : p.error.code;
}

TEST(ExecutorMarkers, ReadsOneBlockAndIgnoresTheTextAroundIt) {
  const marker_parse p = parse(
      "Here is my plan.\n"
      "<<<AGENTOS:PLAN task=T-1 version=3>>>\n"
      "1. reproduce\n"
      "\n"
      "2. fix <<<AGENTOS: in the middle of a line is content\n"
      "<<<AGENTOS:END>>>\n"
      "Thanks!");
  ASSERT_TRUE(p.ok()) << p.error.code << ": " << p.error.message;
  EXPECT_EQ(p.block->kind, submission_kind::plan);
  EXPECT_EQ(p.block->task, "T-1");
  EXPECT_EQ(p.block->version, 3u);
  EXPECT_EQ(p.block->content, "1. reproduce\n\n2. fix <<<AGENTOS: in the middle of a line is content");

  const marker_parse r = parse("<<<AGENTOS:RESULT task=T-1 version=12>>>\ndone\n<<<AGENTOS:END>>>");
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(r.block->kind, submission_kind::result);
  EXPECT_EQ(r.block->version, 12u);
  EXPECT_EQ(r.block->content, "done");
}

TEST(ExecutorMarkers, CrlfLinesAreReadAsLf) {
  const marker_parse p = parse("intro\r\n<<<AGENTOS:RESULT task=T-1 version=2>>>\r\nline one\r\nline two\r\n"
                               "<<<AGENTOS:END>>>\r\n");
  ASSERT_TRUE(p.ok()) << p.error.message;
  EXPECT_EQ(p.block->content, "line one\nline two");
  // A lone CR inside a line is content, not a line end.
  const marker_parse q = parse("<<<AGENTOS:RESULT task=T-1 version=2>>>\na\rb\n<<<AGENTOS:END>>>");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q.block->content, "a\rb");
}

TEST(ExecutorMarkers, WhatTheBriefPrintsIsWhatTheParserReads) {
  const std::string text = begin_marker(submission_kind::plan, "proj:T-9_a.b", 41) + "\nx\n" + std::string(end_marker);
  EXPECT_EQ(begin_marker(submission_kind::plan, "proj:T-9_a.b", 41), "<<<AGENTOS:PLAN task=proj:T-9_a.b version=41>>>");
  const marker_parse p = parse(text, "proj:T-9_a.b");
  ASSERT_TRUE(p.ok()) << p.error.message;
  EXPECT_EQ(p.block->version, 41u);
}

TEST(ExecutorMarkers, MissingBlockOrEnd) {
  EXPECT_EQ(code_of(""), "markers.missing");
  EXPECT_EQ(code_of("I fixed it, see the PR."), "markers.missing");
  const marker_parse p = parse("a\n<<<AGENTOS:RESULT task=T-1 version=2>>>\ndone\n");
  EXPECT_EQ(p.error.code, "markers.missing_end");
  EXPECT_EQ(p.error.line, 2u);
  // A second begin inside a block means the first one was never closed.
  const marker_parse nested = parse("<<<AGENTOS:PLAN task=T-1 version=2>>>\nx\n<<<AGENTOS:PLAN task=T-1 version=2>>>\n"
                                    "y\n<<<AGENTOS:END>>>");
  EXPECT_EQ(nested.error.code, "markers.missing_end");
  EXPECT_EQ(nested.error.line, 1u);
  const marker_parse stray = parse("<<<AGENTOS:END>>>\n");
  EXPECT_EQ(stray.error.code, "markers.malformed");
  EXPECT_EQ(stray.error.line, 1u);
}

TEST(ExecutorMarkers, TwoBlocksAreRefused) {
  const marker_parse p = parse("<<<AGENTOS:PLAN task=T-1 version=2>>>\nx\n<<<AGENTOS:END>>>\n"
                               "<<<AGENTOS:PLAN task=T-1 version=2>>>\ny\n<<<AGENTOS:END>>>\n");
  EXPECT_FALSE(p.ok());
  EXPECT_EQ(p.error.code, "markers.multiple");
  EXPECT_EQ(p.error.line, 4u);
}

TEST(ExecutorMarkers, EmptyContent) {
  EXPECT_EQ(code_of("<<<AGENTOS:RESULT task=T-1 version=2>>>\n<<<AGENTOS:END>>>"), "markers.empty");
  EXPECT_EQ(code_of("<<<AGENTOS:RESULT task=T-1 version=2>>>\n  \n\t\r\n<<<AGENTOS:END>>>"), "markers.empty");
}

TEST(ExecutorMarkers, OversizeContent) {
  const std::string ten(10, 'x');
  EXPECT_EQ(code_of("<<<AGENTOS:RESULT task=T-1 version=2>>>\n" + ten + "\n<<<AGENTOS:END>>>", "T-1", 10), "<ok>");
  EXPECT_EQ(code_of("<<<AGENTOS:RESULT task=T-1 version=2>>>\n" + ten + "x\n<<<AGENTOS:END>>>", "T-1", 10),
            "markers.too_large");
  // The newline between lines counts: two lines of five are eleven bytes.
  EXPECT_EQ(code_of("<<<AGENTOS:RESULT task=T-1 version=2>>>\nxxxxx\nxxxxx\n<<<AGENTOS:END>>>", "T-1", 10),
            "markers.too_large");
}

TEST(ExecutorMarkers, WrongKind) {
  EXPECT_EQ(code_of("<<<AGENTOS:DRAFT task=T-1 version=2>>>\nx\n<<<AGENTOS:END>>>"), "markers.bad_kind");
  EXPECT_EQ(code_of("<<<AGENTOS:plan task=T-1 version=2>>>\nx\n<<<AGENTOS:END>>>"), "markers.malformed");
  EXPECT_EQ(code_of("<<<AGENTOS:END task=T-1 version=2>>>\nx\n<<<AGENTOS:END>>>"), "markers.malformed");
}

TEST(ExecutorMarkers, WrongTask) {
  const marker_parse p = parse("<<<AGENTOS:RESULT task=T-2 version=2>>>\nx\n<<<AGENTOS:END>>>");
  EXPECT_EQ(p.error.code, "markers.wrong_task");
  EXPECT_NE(p.error.message.find("T-2"), std::string::npos) << p.error.message;
  EXPECT_EQ(code_of("<<<AGENTOS:RESULT task=T-10 version=2>>>\nx\n<<<AGENTOS:END>>>"), "markers.wrong_task");
}

TEST(ExecutorMarkers, MarkersAreExact) {
  const std::string tail = "\nx\n<<<AGENTOS:END>>>";
  for (const std::string begin : {
           "<<<AGENTOS:RESULT task=T-1>>>",                // no version
           "<<<AGENTOS:RESULT version=2 task=T-1>>>",      // order
           "<<<AGENTOS:RESULT task=T-1 version=0>>>",      // versions start at 1
           "<<<AGENTOS:RESULT task=T-1 version=02>>>",     // leading zero
           "<<<AGENTOS:RESULT task=T-1 version=2x>>>",     // not a number
           "<<<AGENTOS:RESULT task=T-1 version=1234567890123456789>>>",  // too large
           "<<<AGENTOS:RESULT  task=T-1 version=2>>>",     // two spaces
           "<<<AGENTOS:RESULT task=T-1 version=2>>> ",     // trailing space
           "<<<AGENTOS:RESULT task=T-1 version=2",         // unterminated
           "<<<AGENTOS:RESULT task= version=2>>>",         // empty id
           "<<<AGENTOS:RESULT task=T/1 version=2>>>",      // not an id
           "<<<AGENTOS:RESULT task=T-1 version=2 extra>>>",
           "<<<AGENTOS:>>>",
           "  <<<AGENTOS:RESULT task=T-1 version=2>>>",    // indented
       })
    EXPECT_EQ(code_of(begin + tail), "markers.malformed") << begin;
  // Inside a block, anything marker-like but the exact end marker is an error, never content.
  EXPECT_EQ(code_of("<<<AGENTOS:RESULT task=T-1 version=2>>>\nx\n<<<AGENTOS:END>>> \n"), "markers.malformed");
  EXPECT_EQ(code_of("<<<AGENTOS:RESULT task=T-1 version=2>>>\nx\n <<<AGENTOS:END>>>\n<<<AGENTOS:END>>>"),
            "markers.malformed");
  EXPECT_EQ(code_of("<<<AGENTOS:RESULT task=T-1 version=2>>>\n<<<AGENTOS:NOTE>>>\n<<<AGENTOS:END>>>"),
            "markers.malformed");
}

// ---- the brief, over the shipped policy

class ExecutorBrief : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    policy = new compiled_policy(load_policy(std::filesystem::path(AGENTOS_SOURCE_DIR) / "policies" / "agent-os.policy"));
  }
  static void TearDownTestSuite() {
    delete policy;
    policy = nullptr;
  }

  static json brief(const std::string& state, const std::string& mode, const json& assignee = {{"id", "claude"}}) {
    const json record = {{"id", "T-1"},
                         {"version", 4},
                         {"task",
                          {{"id", "T-1"},
                           {"project", "web"},
                           {"labels", json::array()},
                           {"state", state},
                           {"mode", mode},
                           {"assignee", "claude"},
                           {"assignee_role", "engineer"},
                           {"attempts", 0},
                           {"entered_at", 0},
                           {"created_at", 0},
                           {"escalation_requested", false},
                           {"attributes", {{"title", "fix it"}, {"brief", "the flaky test"}, {"kind", "engineering"}}}}}};
    brief_options o;
    o.callback_url = "https://agentos.example/api/executions/callback";
    o.now = 1000;
    o.assignee = assignee;
    return execution_brief(*policy->graph, record, o);
  }

  static compiled_policy* policy;
};
compiled_policy* ExecutorBrief::policy = nullptr;

TEST_F(ExecutorBrief, TellsTheTaskTheMarkersAndTheCallback) {
  ASSERT_TRUE(policy->graph) << policy->problems;
  const json b = brief("executing", "direct");
  EXPECT_EQ(b["task"]["id"], "T-1");
  EXPECT_EQ(b["task"]["title"], "fix it");
  EXPECT_EQ(b["task"]["brief"], "the flaky test");
  EXPECT_EQ(b["task"]["project"], "web");
  EXPECT_EQ(b["task"]["mode"], "direct");
  EXPECT_EQ(b["task"]["state"], "executing");
  EXPECT_EQ(b["task"]["version"], 4);
  EXPECT_EQ(b["task"]["assignee"], "claude");
  EXPECT_EQ(b["expected_version"], 4);
  EXPECT_EQ(b["submit"]["kind"], "result");
  EXPECT_EQ(b["submit"]["event"], "submit_result");
  EXPECT_EQ(b["submit"]["now"], true);
  EXPECT_EQ(b["submit"]["allowed"], true) << b.dump(2);
  EXPECT_EQ(b["markers"]["begin"], "<<<AGENTOS:RESULT task=T-1 version=4>>>");
  EXPECT_EQ(b["markers"]["end"], "<<<AGENTOS:END>>>");
  EXPECT_EQ(b["callback"]["url"], "https://agentos.example/api/executions/callback");
  EXPECT_EQ(b["callback"]["method"], "POST");
  EXPECT_EQ(b["callback"]["signature"]["required"], false);
  // The template the brief shows is a valid write-back for this task.
  EXPECT_TRUE(parse_markers(b["markers"]["template"].get<std::string>(), "T-1", max_bytes).ok());
}

TEST_F(ExecutorBrief, PlanUntilThePlanIsApprovedThenResult) {
  struct row {
    const char* state;
    const char* mode;
    json kind;
    bool now;
    json first;
  };
  const row rows[] = {
      {"routed", "plan_first", "plan", false, "start"},
      {"planning", "plan_first", "plan", true, nullptr},
      {"plan_review", "plan_first", "plan", false, nullptr},     // waiting for the parent's review
      {"blocked", "plan_first", "plan", false, "unblock"},       // a plan-first task re-plans after a block
      {"executing", "plan_first", "result", true, nullptr},      // the plan was approved
      {"result_review", "plan_first", "result", false, nullptr},
      {"routed", "direct", "result", false, "start"},
      {"blocked", "direct", "result", false, "unblock"},
      {"executing", "direct", "result", true, nullptr},
      {"done", "direct", nullptr, false, nullptr},
      {"cancelled", "plan_first", nullptr, false, nullptr},
  };
  for (const row& r : rows) {
    const json b = brief(r.state, r.mode);
    EXPECT_EQ(b["submit"]["kind"], r.kind) << r.state << " " << r.mode << ": " << b.dump(2);
    EXPECT_EQ(b["submit"]["now"], r.now) << r.state << " " << r.mode;
    EXPECT_EQ(b["submit"]["first"], r.first) << r.state << " " << r.mode;
    EXPECT_EQ(b["markers"]["begin"].is_null(), r.kind.is_null()) << r.state << " " << r.mode;
  }
}

TEST_F(ExecutorBrief, TheDryRunSaysWhyTheAssigneeWouldBeRefused) {
  // A registered agent without the submit-result skill: the shared layer's forbid applies.
  const json b = brief("executing", "direct",
                       {{"id", "claude"}, {"role", "engineer"}, {"kind", "agent"}, {"capabilities", json::array()}});
  EXPECT_EQ(b["submit"]["now"], true);
  EXPECT_EQ(b["submit"]["allowed"], false);
  ASSERT_FALSE(b["submit"]["reasons"].empty());
  EXPECT_NE(b["submit"]["reasons"][0].get<std::string>().find("result_needs_bridge_skill"), std::string::npos)
      << b["submit"]["reasons"].dump();
}

// ---- signatures

TEST(RequestSignatures, HmacSha256MatchesRfc4231) {
  EXPECT_EQ(hmac_sha256_hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block size is hashed first.
  EXPECT_EQ(hmac_sha256_hex(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(signing_input("1700000000", "POST", "/api/executions/callback", "{}"),
            "1700000000.POST./api/executions/callback.{}");
}

class Verifier : public ::testing::Test {
 protected:
  static constexpr std::int64_t now = 1'700'000'000'000;
  static constexpr const char* secret = "claude-secret-0123456789";

  static signature_settings settings(bool required = false, std::size_t max = 100) {
    signature_settings s;
    s.secrets = {{"claude", secret}};
    s.required = required;
    s.max_remembered = max;
    return s;
  }
  static std::string sign(std::int64_t seconds, const std::string& body, const std::string& key = secret) {
    return "sha256=" + hmac_sha256_hex(key, signing_input(std::to_string(seconds), "POST", "/cb", body));
  }
  static std::optional<signature_failure> check(signature_verifier& v, std::int64_t seconds, const std::string& sig,
                                                const std::string& body, std::int64_t at = now,
                                                std::string_view actor = "claude") {
    const std::string ts = std::to_string(seconds);
    return v.check({actor, ts, sig, "POST", "/cb", body}, at);
  }
  static std::string code(const std::optional<signature_failure>& f) { return f ? f->code : "<accepted>"; }
};

TEST_F(Verifier, AcceptsAValidSignatureOnceWithinTheWindow) {
  signature_verifier v(settings());
  const std::int64_t s = now / 1000;
  EXPECT_EQ(code(check(v, s, sign(s, "a"), "a")), "<accepted>");
  const auto again = check(v, s, sign(s, "a"), "a");
  EXPECT_EQ(code(again), "auth.replayed");
  EXPECT_EQ(again->status, 409u);
  // The same signature with its hex digits in upper case is the same signature.
  std::string upper = sign(s, "a");
  for (std::size_t i = 7; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  EXPECT_EQ(code(check(v, s, upper, "a")), "auth.replayed");
  // The window's edges, both ways.
  EXPECT_EQ(code(check(v, s - 300, sign(s - 300, "b"), "b")), "<accepted>");
  EXPECT_EQ(code(check(v, s + 300, sign(s + 300, "c"), "c")), "<accepted>");
  EXPECT_EQ(code(check(v, s - 301, sign(s - 301, "d"), "d")), "auth.signature_expired");
  EXPECT_EQ(code(check(v, s + 301, sign(s + 301, "e"), "e")), "auth.signature_expired");
}

TEST_F(Verifier, RefusesTamperedWrongKeyAndMalformed) {
  signature_verifier v(settings());
  const std::int64_t s = now / 1000;
  EXPECT_EQ(code(check(v, s, sign(s, "original"), "tampered")), "auth.bad_signature");
  EXPECT_EQ(code(check(v, s, sign(s, "a", "another-secret-0123456789"), "a")), "auth.bad_signature");
  EXPECT_EQ(code(check(v, s + 1, sign(s, "a"), "a")), "auth.bad_signature");  // the timestamp is signed too
  EXPECT_EQ(code(check(v, s, sign(s, "a"), "a", now, "claude_pm")), "auth.bad_signature");  // no secret
  EXPECT_EQ(code(check(v, s, "sha256=abc", "a")), "auth.bad_signature");
  EXPECT_EQ(code(check(v, s, "md5=" + sign(s, "a").substr(7), "a")), "auth.bad_signature");
  EXPECT_EQ(code(v.check({"claude", "", sign(s, "a"), "POST", "/cb", "a"}, now)), "auth.bad_signature");
  EXPECT_EQ(code(v.check({"claude", "-5", sign(s, "a"), "POST", "/cb", "a"}, now)), "auth.bad_signature");
  EXPECT_EQ(code(v.check({"claude", std::to_string(s), "", "POST", "/cb", "a"}, now)), "auth.bad_signature");
  // Unsigned: accepted unless signatures are required.
  EXPECT_EQ(code(v.check({"claude", "", "", "POST", "/cb", "a"}, now)), "<accepted>");
  signature_verifier strict(settings(true));
  const auto unsigned_ = strict.check({"claude", "", "", "POST", "/cb", "a"}, now);
  EXPECT_EQ(code(unsigned_), "auth.signature_required");
  EXPECT_EQ(unsigned_->status, 401u);
  EXPECT_EQ(v.remembered(), 0u) << "a refused request was remembered";
}

TEST_F(Verifier, MemoryIsBoundedAndForgetsWhatExpired) {
  signature_verifier v(settings(false, 2));
  const std::int64_t s = now / 1000;
  EXPECT_EQ(code(check(v, s, sign(s, "1"), "1")), "<accepted>");
  EXPECT_EQ(code(check(v, s, sign(s, "2"), "2")), "<accepted>");
  const auto full = check(v, s, sign(s, "3"), "3");
  EXPECT_EQ(code(full), "auth.replay_memory_full");
  EXPECT_EQ(full->status, 503u);
  EXPECT_EQ(v.remembered(), 2u);
  // Once the window has passed them, the old signatures are forgotten (they would be refused as
  // expired anyway) and new ones fit.
  const std::int64_t later = now + 301'000;
  EXPECT_EQ(code(check(v, later / 1000, sign(later / 1000, "3"), "3", later)), "<accepted>");
  EXPECT_EQ(v.remembered(), 1u);
  EXPECT_EQ(code(check(v, s, sign(s, "1"), "1", later)), "auth.signature_expired");
}

TEST(RequestSignatures, SecretsFile) {
  std::string error;
  auto ok = signing_secrets_from_json(json{{"claude", "0123456789abcdef"}}, error);
  ASSERT_TRUE(ok) << error;
  EXPECT_EQ(ok->at("claude"), "0123456789abcdef");
  EXPECT_FALSE(signing_secrets_from_json(json{{"claude", "short"}}, error));
  EXPECT_NE(error.find("claude"), std::string::npos) << error;
  EXPECT_FALSE(signing_secrets_from_json(json{{"claude", 5}}, error));
  EXPECT_FALSE(signing_secrets_from_json(json::array(), error));
  EXPECT_FALSE(signing_secrets_from_json(json{{"", "0123456789abcdef"}}, error));
  EXPECT_FALSE(load_signing_secrets("/nonexistent/secrets.json", error));
}

}  // namespace
