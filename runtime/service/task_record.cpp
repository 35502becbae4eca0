#include "runtime/service/task_record.hpp"

#include <bit>
#include <cstring>

#include "engine/graph.hpp"
#include "engine/report.hpp"

namespace agentos::runtime {

namespace {

constexpr std::uint8_t format = 2;

class writer {
 public:
  explicit writer(std::string& out) : m_out(out) {}
  void u8(std::uint8_t v) { m_out.push_back(static_cast<char>(v)); }
  void u64(std::uint64_t v) {
    char b[8];
    std::memcpy(b, &v, 8);  // little-endian hosts only (x86-64, arm64): checked below
    m_out.append(b, 8);
  }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void str(std::string_view s) {
    u64(s.size());
    m_out.append(s);
  }
  void strs(const std::vector<std::string>& v) {
    u64(v.size());
    for (const auto& s : v) str(s);
  }

 private:
  std::string& m_out;
};

class reader {
 public:
  explicit reader(std::string_view in) : m_in(in) {}
  bool ok() const { return m_ok; }
  bool done() const { return m_pos == m_in.size(); }
  std::uint8_t u8() {
    if (!need(1)) return 0;
    return static_cast<std::uint8_t>(m_in[m_pos++]);
  }
  std::uint64_t u64() {
    if (!need(8)) return 0;
    std::uint64_t v = 0;
    std::memcpy(&v, m_in.data() + m_pos, 8);
    m_pos += 8;
    return v;
  }
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  std::string str() {
    const std::uint64_t n = u64();
    if (!need(n)) return {};
    std::string s(m_in.substr(m_pos, n));
    m_pos += n;
    return s;
  }
  std::vector<std::string> strs() {
    const std::uint64_t n = u64();
    std::vector<std::string> v;
    if (n > m_in.size()) {
      m_ok = false;
      return v;
    }
    v.reserve(n);
    for (std::uint64_t i = 0; i < n && m_ok; ++i) v.push_back(str());
    return v;
  }

 private:
  bool need(std::uint64_t n) {
    if (!m_ok || n > m_in.size() - m_pos) m_ok = false;
    return m_ok;
  }
  std::string_view m_in;
  std::size_t m_pos = 0;
  bool m_ok = true;
};

static_assert(std::endian::native == std::endian::little, "task records are stored little-endian");

}  // namespace

std::uint32_t task_record::artifact_version(std::string_view kind) const {
  for (const auto& [k, v] : artifacts)
    if (k == kind) return v;
  return 0;
}

void task_record::set_artifact_version(std::string_view kind, std::uint32_t v) {
  for (auto& [k, old] : artifacts)
    if (k == kind) {
      old = v;
      return;
    }
  artifacts.emplace_back(std::string(kind), v);
}

std::string encode(const task_record& t) {
  std::string out;
  out.reserve(256 + t.attributes.size() + t.intake.size());
  writer w(out);
  w.u8(format);
  w.str(t.id);
  w.u64(t.version);
  w.str(t.project);
  w.strs(t.labels);
  w.str(t.state);
  w.str(t.mode);
  w.str(t.assignee);
  w.str(t.assignee_role);
  w.i64(t.attempts);
  w.i64(t.entered_at);
  w.i64(t.created_at);
  w.i64(t.updated_at);
  w.u8(t.escalation_requested ? 1 : 0);
  w.str(t.attributes);
  w.str(t.created_by);
  w.str(t.policy);
  w.str(t.intake);
  w.strs(t.visited);
  w.strs(t.escalations);
  w.u8(t.due_at ? 1 : 0);
  w.i64(t.due_at.value_or(0));
  w.u8(t.indexed_due ? 1 : 0);
  w.i64(t.indexed_due.value_or(0));
  w.u64(t.artifacts.size());
  for (const auto& [k, v] : t.artifacts) {
    w.str(k);
    w.u64(v);
  }
  return out;
}

std::optional<task_record> decode_task(std::string_view bytes) {
  reader r(bytes);
  if (r.u8() != format) return std::nullopt;
  task_record t;
  t.id = r.str();
  t.version = r.u64();
  t.project = r.str();
  t.labels = r.strs();
  t.state = r.str();
  t.mode = r.str();
  t.assignee = r.str();
  t.assignee_role = r.str();
  t.attempts = r.i64();
  t.entered_at = r.i64();
  t.created_at = r.i64();
  t.updated_at = r.i64();
  t.escalation_requested = r.u8() != 0;
  t.attributes = r.str();
  t.created_by = r.str();
  t.policy = r.str();
  t.intake = r.str();
  t.visited = r.strs();
  t.escalations = r.strs();
  const bool has_due = r.u8() != 0;
  const std::int64_t due = r.i64();
  if (has_due) t.due_at = due;
  const bool has_indexed = r.u8() != 0;
  const std::int64_t indexed = r.i64();
  if (has_indexed) t.indexed_due = indexed;
  const std::uint64_t n = r.u64();
  if (n > bytes.size()) return std::nullopt;
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    std::string k = r.str();
    t.artifacts.emplace_back(std::move(k), static_cast<std::uint32_t>(r.u64()));
  }
  if (!r.ok() || !r.done()) return std::nullopt;
  return t;
}

