// Follows agentos's event stream (GET /api/events, docs/api-events.md) on a thread of its own and
// hands every event to a callback, in seq order. After the stream drops (the server restarts, the
// network fails, no keep-alive for `idle_timeout`) it reconnects with Last-Event-ID, backing off
// from `first_retry` to `max_retry`, so no event is lost while the server is away. One log line
// per change between following and not following. Thread safe; stop() (or the destructor)
// interrupts a read in flight.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "runtime/projection/agentos_url.hpp"

namespace agentos::runtime::projection {

struct follower_options {
  agentos_url url;
  std::string token;                                 // any actor's bearer token reads the stream
  std::chrono::milliseconds idle_timeout{45'000};    // the server writes a keep-alive every 15 s
  std::chrono::milliseconds first_retry{1'000};      // after a failed connection; doubled each time
  std::chrono::milliseconds max_retry{30'000};
  std::function<void(const nlohmann::json&)> on_event;  // each event's data (an outbox event)
  std::function<void(const std::string&)> log;          // empty: none
};

class event_follower {
 public:
  explicit event_follower(follower_options options);
  ~event_follower();
  event_follower(const event_follower&) = delete;
  event_follower& operator=(const event_follower&) = delete;

  // True once the stream is open (the server answered 200), until it drops.
  [[nodiscard]] bool following() const;
  // Waits until following() or `timeout` passes.
  bool wait_following(std::chrono::milliseconds timeout) const;
  void stop();

 private:
  void run(const std::stop_token& stop);
  // One connection: returns when the stream ends or fails (why in the return value).
  std::string follow_once(const std::stop_token& stop);
  void set_following(bool on, const std::string& why);

  follower_options m_options;
  std::optional<std::uint64_t> m_last_id;  // the last event handed on; the resume point
  mutable std::mutex m_mutex;
  mutable std::condition_variable_any m_cv;
  int m_fd = -1;  // the socket being read, shut down by stop() to end a blocked read
  bool m_following = false;
  bool m_said = false;  // whether a state was logged yet
  std::jthread m_thread;
};

}  // namespace agentos::runtime::projection
