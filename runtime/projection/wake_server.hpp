// The HTTP endpoint Paperclip's HTTP adapter calls (docs/paperclip.md, "The executor"): Beast on
// one io thread. A POST (to any path: the adapter posts to the URL it was configured with) is
// parsed as a wake and handed to the executor, then answered at once — 202 whether the wake was
// queued or ignored (Paperclip ends the run on any 2xx, and a wake agentos cannot use is not the
// adapter's failure), 400 for a body that is not a wake, 413 for one over the limit, 503 when the
// executor's queue is full. `GET /health` answers 200. Nothing here waits on the network.
//
// Lifecycle: start() binds and starts the thread; stop() stops accepting, closes the connections
// and joins. The destructor stops. start/stop/port are for one controlling thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "runtime/projection/executor.hpp"

namespace agentos::runtime::projection {

struct wake_server_options {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;                             // 0: an ephemeral port (see port())
  std::uint64_t body_limit = std::uint64_t{1} << 20;  // larger: 413 (a Paperclip wake is 10-20 KB)
  std::uint32_t header_limit = 16 * 1024;             // larger: 431
  std::chrono::milliseconds read_timeout{10'000};     // a request (or an answer) slower than this: dropped
  std::size_t max_connections = 256;                  // a newcomer beyond is closed at once
};

class wake_server {
 public:
  wake_server(executor& target, wake_server_options options);
  ~wake_server();
  wake_server(const wake_server&) = delete;
  wake_server& operator=(const wake_server&) = delete;

  // Binds, listens and starts the io thread. On failure returns why (and nothing runs).
  [[nodiscard]] std::string start();
  [[nodiscard]] std::uint16_t port() const;
  void stop();

  struct impl;

 private:
  std::unique_ptr<impl> m;
};

}  // namespace agentos::runtime::projection
