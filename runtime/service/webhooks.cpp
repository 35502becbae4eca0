#include "runtime/service/webhooks.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <iterator>
#include <thread>

#include "runtime/service/http_call.hpp"
#include "runtime/service/keys.hpp"

namespace agentos::runtime {

namespace {

using kv::table;

constexpr std::size_t read_batch = 256;                  // outbox events a worker reads at a time
constexpr std::chrono::milliseconds store_retry{500};    // after the store could not be read or written
constexpr std::size_t max_secret = 1024, min_secret = 16;
constexpr std::size_t max_kinds = 64;
constexpr std::size_t response_excerpt = 256;            // bytes of a receiver's answer kept in the log

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- validation

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

// An event kind: dot-separated lowercase words (task.created).
bool valid_kind(std::string_view k) {
  if (k.empty() || k.size() > 128 || k.front() == '.' || k.back() == '.') return false;
  return std::all_of(k.begin(), k.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'; });
}

struct http_url {
  std::string host;         // a name or an address (without brackets)
  std::string port = "80";
  std::string target = "/";  // path and query
  std::string host_header;  // as the Host header says it
};

std::optional<http_url> parse_http_url(std::string_view url, webhook_spec_error& error) {
  auto bad = [&](std::string code, std::string message) -> std::optional<http_url> {
    error = {std::move(code), "url", std::move(message)};
    return std::nullopt;
  };
  if (url.size() > 2048) return bad("webhook.bad_url", "the url is longer than 2048 bytes");
  for (const char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return bad("webhook.bad_url", "the url contains a space or a control character");
  const auto colon = url.find("://");
  std::string scheme(url.substr(0, colon == std::string_view::npos ? 0 : colon));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  if (scheme == "https")
    return bad("webhook.unsupported_scheme",
               "https is not delivered yet: point the webhook at a local TLS proxy over http:// (docs/api-events.md)");
  if (scheme != "http") return bad("webhook.bad_url", "the url must start with http://");
  std::string_view rest = url.substr(colon + 3);
  if (rest.find('#') != std::string_view::npos) return bad("webhook.bad_url", "the url must not have a fragment");
  const auto path_at = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, path_at);
  http_url out;
  if (path_at != std::string_view::npos) {
    out.target = std::string(rest.substr(path_at));
    if (out.target.front() == '?') out.target.insert(0, "/");
  }
  if (authority.find('@') != std::string_view::npos)
    return bad("webhook.bad_url", "the url must not carry credentials (user@host)");
  std::string_view host = authority, port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("webhook.bad_url", "an IPv6 address in the url lacks its `]`");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("webhook.bad_url", "unexpected text after the IPv6 address");
      port = after.substr(1);
    }
  } else if (const auto c = authority.rfind(':'); c != std::string_view::npos) {
    host = authority.substr(0, c);
    port = authority.substr(c + 1);
  }
  if (host.empty()) return bad("webhook.bad_url", "the url has no host");
  if (port.data() != nullptr) {
    const bool digits = !port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string_view::npos;
    if (!digits || std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535)
      return bad("webhook.bad_url", "the url's port must be a number from 1 to 65535");
    out.port = std::string(port);
  }
  out.host = std::string(host);
  out.host_header = std::string(authority);
  return out;
}

bool wanted(const json& kinds, std::string_view type) {
  if (!kinds.is_array() || kinds.empty()) return true;
  return std::any_of(kinds.begin(), kinds.end(), [&](const json& k) { return k.is_string() && k.get<std::string>() == type; });
}

std::chrono::milliseconds backoff(const webhook_options& o, std::uint64_t attempt) {
  const auto shift = std::min<std::uint64_t>(attempt == 0 ? 0 : attempt - 1, 30);
  const auto wait = o.first_retry * (std::int64_t{1} << shift);
  return std::min(wait, o.max_retry);
}

json public_view(json rec) {
  rec.erase("secret");
  return rec;
}

// ---- the store's records

result<std::optional<json>> load_record(kv::reader& r, std::string_view id) {
  auto raw = r.get(table::webhooks, id);
  if (!raw) return std::move(raw).error();
  if (!*raw) return std::optional<json>{};
  json j = json::parse(**raw, nullptr, false);
  if (!j.is_object()) return store_error{store_errc::corrupt, 0, "webhooks/" + std::string(id) + ": malformed record"};
  return std::optional<json>{std::move(j)};
}

result<std::optional<json>> read_record(const task_store& store, std::string_view id) {
  std::optional<json> out;
  auto r = store.read_records([&](kv::reader& rd) -> result<void> {
    auto rec = load_record(rd, id);
    if (!rec) return std::move(rec).error();
    out = std::move(*rec);
    return {};
  });
  if (!r) return std::move(r).error();
  return out;
}

result<std::uint64_t> outbox_last(kv::reader& r) {
  auto last = r.last(table::outbox);
  if (!last) return std::move(last).error();
  return *last ? kv::read_be64((*last)->first).value_or(0) : 0;
}

json new_record(const webhook_spec& spec, std::string_view created_by, std::int64_t now, std::string_view source) {
  return {{"url", spec.url},          {"secret", spec.secret},       {"events", spec.events},
          {"created_at", now},        {"created_by", created_by},    {"source", source},
          {"log_next", 1},            {"pending", nullptr},          {"delivered", 0},
          {"failed_attempts", 0},     {"last_attempt", nullptr}};
}

// Writes a new subscription (id chosen when the spec has none), its cursor at `after` or the
// outbox head; a spec naming an existing id is a conflict unless `update`, which then replaces
// the url, secret and kinds and keeps the rest (the cursor among it).
result<outcome> put_subscription(kv::writer& w, const webhook_spec& spec, json rec, bool update) {
  std::string id = spec.id;
  if (id.empty()) {
    auto next = w.get(table::meta, keys::next_webhook);
    if (!next) return std::move(next).error();
    std::uint64_t n = *next ? std::strtoull(std::string(**next).c_str(), nullptr, 10) : 1;
    for (;; ++n) {
      id = "wh-" + std::to_string(n);
      auto taken = w.get(table::webhooks, id);
      if (!taken) return std::move(taken).error();
      if (!*taken) break;
    }
    if (auto r = w.put(table::meta, keys::next_webhook, std::to_string(n + 1)); !r) return std::move(r).error();
  }
  auto existing = load_record(w, id);
  if (!existing) return std::move(existing).error();
  if (*existing && !update)
    return make_outcome(outcome_status::conflict, "webhook.exists", "a webhook " + id + " exists", {{"id", id}});
  auto head = outbox_last(w);
  if (!head) return std::move(head).error();
  if (spec.after && *spec.after > *head)
    return make_outcome(outcome_status::invalid, "request.invalid",
                        "`after` " + std::to_string(*spec.after) + " is beyond the last event " + std::to_string(*head),
                        {{"field", "after"}, {"head", *head}});
  if (*existing) {
    json kept = std::move(**existing);
    kept["url"] = rec["url"];
    kept["secret"] = rec["secret"];
    kept["events"] = rec["events"];
    kept["source"] = rec["source"];  // `after` applies only at creation: a restart must not rewind
    rec = std::move(kept);
  } else {
    rec["id"] = id;
    rec["cursor"] = spec.after.value_or(*head);
  }
  if (auto r = w.put(table::webhooks, id, rec.dump()); !r) return std::move(r).error();
  return make_outcome(outcome_status::applied, "webhook.created", "webhook " + id, {{"webhook", public_view(rec)}});
}

// One delivery attempt into the log; an acknowledged one moves the cursor in the same commit.
result<outcome> record_attempt(kv::writer& w, const std::string& id, json entry, bool delivered, std::size_t keep) {
  auto found = load_record(w, id);
  if (!found) return std::move(found).error();
  if (!*found) return make_outcome(outcome_status::not_found, "webhook.not_found", "no webhook " + id);
  json& rec = **found;
  const std::uint64_t n = rec.value("log_next", std::uint64_t{1});
  const std::uint64_t seq = entry["event_seq"].get<std::uint64_t>();
  entry["n"] = n;
  if (auto r = w.put(table::deliveries, keys::delivery(id, n), entry.dump()); !r) return std::move(r).error();
  if (keep > 0 && n > keep)
    if (auto r = w.del(table::deliveries, keys::delivery(id, n - keep)); !r) return std::move(r).error();
  rec["log_next"] = n + 1;
  rec["last_attempt"] = entry;
  if (delivered) {
    rec["cursor"] = std::max(rec.value("cursor", std::uint64_t{0}), seq);
    rec["pending"] = nullptr;
    rec["delivered"] = rec.value("delivered", std::uint64_t{0}) + 1;
  } else {
    rec["pending"] = {{"seq", seq}, {"attempts", entry["attempt"]}};
    rec["failed_attempts"] = rec.value("failed_attempts", std::uint64_t{0}) + 1;
  }
  if (auto r = w.put(table::webhooks, id, rec.dump()); !r) return std::move(r).error();
  return make_outcome(outcome_status::applied, "webhook.recorded", "recorded");
}

// Moves the cursor past events the subscription does not want.
result<outcome> advance_cursor(kv::writer& w, const std::string& id, std::uint64_t cursor) {
  auto found = load_record(w, id);
  if (!found) return std::move(found).error();
  if (!*found) return make_outcome(outcome_status::not_found, "webhook.not_found", "no webhook " + id);
  json& rec = **found;
  if (rec.value("cursor", std::uint64_t{0}) >= cursor) return make_outcome(outcome_status::applied, "webhook.cursor", "");
  rec["cursor"] = cursor;
  if (auto r = w.put(table::webhooks, id, rec.dump()); !r) return std::move(r).error();
  return make_outcome(outcome_status::applied, "webhook.cursor", "");
}

// ---- one delivery over HTTP

struct attempt_result {
  unsigned status = 0;  // the receiver's status; 0: no answer
  std::string error;    // why there was no acceptable answer
  std::string response;  // the start of the receiver's body
  [[nodiscard]] bool delivered() const { return status >= 200 && status < 300; }
};

attempt_result post_event(const http_url& url, const std::string& secret, const outbox_event& event,
                          const std::string& delivery, std::chrono::milliseconds timeout, const std::stop_token& stop) {
  const std::string timestamp = std::to_string(wall_ms() / 1000);
  http_call call;
  call.host = url.host;
  call.port = url.port;
  call.host_header = url.host_header;
  call.method = "POST";
  call.target = url.target;
  call.headers = {{"User-Agent", "agentos-webhooks"},
                  {"Content-Type", "application/json"},
                  {"X-Agentos-Event", event.type},
                  {"X-Agentos-Delivery", delivery},
                  {"X-Agentos-Timestamp", timestamp},
                  {"X-Agentos-Signature", "sha256=" + hmac_sha256_hex(secret, timestamp + "." + event.data)}};
  call.body = event.data;
  call.answer_limit = 64 * 1024;
  call.timeout = timeout;
  const http_reply reply = call_once(call, stop);
  attempt_result out;
  out.status = reply.status;
  out.response = reply.body.substr(0, response_excerpt);
  if (reply.abandoned) out.error = "abandoned: the server is stopping";
  else if (!reply.error.empty()) out.error = reply.error;
  else if (!out.delivered()) out.error = "HTTP " + std::to_string(out.status);
  return out;
}

}  // namespace

