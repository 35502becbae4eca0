// The operator API's routes, apart from the transport: a request (method, target, the
// Authorization header, the body) goes in, a status and a JSON body come out. http_server feeds
// it from Beast; a test can call it directly. Every error has one shape,
// {"error": {"code", "message", "details"}}, and bad input is never a 500 (docs/api.md).
// handle() is const and the store is thread safe, so any number of threads may call it. The
// routes live in a table (api_routes.hpp), one api_<group>.cpp per group of routes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/service/bearer_tokens.hpp"
#include "runtime/service/request_signatures.hpp"
#include "runtime/service/notifier.hpp"
#include "runtime/service/store.hpp"
#include "runtime/service/webhooks.hpp"

namespace agentos::runtime {

struct api_request {
  std::string_view method;         // "GET", "POST", ...
  std::string_view target;         // path and query, as sent: /api/tasks?state=ready
  std::string_view authorization;  // the Authorization header ("" when absent)
  std::string_view body;
  std::string_view signature_timestamp = {};  // X-Agentos-Timestamp ("" when absent)
  std::string_view signature = {};            // X-Agentos-Signature ("" when absent)
  // The Idempotency-Key header (absent: nullopt). On a POST it makes a retry return the first
  // answer instead of acting twice (docs/api.md, "Idempotency").
  std::optional<std::string_view> idempotency_key = {};
  std::string_view last_event_id = {};  // the Last-Event-ID header of an event-stream client ("" when absent)
};

struct api_response {
  unsigned status = 200;
  nlohmann::json body = nlohmann::json::object();
  std::string allow;  // for a 405: the methods the path accepts
  std::vector<std::pair<std::string, std::string>> headers = {};  // more response headers (name, value)
  // Set for an answer that is not JSON (GET /metrics): `text` is sent as is with this type.
  std::string content_type = {};
  std::string text = {};
};

// A route the API handles, as the OpenAPI document names it: GET /api/tasks/{id}.
struct route_info {
  std::string method;
  std::string pattern;
  bool authenticated = true;
  bool idempotent = false;  // takes an Idempotency-Key (docs/api-ops.md, "Idempotency")
};

struct api_limits {
  std::size_t max_json_depth = 64;
  std::size_t default_list_limit = 100;
  std::size_t max_list_limit = 10'000;
  // A new task's fields (`task` of POST /api/tasks) as JSON. The task record is copied into every
  // audit record of the task and kept in the writer's cache; long material goes in artifacts.
  std::size_t max_task_bytes = 64 * 1024;
};

// The executor protocol's settings (docs/api-executor.md).
struct executor_settings {
  // The base of the callback URL that briefs give, e.g. https://agentos.example.org. Empty: the
  // server's own http://HOST:PORT, set once it listens (api::default_public_base_url).
  std::string public_base_url;
  signature_settings signatures;
  std::size_t max_content_bytes = std::size_t{1} << 20;  // of a write-back's marked block
};

struct api_options {
  api_limits limits;
  std::function<std::int64_t()> clock;  // empty: the wall clock
  // The policy file the server was started with, which POST /api/policy/reload reads again when
  // it is sent no sources (empty: it must be sent them).
  std::filesystem::path policy_entry;
  executor_settings executor;
  webhook_options webhooks;  // the stored webhooks' retry timing
  // The drift check of the server's Paperclip projection, answered by POST /api/projection/check
  // (runtime/projection/drift.hpp: drift_response). Empty when the server does not project: the
  // route answers 404 projection.off. Called on the pool of blocking threads: it waits for
  // Paperclip.
  std::function<api_response()> projection_check;
};

// GET /api/events answers 200 with the body {"event_stream": {"after": N}}: the transport
// (http_server) turns that answer into a text/event-stream of the outbox after seq N. These make
// and recognise it.
[[nodiscard]] api_response event_stream_response(std::uint64_t after);
[[nodiscard]] std::optional<std::uint64_t> event_stream_after(const api_response& r);

// {"error": {"code", "message", "details"}}.
[[nodiscard]] api_response api_error(unsigned status, std::string_view code, std::string_view message,
                                     nlohmann::json details = nlohmann::json::object());

// True when `text`'s arrays and objects nest no deeper than `max_depth`. A linear scan with a
// counter (strings and their escapes skipped), so it is safe on any input, before parsing it.
[[nodiscard]] bool json_depth_within(std::string_view text, std::size_t max_depth);

class api {
 public:
  // `clock` gives `now` (ms since the epoch) for each operation: the wall clock unless a test
  // `options.clock` gives `now` (ms since the epoch) for each operation: the wall clock unless a
  // test says otherwise. Besides `tokens`, the tokens the store has issued are accepted
  // (issued_tokens.hpp).
  // It also follows the store's outbox (notifier) and delivers the stored webhooks.
  api(task_store& store, bearer_tokens tokens, api_options options = {});

  api(const api&) = delete;
  api& operator=(const api&) = delete;
  ~api();

  [[nodiscard]] api_response handle(const api_request& request) const;
  // Every route in the table (the OpenAPI document must list exactly these).
  [[nodiscard]] std::vector<route_info> routes() const;
  // The callback URL's base when the settings gave none (the server's address once it listens).
  // Thread safe.
  void default_public_base_url(std::string url);
  // The outbox feed the event streams follow, and the webhook deliveries.
  [[nodiscard]] notifier& events() const;
  [[nodiscard]] webhook_dispatcher& webhooks() const;

  struct state;

 private:
  // `route` is set to the index of the route that matched (untouched when none did).
  api_response dispatch(const api_request& request, std::size_t& route) const;

  std::unique_ptr<state> m;
};

}  // namespace agentos::runtime
