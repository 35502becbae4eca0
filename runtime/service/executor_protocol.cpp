#include "runtime/service/executor_protocol.hpp"

#include <algorithm>
#include <deque>
#include <vector>

#include "engine/decide.hpp"
#include "engine/report.hpp"
#include "engine/request_json.hpp"

namespace agentos::runtime {

using nlohmann::json;

std::string_view to_string(submission_kind k) { return k == submission_kind::plan ? "plan" : "result"; }

std::string_view submit_event(submission_kind k) {
  return k == submission_kind::plan ? "submit_plan" : "submit_result";
}

std::string begin_marker(submission_kind k, std::string_view task, std::uint64_t version) {
  std::string out(marker_prefix);
  out += k == submission_kind::plan ? "PLAN" : "RESULT";
  out += " task=";
  out += task;
  out += " version=" + std::to_string(version) + ">>>";
  return out;
}

namespace {

// ---- markers

marker_parse fail(std::string code, std::string message, std::size_t line) {
  marker_parse p;
  p.error = {std::move(code), std::move(message), line};
  return p;
}

bool task_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == ':';
}

// "<<<AGENTOS:KIND task=ID version=N>>>", nothing more, nothing less: single spaces, no leading
// zeros. On a mistake returns nullopt and says why in `error` (its line is set by the caller).
std::optional<marker_block> parse_begin(std::string_view line, marker_error& error) {
  const std::string_view syntax = "expected `<<<AGENTOS:PLAN task=ID version=N>>>` (or RESULT)";
  std::string_view rest = line.substr(marker_prefix.size());
  if (rest.size() < 3 || rest.substr(rest.size() - 3) != ">>>") {
    error = {"markers.malformed", "a marker must end with `>>>` and nothing after it; " + std::string(syntax), 0};
    return std::nullopt;
  }
  rest.remove_suffix(3);
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const auto space = rest.find(' ', start);
    parts.push_back(rest.substr(start, space == std::string_view::npos ? std::string_view::npos : space - start));
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  marker_block b;
  if (parts[0] == "PLAN") {
    b.kind = submission_kind::plan;
  } else if (parts[0] == "RESULT") {
    b.kind = submission_kind::result;
  } else if (!parts[0].empty() && std::all_of(parts[0].begin(), parts[0].end(), [](char c) { return c >= 'A' && c <= 'Z'; }) &&
             parts[0] != "END") {
    error = {"markers.bad_kind", "unknown block kind `" + std::string(parts[0]) + "`: expected PLAN or RESULT", 0};
    return std::nullopt;
  } else {
    error = {"markers.malformed", "not a begin marker; " + std::string(syntax), 0};
    return std::nullopt;
  }
  constexpr std::string_view task_key = "task=", version_key = "version=";
  if (parts.size() != 3 || parts[1].substr(0, task_key.size()) != task_key ||
      parts[2].substr(0, version_key.size()) != version_key) {
    error = {"markers.malformed", "a begin marker has exactly `task=` and `version=`, one space apart; " + std::string(syntax), 0};
    return std::nullopt;
  }
  const std::string_view id = parts[1].substr(task_key.size());
  if (id.empty() || id.size() > 128 || !std::all_of(id.begin(), id.end(), task_id_char)) {
    error = {"markers.malformed", "`task=` must name a task id (letters, digits, `-`, `_`, `.`, `:`)", 0};
    return std::nullopt;
  }
  const std::string_view v = parts[2].substr(version_key.size());
  if (v.empty() || v.size() > 18 || v[0] == '0' || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    error = {"markers.malformed", "`version=` must be the task's version, a whole number from 1 (no leading zeros)", 0};
    return std::nullopt;
  }
  b.task = std::string(id);
  for (const char c : v) b.version = b.version * 10 + static_cast<std::uint64_t>(c - '0');
  return b;
}

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

}  // namespace

