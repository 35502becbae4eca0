#include "runtime/service/request_signatures.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <stdexcept>

#include "runtime/service/json_file.hpp"

namespace agentos::runtime {

namespace {

using secret_map = std::map<std::string, std::string, std::less<>>;

std::array<unsigned char, 32> hmac_sha256(std::string_view key, std::string_view message) {
  std::array<unsigned char, 32> out{};
  std::size_t n = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), out.size(),
                &n) == nullptr ||
      n != out.size())
    throw std::runtime_error("HMAC-SHA256: libcrypto failed");
  return out;
}

std::string to_hex(const std::array<unsigned char, 32>& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0xf]);
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "sha256=<64 hex digits>" into 32 bytes.
std::optional<std::array<unsigned char, 32>> parse_signature(std::string_view header) {
  constexpr std::string_view scheme = "sha256=";
  if (header.substr(0, scheme.size()) != scheme || header.size() != scheme.size() + 64) return std::nullopt;
  std::array<unsigned char, 32> out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(header[scheme.size() + 2 * i]), lo = hex_value(header[scheme.size() + 2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return out;
}

// Unix seconds: 1 to 12 digits (no sign, no leading zero), so the arithmetic below cannot overflow.
std::optional<std::int64_t> parse_timestamp(std::string_view s) {
  if (s.empty() || s.size() > 12 || s[0] == '0') return std::nullopt;
  std::int64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

signature_failure refuse(unsigned status, std::string code, std::string message) {
  return {status, std::move(code), std::move(message)};
}

}  // namespace

std::optional<secret_map> signing_secrets_from_json(const nlohmann::json& doc, std::string& error) {
  if (!doc.is_object()) {
    error = "expected a JSON object {\"<actor id>\": \"<secret>\", ...}";
    return std::nullopt;
  }
  secret_map out;
  for (const auto& [actor, secret] : doc.items()) {
    if (actor.empty()) {
      error = "an empty actor id";
      return std::nullopt;
    }
    if (!secret.is_string() || secret.get<std::string>().size() < min_secret_bytes) {
      error = "the secret of `" + actor + "` must be a string of at least " + std::to_string(min_secret_bytes) +
              " bytes";
      return std::nullopt;
    }
    out.emplace(actor, secret.get<std::string>());
  }
  return out;
}

std::optional<secret_map> load_signing_secrets(const std::filesystem::path& file, std::string& error) {
  const auto doc = read_json_file(file, error);
  if (!doc) return std::nullopt;
  auto secrets = signing_secrets_from_json(*doc, error);
  if (!secrets) error = file.string() + ": " + error;
  return secrets;
}

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
  return to_hex(hmac_sha256(key, message));
}

std::string signing_input(std::string_view timestamp, std::string_view method, std::string_view target,
                          std::string_view body) {
  std::string out;
  out.reserve(timestamp.size() + method.size() + target.size() + body.size() + 3);
  out.append(timestamp).append(".").append(method).append(".").append(target).append(".").append(body);
  return out;
}

signature_verifier::signature_verifier(signature_settings settings) : m_settings(std::move(settings)) {}

std::optional<signature_failure> signature_verifier::check(const signed_request& r, std::int64_t now_ms) {
  if (r.timestamp.empty() && r.signature.empty()) {
    if (!m_settings.required) return std::nullopt;
    return refuse(401, "auth.signature_required",
                  "this server requires signed callbacks: send X-Agentos-Timestamp and X-Agentos-Signature");
  }
  const auto ts = parse_timestamp(r.timestamp);
  if (!ts)
    return refuse(401, "auth.bad_signature",
                  r.timestamp.empty() ? "X-Agentos-Signature without X-Agentos-Timestamp"
                                      : "X-Agentos-Timestamp must be unix seconds (digits only)");
  const auto given = parse_signature(r.signature);
  if (!given)
    return refuse(401, "auth.bad_signature", "X-Agentos-Signature must be `sha256=` and 64 hex digits");
  const auto secret = m_settings.secrets.find(r.actor);
  if (secret == m_settings.secrets.end())
    return refuse(401, "auth.bad_signature", "no signing secret is configured for `" + std::string(r.actor) + "`");
  const auto expected = hmac_sha256(secret->second, signing_input(r.timestamp, r.method, r.target, r.body));
  if (CRYPTO_memcmp(expected.data(), given->data(), expected.size()) != 0)
    return refuse(401, "auth.bad_signature", "the signature does not match the request");

  const std::int64_t at_ms = *ts * 1000;
  if (at_ms < now_ms - m_settings.window_ms || at_ms > now_ms + m_settings.window_ms)
    return refuse(401, "auth.signature_expired",
                  "the timestamp is more than " + std::to_string(m_settings.window_ms / 1000) +
                      " s away from the server's clock (" + std::to_string(now_ms / 1000) + ")");

  // A signature is only accepted inside its window, so it needs remembering until the window
  // has passed it, and no longer. Keyed by the signature's bytes (hex digits in either case are
  // one signature).
  std::string key(r.actor);
  key.push_back(' ');
  key.append(to_hex(expected));
  std::lock_guard lock(m_mutex);
  forget_expired(now_ms);
  if (m_seen.count(key) != 0)
    return refuse(409, "auth.replayed", "this signed request was already accepted; sign each request afresh");
  if (m_seen.size() >= m_settings.max_remembered)
    return refuse(503, "auth.replay_memory_full",
                  "too many signed requests in the window to remember them all; retry shortly");
  const std::int64_t expires = at_ms + m_settings.window_ms;
  m_seen.emplace(key, expires);
  m_by_expiry.emplace(expires, std::move(key));
  return std::nullopt;
}

void signature_verifier::forget_expired(std::int64_t now_ms) {
  while (!m_by_expiry.empty() && m_by_expiry.begin()->first < now_ms) {
    m_seen.erase(m_by_expiry.begin()->second);
    m_by_expiry.erase(m_by_expiry.begin());
  }
}

std::size_t signature_verifier::remembered() const {
  std::lock_guard lock(m_mutex);
  return m_seen.size();
}

}  // namespace agentos::runtime