void append_request_task_json(std::string& out, const task_record& t) {
  using engine::append_json_string;
  out += "{\"id\":";
  append_json_string(out, t.id);
  if (!t.project.empty()) {
    out += ",\"project\":";
    append_json_string(out, t.project);
  }
  out += ",\"labels\":[";
  for (std::size_t i = 0; i < t.labels.size(); ++i) {
    if (i) out.push_back(',');
    append_json_string(out, t.labels[i]);
  }
  out += "],\"state\":";
  append_json_string(out, t.state);
  out += ",\"mode\":";
  append_json_string(out, t.mode);
  out += ",\"assignee\":";
  append_json_string(out, t.assignee);
  if (!t.assignee_role.empty()) {
    out += ",\"assignee_role\":";
    append_json_string(out, t.assignee_role);
  }
  out += ",\"attempts\":" + std::to_string(t.attempts);
  out += ",\"entered_at\":" + std::to_string(t.entered_at);
  out += ",\"created_at\":" + std::to_string(t.created_at);
  out += t.escalation_requested ? ",\"escalation_requested\":true" : ",\"escalation_requested\":false";
  out += ",\"attributes\":";
  out += t.attributes;
  out.push_back('}');
}

namespace {

using engine::append_json_string;

void append_string_array(std::string& out, const std::vector<std::string>& items) {
  out.push_back('[');
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out.push_back(',');
    append_json_string(out, items[i]);
  }
  out.push_back(']');
}

}  // namespace

void append_task_json(std::string& out, const task_record& t) {
  using engine::append_json_string;
  // Keys in the order nlohmann::json keeps them (sorted), so both forms print alike.
  out += "{\"artifacts\":{";
  for (std::size_t i = 0; i < t.artifacts.size(); ++i) {
    if (i) out.push_back(',');
    append_json_string(out, t.artifacts[i].first);
    out.push_back(':');
    out += std::to_string(t.artifacts[i].second);
  }
  out += "},\"created_by\":";
  append_json_string(out, t.created_by);
  out += ",\"due_at\":";
  out += t.due_at ? std::to_string(*t.due_at) : std::string("null");
  out += ",\"escalations\":";
  append_string_array(out, t.escalations);
  out += ",\"id\":";
  append_json_string(out, t.id);
  out += ",\"intake\":";
  out += t.intake.empty() ? std::string_view("{}") : std::string_view(t.intake);  // JSON text, written by the pipeline
  out += ",\"policy\":";
  append_json_string(out, t.policy);
  out += ",\"task\":";
  append_request_task_json(out, t);
  out += ",\"updated_at\":" + std::to_string(t.updated_at);
  out += ",\"version\":" + std::to_string(t.version);
  out += ",\"visited\":";
  append_string_array(out, t.visited);
  out.push_back('}');
}

nlohmann::json to_json(const task_record& t) {
  std::string text;
  append_task_json(text, t);
  return nlohmann::json::parse(text);
}

std::string assignment_event(const engine::rule_graph& g, const task_record& t) {
  const std::int32_t state = g.find_state(t.state);
  auto has_edge = [&](std::string_view event) {
    const std::int32_t e = g.find_event(event);
    return state >= 0 && e >= 0 && !g.edges(state, e).empty();
  };
  const bool assign = has_edge("assign"), reassign = has_edge("reassign");
  if (assign != reassign) return assign ? "assign" : "reassign";
  return t.assignee.empty() ? "assign" : "reassign";
}

}  // namespace agentos::runtime