marker_parse parse_markers(std::string_view text, std::string_view task_id, std::size_t max_content_bytes) {
  std::optional<marker_block> found;  // a closed block
  std::optional<marker_block> open;   // the block being read
  std::size_t open_line = 0;
  bool first_content_line = true;
  std::size_t number = 0;
  for (std::size_t start = 0; start <= text.size();) {
    const auto nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    start = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    const auto indent = line.find_first_not_of(" \t");
    const bool marker = indent != std::string_view::npos && line.substr(indent, marker_prefix.size()) == marker_prefix;
    if (!marker) {
      if (!open) continue;  // text around the block is the executor's own
      if (!first_content_line) open->content.push_back('\n');
      first_content_line = false;
      open->content += line;
      if (open->content.size() > max_content_bytes)
        return fail("markers.too_large",
                    "the block's content is larger than " + std::to_string(max_content_bytes) + " bytes", open_line);
      continue;
    }
    if (indent != 0) return fail("markers.malformed", "a marker must start at the beginning of its line", number);
    if (line == end_marker) {
      if (!open) return fail("markers.malformed", "an end marker without a begin marker before it", number);
      if (blank(open->content)) return fail("markers.empty", "the block has no content", open_line);
      found = std::move(open);
      open.reset();
      continue;
    }
    marker_error why;
    auto begin = parse_begin(line, why);
    if (open) {
      if (begin)
        return fail("markers.missing_end",
                    "the block opened on line " + std::to_string(open_line) + " has no end marker before line " +
                        std::to_string(number) + "'s begin marker",
                    open_line);
      return fail(why.code == "markers.bad_kind" ? "markers.malformed" : why.code,
                  "inside the block opened on line " + std::to_string(open_line) +
                      ": a line that starts with `<<<AGENTOS:` must be exactly `<<<AGENTOS:END>>>`",
                  number);
    }
    if (!begin) return fail(why.code, why.message, number);
    if (found) return fail("markers.multiple", "a second block: a write-back carries exactly one", number);
    if (begin->task != task_id)
      return fail("markers.wrong_task",
                  "the block is for task " + begin->task + ", but the write-back is for task " + std::string(task_id),
                  number);
    open = std::move(begin);
    open_line = number;
    first_content_line = true;
  }
  if (open)
    return fail("markers.missing_end", "the block opened on line " + std::to_string(open_line) + " has no end marker",
                open_line);
  if (!found)
    return fail("markers.missing",
                "no block: expected a line `<<<AGENTOS:PLAN task=" + std::string(task_id) +
                    " version=N>>>` (or RESULT), the content, then `<<<AGENTOS:END>>>`",
                0);
  marker_parse ok;
  ok.block = std::move(found);
  return ok;
}

// ---- the brief

namespace {

// Dry runs of the task's lifecycle for the brief: which edge an event would take from a state
// (guards evaluated on the task), and whether the assignee may take it now.
class lifecycle_probe {
 public:
  lifecycle_probe(const engine::rule_graph& g, engine::request& req) : m_g(g), m_req(req), m_buffer(g) {}

  // The state an event leads to from `state`, or -1 when no edge's guard holds.
  std::int32_t target(std::int32_t state, std::int32_t event) {
    if (state < 0 || event < 0) return -1;
    m_req.set_state(state);
    m_req.set_event(event);
    const engine::decision d = engine::decide(m_g, m_req, m_buffer);
    return d.edge == engine::no_rule ? -1 : d.target;
  }

  // Whether some state reachable from `from` (by edges whose guards hold, never through an event
  // in `avoid`) has an edge on `goal`.
  bool reaches(std::int32_t from, std::int32_t goal, std::initializer_list<std::int32_t> avoid) {
    if (goal < 0) return false;
    std::vector<bool> seen(static_cast<std::size_t>(m_g.state_count()), false);
    std::deque<std::int32_t> queue{from};
    seen[static_cast<std::size_t>(from)] = true;
    while (!queue.empty()) {
      const std::int32_t s = queue.front();
      queue.pop_front();
      if (target(s, goal) >= 0) return true;
      for (std::int32_t e = 0; e < m_g.event_count(); ++e) {
        if (e == goal || std::find(avoid.begin(), avoid.end(), e) != avoid.end()) continue;
        const std::int32_t t = target(s, e);
        if (t >= 0 && !seen[static_cast<std::size_t>(t)]) {
          seen[static_cast<std::size_t>(t)] = true;
          queue.push_back(t);
        }
      }
    }
    return false;
  }

  // decide() for `event` from `state`, as the request's actor.
  engine::decision decide(std::int32_t state, std::int32_t event) {
    m_req.set_state(state);
    m_req.set_event(event);
    return engine::decide(m_g, m_req, m_buffer);
  }

 private:
  const engine::rule_graph& m_g;
  engine::request& m_req;
  engine::decision_buffer m_buffer;
};

std::string attribute_text(const json& task, const char* name) {
  const json& attrs = task.contains("attributes") ? task["attributes"] : json::object();
  const auto it = attrs.find(name);
  return it != attrs.end() && it->is_string() ? it->get<std::string>() : std::string();
}

json or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

}  // namespace

