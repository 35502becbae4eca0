#include "runtime/service/api.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <map>
#include <optional>
#include <vector>

#include "engine/sha256.hpp"
#include "runtime/service/api_routes.hpp"

namespace agentos::runtime {

namespace {

using nlohmann::json;
using namespace api_detail;

// ---- the target: path segments and query parameters, percent-decoded

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;  // a truncated escape
      const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

struct target {
  std::vector<std::string> segments;        // "/api/tasks/T-1" -> api, tasks, T-1
  std::map<std::string, std::string> query;  // the last value of a repeated key wins
};

std::optional<target> parse_target(std::string_view t) {
  target out;
  const auto q = t.find('?');
  const std::string_view path = t.substr(0, q);
  if (path.empty() || path.front() != '/') return std::nullopt;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) {
      auto seg = percent_decode(path.substr(start, end - start), false);
      if (!seg) return std::nullopt;
      out.segments.push_back(std::move(*seg));
    }
    start = end + 1;
  }
  if (q == std::string_view::npos) return out;
  std::string_view rest = t.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!key || !value) return std::nullopt;
    out.query[std::move(*key)] = std::move(*value);
  }
  return out;
}



// ---- authentication

// The token of `Bearer <token>` (the scheme in any case), or "" when the header is not exactly
// that: another scheme, no token, or more than one (a blank or a comma after the scheme; several
// Authorization fields arrive joined by ", ", see http_server.cpp).
std::string_view bearer_token(std::string_view header) {
  constexpr std::string_view scheme = "bearer ";
  if (header.size() <= scheme.size()) return {};
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    const char c = header[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != scheme[i]) return {};
  }
  std::string_view token = header.substr(scheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.find_first_of(" \t,") != std::string_view::npos) return {};
  return token;
}





// An Idempotency-Key: 1 to 255 printable ASCII characters, on a route that takes one. The store
// sees it scoped to the actor (`actor \n key`: a key cannot hold a newline, so the last one
// separates) and with what it stands for, which a retry must match.
std::optional<api_response> idempotency(const route& r, const api_request& request, call& c) {
  const std::string_view key = *request.idempotency_key;
  const bool printable = std::all_of(key.begin(), key.end(), [](char ch) { return ch >= 0x20 && ch <= 0x7e; });
  if (key.empty() || key.size() > 255 || !printable)
    return api_error(400, "request.bad_idempotency_key",
                     "an Idempotency-Key is 1 to 255 printable ASCII characters");
  if (!r.idempotent)
    return api_error(400, "idempotency.unsupported",
                     std::string(request.method) + " " + r.pattern + " does not take an Idempotency-Key");
  std::string described(request.method);
  described.append(" ").append(request.target);
  c.idempotency_key = c.actor_id + '\n' + std::string(key);
  c.idempotency_request = described + " sha256:" + engine::sha256_hex(described + "\n" + std::string(request.body));
  return std::nullopt;
}

api_response method_not_allowed(std::string allow) {
  api_response r = api_error(405, "http.method_not_allowed", "use " + allow);
  r.allow = std::move(allow);
  return r;
}

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}


// "/api/tasks/{id}" -> api, tasks, {} (a path parameter, whatever its name).
std::vector<std::string> split_pattern(std::string_view pattern) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= pattern.size()) {
    std::size_t end = pattern.find('/', start);
    if (end == std::string_view::npos) end = pattern.size();
    if (end > start) {
      const std::string_view seg = pattern.substr(start, end - start);
      out.emplace_back(seg.front() == '{' && seg.back() == '}' ? std::string_view("{}") : seg);
    }
    start = end + 1;
  }
  return out;
}

bool matches(const std::vector<std::string>& pattern, const std::vector<std::string>& segments) {
  if (pattern.size() != segments.size()) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i)
    if (pattern[i] != "{}" && pattern[i] != segments[i]) return false;
  return true;
}

// The JSON pointer of the first string (a value or a key) in `v` that holds U+0000, or nullopt.
// Body strings become store keys and index entries (`value \0 id`), where a NUL would split them;
// no field needs one. Recursion is bounded: parse_body checked the depth first.
std::optional<std::string> nul_at(const json& v) {
  auto escaped = [](const std::string& key) {  // RFC 6901: ~ is ~0, / is ~1
    std::string out;
    for (const char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
    return out;
  };
  if (v.is_string())
    return v.get_ref<const std::string&>().find('\0') == std::string::npos ? std::nullopt
                                                                             : std::optional<std::string>("");
  if (v.is_object()) {
    for (const auto& [key, value] : v.items()) {
      const std::string here = "/" + escaped(key);
      if (key.find('\0') != std::string::npos) return here;
      if (auto inner = nul_at(value)) return here + *inner;
    }
  } else if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i)
      if (auto inner = nul_at(v[i])) return "/" + std::to_string(i) + *inner;
  }
  return std::nullopt;
}

}  // namespace

