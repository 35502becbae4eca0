// `--listen HOST:PORT` as `agentos serve` and `agentos executor` read it.
#pragma once

#include <cstdint>
#include <string>

namespace agentos::cli {

struct listen_address {
  std::string host;  // brackets of "[V6]" removed
  std::uint16_t port = 0;
};

// "HOST:PORT" or "[V6]:PORT", port 0 to 65535; false when `text` is neither.
[[nodiscard]] bool parse_listen(const std::string& text, listen_address& out);

}  // namespace agentos::cli
