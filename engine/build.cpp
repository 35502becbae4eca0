#include "engine/build.hpp"

#include "dsl/checker.hpp"
#include "engine/lint/lint.hpp"

namespace agentos::engine {

std::shared_ptr<const rule_graph> check_and_compile(std::optional<dsl::loaded_set> loaded,
                                                    const dsl::source_manager& sources, dsl::diagnostics& out) {
  std::unique_ptr<dsl::policy_set> set;
  if (loaded) {
    auto checked = dsl::check(std::move(*loaded), sources, out);
    if (checked.ok)
      for (auto& d : lint::run_all(*checked.set)) out.add(std::move(d));
    set = std::move(checked.set);
  }
  out.finish();
  if (!loaded || out.has_errors() || !set) return nullptr;
  return compile(std::shared_ptr<const dsl::policy_set>(std::move(set)));
}

}  // namespace agentos::engine