// ---- public helpers

std::optional<webhook_spec> parse_webhook_spec(const json& j, webhook_spec_error& error) {
  auto bad = [&](std::string code, std::string field, std::string message) -> std::optional<webhook_spec> {
    error = {std::move(code), std::move(field), std::move(message)};
    return std::nullopt;
  };
  if (!j.is_object()) return bad("request.invalid", "", "a webhook must be a JSON object");
  for (const auto& [key, value] : j.items())
    if (key != "id" && key != "url" && key != "secret" && key != "events" && key != "after")
      return bad("request.unknown_field", key, "unknown field `" + key + "`");
  webhook_spec spec;
  if (const auto id = j.find("id"); id != j.end() && !id->is_null()) {
    if (!id->is_string() || !valid_id(id->get<std::string>()))
      return bad("request.invalid", "id", "`id` must be 1 to 64 letters, digits, `.`, `_` or `-`");
    spec.id = id->get<std::string>();
  }
  const auto url = j.find("url");
  if (url == j.end() || !url->is_string()) return bad("request.invalid", "url", "`url` must be a string (http://...)");
  spec.url = url->get<std::string>();
  if (!parse_http_url(spec.url, error)) return std::nullopt;
  const auto secret = j.find("secret");
  if (secret == j.end() || !secret->is_string() || secret->get<std::string>().size() < min_secret ||
      secret->get<std::string>().size() > max_secret)
    return bad("request.invalid", "secret", "`secret` must be a string of 16 to 1024 bytes");
  spec.secret = secret->get<std::string>();
  if (const auto kinds = j.find("events"); kinds != j.end() && !kinds->is_null()) {
    if (!kinds->is_array() || kinds->size() > max_kinds)
      return bad("request.invalid", "events", "`events` must be an array of at most 64 event kinds");
    for (const auto& k : *kinds) {
      if (!k.is_string() || !valid_kind(k.get<std::string>()))
        return bad("request.invalid", "events", "`events` holds event kinds such as \"task.created\"");
      spec.events.push_back(k.get<std::string>());
    }
  }
  if (const auto after = j.find("after"); after != j.end() && !after->is_null()) {
    if (!after->is_number_unsigned()) return bad("request.invalid", "after", "`after` must be an event seq (a whole number)");
    spec.after = after->get<std::uint64_t>();
  }
  return spec;
}

