// One HTTP/1.1 request on a connection of its own, bounded in time and abandoned at once on a
// stop request: what the webhook deliveries (runtime/service/webhooks.cpp) and the executor's
// calls to agentos (runtime/projection/executor.cpp) both need. Boost.Beast stays in the .cpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

namespace agentos::runtime {

struct http_call {
  std::string host;         // a name or an address, IPv6 without brackets
  std::string port;
  std::string host_header;  // the Host header: host[:port] as the caller was given it
  std::string method = "GET";
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;  // User-Agent, Content-Type and the rest
  std::string body;
  std::size_t answer_limit = std::size_t{1} << 20;  // a longer answer body is an error
  std::chrono::milliseconds timeout{10'000};         // for all of it, name resolution included
};

struct http_reply {
  unsigned status = 0;  // 0: no answer
  std::string body;
  // Why there was no answer: "<step>: <reason>" (step resolve, connect, send or answer), or
  // "no answer within N ms"; empty when `abandoned`.
  std::string error;
  bool abandoned = false;  // `stop` was requested before the answer came
};

[[nodiscard]] http_reply call_once(const http_call& call, const std::stop_token& stop);

}  // namespace agentos::runtime
