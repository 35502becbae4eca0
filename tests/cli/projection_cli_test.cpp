// `agentos projection check` without a Paperclip: its usage errors, a store that was never
// projected (reported without asking Paperclip), and servers that cannot be reached. The checks
// against a real Paperclip are in tests/paperclip/reconciler_test.cpp.
#include <nlohmann/json.hpp>

#include "cli_fixture.hpp"

namespace {

using agentos::testing::run_result;
using nlohmann::json;

const std::string policy = std::string(AGENTOS_SOURCE_DIR) + "/policies/agent-os.policy";

class projection_cli : public agentos::testing::agentos_cli_test {
 protected:
  run_result run(const std::vector<std::string>& args) { return run_agentos(args, "", "env -u AGENTOS_ACTOR"); }
};

TEST_F(projection_cli, help_names_both_ways_and_the_exit_codes) {
  const run_result r = run({"projection", "check", "--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* s : {"--data", "--paperclip", "--url", "--token", "--format", "Exit status: 0", "1 when there is drift"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
}

TEST_F(projection_cli, one_way_to_the_store_exactly) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"projection", "check"},
           {"projection", "check", "--data", "var"},
           {"projection", "check", "--url", "http://127.0.0.1:9"},
           {"projection", "check", "--data", "var", "--paperclip", "http://127.0.0.1:9", "--url", "http://127.0.0.1:9",
            "--token", "t"},
           {"projection", "check", "--data", "var", "--paperclip", "http://127.0.0.1:9", "--format", "yaml"},
           {"projection", "check", "--data", "var", "--paperclip", "ftp://127.0.0.1:9"}}) {
    const run_result r = run(args);
    EXPECT_EQ(r.code, 2) << args.size() << ": " << r.err;
    EXPECT_NE(r.err.find("error["), std::string::npos) << r.err;
  }
}

TEST_F(projection_cli, a_store_never_projected_has_no_company) {
  ASSERT_EQ(run({"task", "create", "--policy", policy, "--actor", "openclaw", "--set", "title=x"}).code, 0);
  const run_result text = run({"projection", "check", "--data", "var", "--paperclip", "http://127.0.0.1:9"});
  EXPECT_EQ(text.code, 1) << text.err;
  EXPECT_NE(text.out.find("drift[company.missing]"), std::string::npos) << text.out;
  const run_result j = run({"projection", "check", "--data", "var", "--paperclip", "http://127.0.0.1:9", "--format", "json"});
  EXPECT_EQ(j.code, 1) << j.err;
  const json report = json::parse(j.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << j.out;
  EXPECT_EQ(report["clean"], false);
  EXPECT_EQ(report["tasks"], 1);
  ASSERT_EQ(report["findings"].size(), 1u);
  EXPECT_EQ(report["findings"][0]["kind"], "company.missing");
}

TEST_F(projection_cli, no_store_and_no_server_are_errors) {
  const run_result none = run({"projection", "check", "--data", "nowhere", "--paperclip", "http://127.0.0.1:9"});
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("store.missing"), std::string::npos) << none.err;
  const run_result down = run({"projection", "check", "--url", "http://127.0.0.1:9", "--token", "t"});
  EXPECT_EQ(down.code, 2);
  EXPECT_NE(down.err.find("request.unreachable"), std::string::npos) << down.err;
}

}  // namespace
