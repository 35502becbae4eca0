// Text forms of the engine's scalar units, shared by request JSON, explanations and the CLI:
// durations ("1h30m", "500ms", "7d"), timestamps (RFC 3339 in UTC, e.g. "2025-01-31T09:30:00Z")
// and decimals ("12.50", held in millionths). Pure functions; parsing returns nullopt on
// malformed or out-of-range text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace agentos::engine {

[[nodiscard]] std::optional<std::int64_t> parse_duration(std::string_view text);
[[nodiscard]] std::string format_duration(std::int64_t ms);

// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" (also a space or `t` for `T`).
[[nodiscard]] std::optional<std::int64_t> parse_timestamp(std::string_view text);
[[nodiscard]] std::string format_timestamp(std::int64_t ms);

[[nodiscard]] std::optional<std::int64_t> parse_decimal(std::string_view text);
[[nodiscard]] std::string format_decimal(std::int64_t millionths);

}  // namespace agentos::engine
