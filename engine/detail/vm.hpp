// The bytecode interpreter. run() evaluates one program against one request; it allocates
// nothing: the stack and the set-literal scratch live in a vm_scratch the caller owns and sizes
// once per graph with fit().
#pragma once

#include <cstdint>
#include <vector>

#include "engine/bytecode.hpp"
#include "engine/value.hpp"

namespace agentos::engine {
class rule_graph;
class request;
}  // namespace agentos::engine

namespace agentos::engine::detail {

struct vm_scratch {
  std::vector<value> stack;
  std::vector<text> texts;
  std::vector<std::int64_t> scalars;
  // Grows the scratch to what `graph`'s deepest program needs; a no-op once it has.
  void fit(const rule_graph& graph);
};

// The truth of program `p` for request `r`. Precondition: r was built for a graph with g's
// version (decide() checks it) and `s` has been fitted to g.
[[nodiscard]] bool run(const rule_graph& g, program p, const request& r, vm_scratch& s);

// One comparison with the engine's semantics (value.hpp): shared by the VM and constant folding.
[[nodiscard]] bool compare(const rule_graph& g, cmp_op op, const value& l, const value& r);

// int → decimal millionths, saturating so an absurd int cannot wrap around.
[[nodiscard]] inline std::int64_t scale_to_decimal(std::int64_t v) {
  std::int64_t out = 0;
  if (__builtin_mul_overflow(v, std::int64_t{1'000'000}, &out)) {
    return v < 0 ? INT64_MIN : INT64_MAX;
  }
  return out;
}

}  // namespace agentos::engine::detail
