// Optional HMAC-SHA256 signatures on executor callbacks (docs/api-executor.md). A signed request
// carries two headers:
//   X-Agentos-Timestamp: <unix seconds>
//   X-Agentos-Signature: sha256=<64 hex digits>
// the HMAC-SHA256, under the acting agent's secret, of `timestamp "." method "." target "." body`
// (target: the request target as sent, path and query). signature_verifier checks a request
// against the server's clock (±window), compares in constant time, and remembers every accepted
// signature until its timestamp leaves the window, so the same signed request is accepted once.
// That memory is bounded: when it is full of live signatures, signed requests are refused (503)
// rather than remembered partially. Thread safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

namespace agentos::runtime {

struct signature_settings {
  std::map<std::string, std::string, std::less<>> secrets;  // actor id -> secret
  bool required = false;                                   // an unsigned callback is refused (401)
  std::int64_t window_ms = 300'000;                        // accepted clock skew, either way
  std::size_t max_remembered = 100'000;                    // live signatures kept for replay checks
};

// The secrets from {"<actor id>": "<secret>", ...}. A secret must be at least
// min_secret_bytes long; anything malformed gives nullopt, with why in `error`.
inline constexpr std::size_t min_secret_bytes = 16;
[[nodiscard]] std::optional<std::map<std::string, std::string, std::less<>>> signing_secrets_from_json(
    const nlohmann::json& doc, std::string& error);
[[nodiscard]] std::optional<std::map<std::string, std::string, std::less<>>> load_signing_secrets(
    const std::filesystem::path& file, std::string& error);

// HMAC-SHA256 (RFC 2104) of `message` under `key`, as 64 lowercase hex digits.
[[nodiscard]] std::string hmac_sha256_hex(std::string_view key, std::string_view message);
// What is signed: timestamp "." method "." target "." body.
[[nodiscard]] std::string signing_input(std::string_view timestamp, std::string_view method, std::string_view target,
                                        std::string_view body);

struct signature_failure {
  unsigned status = 401;
  std::string code;  // auth.signature_required, auth.bad_signature, auth.signature_expired, auth.replayed, ...
  std::string message;
};

struct signed_request {
  std::string_view actor;      // the authenticated actor, whose secret signs
  std::string_view timestamp;  // the headers' values ("" when absent)
  std::string_view signature;
  std::string_view method, target, body;
};

class signature_verifier {
 public:
  explicit signature_verifier(signature_settings settings);

  // nullopt: accept (a valid, fresh, first-seen signature; or no signature when none is required).
  [[nodiscard]] std::optional<signature_failure> check(const signed_request& r, std::int64_t now_ms);
  [[nodiscard]] bool required() const { return m_settings.required; }
  // Signatures currently remembered (for tests and metrics).
  [[nodiscard]] std::size_t remembered() const;

 private:
  void forget_expired(std::int64_t now_ms);

  signature_settings m_settings;
  mutable std::mutex m_mutex;
  std::unordered_map<std::string, std::int64_t> m_seen;   // signature -> when it leaves the window
  std::set<std::pair<std::int64_t, std::string>> m_by_expiry;
};

}  // namespace agentos::runtime
