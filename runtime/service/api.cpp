#include "runtime/service/api.hpp"

#include <chrono>
#include <exception>
#include <map>
#include <optional>
#include <vector>

namespace agentos::runtime {

namespace {

using nlohmann::json;

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

std::string query_value(const target& t, const std::string& key) {
  const auto it = t.query.find(key);
  return it == t.query.end() ? std::string() : it->second;
}

// A non-negative decimal count, or nullopt.
std::optional<std::uint64_t> parse_count(std::string_view s) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  std::uint64_t n = 0;
  for (const char c : s) n = n * 10 + static_cast<std::uint64_t>(c - '0');
  return n;
}

// ---- authentication

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
  return token;
}

// ---- outcomes and store errors as responses

api_response store_failure(const store_error& e) {
  return api_error(503, "store." + std::string(to_string(e.code)), e.message);
}

api_response from_outcome(const outcome& o, unsigned applied_status) {
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

// A JSON object body, or the 400 that says why not.
std::optional<api_response> parse_body(std::string_view body, std::size_t max_depth, json& out) {
  if (!json_depth_within(body, max_depth))
    return api_error(400, "request.too_deep", "the JSON nests deeper than " + std::to_string(max_depth) + " levels");
  out = json::parse(body, nullptr, false);
  if (out.is_discarded()) return api_error(400, "request.malformed", "the body is not valid JSON");
  if (!out.is_object()) return api_error(400, "request.invalid", "the body must be a JSON object");
  return std::nullopt;
}

// Rejects fields a body does not know, so nothing unexpected is silently dropped (or stored).
// `?limit=` of a list route into `out` (the default when absent), or the 400 for a bad one.
std::optional<api_response> list_limit(const target& t, const api_limits& limits, std::size_t& out) {
  out = limits.default_list_limit;
  const auto l = t.query.find("limit");
  if (l == t.query.end()) return std::nullopt;
  const auto n = parse_count(l->second);
  if (!n || *n == 0 || *n > limits.max_list_limit)
    return api_error(400, "request.invalid",
                     "limit must be a whole number from 1 to " + std::to_string(limits.max_list_limit));
  out = static_cast<std::size_t>(*n);
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

api_response method_not_allowed(std::string allow) {
  api_response r = api_error(405, "http.method_not_allowed", "use " + allow);
  r.allow = std::move(allow);
  return r;
}

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

api_response api_error(unsigned status, std::string_view code, std::string_view message, json details) {
  return {status, {{"error", {{"code", code}, {"message", message}, {"details", std::move(details)}}}}, {}};
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

api::api(task_store& store, bearer_tokens tokens, api_limits limits, std::function<std::int64_t()> clock)
    : m_store(store), m_tokens(std::move(tokens)), m_limits(limits), m_clock(std::move(clock)) {
  if (!m_clock) m_clock = wall_clock_ms;
}

api_response api::handle(const api_request& request) const {
  try {
    return route(request);
  } catch (const std::exception& e) {
    return api_error(500, "internal", std::string("internal error: ") + e.what());
  }
}

api_response api::route(const api_request& request) const {
  const auto t = parse_target(request.target);
  if (!t) return api_error(400, "request.bad_target", "the request target is not a valid path and query");
  const auto& seg = t->segments;
  const std::string_view method = request.method;

  if (seg.size() == 1 && seg[0] == "health") {
    if (method != "GET") return method_not_allowed("GET");
    return {200, {{"status", "ok"}}, {}};
  }
  if (seg.empty() || seg[0] != "api") return api_error(404, "http.not_found", "no such route");

  const auto actor_id = m_tokens.owner(bearer_token(request.authorization));
  if (!actor_id) {
    return api_error(401, "auth.unauthenticated",
                     request.authorization.empty() ? "an Authorization: Bearer <token> header is required"
                                                   : "unknown token");
  }
  const json actor = {{"id", *actor_id}};

  // /api/tasks
  if (seg.size() == 2 && seg[1] == "tasks") {
    if (method == "GET") {
      task_filter f;
      f.state = query_value(*t, "state");
      f.assignee = query_value(*t, "assignee");
      f.project = query_value(*t, "project");
      if (auto bad = list_limit(*t, m_limits, f.limit)) return *bad;
      auto rows = m_store.tasks(f);
      if (!rows) return store_failure(rows.error());
      return {200, {{"tasks", std::move(*rows)}}, {}};
    }
    if (method == "POST") {
      json body;
      if (auto bad = parse_body(request.body, m_limits.max_json_depth, body)) return *bad;
      if (auto bad = only_fields(body, {"id", "task"})) return *bad;
      create_op op;
      if (const auto id = body.find("id"); id != body.end() && !id->is_null()) {
        if (!id->is_string()) return api_error(400, "request.invalid", "`id` must be a string");
        op.id = id->get<std::string>();
      }
      const auto task = body.find("task");
      if (task == body.end() || !task->is_object())
        return api_error(400, "request.invalid", "`task` must be an object (the task's project, labels, attributes)");
      op.task = *task;
      op.actor = actor;
      op.now = m_clock();
      return from_outcome(m_store.apply(std::move(op)), 201);
    }
    return method_not_allowed("GET, POST");
  }

  // /api/tasks/{id}
  if (seg.size() == 3 && seg[1] == "tasks") {
    if (method != "GET") return method_not_allowed("GET");
    auto rec = m_store.task(seg[2]);
    if (!rec) return store_failure(rec.error());
    if (!*rec) return api_error(404, "task.not_found", "no task " + seg[2]);
    return {200, std::move(**rec), {}};
  }

  // /api/tasks/{id}/transitions
  if (seg.size() == 4 && seg[1] == "tasks" && seg[3] == "transitions") {
    if (method != "POST") return method_not_allowed("POST");
    json body;
    if (auto bad = parse_body(request.body, m_limits.max_json_depth, body)) return *bad;
    if (auto bad = only_fields(body, {"event", "expected_version", "comment", "assign_to", "artifact"})) return *bad;
    transition_op op;
    op.task_id = seg[2];
    const auto event = body.find("event");
    if (event == body.end() || !event->is_string() || event->get<std::string>().empty())
      return api_error(400, "request.invalid", "`event` must be a non-empty string");
    op.event = event->get<std::string>();
    if (const auto v = body.find("expected_version"); v != body.end() && !v->is_null()) {
      if (!v->is_number_unsigned())
        return api_error(400, "request.invalid", "`expected_version` must be a whole number");
      op.expected_version = v->get<std::uint64_t>();
    }
    if (const auto c = body.find("comment"); c != body.end() && !c->is_null()) {
      if (!c->is_string()) return api_error(400, "request.invalid", "`comment` must be a string");
      op.review = c->get<std::string>();
    }
    if (const auto a = body.find("assign_to"); a != body.end() && !a->is_null()) {
      if (!a->is_string()) return api_error(400, "request.invalid", "`assign_to` must be a string");
      op.assign_to = a->get<std::string>();
    }
    if (const auto a = body.find("artifact"); a != body.end() && !a->is_null()) {
      if (!a->is_object() || !a->contains("kind") || !a->contains("content") || !(*a)["kind"].is_string() ||
          !(*a)["content"].is_string() || a->size() != 2)
        return api_error(400, "request.invalid", "`artifact` must be {\"kind\": string, \"content\": string}");
      op.artifact = artifact_input{(*a)["kind"].get<std::string>(), (*a)["content"].get<std::string>()};
    }
    op.actor = actor;
    op.now = m_clock();
    const outcome o = m_store.apply(std::move(op));
    api_response r = from_outcome(o, 200);
    if (o.status == outcome_status::applied && !r.body.contains("decision")) r.body["decision"] = o.decision();
    return r;
  }

  // /api/audit
  if (seg.size() == 2 && seg[1] == "audit") {
    if (method != "GET") return method_not_allowed("GET");
    audit_filter f;
    f.task = query_value(*t, "task");
    if (auto bad = list_limit(*t, m_limits, f.limit)) return *bad;
    auto entries = m_store.audit(f);
    if (!entries) return store_failure(entries.error());
    json records = json::array();
    for (auto& e : *entries) {
      json r = std::move(e.record);
      if (r.is_object()) {
        if (!r.contains("seq")) r["seq"] = e.seq;
        if (!r.contains("hash")) r["hash"] = e.hash;
      }
      records.push_back(std::move(r));
    }
    return {200, {{"records", std::move(records)}}, {}};
  }

  return api_error(404, "http.not_found", "no such route");
}

}  // namespace agentos::runtime
