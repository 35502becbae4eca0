// The HTTP/1.1 transport of `agentos serve`: Boost.Beast on Asio, asynchronous, with a small fixed
// pool of io threads. It reads requests with Beast's parser under fixed limits (body, header
// size, a read timeout for slow clients), hands each one to an `api`, and writes the answer as
// JSON. Beast and Asio stay in the .cpp. A GET is answered on the io thread; any other method
// (a write, which waits for the store's group commit) is handed to a pool of blocking threads and
// its answer posted back to the connection, so up to `blocking_threads` writes can share a commit
// while the io threads keep serving reads.
//
// GET /api/events is answered with a text/event-stream that stays open: the outbox from the
// resume point, then every event as the notifier announces it (api.events()), written as the
// client reads; see docs/api-events.md.
//
// Lifecycle: start() binds and starts the threads; stop() stops accepting, closes idle
// keep-alive connections, lets every request already read finish and be answered, ends every
// event stream, joins the threads and returns. The destructor stops. start/stop/port are for one
// controlling thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "runtime/service/api.hpp"

namespace agentos::runtime {

struct http_options {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: an ephemeral port (see http_server::port())
  std::size_t threads = 2;             // io threads: read, route, answer; reads are served here
  std::size_t blocking_threads = 128;  // writes wait here for their group commit (see below)
  std::uint64_t body_limit = std::uint64_t{1} << 20;  // larger: 413
  std::uint32_t header_limit = 8 * 1024;              // larger: 431
  std::chrono::milliseconds read_timeout{10'000};  // a request (or a response) slower than this: dropped
  // Open connections at most; a newcomer beyond is closed at once. Keep it below the process's
  // descriptor limit (agentos serve raises its soft limit and caps this to fit).
  std::size_t max_connections = 10'000;
  // GET /api/events: a comment line after this long without an event, and the most bytes of
  // live events one stream may have waiting for a slow client before it is dropped (the client
  // resumes with Last-Event-ID; nothing is lost, the outbox keeps every event).
  std::chrono::milliseconds sse_heartbeat{15'000};
  std::size_t sse_queue_bytes = std::size_t{1} << 20;
  std::size_t sse_send_buffer = 0;  // SO_SNDBUF of a stream's socket; 0: the system's (autotuned, up to MiBs)
};

class http_server {
 public:
  http_server(const api& handler, http_options options);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // Binds, listens and starts the io threads. On failure returns why (and nothing runs).
  [[nodiscard]] std::string start();
  // The bound port (after a successful start).
  [[nodiscard]] std::uint16_t port() const;
  // Graceful: see above. Safe to call more than once.
  void stop();

  struct impl;

 private:
  std::unique_ptr<impl> m;
};

}  // namespace agentos::runtime
