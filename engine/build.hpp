// From loaded policy files to a rule graph, judged exactly as `agentos check` judges them: the
// checker, then the graph lints, then compile() when nothing is an error. Every caller that runs a
// policy (the CLI's eval/test/graph, the runtime's store) goes through here.
#pragma once

#include <memory>
#include <optional>

#include "dsl/diagnostic.hpp"
#include "dsl/loader.hpp"
#include "engine/graph.hpp"

namespace agentos::engine {

// Null when `loaded` is empty (the entry could not be read: already reported by the loader) or
// when any diagnostic is an error. Diagnostics (warnings included) are in `out`, finished.
[[nodiscard]] std::shared_ptr<const rule_graph> check_and_compile(std::optional<dsl::loaded_set> loaded,
                                                                  const dsl::source_manager& sources,
                                                                  dsl::diagnostics& out);

}  // namespace agentos::engine
