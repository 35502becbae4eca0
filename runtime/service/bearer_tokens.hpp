// The bearer tokens the service accepts, each owned by one actor (an agent or operator id). Only
// the SHA-256 of each token is kept in memory, and a presented token is hashed before it is
// looked up, so a dump of the process does not give the tokens away. Immutable once built: safe
// to read from any number of threads.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace agentos::runtime {

class bearer_tokens {
 public:
  // From {"<token>": "<actor id>", ...}. A malformed document (not an object, an empty token, a
  // token with a blank, a comma or a control character, an actor that is not a non-empty string)
  // gives nullopt, with why in `error`.
  static std::optional<bearer_tokens> from_json(const nlohmann::json& doc, std::string& error);
  // Reads and parses a tokens file (the same JSON object).
  static std::optional<bearer_tokens> load(const std::filesystem::path& file, std::string& error);

  void add(std::string_view token, std::string actor);
  // The owner of `token`, or nullopt for an unknown one.
  [[nodiscard]] std::optional<std::string> owner(std::string_view token) const;
  [[nodiscard]] std::size_t size() const { return m_owners.size(); }

 private:
  std::unordered_map<std::string, std::string> m_owners;  // sha256 hex of the token -> actor id
};

}  // namespace agentos::runtime
