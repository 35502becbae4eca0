// How long `agentos check` takes on a large policy set: a generated set of 10,000 named rules
// across 20 files (global, shared and project layers), written to a temporary directory and
// checked through the same pipeline as the CLI — read, parse, resolve imports, check, lint.
// Smaller sets show how the cost scales. Run: build/bench/check_bench
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>

#include "dsl/checker.hpp"
#include "dsl/loader.hpp"
#include "engine/lint/lint.hpp"
#include "tests/dsl/policy_gen.hpp"

namespace {

namespace fs = std::filesystem;
using namespace agentos;

fs::path write_set(std::size_t files, std::size_t rules) {
  const fs::path dir = fs::temp_directory_path() / ("agentos-check-bench-" + std::to_string(files) + "-" + std::to_string(rules));
  fs::remove_all(dir);
  for (const auto& [name, text] : dsl::gen::generate_policy_set(42, files, rules)) {
    const fs::path p = dir / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
  return dir;
}

void check_set(benchmark::State& state) {
  const auto files = static_cast<std::size_t>(state.range(0));
  const auto rules = static_cast<std::size_t>(state.range(1));
  const fs::path dir = write_set(files, rules);
  const fs::path entry = dir / std::string(dsl::gen::entry_file);
  std::size_t bytes = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) bytes += e.file_size();
  }
  for (auto _ : state) {
    dsl::source_manager sources;
    dsl::diagnostics diags;
    dsl::disk_files disk;
    dsl::workspace ws(sources, diags, disk);
    auto loaded = ws.load(entry);
    auto result = dsl::check(std::move(*loaded), sources, diags);
    if (!result.ok) {
      state.SkipWithError("the generated policy set does not check clean");
      break;
    }
    auto lints = engine::lint::run_all(*result.set);
    benchmark::DoNotOptimize(lints);
    state.counters["rules"] = static_cast<double>(result.set->permissions.size() + result.set->routes.size() +
                                                  result.set->gates.size() + result.set->escalations.size() +
                                                  result.set->obligations.size() + result.set->invariants.size());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["files"] = static_cast<double>(files);
  fs::remove_all(dir);
}

BENCHMARK(check_set)->Args({1, 100})->Args({5, 1000})->Args({20, 10000})->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
