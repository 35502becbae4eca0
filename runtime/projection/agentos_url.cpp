#include "runtime/projection/agentos_url.hpp"

namespace agentos::runtime::projection {

std::optional<agentos_url> parse_agentos_url(std::string_view url, std::string& error) {
  constexpr std::string_view scheme = "http://";
  if (!url.starts_with(scheme)) {
    error = "`" + std::string(url) + "` is not an http:// URL";
    return std::nullopt;
  }
  std::string_view rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (path.find_first_of("?#") != std::string_view::npos) {
    error = "`" + std::string(url) + "`: a base URL takes no query or fragment";
    return std::nullopt;
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  agentos_url out;
  out.prefix = std::string(path);
  out.host_header = std::string(authority);
  std::string_view host = authority, port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "`" + std::string(url) + "`: unterminated [IPv6] host";
      return std::nullopt;
    }
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        error = "`" + std::string(url) + "`: expected :PORT after the [IPv6] host";
        return std::nullopt;
      }
      port = after.substr(1);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty() || authority.find('@') != std::string_view::npos) {
    error = "`" + std::string(url) + "`: expected http://HOST[:PORT][/PATH]";
    return std::nullopt;
  }
  if (!port.empty() && (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
                        std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535)) {
    error = "`" + std::string(url) + "`: the port must be 1 to 65535";
    return std::nullopt;
  }
  out.host = std::string(host);
  out.port = port.empty() ? "80" : std::string(port);
  return out;
}

}  // namespace agentos::runtime::projection
