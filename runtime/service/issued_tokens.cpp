#include "runtime/service/issued_tokens.hpp"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <system_error>

#include "engine/sha256.hpp"

namespace agentos::runtime {

issued_tokens::issued_tokens(const task_store& store) : m_store(store) { (void)refresh(); }

result<void> issued_tokens::refresh() const {
  std::lock_guard serial(m_refreshing);
  auto all = m_store.tokens();
  if (!all) {
    // Fail closed: no store token is accepted until a read succeeds (the next check retries), so
    // a token revoked by the change that called this is never accepted from the old map.
    std::unique_lock lock(m_mutex);
    m_owners.clear();
    m_loaded = false;
    return std::move(all).error();
  }
  std::unordered_map<std::string, std::string> owners;
  owners.reserve(all->size());
  for (auto& t : *all) owners.emplace(std::move(t.hash), std::move(t.agent));
  std::unique_lock lock(m_mutex);
  m_owners.swap(owners);
  m_loaded = true;
  return {};
}

std::optional<std::string> issued_tokens::owner(std::string_view token) const {
  if (token.empty()) return std::nullopt;
  const std::string hash = engine::sha256_hex(token);
  bool loaded = false;
  {
    std::shared_lock lock(m_mutex);
    loaded = m_loaded;
    if (const auto it = m_owners.find(hash); it != m_owners.end()) return it->second;
  }
  // The first load failed: try again (a token must not be refused because of an old failure).
  if (!loaded && refresh()) {
    std::shared_lock lock(m_mutex);
    if (const auto it = m_owners.find(hash); it != m_owners.end()) return it->second;
  }
  return std::nullopt;
}

std::size_t issued_tokens::size() const {
  std::shared_lock lock(m_mutex);
  return m_owners.size();
}

std::string generate_token() {
  std::array<unsigned char, 32> bytes{};
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    got += static_cast<std::size_t>(n);
  }
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out = "aos_";
  std::uint32_t acc = 0;
  int bits = 0;
  for (const unsigned char b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(acc >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += alphabet[(acc << (6 - bits)) & 0x3f];
  return out;
}

}  // namespace agentos::runtime
