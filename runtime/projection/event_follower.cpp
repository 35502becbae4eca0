#include "runtime/projection/event_follower.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace agentos::runtime::projection {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

constexpr std::size_t max_frame_bytes = std::size_t{4} << 20;  // an outbox event is far smaller

// SO_RCVTIMEO and SO_SNDTIMEO: a blocking connect, write or read gives up after `t` (connect is
// bounded by the send timeout on Linux), so a server that goes quiet is noticed.
void set_timeouts(int fd, std::chrono::milliseconds t) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(t.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

}  // namespace

event_follower::event_follower(follower_options options) : m_options(std::move(options)) {
  m_thread = std::jthread([this](std::stop_token stop) { run(stop); });
}

event_follower::~event_follower() { stop(); }

bool event_follower::following() const {
  std::lock_guard lock(m_mutex);
  return m_following;
}

bool event_follower::wait_following(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(m_mutex);
  return m_cv.wait_for(lock, timeout, [&] { return m_following; });
}

void event_follower::stop() {
  if (!m_thread.joinable()) return;
  {
    std::lock_guard lock(m_mutex);
    m_thread.request_stop();
    if (m_fd >= 0) ::shutdown(m_fd, SHUT_RDWR);
  }
  m_cv.notify_all();
  m_thread.join();
}

void event_follower::set_following(bool on, const std::string& why) {
  bool changed = false;
  {
    std::lock_guard lock(m_mutex);
    changed = !m_said || m_following != on;  // the first state is always said
    m_said = true;
    m_following = on;
  }
  m_cv.notify_all();
  if (changed && m_options.log)
    m_options.log(on ? "agentos executor: following the server's events" + why
                     : "agentos executor: not following the server's events: " + why);
}

void event_follower::run(const std::stop_token& stop) {
  auto delay = m_options.first_retry;
  while (!stop.stop_requested()) {
    const std::string why = follow_once(stop);
    if (stop.stop_requested()) break;
    // After a stream that was open, the first retry comes soon; while the server stays away the
    // wait doubles.
    const bool was_open = following();
    if (was_open) delay = m_options.first_retry;
    set_following(false, why + "; retrying in " + std::to_string(delay.count()) + " ms");
    std::unique_lock lock(m_mutex);
    m_cv.wait_for(lock, stop, delay, [] { return false; });
    lock.unlock();
    if (!was_open) delay = std::min(delay * 2, m_options.max_retry);
  }
  set_following(false, "stopped");
}

std::string event_follower::follow_once(const std::stop_token& stop) {
  asio::io_context ioc;
  beast::error_code ec;
  tcp::resolver resolver(ioc);
  const auto found = resolver.resolve(m_options.url.host, m_options.url.port, ec);
  if (ec) return "resolve: " + ec.message();
  tcp::socket socket(ioc);
  for (const auto& entry : found) {
    socket.open(entry.endpoint().protocol(), ec);
    if (ec) continue;
    set_timeouts(socket.native_handle(), m_options.idle_timeout);
    {
      // Registered before the connect, so stop() can end a connect or read that blocks.
      std::lock_guard lock(m_mutex);
      if (stop.stop_requested()) return "stopped";
      m_fd = socket.native_handle();
    }
    socket.connect(entry.endpoint(), ec);
    if (!ec) break;
    std::lock_guard lock(m_mutex);
    m_fd = -1;
    beast::error_code ignored;
    socket.close(ignored);
  }
  // Whatever happens below, the descriptor is unregistered before the socket closes it, so stop()
  // never shuts down a number the system has given to another file.
  struct unregister {
    event_follower& f;
    ~unregister() {
      std::lock_guard lock(f.m_mutex);
      f.m_fd = -1;
    }
  } guard{*this};
  if (!socket.is_open() || ec) return "connect to " + m_options.url.host_header + ": " + (ec ? ec.message() : "no address");

  http::request<http::empty_body> req{http::verb::get, m_options.url.prefix + "/api/events", 11};
  req.set(http::field::host, m_options.url.host_header);
  req.set(http::field::user_agent, "agentos-executor");
  req.set(http::field::accept, "text/event-stream");
  req.set(http::field::authorization, "Bearer " + m_options.token);
  if (m_last_id) req.set("Last-Event-ID", std::to_string(*m_last_id));
  http::write(socket, req, ec);
  if (ec) return "send: " + ec.message();

  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);  // a stream has no end
  http::read_header(socket, buffer, parser, ec);
  if (ec) return "answer: " + ec.message();
  if (parser.get().result_int() != 200) {
    // Read the (small) error answer for its code.
    std::string text;
    char chunk[4096];
    while (!parser.is_done() && text.size() < 65536) {
      parser.get().body().data = chunk;
      parser.get().body().size = sizeof chunk;
      http::read_some(socket, buffer, parser, ec);
      if (ec && ec != http::error::need_buffer) break;
      text.append(chunk, sizeof chunk - parser.get().body().size);
    }
    const json j = json::parse(text, nullptr, false);
    const std::string code = j.is_object() && j.contains("error") && j["error"].is_object()
                                 ? j["error"].value("code", std::string())
                                 : std::string();
    // The resume point belongs to another store (restored, or replaced): start from now.
    if (code == "events.beyond_head") m_last_id.reset();
    return "HTTP " + std::to_string(parser.get().result_int()) + (code.empty() ? "" : " " + code);
  }
  set_following(true, m_last_id ? " (after event " + std::to_string(*m_last_id) + ")" : std::string(" (from now)"));

  std::string pending;  // bytes of frames not complete yet
  char chunk[16 * 1024];
  while (!stop.stop_requested()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    // read_some: whatever has arrived (read would wait for a full buffer, and a stream idles).
    http::read_some(socket, buffer, parser, ec);
    if (ec && ec != http::error::need_buffer) return "read: " + ec.message();
    pending.append(chunk, sizeof chunk - parser.get().body().size);
    std::size_t end;
    while ((end = pending.find("\n\n")) != std::string::npos) {
      const std::string frame = pending.substr(0, end);
      pending.erase(0, end + 2);
      std::optional<std::uint64_t> id;
      std::string data;
      std::size_t at = 0;
      while (at < frame.size()) {
        std::size_t nl = frame.find('\n', at);
        if (nl == std::string::npos) nl = frame.size();
        const std::string_view line(frame.data() + at, nl - at);
        at = nl + 1;
        if (line.starts_with("id: ")) {
          try {
            id = std::stoull(std::string(line.substr(4)));
          } catch (const std::exception&) {
            id.reset();
          }
        } else if (line.starts_with("data: ")) {
          data = std::string(line.substr(6));
        }
      }
      if (data.empty()) continue;  // a keep-alive comment
      const json event = json::parse(data, nullptr, false);
      if (id) m_last_id = id;
      if (event.is_object() && m_options.on_event) m_options.on_event(event);
    }
    if (pending.size() > max_frame_bytes) return "a frame larger than " + std::to_string(max_frame_bytes) + " bytes";
    if (parser.is_done()) return "the server ended the stream";
  }
  return "stopped";
}

}  // namespace agentos::runtime::projection
