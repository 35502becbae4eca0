// Decision latency of the compiled rule graph on generated policies of 10, 100, 1,000 and 10,000
// permit/forbid rules (bench/bench_policy.hpp): the allow path, a deny by forbid, a default deny
// (no permit), intake (route, gate), and — for comparison with engines that take JSON — the
// whole path from a JSON request text to a decision. Heap allocations are counted by replacing
// the global operator new in this binary; the figure is reported per decision and the binary
// refuses to run benchmarks when a prebuilt-request decision allocates.
//
//   decide_bench                      self-checks, then the benchmarks (Google Benchmark flags apply)
//   decide_bench --emit-cedar=DIR     writes DIR/<rules>/{bench.policy,policies.cedar,cases.json}
//                                     for bench/cedar/bench.mjs, then exits
//
// bench/run.sh runs both and prints the comparison table.
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_policy.hpp"
#include "dsl/checker.hpp"
#include "engine/decide.hpp"
#include "engine/graph.hpp"
#include "engine/request.hpp"
#include "engine/request_json.hpp"

// --- allocation counting ------------------------------------------------------------------------

// AddressSanitizer owns operator new; under it the counting replacement is left out and the
// allocation figures read -1 (not measured).
#if defined(__SANITIZE_ADDRESS__)
#define AGENTOS_COUNTING_NEW 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AGENTOS_COUNTING_NEW 0
#endif
#endif
#ifndef AGENTOS_COUNTING_NEW
#define AGENTOS_COUNTING_NEW 1
#endif

namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

#if AGENTOS_COUNTING_NEW
namespace {
void* counted_alloc(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* counted_aligned_alloc(std::size_t n, std::align_val_t al) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const auto a = static_cast<std::size_t>(al);
  const std::size_t size = (n + a - 1) / a * a;  // aligned_alloc wants a multiple of the alignment
  return std::aligned_alloc(a, size == 0 ? a : size);
}
}  // namespace

