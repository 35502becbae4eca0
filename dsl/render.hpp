// Renderers that turn diagnostics into human text (rustc/clang style), JSON or SARIF 2.1.0. They
// read source text only through the source_manager (never from disk), are pure functions of their
// arguments, and always return complete output ending in a newline (empty text for no diagnostics).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/diagnostic.hpp"
#include "dsl/source.hpp"

namespace agentos::dsl {

enum class output_format { text, json, sarif };

// "text", "json" or "sarif" (exactly, as typed on the command line); nullopt for anything else.
[[nodiscard]] std::optional<output_format> parse_output_format(std::string_view name);

struct render_options {
  bool color = false;  // ANSI colours; the caller decides (e.g. only when stderr is a terminal)
};

// `file:line:col: error[E3003]: message`, then the source lines in a gutter with `^~~` under the
// primary span and `---` under secondary labels, then `= note:` / `= help:` lines. Columns in the
// header are 1-based bytes. Tabs, control bytes and invalid UTF-8 in a source line are shown as
// one column each (a space or `?`) so the output stays valid text and carets line up.
[[nodiscard]] std::string render_text(const std::vector<diagnostic>& items, const source_manager& sources,
                                      const render_options& options = {});

// {"version":1, "diagnostics":[...], "summary":{...}}, indented by 2. Lines and columns are 1-based,
// columns and offsets count bytes, ends are exclusive; a position that has no file is null.
[[nodiscard]] std::string render_json(const std::vector<diagnostic>& items, const source_manager& sources);

// One SARIF 2.1.0 log with one run whose rules are every code in codes.hpp (plus any unknown code
// seen, so ruleIndex is always valid). Regions count Unicode code points (run.columnKind says so);
// byteOffset/byteLength give the exact bytes.
[[nodiscard]] std::string render_sarif(const std::vector<diagnostic>& items, const source_manager& sources,
                                       std::string_view tool_version);

// "2 errors, 1 warning", "1 note", or "no problems" when there is nothing; zero counts are left out.
[[nodiscard]] std::string render_summary(const std::vector<diagnostic>& items);

}  // namespace agentos::dsl
