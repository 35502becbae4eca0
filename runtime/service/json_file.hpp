// Reading a small JSON configuration file (tokens, signing secrets) whole, with one wording for
// the two ways that fails.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace agentos::runtime {

// The parsed document, or nullopt with "cannot read FILE" / "FILE is not valid JSON" in `error`.
[[nodiscard]] std::optional<nlohmann::json> read_json_file(const std::filesystem::path& file, std::string& error);

}  // namespace agentos::runtime
