#include "runtime/service/metrics.hpp"

#include <cstdio>
#include <cstring>
#include <functional>
#include <thread>


namespace agentos::runtime {

namespace {

// The statuses counted one by one; any other is counted as "other".
constexpr std::array<unsigned, 17> known_statuses{200, 201, 202, 204, 400, 401, 403, 404, 405,
                                                  409, 413, 415, 422, 429, 431, 500, 503};
constexpr std::size_t status_slots = known_statuses.size() + 1;

std::size_t status_slot(unsigned status) {
  for (std::size_t i = 0; i < known_statuses.size(); ++i)
    if (known_statuses[i] == status) return i;
  return known_statuses.size();
}

// A label value, escaped as the exposition format wants (backslash, quote, newline).
std::string label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (const char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void sample(std::string& out, std::string_view name, std::string_view labels, std::uint64_t value) {
  out.append(name);
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.append(" ").append(std::to_string(value)).append("\n");
}

}  // namespace

// Event names interned into fixed slots by open addressing. A slot is claimed once (empty ->
// writing -> ready) and never freed, so readers need no lock; names that do not fit (too long, or
// the table is full) are counted together under "other".
struct service_metrics::event_table {
  static constexpr std::size_t slots = 256;
  static constexpr std::size_t max_name = 63;
  enum : int { empty = 0, writing = 1, ready = 2 };
  struct slot {
    std::atomic<int> state{empty};
    char name[max_name + 1] = {};
    std::atomic<std::uint64_t> allow{0}, deny{0};
  };
  std::array<slot, slots> table;
  slot other;

  slot& find(std::string_view name) {
    if (name.empty() || name.size() > max_name) return other;
    const std::size_t start = std::hash<std::string_view>{}(name) % slots;
    for (std::size_t i = 0; i < slots; ++i) {
      slot& s = table[(start + i) % slots];
      int st = s.state.load(std::memory_order_acquire);
      if (st == empty) {
        if (s.state.compare_exchange_strong(st, writing, std::memory_order_acq_rel)) {
          std::memcpy(s.name, name.data(), name.size());
          s.name[name.size()] = '\0';
          s.state.store(ready, std::memory_order_release);
          return s;
        }
      }
      // Another thread is writing this slot's name: it is done within a few instructions.
      while ((st = s.state.load(std::memory_order_acquire)) == writing) std::this_thread::yield();
      if (name == std::string_view(s.name)) return s;
    }
    return other;
  }
};

service_metrics::service_metrics(std::vector<std::pair<std::string, std::string>> routes)
    : m_routes(std::move(routes)),
      m_requests(std::make_unique<counter[]>((m_routes.size() + 1) * status_slots)),
      m_events(std::make_unique<event_table>()) {}

service_metrics::~service_metrics() = default;

void service_metrics::request(std::size_t route, unsigned status) {
  if (route > m_routes.size()) route = m_routes.size();
  m_requests[route * status_slots + status_slot(status)].fetch_add(1, std::memory_order_relaxed);
}

void service_metrics::decision(std::string_view event, bool allowed, std::chrono::nanoseconds took) {
  auto& s = m_events->find(event);
  (allowed ? s.allow : s.deny).fetch_add(1, std::memory_order_relaxed);
  const double seconds = std::chrono::duration<double>(took).count();
  std::size_t bucket = 0;
  while (bucket < latency_bounds.size() && seconds > latency_bounds[bucket]) ++bucket;
  m_latency[bucket].fetch_add(1, std::memory_order_relaxed);
  m_latency_ns.fetch_add(static_cast<std::uint64_t>(took.count() < 0 ? 0 : took.count()), std::memory_order_relaxed);
  m_latency_count.fetch_add(1, std::memory_order_relaxed);
}

void service_metrics::observe(std::size_t route, const api_response& r, std::chrono::nanoseconds took) {
  request(route, r.status);
  // A decision the store recorded: an answered transition carries it with its audit_seq, a
  // denial in the error's details. A dry run (POST /api/policy/evaluate) has no audit_seq.
  const nlohmann::json* holder = nullptr;
  if (r.status == 200 && r.body.is_object()) {
    holder = &r.body;
  } else if (r.status == 422 && r.body.is_object()) {
    const auto e = r.body.find("error");
    if (e != r.body.end() && e->is_object()) {
      const auto d = e->find("details");
      if (d != e->end() && d->is_object()) holder = &*d;
    }
  }
  if (holder == nullptr || !holder->contains("audit_seq") || holder->contains("replayed")) return;
  const auto d = holder->find("decision");
  if (d == holder->end() || !d->is_object()) return;
  const auto event = d->find("event");
  const auto allowed = d->find("allowed");
  if (event == d->end() || !event->is_string() || allowed == d->end() || !allowed->is_boolean()) return;
  decision(event->get_ref<const std::string&>(), allowed->get<bool>(), took);
}

std::string service_metrics::render(const task_store& store) const {
  std::string out;
  out.reserve(8192);

  header(out, "agentos_http_requests_total", "counter", "Requests answered by the API, by route and status.");
  for (std::size_t route = 0; route <= m_routes.size(); ++route) {
    for (std::size_t st = 0; st < status_slots; ++st) {
      const std::uint64_t n = m_requests[route * status_slots + st].load(std::memory_order_relaxed);
      if (n == 0) continue;
      const bool matched = route < m_routes.size();
      const std::string labels =
          "method=\"" + label(matched ? m_routes[route].first : "") + "\",route=\"" +
          label(matched ? m_routes[route].second : "unmatched") + "\",status=\"" +
          (st < known_statuses.size() ? std::to_string(known_statuses[st]) : std::string("other")) + "\"";
      sample(out, "agentos_http_requests_total", labels, n);
    }
  }

  header(out, "agentos_decisions_total", "counter", "Transition decisions the store recorded, by effect and event.");
  auto decisions = [&](const event_table::slot& s, std::string_view name) {
    const std::uint64_t allow = s.allow.load(std::memory_order_relaxed);
    const std::uint64_t deny = s.deny.load(std::memory_order_relaxed);
    if (allow) sample(out, "agentos_decisions_total", "effect=\"allow\",event=\"" + label(name) + "\"", allow);
    if (deny) sample(out, "agentos_decisions_total", "effect=\"deny\",event=\"" + label(name) + "\"", deny);
  };
  for (const auto& s : m_events->table)
    if (s.state.load(std::memory_order_acquire) == event_table::ready) decisions(s, s.name);
  decisions(m_events->other, "other");

  header(out, "agentos_transition_duration_seconds", "histogram",
         "Time to answer a transition the store recorded, including the wait for its group commit.");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < m_latency.size(); ++i) {
    cumulative += m_latency[i].load(std::memory_order_relaxed);
    const std::string le = i < latency_bounds.size() ? number(latency_bounds[i]) : "+Inf";
    sample(out, "agentos_transition_duration_seconds_bucket", "le=\"" + le + "\"", cumulative);
  }
  out += "agentos_transition_duration_seconds_sum " +
         number(static_cast<double>(m_latency_ns.load(std::memory_order_relaxed)) / 1e9) + "\n";
  sample(out, "agentos_transition_duration_seconds_count", "", m_latency_count.load(std::memory_order_relaxed));

