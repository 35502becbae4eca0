#include "runtime/service/notifier.hpp"

#include <chrono>
#include <limits>

namespace agentos::runtime {

namespace {

constexpr std::size_t batch_limit = 512;  // events read from the store at a time
constexpr std::chrono::milliseconds retry_after{100};  // after a failed read

}  // namespace

notifier::notifier(task_store& store) : m_store(store), m_head(store.outbox_head()) {
  m_thread = std::jthread([this](std::stop_token stop) { run(std::move(stop)); });
}

notifier::~notifier() {
  m_thread.request_stop();
  if (m_thread.joinable()) m_thread.join();
}

notifier::subscription notifier::subscribe(listener fn) {
  std::lock_guard lock(m_mutex);
  const std::uint64_t id = m_next_id++;
  m_listeners.emplace_back(id, std::move(fn));
  return {id, m_head};
}

void notifier::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(m_mutex);
  std::erase_if(m_listeners, [id](const auto& l) { return l.first == id; });
}

std::uint64_t notifier::head() const {
  std::lock_guard lock(m_mutex);
  return m_head;
}

result<event_batch> notifier::read(std::uint64_t after, std::size_t limit) const {
  auto rows = m_store.outbox(after, limit);
  if (!rows) return std::move(rows).error();
  event_batch out;
  out.after = after;
  out.events.reserve(rows->size());
  for (const json& row : *rows) {
    outbox_event e;
    e.seq = row.value("seq", std::uint64_t{0});
    e.type = row.value("type", std::string("event"));
    e.data = row.dump(-1, ' ', false, json::error_handler_t::replace);
    out.bytes += e.type.size() + e.data.size();
    out.events.push_back(std::move(e));
  }
  return out;
}

void notifier::run(std::stop_token stop) {
  std::uint64_t done = head();
  while (!stop.stop_requested()) {
    const std::uint64_t committed =
        m_store.wait_outbox(done, std::chrono::steady_clock::now() + std::chrono::hours(1), stop);
    while (done < committed && !stop.stop_requested()) {
      auto batch = read(done, batch_limit);
      if (!batch) {  // the store could not be read: try again shortly (a wait nothing ends but time or stop)
        m_store.wait_outbox(std::numeric_limits<std::uint64_t>::max(), std::chrono::steady_clock::now() + retry_after,
                            stop);
        continue;
      }
      // Records the store could not parse are skipped by outbox(); an empty read means the rest
      // up to `committed` is unreadable, so move past it rather than spin.
      const std::uint64_t last = batch->events.empty() ? committed : batch->last();
      auto shared = std::make_shared<const event_batch>(std::move(*batch));
      std::lock_guard lock(m_mutex);
      m_head = last;
      if (!shared->events.empty())
        for (const auto& [id, fn] : m_listeners) fn(shared);
      done = last;
    }
  }
}

}  // namespace agentos::runtime