std::optional<std::vector<webhook_spec>> load_webhooks_file(const std::filesystem::path& file, std::string& error) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    error = file.string() + ": cannot be read";
    return std::nullopt;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const json j = json::parse(text, nullptr, false);
  if (!j.is_array()) {
    error = file.string() + ": expected a JSON array of webhooks [{\"id\", \"url\", \"secret\", \"events\"?}]";
    return std::nullopt;
  }
  std::vector<webhook_spec> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const std::string where = file.string() + ": webhook " + std::to_string(i);
    webhook_spec_error e;
    auto spec = parse_webhook_spec(j[i], e);
    if (!spec) {
      error = where + (e.field.empty() ? "" : " `" + e.field + "`") + ": " + e.message;
      return std::nullopt;
    }
    if (spec->id.empty()) {
      error = where + ": needs an `id`, so that a restart finds the same webhook and resumes it";
      return std::nullopt;
    }
    for (const auto& seen : out)
      if (seen.id == spec->id) {
        error = where + ": the id `" + spec->id + "` is used twice";
        return std::nullopt;
      }
    out.push_back(std::move(*spec));
  }
  return out;
}

// ---- the dispatcher

struct webhook_dispatcher::shared {
  std::mutex mutex;
  std::condition_variable_any wake;
  std::uint64_t head = 0;  // the notifier's head, as last announced