json execution_brief(const engine::rule_graph& g, const json& record, const brief_options& o) {
  const json& t = record["task"];
  const std::string id = record.value("id", std::string());
  const std::uint64_t version = record.value("version", std::uint64_t{0});
  const std::string state_name = t.value("state", std::string());
  const std::string assignee = t.value("assignee", std::string());

  json brief = {{"task",
                 {{"id", id},
                  {"title", or_null(attribute_text(t, "title"))},
                  {"brief", or_null(attribute_text(t, "brief"))},
                  {"project", or_null(t.value("project", std::string()))},
                  {"mode", t.value("mode", std::string())},
                  {"state", state_name},
                  {"version", version},
                  {"assignee", or_null(assignee)},
                  {"assignee_role", or_null(t.value("assignee_role", std::string()))}}},
                {"expected_version", version}};

  json input = {{"now", o.now}, {"task", t}};
  if (o.assignee.is_object()) input["actor"] = o.assignee;
  auto built = engine::request_from_json(input, g);
  const std::int32_t state = g.find_state(state_name);
  std::optional<submission_kind> kind;
  json submit = {{"kind", nullptr}, {"event", nullptr}, {"now", false}, {"allowed", false},
                 {"reasons", json::array()}, {"first", nullptr}};
  if (built.ok() && state >= 0) {
    lifecycle_probe probe(g, *built.value);
    const std::int32_t plan = g.find_event(submit_event(submission_kind::plan));
    const std::int32_t result = g.find_event(submit_event(submission_kind::result));
    const std::int32_t approve = g.find_event("approve_plan");
    if (probe.reaches(state, result, {plan, approve}))
      kind = submission_kind::result;
    else if (probe.reaches(state, plan, {result}))
      kind = submission_kind::plan;
    if (kind) {
      const std::int32_t event = *kind == submission_kind::plan ? plan : result;
      submit["kind"] = to_string(*kind);
      submit["event"] = submit_event(*kind);
      submit["now"] = probe.target(state, event) >= 0;
      const engine::decision d = probe.decide(state, event);
      submit["allowed"] = d.allowed;
      for (const auto& r : d.reasons) submit["reasons"].push_back(engine::reason_text(g, r));
      if (!submit["now"].get<bool>()) {
        // The one step the assignee may take itself that leads to where the submission is due.
        for (std::int32_t e = 0; e < g.event_count() && submit["first"].is_null(); ++e) {
          if (e == plan || e == result) continue;
          const engine::decision step = probe.decide(state, e);
          if (step.allowed && probe.target(step.target, event) >= 0) submit["first"] = engine::event_name(g, e);
        }
      }
    }
  }
  brief["submit"] = submit;

  const std::string begin = begin_marker(kind.value_or(submission_kind::result), id, version);
  brief["markers"] = {{"begin", kind ? json(begin) : json(nullptr)},
                      {"end", end_marker},
                      {"template", kind ? json(begin + "\n...\n" + std::string(end_marker)) : json(nullptr)}};
  brief["callback"] = {
      {"method", "POST"},
      {"url", o.callback_url},
      {"body", {{"task_id", id}, {"body", "<text with exactly one marked block>"}}},
      {"signature",
       {{"required", o.signatures_required},
        {"headers",
         {{"X-Agentos-Timestamp", "<unix seconds>"},
          {"X-Agentos-Signature", "sha256=<hex HMAC-SHA256 of timestamp.method.path.body under your secret>"}}}}}};

  std::string how;
  if (!kind) {
    how = "Nothing is to be submitted for this task in state " + state_name + ".";
  } else if (submit["now"].get<bool>()) {
    how = "Submit the " + std::string(to_string(*kind)) + " now: put it between the two marker lines (each alone on " +
          "its line, exactly as given) and POST {\"task_id\", \"body\"} to the callback URL, once. Then stop: " +
          "review is the policy's business, not yours.";
  } else if (!submit["first"].is_null()) {
    how = "First take `" + submit["first"].get<std::string>() + "` (POST /api/tasks/" + id +
          "/transitions), then read this brief again for the markers of the new version and submit the " +
          std::string(to_string(*kind)) + ".";
  } else {
    how = "Nothing can be submitted now (state " + state_name + "); the next " + std::string(to_string(*kind)) +
          " is due after others act on the task. Stop and wait to be woken.";
  }
  brief["instructions"] = how;
  return brief;
}

}  // namespace agentos::runtime