#if defined(__GNUC__) && !defined(__clang__)
// GCC cannot see that the replaced new and delete below pair malloc with free.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void* operator new(std::size_t n, std::align_val_t al) {
  if (void* p = counted_aligned_alloc(n, al)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t al) {
  if (void* p = counted_aligned_alloc(n, al)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#endif

namespace {

namespace fs = std::filesystem;
using namespace agentos;
using bench::bench_case;

constexpr std::size_t rule_counts[] = {10, 100, 1'000, 10'000};
constexpr std::size_t sample_size = 400;
constexpr std::uint64_t sample_seed = 20240607;

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "decide_bench: FAILED: %s\n", message.c_str());
  std::exit(1);
}

std::int32_t must(std::int32_t index, std::string_view what, std::string_view name) {
  if (index < 0) fail("the generated policy has no " + std::string(what) + " `" + std::string(name) + "`");
  return index;
}

std::int32_t index_in(std::string_view value, std::initializer_list<std::string_view> members) {
  std::int32_t i = 0;
  for (std::string_view m : members) {
    if (m == value) return i;
    ++i;
  }
  fail("unknown member `" + std::string(value) + "`");
}

// The request built directly through the request API: what a service does once per decision
// when it already holds the task and the actor in memory.
engine::request make_request(const engine::rule_graph& g, const bench_case& c) {
  engine::request r(g);
  r.set_id("T-1");
  r.set_state(must(g.find_state(c.state), "state", c.state));
  r.set_event(must(g.find_event(c.event), "event", c.event));
  const std::vector<std::string_view> labels(c.labels.begin(), c.labels.end());
  r.set_labels(labels);
  if (!c.assignee.empty()) r.set_assignee(c.assignee);
  r.set_actor(c.actor_id, must(g.find_role(c.actor_role), "role", c.actor_role),
              index_in(c.actor_kind, {"agent", "human", "operator"}));
  r.set_attribute(must(g.find_attribute("priority"), "attribute", "priority"), c.priority);
  r.set_attribute(must(g.find_attribute("risk"), "attribute", "risk"),
                  std::int64_t{index_in(c.risk, {"low", "medium", "high"})});
  r.set_attribute(must(g.find_attribute("budget"), "attribute", "budget"), c.budget_cents * 10'000);
  r.set_now(0);
  return r;
}

engine::request request_from_text(const engine::rule_graph& g, const std::string& text) {
  auto built = engine::request_from_json(nlohmann::json::parse(text), g);
  if (!built.ok()) {
    std::string why;
    for (const auto& e : built.errors) why += " " + e.pointer + ": " + e.message + ";";
    fail("request_from_json refused a generated request:" + why);
  }
  return std::move(*built.value);
}

struct fixture {
  bench::bench_policy policy;
  std::unique_ptr<dsl::source_manager> sources = std::make_unique<dsl::source_manager>();
  std::shared_ptr<const engine::rule_graph> graph;
  double check_ms = 0;
  double compile_ms = 0;
  std::optional<engine::request> allow, deny_forbid, deny_no_permit, intake;
  std::string allow_json, deny_forbid_json, deny_no_permit_json;
};

std::unique_ptr<fixture> build_fixture(std::size_t rules) {
  auto f = std::make_unique<fixture>();
  f->policy = bench::make_bench_policy(rules);
  dsl::diagnostics diags;
  const auto t0 = std::chrono::steady_clock::now();
  auto checked = dsl::check_text("decide_bench.policy", f->policy.policy_text, *f->sources, diags);
  const auto t1 = std::chrono::steady_clock::now();
  if (!checked.ok || !checked.set) {
    std::string why;
    for (const auto& d : diags.items()) {
      if (d.level == dsl::severity::error) why += "\n  " + d.code + ": " + d.message;
    }
    fail("the generated policy of " + std::to_string(rules) + " rules does not check:" + why);
  }
  f->graph = engine::compile(std::shared_ptr<const dsl::policy_set>(std::move(checked.set)));
  const auto t2 = std::chrono::steady_clock::now();
  f->check_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  f->compile_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
  const engine::rule_graph& g = *f->graph;
  f->allow.emplace(make_request(g, f->policy.allow));
  f->deny_forbid.emplace(make_request(g, f->policy.deny_forbid));
  f->deny_no_permit.emplace(make_request(g, f->policy.deny_no_permit));
  f->intake.emplace(make_request(g, f->policy.intake));
  f->intake->set_event(-1);  // an intake request has no event
  f->allow_json = bench::agentos_json(f->policy.allow).dump();
  f->deny_forbid_json = bench::agentos_json(f->policy.deny_forbid).dump();
  f->deny_no_permit_json = bench::agentos_json(f->policy.deny_no_permit).dump();
  return f;
}

bool has_reason(const engine::decision& d, engine::deny_kind k) {
  for (const auto& r : d.reasons) {
    if (r.kind == k) return true;
  }
  return false;
}

// The benchmark's own assumptions, checked before anything is timed: each measured request takes
// the path it is named after, the JSON intake builds an equivalent request, and deciding on a
// prebuilt request allocates nothing.
void self_check(const fixture& f) {
  const engine::rule_graph& g = *f.graph;
  const std::string n = std::to_string(f.policy.rules);
  engine::decision_buffer buf(g);
  {
    const auto d = engine::decide(g, *f.allow, buf);
    if (!d.allowed || d.edge == engine::no_rule || d.matched.size() != 3) {
      fail("allow request is not allowed by the edge and two permits at " + n + " rules");
    }
  }
  {
    const auto d = engine::decide(g, *f.deny_forbid, buf);
    if (d.allowed || d.edge == engine::no_rule || !has_reason(d, engine::deny_kind::forbidden)) {
      fail("deny_forbid request is not denied by a forbid at " + n + " rules");
    }
  }
  {
    const auto d = engine::decide(g, *f.deny_no_permit, buf);
    if (d.allowed || d.edge == engine::no_rule || !has_reason(d, engine::deny_kind::no_permit) ||
        has_reason(d, engine::deny_kind::forbidden)) {
      fail("deny_no_permit request is not a default deny at " + n + " rules");
    }
  }
  for (const std::string* text : {&f.allow_json, &f.deny_forbid_json, &f.deny_no_permit_json}) {
    const engine::request r = request_from_text(g, *text);
    const engine::request& direct = text == &f.allow_json         ? *f.allow
                                    : text == &f.deny_forbid_json ? *f.deny_forbid
                                                                  : *f.deny_no_permit;
    const bool via_json = engine::decide(g, r, buf).allowed;
    if (via_json != engine::decide(g, direct, buf).allowed) fail("JSON and API requests decide differently");
  }
  {
    const auto r = engine::route(g, *f.intake, buf);
    if (!r.routed() || r.fallback || g.rule(r.rule).name != "rt15") fail("intake request does not take route rt15");
    if (engine::gate(g, *f.intake, buf).mode != engine::mode_direct) fail("a gate holds for the intake request");
  }
  const std::uint64_t before = g_allocations.load();
  int allowed = 0;
  for (int i = 0; i < 1000; ++i) {
    allowed += engine::decide(g, *f.allow, buf).allowed ? 1 : 0;
    allowed += engine::decide(g, *f.deny_forbid, buf).allowed ? 1 : 0;
    allowed += engine::decide(g, *f.deny_no_permit, buf).allowed ? 1 : 0;
    allowed += engine::route(g, *f.intake, buf).routed() ? 0 : 1;
    allowed += engine::gate(g, *f.intake, buf).mode;
  }
  const std::uint64_t allocations = g_allocations.load() - before;
  if (allowed != 1000) fail("decisions changed between runs");
  if (AGENTOS_COUNTING_NEW && allocations != 0) {
    fail(std::to_string(allocations) + " heap allocations in 5,000 decide/route/gate calls at " + n + " rules");
  }
}

// Writes what the Cedar driver needs, with agentos's decision for every request.
void emit_cedar(const fixture& f, const fs::path& root) {
  const engine::rule_graph& g = *f.graph;
  const fs::path dir = root / std::to_string(f.policy.rules);
  fs::create_directories(dir);
  std::ofstream(dir / "bench.policy", std::ios::binary) << f.policy.policy_text;
  std::ofstream(dir / "policies.cedar", std::ios::binary) << f.policy.cedar_text;
  engine::decision_buffer buf(g);
  nlohmann::json cases = nlohmann::json::array();
  std::size_t allows = 0;
  std::size_t denies = 0;
  const auto add = [&](const bench_case& c, bool measured) {
    const bool allowed = engine::decide(g, make_request(g, c), buf).allowed;
    const bool via_json = engine::decide(g, request_from_text(g, bench::agentos_json(c).dump()), buf).allowed;
    if (allowed != via_json) fail("JSON and API requests decide differently on " + c.name);
    (allowed ? allows : denies) += 1;
    cases.push_back({{"name", c.name},
                     {"measured", measured},
                     {"expect", allowed ? "allow" : "deny"},
                     {"call", bench::cedar_call(c)}});
  };
  add(f.policy.allow, true);
  add(f.policy.deny_forbid, true);
  add(f.policy.deny_no_permit, true);
  for (const bench_case& c : bench::sample_cases(f.policy, sample_seed + f.policy.rules, sample_size)) add(c, false);
  if (allows < 20 || denies < 20) fail("the sample does not exercise both outcomes");
  const nlohmann::json out = {{"rules", f.policy.rules},
                              {"buckets", f.policy.buckets},
                              {"cedar_policies", f.policy.cedar_policies},
                              {"allows", allows},
                              {"denies", denies},
                              {"cases", std::move(cases)}};
  std::ofstream(dir / "cases.json", std::ios::binary) << out.dump() << "\n";
  std::printf("%6zu rules: %zu Cedar policies, %zu cases (%zu allow, %zu deny) -> %s\n", f.policy.rules,
              f.policy.cedar_policies, allows + denies, allows, denies, dir.c_str());
}

// --- benchmarks -----------------------------------------------------------------------------------

void report(benchmark::State& state, const fixture& f, std::uint64_t allocations) {
  state.counters["allocs_per_op"] =
      AGENTOS_COUNTING_NEW
          ? static_cast<double>(allocations) / static_cast<double>(state.iterations() == 0 ? 1 : state.iterations())
          : -1.0;
  state.counters["rules"] = static_cast<double>(f.policy.rules);
}

void bm_decide(benchmark::State& state, const fixture* f, const engine::request* req, bool expect) {
  const engine::rule_graph& g = *f->graph;
  engine::decision_buffer buf(g);
  if (engine::decide(g, *req, buf).allowed != expect) state.SkipWithError("unexpected decision");
  const std::uint64_t before = g_allocations.load();
  for (auto _ : state) {
    const engine::decision d = engine::decide(g, *req, buf);
    benchmark::DoNotOptimize(d);
  }
  report(state, *f, g_allocations.load() - before);
}

// JSON text → parsed JSON → request → decision: the whole intake of `agentos eval` minus I/O.
void bm_decide_json(benchmark::State& state, const fixture* f, const std::string* text, bool expect) {
  const engine::rule_graph& g = *f->graph;
  engine::decision_buffer buf(g);
  if (engine::decide(g, request_from_text(g, *text), buf).allowed != expect) state.SkipWithError("unexpected decision");
  const std::uint64_t before = g_allocations.load();
  for (auto _ : state) {
    auto built = engine::request_from_json(nlohmann::json::parse(*text), g);
    const engine::decision d = engine::decide(g, *built.value, buf);
    benchmark::DoNotOptimize(d);
  }
  report(state, *f, g_allocations.load() - before);
}

void bm_route(benchmark::State& state, const fixture* f) {
  const engine::rule_graph& g = *f->graph;
  engine::decision_buffer buf(g);
  const std::uint64_t before = g_allocations.load();
  for (auto _ : state) {
    const engine::route_result r = engine::route(g, *f->intake, buf);
    benchmark::DoNotOptimize(r);
  }
  report(state, *f, g_allocations.load() - before);
}

void bm_gate(benchmark::State& state, const fixture* f) {
  const engine::rule_graph& g = *f->graph;
  engine::decision_buffer buf(g);
  const std::uint64_t before = g_allocations.load();
  for (auto _ : state) {
    const engine::gate_result r = engine::gate(g, *f->intake, buf);
    benchmark::DoNotOptimize(r);
  }
  report(state, *f, g_allocations.load() - before);
}

template <typename Fn, typename... Args>
void add(const std::string& name, Fn fn, Args... args) {
  benchmark::RegisterBenchmark(name.c_str(), fn, args...)
      ->Unit(benchmark::kNanosecond)
      ->MinTime(0.1)
      ->Repetitions(9)
      ->ReportAggregatesOnly(true);
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<fs::path> emit_dir;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a.starts_with("--emit-cedar=")) {
      emit_dir = fs::path(std::string(a.substr(std::string_view("--emit-cedar=").size())));
    } else {
      args.push_back(argv[i]);
    }
  }

  std::vector<std::unique_ptr<fixture>> fixtures;
  for (std::size_t rules : rule_counts) {
    fixtures.push_back(build_fixture(rules));
    const fixture& f = *fixtures.back();
    self_check(f);
    std::fprintf(stderr, "decide_bench: %zu rules: %d states, %d events; check %.1f ms, compile %.1f ms; self-check ok\n",
                 f.policy.rules, f.graph->state_count(), f.graph->event_count(), f.check_ms, f.compile_ms);
  }
  if (emit_dir) {
    for (const auto& f : fixtures) emit_cedar(*f, *emit_dir);
    return 0;
  }

  for (const auto& fp : fixtures) {
    const fixture* f = fp.get();
    const std::string n = "/" + std::to_string(f->policy.rules);
    add("BM_decide_allow" + n, bm_decide, f, &*f->allow, true);
    add("BM_decide_deny_forbid" + n, bm_decide, f, &*f->deny_forbid, false);
    add("BM_decide_deny_no_permit" + n, bm_decide, f, &*f->deny_no_permit, false);
    add("BM_decide_json_allow" + n, bm_decide_json, f, &f->allow_json, true);
    add("BM_decide_json_deny_forbid" + n, bm_decide_json, f, &f->deny_forbid_json, false);
    add("BM_decide_json_deny_no_permit" + n, bm_decide_json, f, &f->deny_no_permit_json, false);
    add("BM_route" + n, bm_route, f);
    add("BM_gate" + n, bm_gate, f);
  }
  int bench_argc = static_cast<int>(args.size());
  benchmark::Initialize(&bench_argc, args.data());
  if (benchmark::ReportUnrecognizedArguments(bench_argc, args.data())) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