  // Sleeps for `d` unless stopped first; false when stopped.
  bool pause(const std::stop_token& stop, std::chrono::milliseconds d) {
    std::unique_lock lock(mutex);
    wake.wait_for(lock, stop, d, [] { return false; });
    return !stop.stop_requested();
  }
  void wait_beyond(const std::stop_token& stop, std::uint64_t seq) {
    std::unique_lock lock(mutex);
    wake.wait(lock, stop, [&] { return head > seq; });
  }
};

struct webhook_dispatcher::worker {
  std::atomic<bool> finished{false};  // the subscription was gone: a new one of that id needs a new worker
  std::jthread thread;
};

namespace {

// A worker: delivers the subscription's events in order until stopped or the subscription is
// deleted.
void deliver(const std::stop_token& stop, notifier& events, webhook_dispatcher::shared& shared,
             const webhook_options& options, const std::string& id) {
  task_store& store = events.store();
  std::optional<json> rec;
  for (;;) {
    auto r = read_record(store, id);
    if (r) {
      rec = std::move(*r);
      break;
    }
    if (!shared.pause(stop, store_retry)) return;
  }
  if (!rec) return;  // deleted before the worker started
  webhook_spec_error ignored;
  const auto url = parse_http_url(rec->value("url", std::string()), ignored);
  if (!url) return;
  const std::string secret = rec->value("secret", std::string());
  const json kinds = rec->value("events", json::array());
  std::uint64_t cursor = rec->value("cursor", std::uint64_t{0});
  std::uint64_t persisted = cursor;
  std::uint64_t pending_seq = 0, attempts = 0;  // the event being retried and its failed attempts
  if (const auto p = rec->find("pending"); p != rec->end() && p->is_object()) {
    pending_seq = p->value("seq", std::uint64_t{0});
    attempts = p->value("attempts", std::uint64_t{0});
  }

  while (!stop.stop_requested()) {
    auto batch = events.read(cursor, read_batch);
    if (!batch) {
      shared.pause(stop, store_retry);
      continue;
    }
    const auto next = std::find_if(batch->events.begin(), batch->events.end(),
                                   [&](const outbox_event& e) { return wanted(kinds, e.type); });
    if (next == batch->events.end()) {
      cursor = batch->last();
      if (batch->events.size() < read_batch) {  // caught up: keep the cursor, wait for more
        if (cursor > persisted) {
          const outcome o = store.apply(record_op{[&](kv::writer& w) { return advance_cursor(w, id, cursor); }});
          if (o.status == outcome_status::not_found) return;
          if (o.status == outcome_status::applied) persisted = cursor;
        }
        shared.wait_beyond(stop, cursor);
      }
      continue;
    }

    const std::uint64_t attempt = (pending_seq == next->seq ? attempts : 0) + 1;
    const std::string delivery = id + ":" + std::to_string(next->seq);
    const std::int64_t at = wall_ms();
    const auto started = std::chrono::steady_clock::now();
    const attempt_result result = post_event(*url, secret, *next, delivery, options.timeout, stop);
    if (stop.stop_requested() && !result.delivered()) return;  // abandoned: not an attempt to log
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    json entry = {{"delivery", delivery},
                  {"event_seq", next->seq},
                  {"event", next->type},
                  {"attempt", attempt},
                  {"at", at},
                  {"duration_ms", took.count()},
                  {"status", result.status == 0 ? json(nullptr) : json(result.status)},
                  {"error", result.error.empty() ? json(nullptr) : json(result.error)},
                  {"response", result.response},
                  {"result", result.delivered() ? "delivered" : "failed"}};
    if (!result.delivered()) entry["retry_in_ms"] = backoff(options, attempt).count();
    const outcome o = store.apply(record_op{[&](kv::writer& w) {
      return record_attempt(w, id, entry, result.delivered(), options.log_keep);
    }});
    if (o.status == outcome_status::not_found) return;  // deleted meanwhile
    if (result.delivered()) {
      // Even when the record failed to commit, the receiver has the event: go on (a restart
      // sends it again, which at-least-once allows).
      cursor = next->seq;
      if (o.status == outcome_status::applied) persisted = cursor;
      pending_seq = attempts = 0;
      continue;
    }
    pending_seq = next->seq;
    attempts = attempt;
    shared.pause(stop, backoff(options, attempt));
  }
}

}  // namespace

