#include "engine/sha256.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace agentos::engine {

namespace {

const EVP_MD* digest() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) throw std::runtime_error("libcrypto has no SHA-256");
  return md;
}

EVP_MD_CTX* ctx(void* p) { return static_cast<EVP_MD_CTX*>(p); }

}  // namespace

sha256::sha256() : m_ctx(EVP_MD_CTX_new()) {
  if (m_ctx == nullptr || EVP_DigestInit_ex(ctx(m_ctx), digest(), nullptr) != 1) {
    EVP_MD_CTX_free(ctx(m_ctx));
    throw std::runtime_error("SHA-256: cannot initialise a digest context");
  }
}

sha256::~sha256() { EVP_MD_CTX_free(ctx(m_ctx)); }

void sha256::update(std::string_view bytes) {
  if (EVP_DigestUpdate(ctx(m_ctx), bytes.data(), bytes.size()) != 1) throw std::runtime_error("SHA-256: update failed");
}

std::array<std::uint8_t, 32> sha256::finish() {
  std::array<std::uint8_t, 32> out{};
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx(m_ctx), out.data(), &n) != 1 || n != out.size())
    throw std::runtime_error("SHA-256: final failed");
  return out;
}

std::string to_hex(const std::array<std::uint8_t, 32>& digest) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (std::uint8_t b : digest) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

}  // namespace agentos::engine
