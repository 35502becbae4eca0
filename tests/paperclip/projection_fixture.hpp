// What the projector and reconciler tests share: a real store (LMDB, the shipped policy) in a
// temporary directory, a client of the real Paperclip the suite started, and the few steps every
// test takes on them (create a task, move it as an agent, read its mapping and its issue).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "../runtime/temp_dir.hpp"
#include "paperclip_env.hpp"
#include "runtime/projection/mapping.hpp"
#include "runtime/projection/paperclip_client.hpp"
#include "runtime/projection/projector.hpp"
#include "runtime/service/store.hpp"

namespace agentos::runtime::projection {

inline constexpr std::int64_t t0 = 1'767'225'600'000;

// `j[key]` when it is a string, else "".
inline std::string str(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

class projection_test : public ::testing::Test {
 protected:
  // Connects `client` to the suite's Paperclip, opens `store`, and names the company after the
  // test (`prefix` + the test's name), so tests sharing one server never see each other's issues.
  void set_up(const std::string& prefix) {
    ASSERT_TRUE(::agentos::testing::paperclip_server::get().up());
    std::string error;
    auto parsed = parse_base_url(::agentos::testing::paperclip_server::get().url(), error);
    ASSERT_TRUE(parsed) << error;
    url = *parsed;
    client = std::make_unique<paperclip_client>(url);
    open_store();
    options.company_name = prefix + " " + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    options.executor_url = "http://127.0.0.1:9/wake";
    options.public_url = "http://127.0.0.1:8080";
  }

  void open_store() {
    auto policy = load_policy(std::filesystem::path(AGENTOS_SOURCE_DIR) / "policies" / "agent-os.policy");
    ASSERT_TRUE(policy.graph) << policy.problems;
    auto s = task_store::open(dir.path() / "data", std::move(policy));
    ASSERT_TRUE(s) << s.error().message;
    store = std::move(*s);
  }

  // Pauses every agent of the company: a paused agent gets no runs, so Paperclip moves no issue
  // by itself while a test looks at what agentos wrote.
  void pause_all(const std::string& cid) {
    auto agents = client->list_agents(cid);
    ASSERT_TRUE(agents);
    for (const auto& a : *agents) ASSERT_TRUE(client->call("POST", "/agents/" + str(a, "id") + "/pause"));
  }

  std::string create(json task) {
    create_op op;
    op.task = std::move(task);
    op.actor = {{"id", "openclaw"}};
    op.now = t0;
    const outcome o = store->apply(op);
    EXPECT_EQ(o.status, outcome_status::applied) << o.message;
    return o.body["task"]["id"];
  }
  void move(const std::string& id, const std::string& event, const std::string& who,
            std::optional<artifact_input> artifact = std::nullopt) {
    transition_op op;
    op.task_id = id;
    op.event = event;
    op.actor = {{"id", who}};
    op.now = t0 + (++clock);
    op.artifact = std::move(artifact);
    const outcome o = store->apply(op);
    ASSERT_EQ(o.status, outcome_status::applied) << event << ": " << o.message;
  }
  // The task's mapping, nullopt when it has none.
  std::optional<task_mapping> find_mapping(const std::string& task) {
    std::optional<task_mapping> out;
    EXPECT_TRUE(mapping::read(*store, [&](kv::reader& r) -> result<void> {
      auto m = mapping::read_task(r, task);
      if (!m) return std::move(m).error();
      out = *m;
      return {};
    }));
    return out;
  }
  json issue(const std::string& id) {
    auto i = client->get_issue(id);
    EXPECT_TRUE(i && *i);
    return i && *i ? **i : json();
  }

  ::agentos::testing::temp_dir dir{"agentos-projection"};
  base_url url;
  std::unique_ptr<paperclip_client> client;
  std::unique_ptr<task_store> store;
  projector_options options;
  std::int64_t clock = 0;
};

}  // namespace agentos::runtime::projection
