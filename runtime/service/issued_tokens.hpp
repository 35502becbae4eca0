// The bearer tokens the store has issued (POST /api/agents, POST /api/agents/{id}/token), as the
// API checks them: an in-memory map from a token's SHA-256 to its agent, read under a shared lock,
// so a check costs one hash and one lookup however many requests run at once. The store is the
// truth (table `tokens`, kept only as hashes, so issued tokens survive a restart); refresh()
// re-reads it and is called after every change the API makes, before the change is answered, so
// a revoked token is refused from then on. Thread safe.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "runtime/service/store.hpp"

namespace agentos::runtime {

class issued_tokens {
 public:
  // Loads the store's tokens (a failure is retried by the next check).
  explicit issued_tokens(const task_store& store);
  issued_tokens(const issued_tokens&) = delete;
  issued_tokens& operator=(const issued_tokens&) = delete;

  // The agent `token` was issued to, or nullopt (unknown, revoked, or empty).
  [[nodiscard]] std::optional<std::string> owner(std::string_view token) const;
  // Re-reads the store. Refreshes are serialised, so a later one never installs an older view.
  // A failed read empties the map (fail closed) and the next check retries.
  result<void> refresh() const;
  [[nodiscard]] std::size_t size() const;

 private:
  const task_store& m_store;
  mutable std::mutex m_refreshing;
  mutable std::shared_mutex m_mutex;  // guards m_owners and m_loaded
  mutable std::unordered_map<std::string, std::string> m_owners;  // sha256 hex -> agent id
  mutable bool m_loaded = false;
};

// A new bearer token: "aos_" and 32 bytes from the kernel's CSPRNG (getrandom), base64url.
// Throws std::system_error when the kernel has no randomness to give (never expected).
[[nodiscard]] std::string generate_token();

}  // namespace agentos::runtime