webhook_dispatcher::webhook_dispatcher(notifier& events, webhook_options options)
    : m_events(events), m_options(options), m_shared(std::make_shared<shared>()) {
  const auto sub = m_events.subscribe([sh = m_shared](const std::shared_ptr<const event_batch>& b) {
    {
      std::lock_guard lock(sh->mutex);
      sh->head = std::max(sh->head, b->last());
    }
    sh->wake.notify_all();
  });
  m_listener = sub.id;
  {
    std::lock_guard lock(m_shared->mutex);
    m_shared->head = std::max(m_shared->head, sub.head);
  }
  m_loader = std::jthread([this](std::stop_token stop) { load_all(stop); });
}

webhook_dispatcher::~webhook_dispatcher() {
  m_loader.request_stop();
  if (m_loader.joinable()) m_loader.join();
  m_events.unsubscribe(m_listener);
  std::map<std::string, std::unique_ptr<worker>, std::less<>> all;
  {
    std::lock_guard lock(m_workers_mutex);
    all.swap(m_workers);
  }
  for (auto& [id, w] : all) w->thread.request_stop();
  all.clear();  // joins
}

void webhook_dispatcher::launch(const std::string& id) {
  std::lock_guard lock(m_workers_mutex);
  auto& slot = m_workers[id];
  if (slot && !slot->finished) return;
  slot = std::make_unique<worker>();
  slot->thread = std::jthread([this, sh = m_shared, id, w = slot.get()](std::stop_token stop) {
    deliver(stop, m_events, *sh, m_options, id);
    w->finished = true;
  });
}

void webhook_dispatcher::halt(const std::string& id) {
  std::unique_ptr<worker> w;
  {
    std::lock_guard lock(m_workers_mutex);
    const auto it = m_workers.find(id);
    if (it == m_workers.end()) return;
    w = std::move(it->second);
    m_workers.erase(it);
  }
  w->thread.request_stop();
  w->thread.join();
}

void webhook_dispatcher::load_all(const std::stop_token& stop) {
  std::vector<std::string> ids;
  for (;;) {
    auto r = m_events.store().read_records([&](kv::reader& rd) {
      ids.clear();
      return rd.scan(table::webhooks, {}, [&](std::string_view k, std::string_view) {
        ids.emplace_back(k);
        return true;
      });
    });
    if (r) break;
    if (!m_shared->pause(stop, store_retry)) return;
  }
  for (const auto& id : ids) launch(id);
}

