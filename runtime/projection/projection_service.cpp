#include "runtime/projection/projection_service.hpp"

#include <algorithm>
#include <iostream>

#include "runtime/service/notifier.hpp"
#include "runtime/service/store.hpp"

namespace agentos::runtime::projection {

namespace {

constexpr unsigned max_activity_page = 500;  // Paperclip's cap on `limit`
constexpr std::chrono::milliseconds connect_timeout{5'000};

std::string str(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string seconds(std::chrono::milliseconds d) {
  const auto ms = d.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

}  // namespace

projection_service::projection_service(task_store& store, notifier& events, projection_options options,
                                       activity_handler* handler)
    : m_store(store),
      m_events(events),
      m_options(std::move(options)),
      m_handler(handler),
      m_client(m_options.paperclip, m_options.client),
      m_projector(store, m_client, m_options.projector) {}

projection_service::~projection_service() { stop(); }

void projection_service::say(const std::string& line) const {
  if (m_options.log)
    m_options.log(line);
  else
    std::cerr << "agentos: projection: " << line << std::endl;
}

void projection_service::start() {
  if (m_loop.joinable()) return;
  // New outbox events wake the loop; the notifier's thread only flips a flag.
  m_listener = m_events.subscribe([this](const std::shared_ptr<const event_batch>&) { wake(); }).id;
  m_loop = std::jthread([this](std::stop_token stop) { run(stop); });
  m_reader = std::jthread([this](std::stop_token stop) { read_events(stop); });
}

void projection_service::stop() {
  if (!m_loop.joinable() && !m_reader.joinable()) return;
  m_events.unsubscribe(m_listener);
  m_loop.request_stop();
  m_reader.request_stop();
  m_client.interrupt();
  if (m_handler) m_handler->interrupt();
  {
    std::lock_guard lock(m_mutex);
    if (m_socket) m_socket->interrupt();
  }
  m_wake.notify_all();
  if (m_loop.joinable()) m_loop.join();
  if (m_reader.joinable()) m_reader.join();
}

void projection_service::wake() {
  {
    std::lock_guard lock(m_mutex);
    m_signalled = true;
  }
  m_wake.notify_all();
}

projection_status projection_service::status() const {
  std::lock_guard lock(m_mutex);
  return m_status;
}

projection_status projection_service::wait_round(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(m_mutex);
  const std::uint64_t seen = m_status.rounds;
  m_wake.wait_for(lock, timeout, [&] { return m_status.rounds > seen; });
  return m_status;
}

bool projection_service::pause(const std::stop_token& stop, std::chrono::milliseconds d) {
  std::unique_lock lock(m_mutex);
  m_wake.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

std::optional<projection_error> projection_service::round(project_report& report) {
  if (auto e = m_projector.project(report, m_options.events_per_round)) return e;
  {
    std::lock_guard lock(m_mutex);
    m_status.ready = true;
    m_status.company_id = m_projector.company().id;
  }
  m_wake.notify_all();  // the reader waits for the company
  return catch_up();
}

std::optional<projection_error> projection_service::catch_up() {
  const std::string& company = m_projector.company().id;
  std::optional<activity_cursor> cursor;
  if (auto r = mapping::read(m_store, [&](kv::reader& rd) -> result<void> {
        auto c = mapping::read_activity_cursor(rd);
        if (!c) return std::move(c).error();
        cursor = std::move(*c);
        return {};
      });
      !r)
    return from_store(r.error());

  auto advance = [&](const json& row) -> std::optional<projection_error> {
    activity_cursor next{str(row, "id"), str(row, "createdAt")};
    if (auto w = mapping::write(m_store, [&](kv::writer& wr) { return mapping::write_activity_cursor(wr, next); }); !w)
      return from_store(w.error());
    cursor = std::move(next);
    return std::nullopt;
  };

  if (!cursor) {
    // The first time: what happened before agentos watched (the company's creation, our own
    // first writes) is not an operator's action to reconcile. Start from the newest row.
    auto rows = m_client.list_activity(company, 1);
    if (!rows) return from_client(rows.error());
    if (!rows->empty())
      if (auto e = advance((*rows)[0])) return e;
    return std::nullopt;
  }

  // Newest first, with no cursor parameter: ask for more rows until the cursor's row is among
  // them (or Paperclip's cap is reached).
  json rows;
  std::size_t fresh = 0;  // rows[0, fresh) are newer than the cursor
  for (unsigned limit = std::max(1u, m_options.activity_page);; limit = std::min(limit * 4, max_activity_page)) {
    auto page = m_client.list_activity(company, limit);
    if (!page) return from_client(page.error());
    rows = std::move(*page);
    const auto at = std::find_if(rows.begin(), rows.end(), [&](const json& r) { return str(r, "id") == cursor->id; });
    if (at != rows.end()) {
      fresh = static_cast<std::size_t>(at - rows.begin());
      break;
    }
    const bool older_seen = std::any_of(rows.begin(), rows.end(), [&](const json& r) {
      return str(r, "createdAt") < cursor->created_at;
    });
    if (older_seen || rows.size() < limit || limit >= max_activity_page) {
      // The cursor's row is not listed (hidden with its issue, or beyond the cap): take every row
      // newer than it by time.
      fresh = static_cast<std::size_t>(
          std::find_if(rows.begin(), rows.end(), [&](const json& r) { return str(r, "createdAt") <= cursor->created_at; }) -
          rows.begin());
      if (!older_seen && rows.size() >= limit)
        say("more than " + std::to_string(limit) + " Paperclip activity rows since the last one handled; the older ones are not reconciled");
      break;
    }
  }
  if (fresh == 0) return std::nullopt;
  if (!m_handler) {
    {
      std::lock_guard lock(m_mutex);
      m_status.activity_rows += fresh;
    }
    return advance(rows[0]);
  }
  for (std::size_t i = fresh; i-- > 0;) {
    const json& row = rows[i];
    const handle_result h = m_handler->handle(row);
    if (h.status == handle_status::retry) return projection_error{h.code.empty() ? "projection.retry" : h.code, h.message, true};
    if (auto e = advance(row)) return e;
    std::lock_guard lock(m_mutex);
    ++m_status.activity_rows;
  }
  return std::nullopt;
}

void projection_service::run(const std::stop_token& stop) {
  enum class state { starting, up, down };
  state was = state::starting;
  std::string last_code;
  std::chrono::milliseconds retry = m_options.first_retry;
  while (!stop.stop_requested()) {
    project_report report;
    const auto failed = round(report);
    if (stop.stop_requested()) break;
    for (const auto& d : report.dropped) say("gave up on outbox event " + d);
    bool more = false;
    {
      std::lock_guard lock(m_mutex);
      m_status.outbox_cursor = report.cursor;
      m_status.projected += report.projected;
      m_status.dropped += report.dropped.size();
      ++m_status.rounds;
      m_status.paperclip_up = !failed || !(failed->code.rfind("paperclip.", 0) == 0 && failed->transient);
      m_status.last_error = failed ? failed->code + ": " + failed->message : std::string();
      more = !failed && report.cursor < m_store.outbox_head();
    }
    m_wake.notify_all();  // wait_round()
    if (failed) {
      if (was != state::down || failed->code != last_code)
        say(failed->code + ": " + failed->message + "; retrying in " + seconds(failed->transient ? retry : m_options.max_retry));
      was = state::down;
      last_code = failed->code;
      if (!pause(stop, failed->transient ? retry : m_options.max_retry)) break;
      retry = std::min(retry * 2, m_options.max_retry);
      continue;
    }
    if (was != state::up)
      say("projecting into Paperclip company \"" + m_projector.company().name + "\" (" + m_projector.company().id +
          ") at " + m_client.url().text + (was == state::down ? " again" : ""));
    was = state::up;
    last_code.clear();
    retry = m_options.first_retry;
    if (more) continue;  // a long outbox: the next slice, after the activity read above
    std::unique_lock lock(m_mutex);
    m_wake.wait_for(lock, stop, m_options.wait, [&] { return m_signalled; });
    m_signalled = false;
  }
}

void projection_service::read_events(const std::stop_token& stop) {
  std::chrono::milliseconds retry = m_options.first_retry;
  bool reported = false;  // the current failure was logged
  while (!stop.stop_requested()) {
    std::string company;
    {
      std::unique_lock lock(m_mutex);
      m_wake.wait(lock, stop, [&] { return m_status.ready; });
      company = m_status.company_id;
    }
    if (stop.stop_requested()) break;
    auto socket = event_socket::connect(m_options.paperclip, company, connect_timeout);
    if (!socket) {
      if (!reported) say("live events: " + socket.error().message + "; retrying");
      reported = true;
      if (!pause(stop, retry)) break;
      retry = std::min(retry * 2, m_options.max_retry);
      continue;
    }
    retry = m_options.first_retry;
    {
      std::lock_guard lock(m_mutex);
      m_socket = socket->get();
      m_status.events_connected = true;
      if (stop.stop_requested()) m_socket->interrupt();
    }
    if (reported) say("live events: connected again");
    reported = false;
    wake();  // catch up on whatever happened while the socket was closed
    while (!stop.stop_requested()) {
      auto frame = (*socket)->read(m_options.wait);
      if (!frame) {
        if (frame.error().kind == client_errc::bad_response) continue;  // one odd frame
        say("live events: " + frame.error().message + "; reconnecting");
        reported = true;
        break;
      }
      if (*frame && str(**frame, "type") == "activity.logged") wake();
    }
    {
      std::lock_guard lock(m_mutex);
      m_socket = nullptr;
      m_status.events_connected = false;
    }
    (*socket)->close();
    if (!stop.stop_requested() && !pause(stop, retry)) break;
  }
}

}  // namespace agentos::runtime::projection
