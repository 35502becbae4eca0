// Parses one policy file into an AST. Syntax errors become diagnostics (never exceptions); the
// parser recovers at the next declaration or block item, so one run reports every independent
// error. Input size and expression nesting are bounded (see parse_limits). Thread safe: no
// shared state.
#pragma once

#include <cstddef>

#include "dsl/ast.hpp"
#include "dsl/diagnostic.hpp"
#include "dsl/source.hpp"

namespace agentos::dsl {

struct parse_limits {
  std::size_t max_bytes = 8u << 20;        // 8 MiB per file
  std::size_t max_chain = 1000;            // operands in one and/or chain
};

// Parses `src` (registered as `id`). The returned module is complete for well-formed input and
// holds everything that could be recovered otherwise; `out` receives the diagnostics.
[[nodiscard]] ast::module parse(const source& src, file_id id, diagnostics& out, const parse_limits& limits = {});

}  // namespace agentos::dsl
