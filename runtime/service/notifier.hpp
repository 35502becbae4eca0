// The outbox as a live feed for the server: one thread waits for the store's writer to commit
// new outbox events (task_store::wait_outbox, no polling of the disk), reads each new run of
// events once, and hands it to every listener (the event streams of http_server, the webhook
// dispatcher). Listeners get consecutive batches in seq order; anything older than their
// subscription they read with read(), which goes to the store. Thread safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/service/store.hpp"

namespace agentos::runtime {

struct outbox_event {
  std::uint64_t seq = 0;
  std::string type;  // the event's kind: task.created, task.transitioned, ...
  std::string data;  // the event as compact JSON
};

// Events with consecutive seqs, following `after`.
struct event_batch {
  std::uint64_t after = 0;
  std::vector<outbox_event> events;
  std::size_t bytes = 0;  // of every type and data, for the consumers' queue bounds
  [[nodiscard]] std::uint64_t last() const { return events.empty() ? after : events.back().seq; }
};

class notifier {
 public:
  // Called on the notifier's thread; must return quickly (post, signal) and must not call
  // subscribe or unsubscribe.
  using listener = std::function<void(const std::shared_ptr<const event_batch>&)>;

  struct subscription {
    std::uint64_t id = 0;
    std::uint64_t head = 0;  // the listener gets every batch after this seq
  };

  // Starts following the store from its current outbox head.
  explicit notifier(task_store& store);
  ~notifier();  // stops the thread
  notifier(const notifier&) = delete;
  notifier& operator=(const notifier&) = delete;

  subscription subscribe(listener fn);
  // Once it returns, the listener is not called again.
  void unsubscribe(std::uint64_t id);

  // Up to `limit` events after `after`, from the store.
  [[nodiscard]] result<event_batch> read(std::uint64_t after, std::size_t limit) const;
  // The last seq handed to the listeners.
  [[nodiscard]] std::uint64_t head() const;
  [[nodiscard]] task_store& store() const { return m_store; }

 private:
  void run(std::stop_token stop);

  task_store& m_store;
  mutable std::mutex m_mutex;  // guards the listeners and m_head; held while they are called
  std::vector<std::pair<std::uint64_t, listener>> m_listeners;
  std::uint64_t m_next_id = 1;
  std::uint64_t m_head = 0;
  std::jthread m_thread;
};

}  // namespace agentos::runtime
