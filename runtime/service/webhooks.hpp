// Signed webhooks. A subscription (a URL, a secret, the event kinds it wants) is kept in the
// store with its cursor; a worker thread per subscription POSTs every matching outbox event to
// it, in seq order, signed with HMAC-SHA256 over "<timestamp>.<body>", and retries a failure
// (no answer, or not 2xx) with exponential backoff until the receiver acknowledges it: delivery
// is at least once. Every attempt goes into the store's delivery log, and the attempt that
// acknowledges an event moves the cursor in the same commit, so a restart resumes after the last
// acknowledged event. An event is sent twice only when the server stopped between the
// receiver's 2xx and that commit; X-Agentos-Delivery is the same on every attempt so the receiver
// can drop the copy. Only http:// URLs are delivered (docs/api-events.md says why and what to do
// for https). Thread safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "runtime/service/notifier.hpp"
#include "runtime/service/request_signatures.hpp"  // hmac_sha256_hex: the deliveries' signature

namespace agentos::runtime {

struct webhook_spec {
  std::string id;                      // [A-Za-z0-9._-]{1,64}; empty: the store numbers it wh-1, wh-2, ...
  std::string url;                     // http://host[:port][/path]
  std::string secret;                  // 16 to 1024 bytes, the HMAC key
  std::vector<std::string> events;     // the event kinds wanted (task.created, ...); empty: all
  std::optional<std::uint64_t> after;  // deliver events after this outbox seq; default: the head at creation
};

struct webhook_spec_error {
  std::string code;  // request.invalid, request.unknown_field, webhook.bad_url, webhook.unsupported_scheme
  std::string field;
  std::string message;
};

// A subscription from JSON (a POST /api/webhooks body, or an entry of a --webhooks file):
// {"id"?, "url", "secret", "events"?, "after"?}. Unknown fields are refused.
[[nodiscard]] std::optional<webhook_spec> parse_webhook_spec(const json& j, webhook_spec_error& error);

// A --webhooks file: a JSON array of subscriptions, each with its `id` (so that a restart finds
// the same subscription and its cursor). nullopt with `error` set when it is not.
[[nodiscard]] std::optional<std::vector<webhook_spec>> load_webhooks_file(const std::filesystem::path& file,
                                                                          std::string& error);

struct webhook_options {
  std::chrono::milliseconds timeout{10'000};     // one attempt: connect, send, read the answer
  std::chrono::milliseconds first_retry{1'000};  // after the first failure; doubled after each next one
  std::chrono::milliseconds max_retry{300'000};  // the longest wait between attempts
  std::size_t log_keep = 1'000;                  // delivery records kept per subscription (the oldest go)
};

class webhook_dispatcher {
 public:
  // Starts a worker for every subscription in the store (from a thread of its own, which retries
  // while the store cannot be read).
  webhook_dispatcher(notifier& events, webhook_options options = {});
  ~webhook_dispatcher();  // stops every worker (an attempt in flight is abandoned)
  webhook_dispatcher(const webhook_dispatcher&) = delete;
  webhook_dispatcher& operator=(const webhook_dispatcher&) = delete;
  // Creates a subscription and starts its worker. applied (body {"webhook": ...}), conflict
  // (`webhook.exists`), invalid (`after` beyond the outbox), failed.
  [[nodiscard]] outcome add(const webhook_spec& spec, std::string_view created_by, std::int64_t now);
  // Creates each subscription of a --webhooks file, or updates its url, secret and kinds (its
  // cursor and log are kept), and (re)starts its worker.
  [[nodiscard]] result<void> configure(const std::vector<webhook_spec>& specs, std::int64_t now);
  // Stops the worker and deletes the subscription and its log: applied, not_found, failed.
  [[nodiscard]] outcome remove(std::string_view id);

  // Subscriptions as the API shows them (never the secret).
  [[nodiscard]] result<std::vector<json>> list() const;
  [[nodiscard]] result<std::optional<json>> get(std::string_view id) const;
  // The delivery log of a subscription after record `after`, oldest first; nullopt: no such
  // subscription.
  [[nodiscard]] result<std::optional<std::vector<json>>> deliveries(std::string_view id, std::uint64_t after,
                                                                     std::size_t limit) const;

  struct worker;

 private:
  void launch(const std::string& id);
  void halt(const std::string& id);
  void load_all(const std::stop_token& stop);

  notifier& m_events;
  webhook_options m_options;
  std::uint64_t m_listener = 0;

  std::mutex m_workers_mutex;
  std::map<std::string, std::unique_ptr<worker>, std::less<>> m_workers;

 public:
  // What the workers share: the outbox head they wait on.
  struct shared;

 private:
  std::shared_ptr<shared> m_shared;
  std::jthread m_loader;
};

}  // namespace agentos::runtime
