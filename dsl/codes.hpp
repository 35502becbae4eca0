// The table of every diagnostic code the toolchain can emit. Codes are stable: a code is never
// reused for a different problem. Warnings (and lints) have a name used by --allow/--deny.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "dsl/diagnostic.hpp"

namespace agentos::dsl {

struct code_info {
  std::string_view code;
  std::string_view name;  // kebab-case, used on the command line and in SARIF rule names
  severity default_level;
  std::string_view summary;
};

[[nodiscard]] std::span<const code_info> all_codes();
[[nodiscard]] std::optional<code_info> find_code(std::string_view code_or_name);

}  // namespace agentos::dsl
