#include "listen_address.hpp"

namespace agentos::cli {

bool parse_listen(const std::string& text, listen_address& out) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port = text.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
  const unsigned long n = std::stoul(port);
  if (n > 65535) return false;
  out.host = host;
  out.port = static_cast<std::uint16_t>(n);
  return true;
}

}  // namespace agentos::cli
