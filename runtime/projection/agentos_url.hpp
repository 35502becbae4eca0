// The agentos server's base URL as the executor's clients (the job's requests, the event follower)
// use it: http://HOST[:PORT][/PREFIX]. Only http: the executor talks to a server on the same host
// or network (put a TLS proxy in front for anything else).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace agentos::runtime::projection {

struct agentos_url {
  std::string host;    // as written, brackets removed for IPv6
  std::string port;    // "80" when absent
  std::string prefix;  // path before /api, without a trailing slash ("" for a bare host)
  std::string host_header;
};

// nullopt with why in `error` for anything else (https, credentials, a query, a bad port).
[[nodiscard]] std::optional<agentos_url> parse_agentos_url(std::string_view url, std::string& error);

}  // namespace agentos::runtime::projection