namespace api_detail {

std::string call::query_value(const std::string& key) const {
  const auto it = query.find(key);
  return it == query.end() ? std::string() : it->second;
}

std::optional<std::uint64_t> parse_count(std::string_view s) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  std::uint64_t n = 0;
  for (const char c : s) n = n * 10 + static_cast<std::uint64_t>(c - '0');
  return n;
}

api_response json_text(unsigned status, std::string text) {
  api_response r;
  r.status = status;
  r.content_type = "application/json";
  r.text = std::move(text);
  r.text.push_back('\n');
  return r;
}

api_response store_failure(const store_error& e) {
  return api_error(503, "store." + std::string(to_string(e.code)), e.message);
}

api_response from_outcome(const outcome& o, unsigned applied_status) {
  // A replay answers with the first response's status and body; the header says it is one.
  if (o.body.is_object() && o.body.contains("replayed")) {
    outcome first = o;
    first.body.erase("replayed");
    api_response r = from_outcome(first, applied_status);
    r.headers.emplace_back("Idempotent-Replayed", "true");
    return r;
  }
  if (o.code == "idempotency.key_reused") return api_error(422, o.code, o.message, o.body);
  switch (o.status) {
    case outcome_status::applied: return {applied_status, o.body, {}};
    case outcome_status::denied: {
      const json decision = o.body.contains("decision") ? o.body["decision"] : o.decision();
      json details = {{"reasons", decision.is_object() && decision.contains("reasons") ? decision["reasons"]
                                                                                       : json::array()},
                      {"decision", decision}};
      if (o.body.contains("task")) details["task"] = o.body["task"];
      if (o.body.contains("audit_seq")) details["audit_seq"] = o.body["audit_seq"];
      return api_error(422, o.code.empty() ? "policy.denied" : o.code, o.message, std::move(details));
    }
    case outcome_status::conflict: return api_error(409, o.code, o.message, o.body);
    case outcome_status::not_found: return api_error(404, o.code, o.message, o.body);
    case outcome_status::invalid: return api_error(400, o.code, o.message, o.body);
    case outcome_status::failed: return api_error(503, o.code, o.message, o.body);
  }
  return api_error(500, "internal", "an outcome with an unknown status");
}

std::optional<api_response> parse_body(std::string_view body, std::size_t max_depth, json& out) {
  if (!json_depth_within(body, max_depth))
    return api_error(400, "request.too_deep", "the JSON nests deeper than " + std::to_string(max_depth) + " levels");
  out = json::parse(body, nullptr, false);
  if (out.is_discarded()) return api_error(400, "request.malformed", "the body is not valid JSON");
  if (!out.is_object()) return api_error(400, "request.invalid", "the body must be a JSON object");
  if (auto at = nul_at(out))
    return api_error(400, "request.invalid", "a string holds U+0000 (NUL) at `" + *at + "`", {{"pointer", *at}});
  return std::nullopt;
}

std::optional<api_response> list_limit(const call& c, const api_limits& limits, std::size_t& out) {
  out = limits.default_list_limit;
  const auto l = c.query.find("limit");
  if (l == c.query.end()) return std::nullopt;
  const auto n = parse_count(l->second);
  if (!n || *n == 0 || *n > limits.max_list_limit)
    return api_error(400, "request.invalid",
                     "limit must be a whole number from 1 to " + std::to_string(limits.max_list_limit));
  out = static_cast<std::size_t>(*n);
  return std::nullopt;
}

std::optional<api_response> optional_string(const json& body, const char* field, std::optional<std::string>& out) {
  out.reset();
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return api_error(400, "request.invalid", "`" + std::string(field) + "` must be a string");
  out = it->get<std::string>();
  return std::nullopt;
}

std::optional<api_response> optional_version(const json& body, std::optional<std::uint64_t>& out) {
  out.reset();
  const auto it = body.find("expected_version");
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_unsigned()) return api_error(400, "request.invalid", "`expected_version` must be a whole number");
  out = it->get<std::uint64_t>();
  return std::nullopt;
}

std::optional<api_response> only_fields(const json& body, std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : body.items()) {
    bool ok = false;
    for (const auto k : known) ok |= key == k;
    if (!ok) return api_error(400, "request.unknown_field", "unknown field `" + key + "`", {{"field", key}});
  }
  return std::nullopt;
}

}  // namespace api_detail

api_response api_error(unsigned status, std::string_view code, std::string_view message, json details) {
  return {status, {{"error", {{"code", code}, {"message", message}, {"details", std::move(details)}}}}, {}};
}

api_response event_stream_response(std::uint64_t after) {
  return {200, {{"event_stream", {{"after", after}}}}, {}};
}

std::optional<std::uint64_t> event_stream_after(const api_response& r) {
  if (r.status != 200 || !r.body.is_object() || r.body.size() != 1) return std::nullopt;
  const auto s = r.body.find("event_stream");
  if (s == r.body.end() || !s->is_object()) return std::nullopt;
  const auto after = s->find("after");
  if (after == s->end() || !after->is_number_unsigned()) return std::nullopt;
  return after->get<std::uint64_t>();
}

