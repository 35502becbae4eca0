// SHA-256 (FIPS 180-4): the policy version, the audit hash chain and content-addressed artifacts.
// Backed by OpenSSL's libcrypto, which uses the CPU's SHA extensions where there are any: the
// runtime hashes every audit record inside the commit path, so the hash has to be fast.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace agentos::engine {

class sha256 {
 public:
  sha256();
  ~sha256();
  sha256(const sha256&) = delete;
  sha256& operator=(const sha256&) = delete;
  void update(std::string_view bytes);
  // Finishes the hash; the object must not be updated afterwards.
  [[nodiscard]] std::array<std::uint8_t, 32> finish();

 private:
  void* m_ctx;  // EVP_MD_CTX
};

[[nodiscard]] std::string to_hex(const std::array<std::uint8_t, 32>& digest);
[[nodiscard]] inline std::string sha256_hex(std::string_view bytes) {
  sha256 h;
  h.update(bytes);
  return to_hex(h.finish());
}

}  // namespace agentos::engine
