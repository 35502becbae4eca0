// Loading a policy for the commands that run it (eval, test, graph): read the entry file and its
// imports, check them, run the graph lints and compile the rule graph, exactly as `agentos check`
// would judge the policy. A policy with errors is never compiled: its diagnostics (warnings
// included, so the errors read in context) are printed to stderr. A clean policy prints nothing.
// The loader owns the sources, so explanations can locate rules as file:line:col for as long as
// it lives, and it caches by canonical path, so a policy that many test files share is loaded
// once. Not thread safe.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "dsl/source.hpp"
#include "engine/graph.hpp"

namespace agentos::cli {

struct loaded_policy {
  std::shared_ptr<const engine::rule_graph> graph;  // null when the policy could not be used
  int exit_code = 0;  // 0 when `graph` is set; 1 when the policy has errors; 2 when it is unreadable
  std::string problem;  // one line for a caller that reports on its own ("3 errors", "no such file")
};

class policy_loader {
 public:
  // Loads (or returns the cached result for) the policy whose entry file is `path`. The result
  // for a missing file is valid only until the next call.
  const loaded_policy& load(const std::filesystem::path& path);

  [[nodiscard]] const dsl::source_manager& sources() const { return m_sources; }

 private:
  dsl::source_manager m_sources;
  loaded_policy m_missing;
  std::map<std::string, loaded_policy> m_cache;  // by canonical path
};

}  // namespace agentos::cli