bool json_depth_within(std::string_view text, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;  // skip the escaped character
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

struct api::state {
  task_store& store;
  bearer_tokens tokens;
  api_limits limits;
  std::function<std::int64_t()> clock;
  route_table routes;
  std::shared_ptr<executor_state> executor;
  // The routes' patterns, split into segments once ("{}" for a path parameter).
  std::vector<std::vector<std::string>> patterns;
  std::filesystem::path policy_entry = {};
  std::unique_ptr<issued_tokens> issued = {};
  std::unique_ptr<service_metrics> metrics = {};
  std::unique_ptr<notifier> events = {};  // declared before webhooks, which listens to it
  std::unique_ptr<webhook_dispatcher> webhooks = {};

  [[nodiscard]] services view() const {
    return {store, tokens, limits, clock, *issued, *metrics, policy_entry, *events, *webhooks};
  }
};

api::api(task_store& store, bearer_tokens tokens, api_options options)
    : m(std::make_unique<state>(state{store, std::move(tokens), std::move(options.limits), std::move(options.clock), {}, {}, {}})) {
  if (!m->clock) m->clock = wall_clock_ms;
  m->policy_entry = std::move(options.policy_entry);
  m->issued = std::make_unique<issued_tokens>(store);
  m->events = std::make_unique<notifier>(store);
  m->webhooks = std::make_unique<webhook_dispatcher>(*m->events, options.webhooks);
  m->routes.push_back({"GET", "/health", false, [](const services&, const call&) {
                         return api_response{200, {{"status", "ok"}}, {}};
                       }});
  add_task_routes(m->routes);
  add_audit_routes(m->routes);
  add_ops_routes(m->routes);
  add_agent_routes(m->routes);
  add_policy_routes(m->routes);
  add_metrics_routes(m->routes);
  add_event_routes(m->routes);
  add_openapi_routes(m->routes);
  add_projection_routes(m->routes, std::move(options.projection_check));
  m->executor = add_executor_routes(m->routes, std::move(options.executor));
  std::vector<std::pair<std::string, std::string>> labels;
  for (const auto& r : m->routes) {
    m->patterns.push_back(split_pattern(r.pattern));
    labels.emplace_back(r.method, r.pattern);
  }
  m->metrics = std::make_unique<service_metrics>(std::move(labels));
}

api::~api() = default;

void api::default_public_base_url(std::string url) { api_detail::default_public_base_url(*m->executor, std::move(url)); }
notifier& api::events() const { return *m->events; }
webhook_dispatcher& api::webhooks() const { return *m->webhooks; }

std::vector<route_info> api::routes() const {
  std::vector<route_info> out;
  for (const auto& r : m->routes) out.push_back({r.method, r.pattern, r.authenticated, r.idempotent});
  return out;
}

api_response api::handle(const api_request& request) const {
  const auto started = std::chrono::steady_clock::now();
  std::size_t route = m->routes.size();  // none matched, until one does
  api_response r;
  try {
    r = dispatch(request, route);
  } catch (const std::exception& e) {
    r = api_error(500, "internal", std::string("internal error: ") + e.what());
  }
  m->metrics->observe(route, r, std::chrono::steady_clock::now() - started);
  return r;
}

api_response api::dispatch(const api_request& request, std::size_t& route_index) const {
  auto t = parse_target(request.target);
  if (!t) return api_error(400, "request.bad_target", "the request target is not a valid path and query");

  // The route whose pattern matches the path and whose method is the request's; when the path
  // matches but no method does, a 405 with the methods it has.
  const route* found = nullptr;
  std::string allow;
  for (std::size_t i = 0; i < m->routes.size() && !found; ++i) {
    if (!matches(m->patterns[i], t->segments)) continue;
    if (m->routes[i].method == request.method) {
      found = &m->routes[i];
    } else if (allow.find(m->routes[i].method) == std::string::npos) {
      allow += (allow.empty() ? "" : ", ") + m->routes[i].method;
    }
  }
  if (!found) {
    if (!allow.empty()) return method_not_allowed(std::move(allow));
    return api_error(404, "http.not_found", "no such route");
  }

  route_index = static_cast<std::size_t>(found - m->routes.data());
  call c{request, {}, std::move(t->query), {}, json::object()};
  const auto& pattern = m->patterns[route_index];
  for (std::size_t i = 0; i < pattern.size(); ++i)
    if (pattern[i] == "{}") c.params.push_back(std::move(t->segments[i]));
  if (found->authenticated) {
    const std::string_view token = bearer_token(request.authorization);
    auto owner = m->tokens.owner(token);
    if (!owner) owner = m->issued->owner(token);
    if (!owner) {
      return api_error(401, "auth.unauthenticated",
                       request.authorization.empty() ? "an Authorization: Bearer <token> header is required"
                       : token.empty()               ? "the Authorization header must be `Bearer <token>`, one token"
                                                     : "unknown token");
    }
    c.actor_id = *owner;
    c.actor = {{"id", *owner}};
  }
  if (request.idempotency_key && request.method != "GET" && request.method != "HEAD") {
    if (auto bad = idempotency(*found, request, c)) return *bad;
  }
  return found->fn(m->view(), c);
}

}  // namespace agentos::runtime
