// SHA-256 (FIPS 180-4): the policy version, the audit hash chain and content-addressed artifacts.
// Small and dependency-free; not constant time, which a content hash does not need.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace agentos::engine {

class sha256 {
 public:
  sha256();
  void update(std::string_view bytes);
  // Finishes the hash; the object must not be updated afterwards.
  [[nodiscard]] std::array<std::uint8_t, 32> finish();

 private:
  void block(const std::uint8_t* p);

  std::array<std::uint32_t, 8> m_h;
  std::array<std::uint8_t, 64> m_buffer{};
  std::size_t m_buffered = 0;
  std::uint64_t m_length = 0;  // bytes
};

[[nodiscard]] std::string to_hex(const std::array<std::uint8_t, 32>& digest);
[[nodiscard]] inline std::string sha256_hex(std::string_view bytes) {
  sha256 h;
  h.update(bytes);
  return to_hex(h.finish());
}

}  // namespace agentos::engine
