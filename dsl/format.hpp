// The canonical formatter behind `agentos fmt`: prints a parsed module back as policy text in the
// one canonical layout, keeping every comment. It promises that parse(format(x)) gives the AST
// of x (spans aside) and that format is idempotent. A pure function of its arguments; thread safe.
//
// The layout, so that a reader can predict it:
// - Header, then imports, then declarations, in source order (the grammar allows no other order).
// - Two-space indentation inside `{ }` blocks; one item per line; continuation lines are indented
//   two more spaces than their item.
// - Blank lines: never at the start or end of the file or of a block, never two in a row. There is
//   always one after the header, one between the imports and the first declaration, and one around
//   each org, task, lifecycle or routing block and each invariant printed over several lines.
//   Anywhere else a blank line is kept where the source had one (or more) and not added otherwise.
// - A rule, route, transition or agent that fits in `format_width` columns stays on one line. A
//   longer one starts a continuation line at each clause: `when`, `because`, `then`, `->` (routes
//   and escalations) and `capabilities`; a gate keeps `when` on its first line if that line fits.
//   An `on` list that does not fit beside the rule's name moves to its own line and fills lines of
//   events; so do `states` and `terminal` lists. A `when` line that is still too long puts each
//   operand of its top-level `and`/`or` chain on its own line (`   and x`, the operator's last
//   letter under the last letter of `when`); expressions never break elsewhere. An invariant is one
//   line (`invariant n { reachable done }`) unless it has a `when` condition, holds a comment, or
//   is too long.
// - Single spaces around operators and after commas, `{ a, b }` with inner spaces (`{}` empty),
//   and parentheses where precedence needs them, plus two kept for readers: around an `and` that is
//   an operand of `or`, and around a comparison under `not`.
// - Literals: strings re-escaped (\" \\ \n \t); decimals with as few digits as the value needs but
//   at least two after the point (500.00, 0.125); durations as whole units, largest first
//   (90m -> 1h30m, 36h -> 1d12h, 500ms, 0s); ints in decimal.
// - Comments come from module.comments (doc comments too; a declaration's `doc` field is not
//   printed). A comment on its own line stays on its own line, before the first node that follows
//   it; a comment that shares a source line with the end of the node before it stays at the end of
//   that line. A comment inside an item forces a line break after it. Trailing whitespace is
//   removed from line comments; block comments are printed verbatim.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dsl/ast.hpp"
#include "dsl/source.hpp"

namespace agentos::dsl {

// Lines longer than this (in bytes) make a rule wrap; see the layout above.
inline constexpr std::size_t format_width = 100;

// Formats a module parsed from `src`. The module should have parsed without errors: text that
// failed to parse is missing from its AST and would be lost.
[[nodiscard]] std::string format_module(const ast::module& module, const source& src);

// Canonical spellings of literals, as the formatter prints them.
[[nodiscard]] std::string format_string_literal(std::string_view value);  // with quotes
[[nodiscard]] std::string format_decimal(std::int64_t millionths);
[[nodiscard]] std::string format_duration(std::int64_t milliseconds);

}  // namespace agentos::dsl
