// A synchronous HTTP/1.1 JSON client for one Paperclip server (docs/paperclip.md), and a client
// for its live-events WebSocket. The projector and the reconciler write and read Paperclip as the
// board (no token: Paperclip runs `local_trusted`), so neither sends credentials.
//
// paperclip_client keeps one keep-alive connection and reconnects once when a reused connection
// turns out to be closed; every call is bounded by the per-request timeout and the answer's body
// by a size limit. A failure is a typed client_error (paperclip.unreachable, paperclip.timeout,
// paperclip.bad_response, paperclip.http with the status and Paperclip's `error` text,
// paperclip.cancelled), never an exception. Not thread safe: one client per thread; interrupt()
// alone may be called from another thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/store/result.hpp"

namespace agentos::runtime::projection {

using json = nlohmann::json;

enum class client_errc : std::uint8_t {
  unreachable,   // no connection (refused, name not resolved, reset before an answer)
  timeout,       // no complete answer within the timeout
  bad_response,  // an answer that is not HTTP/1.1 with a JSON body, or larger than the limit
  http,          // a well-formed answer with a status other than 2xx
  cancelled,     // interrupt() was called while the request was in flight
};

// "paperclip.unreachable", "paperclip.timeout", ...
[[nodiscard]] std::string_view to_code(client_errc e);

struct client_error {
  client_errc kind = client_errc::unreachable;
  unsigned status = 0;  // the HTTP status (kind http), else 0
  std::string message;  // one line: what was asked and what went wrong (Paperclip's `error` for http)
  json body;            // Paperclip's answer for kind http (`{"error", "details"}`), else null
  [[nodiscard]] std::string_view code() const { return to_code(kind); }
  [[nodiscard]] bool is_http(unsigned s) const { return kind == client_errc::http && status == s; }
  // A failure that says nothing about the request itself: Paperclip is down, slow or restarting
  // (unreachable, timeout, cancelled, 5xx, 429). Worth retrying the same request later.
  [[nodiscard]] bool transient() const;
};

// A value or a client_error (runtime/store/result.hpp).
template <class T>
using pc_result = basic_result<T, client_error>;

// Where Paperclip listens: `http://host[:port][/]` (no path, query, credentials; only http, since
// Paperclip serves plain HTTP on loopback in local_trusted mode).
struct base_url {
  std::string host;         // a name or an address, IPv6 without brackets
  std::string port = "80";
  std::string host_header;  // host[:port] as given
  std::string text;         // http://host:port, normalised (no trailing slash)
};
// nullopt with `error` set when `text` is not such a URL.
[[nodiscard]] std::optional<base_url> parse_base_url(std::string_view text, std::string& error);

struct client_options {
  std::chrono::milliseconds timeout{10'000};       // one request: connect, send, read the answer
  std::size_t body_limit = std::size_t{16} << 20;  // largest answer body accepted
};

// What Paperclip answered: a 2xx status and the JSON body (null when the body was empty).
struct answer {
  unsigned status = 0;
  json body;
};

class paperclip_client {
 public:
  explicit paperclip_client(base_url url, client_options options = {});
  ~paperclip_client();
  paperclip_client(const paperclip_client&) = delete;
  paperclip_client& operator=(const paperclip_client&) = delete;

  [[nodiscard]] const base_url& url() const { return m_url; }
  [[nodiscard]] const client_options& options() const { return m_options; }

  // One request. `target` is the path under /api with its query, e.g. "/companies/X/issues";
  // `method` GET, POST, PUT, PATCH or DELETE. A 2xx answer is a value; any other status is a
  // client_error of kind http.
  pc_result<answer> call(std::string_view method, std::string_view target, const std::optional<json>& body = std::nullopt);

  // Abandons the request in flight (it fails with paperclip.cancelled) and every later one until
  // resume(). Thread safe: this is how a stopping server interrupts the projection thread.
  void interrupt();
  void resume();

  // ---- typed helpers (JSON shapes in docs/paperclip.md; each returns Paperclip's object)