outcome webhook_dispatcher::add(const webhook_spec& spec, std::string_view created_by, std::int64_t now) {
  const json rec = new_record(spec, created_by, now, "api");
  outcome o = m_events.store().apply(record_op{[&](kv::writer& w) { return put_subscription(w, spec, rec, false); }});
  if (o.status == outcome_status::applied) launch(o.body["webhook"]["id"].get<std::string>());
  return o;
}

result<void> webhook_dispatcher::configure(const std::vector<webhook_spec>& specs, std::int64_t now) {
  for (const auto& spec : specs) {
    halt(spec.id);
    const json rec = new_record(spec, "--webhooks", now, "file");
    const outcome o =
        m_events.store().apply(record_op{[&](kv::writer& w) { return put_subscription(w, spec, rec, true); }});
    if (o.status != outcome_status::applied)
      return store_error{store_errc::invalid, 0, "webhook " + spec.id + ": " + o.message};
    launch(spec.id);
  }
  return {};
}

outcome webhook_dispatcher::remove(std::string_view id_view) {
  const std::string id(id_view);
  halt(id);
  outcome o = m_events.store().apply(record_op{[&](kv::writer& w) -> result<outcome> {
    auto found = load_record(w, id);
    if (!found) return std::move(found).error();
    if (!*found) return make_outcome(outcome_status::not_found, "webhook.not_found", "no webhook " + id);
    std::vector<std::string> log;
    auto s = kv::scan_prefix(w, table::deliveries, keys::prefix(id), [&](std::string_view k, std::string_view) {
      log.emplace_back(k);
      return true;
    });
    if (!s) return std::move(s).error();
    for (const auto& k : log)
      if (auto r = w.del(table::deliveries, k); !r) return std::move(r).error();
    if (auto r = w.del(table::webhooks, id); !r) return std::move(r).error();
    return make_outcome(outcome_status::applied, "webhook.deleted", "deleted webhook " + id,
                        {{"deleted", id}, {"log_records", log.size()}});
  }});
  if (o.status == outcome_status::failed) launch(id);  // still there: keep delivering
  return o;
}

result<std::vector<json>> webhook_dispatcher::list() const {
  std::vector<json> out;
  std::optional<store_error> bad;
  auto r = m_events.store().read_records([&](kv::reader& rd) {
    return rd.scan(table::webhooks, {}, [&](std::string_view k, std::string_view v) {
      json j = json::parse(v, nullptr, false);
      if (!j.is_object()) {
        bad = store_error{store_errc::corrupt, 0, "webhooks/" + std::string(k) + ": malformed record"};
        return false;
      }
      out.push_back(public_view(std::move(j)));
      return true;
    });
  });
  if (!r) return std::move(r).error();
  if (bad) return std::move(*bad);
  return out;
}

result<std::optional<json>> webhook_dispatcher::get(std::string_view id) const {
  auto rec = read_record(m_events.store(), id);
  if (!rec) return std::move(rec).error();
  if (!*rec) return std::optional<json>{};
  return std::optional<json>{public_view(std::move(**rec))};
}

result<std::optional<std::vector<json>>> webhook_dispatcher::deliveries(std::string_view id, std::uint64_t after,
                                                                         std::size_t limit) const {
  std::optional<std::vector<json>> out;
  std::optional<store_error> bad;
  auto r = m_events.store().read_records([&](kv::reader& rd) -> result<void> {
    auto rec = load_record(rd, id);
    if (!rec) return std::move(rec).error();
    if (!*rec) return {};
    out.emplace();
    const std::string prefix = keys::prefix(id);
    return rd.scan(table::deliveries, keys::delivery(id, after + 1), [&](std::string_view k, std::string_view v) {
      if (k.substr(0, prefix.size()) != prefix) return false;
      json j = json::parse(v, nullptr, false);
      if (!j.is_object()) {
        bad = store_error{store_errc::corrupt, 0, "deliveries: malformed record of webhook " + std::string(id)};
        return false;
      }
      out->push_back(std::move(j));
      return limit == 0 || out->size() < limit;
    });
  });
  if (!r) return std::move(r).error();
  if (bad) return std::move(*bad);
  return out;
}

}  // namespace agentos::runtime
