#include "runtime/service/bearer_tokens.hpp"

#include "engine/sha256.hpp"
#include "runtime/service/json_file.hpp"

namespace agentos::runtime {

std::optional<bearer_tokens> bearer_tokens::from_json(const nlohmann::json& doc, std::string& error) {
  if (!doc.is_object()) {
    error = "expected a JSON object {\"<token>\": \"<actor id>\", ...}";
    return std::nullopt;
  }
  bearer_tokens out;
  for (const auto& [token, actor] : doc.items()) {
    if (token.empty()) {
      error = "an empty token";
      return std::nullopt;
    }
    // `Authorization: Bearer <token>` carries one token: blanks, commas and control characters
    // cannot be presented (the API refuses such a header), so such a token could never be used.
    for (const char c : token) {
      if (c == ' ' || c == ',' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        error = "a token with a blank, a comma or a control character (it could not be presented)";
        return std::nullopt;
      }
    }
    if (!actor.is_string() || actor.get<std::string>().empty()) {
      error = "the owner of a token must be a non-empty actor id";
      return std::nullopt;
    }
    out.add(token, actor.get<std::string>());
  }
  return out;
}

std::optional<bearer_tokens> bearer_tokens::load(const std::filesystem::path& file, std::string& error) {
  const auto doc = read_json_file(file, error);
  if (!doc) return std::nullopt;
  auto tokens = from_json(*doc, error);
  if (!tokens) error = file.string() + ": " + error;
  return tokens;
}

void bearer_tokens::add(std::string_view token, std::string actor) {
  m_owners[engine::sha256_hex(token)] = std::move(actor);
}

std::optional<std::string> bearer_tokens::owner(std::string_view token) const {
  if (token.empty()) return std::nullopt;
  const auto it = m_owners.find(engine::sha256_hex(token));
  if (it == m_owners.end()) return std::nullopt;
  return it->second;
}

}  // namespace agentos::runtime