  pc_result<json> list_companies();
  pc_result<json> create_company(std::string_view name);
  // nullopt: no such company (404).
  pc_result<std::optional<json>> get_company(std::string_view company);
  pc_result<json> list_agents(std::string_view company);
  // `agent`: {"name", "role", "reportsTo"?, "adapterType", "adapterConfig"}.
  pc_result<json> create_agent(std::string_view company, const json& agent);
  pc_result<json> get_agent(std::string_view agent);
  pc_result<json> patch_agent(std::string_view agent, const json& fields);
  // `issue`: {"title", "description"?, "status"?, "assigneeAgentId"?, "idempotencyKey"?, ...}.
  // Answers 201 for a new issue and 200 (deduplicated: true) for a known idempotency key.
  pc_result<json> create_issue(std::string_view company, const json& issue);
  pc_result<json> list_issues(std::string_view company);
  // nullopt: no such issue (404).
  pc_result<std::optional<json>> get_issue(std::string_view issue);
  // `fields`: any subset of the issue's fields; `comment` is added in the same commit.
  pc_result<json> patch_issue(std::string_view issue, const json& fields, const std::optional<std::string>& comment = std::nullopt);
  pc_result<json> add_comment(std::string_view issue, std::string_view body);
  pc_result<json> list_comments(std::string_view issue);  // newest first
  // nullopt: the issue has no document `key`.
  pc_result<std::optional<json>> get_document(std::string_view issue, std::string_view key);
  // Creates or updates document `key` (markdown) so that its body is `body`: reads the document
  // first, writes nothing when the body already is `body` (so a replay adds no revision), and
  // otherwise sends the latest revision as baseRevisionId, reading again and retrying once when
  // someone else wrote in between (409). Returns the document as read back after the write.
  pc_result<json> put_document(std::string_view issue, std::string_view key, std::string_view title, std::string_view body);
  // `type`: request_board_approval, ...; `payload` an object; linked to `issues`.
  pc_result<json> create_approval(std::string_view company, std::string_view type, const json& payload,
                                  const std::vector<std::string>& issues);
  pc_result<json> get_approval(std::string_view approval);
  pc_result<json> list_issue_approvals(std::string_view issue);
  // POST /approvals/{id}/approve | reject | request-revision with an optional decision note.
  pc_result<json> resolve_approval(std::string_view approval, std::string_view action, std::string_view note);
  pc_result<json> list_work_products(std::string_view issue);
  // `product`: {"type", "provider", "title", "externalId"?, "summary"?, "status"?}.
  pc_result<json> create_work_product(std::string_view issue, const json& product);
  pc_result<json> patch_work_product(std::string_view product, const json& fields);
  // The company's newest `limit` (1..500) activity rows, newest first.
  pc_result<json> list_activity(std::string_view company, unsigned limit);

  struct connection;

 private:
  pc_result<answer> attempt(std::string_view method, const std::string& target, const std::string* body, bool& reused);

  base_url m_url;
  client_options m_options;
  std::unique_ptr<connection> m_conn;
  std::atomic<bool> m_interrupted{false};
};

// A path segment: ids from Paperclip are UUIDs, but anything else is percent-encoded.
[[nodiscard]] std::string path_segment(std::string_view s);

// The live events of one company: `ws://host:port/api/companies/{id}/events/ws`. read() returns
// one JSON frame at a time. Beast answers the server's pings while a read is in progress, and
// sends its own ping after 30 s of silence and fails the connection when nothing comes back, so
// a vanished server is noticed. Not thread safe, except interrupt().
class event_socket {
 public:
  // Connects and completes the WebSocket handshake within `timeout`.
  static pc_result<std::unique_ptr<event_socket>> connect(const base_url& url, std::string_view company,
                                                          std::chrono::milliseconds timeout);
  ~event_socket();
  event_socket(const event_socket&) = delete;
  event_socket& operator=(const event_socket&) = delete;

  // The next frame as JSON; nullopt when none came within `timeout` (the read stays pending, so
  // no frame is lost) or interrupt() was called. An error of kind unreachable or timeout when the
  // connection closed or dropped (the socket is then unusable: connect again), of kind
  // bad_response for a frame that is not a JSON object (the socket stays usable).
  pc_result<std::optional<json>> read(std::chrono::milliseconds timeout);
  // Makes the read() in progress (or the next one) return nullopt at once. Thread safe.
  void interrupt();
  // Sends a close frame (best effort, bounded by one second).
  void close();

  struct impl;

 private:
  explicit event_socket(std::unique_ptr<impl> p);
  std::unique_ptr<impl> m;
};

}  // namespace agentos::runtime::projection
