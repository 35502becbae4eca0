// The projection inside `agentos serve --paperclip URL` (docs/paperclip.md, "How the projection
// works"). Two threads:
//   - the projection thread loops: project every outbox event up to the head (projector), then
//     read Paperclip's activity back to the stored activity_cursor and hand each new row, oldest
//     first, to the activity_handler (the reconciler), then wait for new outbox events, a signal
//     from the WebSocket reader, or at most `wait`. Projector and handler thus never run at the
//     same time.
//   - the WebSocket reader follows /api/companies/{cid}/events/ws and only signals the loop (on
//     each activity frame, and after every (re)connect, so a gap is caught up from the activity
//     endpoint: frames are not stored by Paperclip and carry no activity id).
// When Paperclip is down, the loop retries with backoff (1 s doubling to 30 s) and logs one line
// per change of state; the store and the API work on without it. Thread safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "runtime/projection/activity_handler.hpp"
#include "runtime/projection/paperclip_client.hpp"
#include "runtime/projection/projector.hpp"

namespace agentos::runtime {
class task_store;
class notifier;
}  // namespace agentos::runtime

namespace agentos::runtime::projection {

struct projection_options {
  base_url paperclip;
  projector_options projector;
  client_options client;
  std::chrono::milliseconds wait{5'000};          // longest sleep between two rounds without a signal
  std::chrono::milliseconds first_retry{1'000};   // after the first failure; doubled after each next one
  std::chrono::milliseconds max_retry{30'000};
  std::size_t events_per_round = 256;             // outbox events projected before activity is read again
  unsigned activity_page = 50;                    // activity rows asked for first (grows to 500 to find the cursor)
  // Where the one-line state changes go; default: standard error, prefixed "agentos: projection: ".
  std::function<void(const std::string&)> log;
};

struct projection_status {
  bool paperclip_up = false;   // the last round reached Paperclip
  bool ready = false;          // company and agents are set up
  bool events_connected = false;  // the WebSocket is open
  std::string company_id;
  std::string last_error;      // "code: message" of the last failure ("" after a good round)
  std::uint64_t outbox_cursor = 0;
  std::uint64_t rounds = 0;        // completed rounds (good or not)
  std::uint64_t projected = 0;     // events that wrote to Paperclip, since start
  std::uint64_t dropped = 0;       // events given up on (non-transient failures), since start
  std::uint64_t activity_rows = 0; // activity rows handed on (or passed without a handler), since start
};

class projection_service {
 public:
  // `handler` may be null: the activity cursor then just moves past every row. The service does
  // not own it; it must outlive the service.
  projection_service(task_store& store, notifier& events, projection_options options,
                     activity_handler* handler = nullptr);
  ~projection_service();  // stop()
  projection_service(const projection_service&) = delete;
  projection_service& operator=(const projection_service&) = delete;

  void start();
  // Stops both threads: abandons a Paperclip call in flight, joins. Idempotent.
  void stop();
  // Makes the loop run a round now (tests; an operator's nudge).
  void wake();

  [[nodiscard]] projection_status status() const;
  // Blocks until a round completes after this call, or `timeout` passes; the status then.
  projection_status wait_round(std::chrono::milliseconds timeout) const;

 private:
  void run(const std::stop_token& stop);
  void read_events(const std::stop_token& stop);
  std::optional<projection_error> round(project_report& report);
  std::optional<projection_error> catch_up();
  void say(const std::string& line) const;
  bool pause(const std::stop_token& stop, std::chrono::milliseconds d);

  task_store& m_store;
  notifier& m_events;
  projection_options m_options;
  activity_handler* m_handler;
  paperclip_client m_client;
  projector m_projector;
  std::uint64_t m_listener = 0;

  mutable std::mutex m_mutex;
  mutable std::condition_variable_any m_wake;
  bool m_signalled = false;
  projection_status m_status;
  event_socket* m_socket = nullptr;  // the reader's open socket, for stop() to interrupt

  std::jthread m_loop;
  std::jthread m_reader;
};

}  // namespace agentos::runtime::projection