  // The writer.
  const writer_stats w = store.stats();
  header(out, "agentos_writer_commits_total", "counter", "Write transactions the store's writer committed.");
  sample(out, "agentos_writer_commits_total", "", w.commits);
  header(out, "agentos_writer_operations_total", "counter", "Operations the writer committed.");
  sample(out, "agentos_writer_operations_total", "", w.operations);
  header(out, "agentos_writer_nested_retries_total", "counter",
         "Batches run again with a nested transaction per operation, because one operation's writes had to be undone alone.");
  sample(out, "agentos_writer_nested_retries_total", "", w.nested_retries);
  header(out, "agentos_writer_batch_size", "histogram", "Operations per committed write transaction (group commit).");
  cumulative = 0;
  for (std::size_t i = 0; i < writer_stats::batch_buckets; ++i) {
    cumulative += w.batch_sizes[i];
    if (i + 1 < writer_stats::batch_buckets)
      sample(out, "agentos_writer_batch_size_bucket", "le=\"" + std::to_string(std::size_t{1} << i) + "\"", cumulative);
  }
  sample(out, "agentos_writer_batch_size_bucket", "le=\"+Inf\"", cumulative);
  sample(out, "agentos_writer_batch_size_sum", "", w.operations);
  sample(out, "agentos_writer_batch_size_count", "", w.commits);

  // The store, read now. A failed read leaves its metrics out and says so.
  bool store_ok = true;
  if (const auto st = store.stat(); st) {
    header(out, "agentos_store_map_size_bytes", "gauge", "The LMDB map size (the most the store can hold before it grows).");
    sample(out, "agentos_store_map_size_bytes", "", st->env.map_size);
    header(out, "agentos_store_used_bytes", "gauge", "Bytes of the map in use (pages up to the last one used).");
    sample(out, "agentos_store_used_bytes", "", st->env.used_bytes);
    header(out, "agentos_store_readers_used", "gauge", "LMDB reader slots in use.");
    sample(out, "agentos_store_readers_used", "", st->env.readers_used);
    header(out, "agentos_audit_records", "gauge", "Records in the audit log.");
    sample(out, "agentos_audit_records", "", st->audit_records);
  } else {
    store_ok = false;
  }
  const compiled_policy active = store.policy();
  if (auto counts = store.count_by_state(); counts) {
    header(out, "agentos_tasks", "gauge", "Tasks by state (every state of the active policy, and any other a task is in).");
    std::vector<std::pair<std::string, std::uint64_t>> all;
    if (active.graph)
      for (const auto& s : active.graph->policy().states) all.emplace_back(s.name, 0);
    for (const auto& [state, n] : *counts) {
      bool found = false;
      for (auto& [name, total] : all)
        if (name == state) total = n, found = true;
      if (!found) all.emplace_back(state, n);
    }
    for (const auto& [state, n] : all) sample(out, "agentos_tasks", "state=\"" + label(state) + "\"", n);
  } else {
    store_ok = false;
  }
  if (active.graph) {
    header(out, "agentos_policy_info", "gauge", "The active policy (the value is always 1).");
    sample(out, "agentos_policy_info",
           "name=\"" + label(active.graph->name()) + "\",declared_version=\"" + label(active.graph->declared_version()) +
               "\",version=\"" + label(active.graph->version()) + "\"",
           1);
  }
  header(out, "agentos_store_read_ok", "gauge", "1 when this scrape could read the store's numbers, else 0.");
  sample(out, "agentos_store_read_ok", "", store_ok ? 1 : 0);
  return out;
}

}  // namespace agentos::runtime
