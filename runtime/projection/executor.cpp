#include "runtime/projection/executor.hpp"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "runtime/service/bearer_tokens.hpp"
#include "runtime/service/http_call.hpp"
#include "runtime/service/json_file.hpp"
#include "runtime/service/request_signatures.hpp"

namespace agentos::runtime::projection {

namespace {

using nlohmann::json;

constexpr std::size_t reports_kept = 1'000;
constexpr int max_rounds = 4;  // brief reads per job: before and after the first step, and twice more after conflicts
constexpr std::uint64_t answer_limit = std::uint64_t{4} << 20;

using header_list = std::vector<std::pair<std::string, std::string>>;

// One request on a connection of its own, bounded by `timeout` in all (name resolution included)
// and abandoned at once when `stop` is requested.
http_reply send(const agentos_url& url, std::string_view method, const std::string& target, const std::string& body,
                const header_list& headers, std::chrono::milliseconds timeout, const std::stop_token& stop) {
  http_call call;
  call.host = url.host;
  call.port = url.port;
  call.host_header = url.host_header;
  call.method = std::string(method);
  call.target = target;
  call.headers = headers;
  call.headers.emplace_back("User-Agent", "agentos-executor");
  if (!body.empty()) call.headers.emplace_back("Content-Type", "application/json");
  call.body = body;
  call.answer_limit = answer_limit;
  call.timeout = timeout;
  http_reply out = call_once(call, stop);
  if (out.abandoned) out.error = "abandoned: the executor is stopping";
  return out;
}

// "code: message" of an agentos error answer, else the start of the body.
std::string error_of(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const json& e = j["error"];
    std::string text = e.value("code", std::string("error")) + ": " + e.value("message", std::string());
    // A denial's reasons say what to change; keep them on the line.
    if (e.contains("details") && e["details"].is_object() && e["details"].contains("reasons") &&
        e["details"]["reasons"].is_array())
      for (const auto& reason : e["details"]["reasons"])
        if (reason.is_object() && reason.contains("message") && reason["message"].is_string())
          text += " [" + reason["message"].get<std::string>() + "]";
    return text;
  }
  return body.substr(0, 200);
}

std::string string_or(const json& j, const char* key, std::string fallback = {}) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::optional<std::map<std::string, std::string>> load_agent_tokens(const std::filesystem::path& file, std::string& error) {
  auto doc = read_json_file(file, error);
  if (!doc) return std::nullopt;
  // The server's own validation, so a file serve accepts is a file the executor accepts.
  if (!bearer_tokens::from_json(*doc, error)) return std::nullopt;
  std::map<std::string, std::string> out;
  for (const auto& [token, actor] : doc->items()) out.emplace(actor.get<std::string>(), token);
  return out;
}

std::string plan_text(std::string_view title, std::string_view task, std::uint64_t version) {
  return "Plan for " + std::string(title) + ":\n1. Read the brief of " + std::string(task) + " (version " +
         std::to_string(version) + ").\n2. Carry out the work it describes.\n3. Submit the result for review.";
}

std::string result_text(std::string_view title, std::string_view task, std::uint64_t version) {
  return "Result for " + std::string(title) + ": done at version " + std::to_string(version) + " of " + std::string(task) +
         ".";
}

std::string to_text(const job_report& r) {
  std::string line = "agentos executor: " + r.task + " as " + r.agent + " (";
  line += r.reason.empty() ? "wake" : r.reason;
  line += ", run " + r.run_id;
  if (r.attempt > 1) line += ", attempt " + std::to_string(r.attempt);
  line += "): " + r.did;
  if (!r.state.empty()) line += "; state " + r.state;
  line += " [" + join(r.calls, ", ") + "]";
  return line;
}

executor::executor(executor_options options) : m_options(std::move(options)) {
  if (!m_options.clock) m_options.clock = wall_ms;
  m_worker = std::jthread([this](std::stop_token stop) { work(std::move(stop)); });
  if (m_options.follow_events && !m_options.tokens.empty()) {
    follower_options f;
    f.url = m_options.agentos;
    f.token = m_options.tokens.begin()->second;  // any actor may read the stream
    f.first_retry = m_options.first_retry;
    f.max_retry = m_options.max_retry;
    f.on_event = [this](const json& e) { on_event(e); };
    f.log = m_options.log;
    m_follower = std::make_unique<event_follower>(std::move(f));
  }
}

executor::~executor() { stop(); }

void executor::say(const std::string& line) const {
  if (m_options.log) m_options.log(line);
}

admit_result executor::enqueue(const wake& w) {
  auto ignore = [&](std::string why) {
    say("agentos executor: ignored a wake (run " + w.run_id + ", Paperclip agent " + w.paperclip_agent +
        (w.issue.empty() ? "" : ", issue " + w.issue) + "): " + why);
    return admit_result{admission::ignored, std::move(why)};
  };
  if (w.agent.empty()) return ignore("it names no agentos agent (no `agentos_agent` in the adapter's payload template)");
  if (!m_options.tokens.contains(w.agent)) return ignore("no token for agent `" + w.agent + "` in the tokens file");
  if (w.task.empty()) return ignore("the issue's description has no `agentos-task: <id>` line");
  admit_result out{admission::queued, {}};
  bool stopped = false;
  {
    std::lock_guard lock(m_mutex);
    stopped = m_stopped;
    const auto now = std::chrono::steady_clock::now();
    if (stopped) {
      out.what = admission::ignored;  // said below, outside the lock
    } else if (const auto it = m_pending.find(w.task); it != m_pending.end()) {
      // The waiting job reads the brief when it runs, so one job serves every wake before it; a
      // retry waiting for its backoff runs now instead.
      it->second = pending{w, 1, now};
      out.what = admission::merged;
    } else if (m_pending.size() >= m_options.max_queue) {
      out = {admission::full, std::to_string(m_pending.size()) + " tasks are waiting already"};
    } else {
      m_pending.emplace(w.task, pending{w, 1, now});
      m_order.push_back(w.task);
    }
  }
  if (stopped) return ignore("the executor is stopping");
  if (out.what == admission::full) {
    say("agentos executor: refused a wake for " + w.task + " as " + w.agent + ": " + out.message);
    return out;
  }
  m_cv.notify_all();
  return out;
}

void executor::work(std::stop_token stop) {
  std::unique_lock lock(m_mutex);
  while (!stop.stop_requested()) {
    const auto now = std::chrono::steady_clock::now();
    auto next = std::chrono::steady_clock::time_point::max();
    auto ready = m_order.end();
    for (auto it = m_order.begin(); it != m_order.end(); ++it) {
      const auto when = m_pending.at(*it).ready;
      if (when <= now) {
        ready = it;
        break;
      }
      next = std::min(next, when);
    }
    if (ready == m_order.end()) {
      const std::size_t waiting = m_pending.size();
      // Woken by a new wake (the queue grows or a retry is made ready), a stop, or the next retry.
      auto changed = [&] { return m_pending.size() != waiting || std::ranges::any_of(m_pending, [&](const auto& e) {
                                    return e.second.ready <= std::chrono::steady_clock::now();
                                  }); };
      if (next == std::chrono::steady_clock::time_point::max())
        m_cv.wait(lock, stop, changed);
      else
        m_cv.wait_until(lock, stop, next, changed);
      continue;
    }
    const std::string task = *ready;
    m_order.erase(ready);
    pending job = std::move(m_pending.at(task));
    m_pending.erase(task);
    m_running = true;
    lock.unlock();

    job_report report = run_job(job, stop);
    say(to_text(report));

    lock.lock();
    m_running = false;
    if (!report.transient && !m_stopped) park(report, job.w);
    if (report.transient && !stop.stop_requested() && !m_stopped) {
      if (job.attempt < m_options.max_attempts && !m_pending.contains(task)) {
        auto delay = m_options.first_retry;
        for (unsigned i = 1; i < job.attempt && delay < m_options.max_retry; ++i) delay *= 2;
        delay = std::min(delay, m_options.max_retry);
        m_pending.emplace(task, pending{job.w, job.attempt + 1, std::chrono::steady_clock::now() + delay});
        m_order.push_back(task);
        lock.unlock();
        say("agentos executor: " + task + ": retrying in " + std::to_string(delay.count()) + " ms (attempt " +
            std::to_string(job.attempt + 1) + " of " + std::to_string(m_options.max_attempts) + ")");
        lock.lock();
      } else if (!m_pending.contains(task)) {
        lock.unlock();
        say("agentos executor: " + task + ": gave up after " + std::to_string(job.attempt) +
            " attempts; the next wake for it tries again");
        lock.lock();
      }
    }
    m_reports.push_back(std::move(report));
    if (m_reports.size() > reports_kept) m_reports.pop_front();
    m_cv.notify_all();
  }
}

job_report executor::run_job(const pending& p, const std::stop_token& stop) {
  const wake& w = p.w;
  job_report r;
  r.task = w.task;
  r.agent = w.agent;
  r.run_id = w.run_id;
  r.reason = w.reason;
  r.attempt = p.attempt;
  const std::string& token = m_options.tokens.at(w.agent);
  const std::string& prefix = m_options.agentos.prefix;
  const std::string task_path = prefix + "/api/tasks/" + w.task;
  std::vector<std::string> did;

  auto call = [&](std::string_view method, const std::string& target, const std::string& body, const std::string& name,
                  header_list headers = {}) {
    headers.emplace_back("Authorization", "Bearer " + token);
    http_reply a = send(m_options.agentos, method, target, body, headers, m_options.timeout, stop);
    r.calls.push_back(name + " " + (a.status != 0 ? std::to_string(a.status) : "no answer"));
    return a;
  };
  auto finish = [&](std::string last) {
    if (!last.empty()) did.push_back(std::move(last));
    r.did = join(did, "; ");
    return r;
  };
  auto fail = [&](const http_reply& a, const std::string& what) {
    // No answer or a server error: the server may be restarting, so the job is tried again.
    r.transient = a.status == 0 || a.status >= 500;
    r.waiting = false;  // the next wake tries again
    return finish("failed " + what + ": " + (a.status != 0 ? "HTTP " + std::to_string(a.status) + " " + error_of(a.body) : a.error));
  };

  bool took_first = false;
  for (int round = 0; round < max_rounds; ++round) {
    r.waiting = false;
    const http_reply b = call("GET", task_path + "/brief", {}, "GET brief");
    if (b.status != 200) return fail(b, "reading the brief");
    const json brief = json::parse(b.body, nullptr, false);
    if (!brief.is_object() || !brief.contains("task") || !brief["task"].is_object() || !brief.contains("submit") ||
        !brief["submit"].is_object())
      return finish("failed: the brief is not the JSON object the protocol documents");
    const json& t = brief["task"];
    const json& submit = brief["submit"];
    r.state = string_or(t, "state");
    const std::string assignee = string_or(t, "assignee");
    if (assignee != w.agent)
      return finish("nothing to do: the task is assigned to " + (assignee.empty() ? std::string("nobody") : assignee) +
                    ", not " + w.agent);
    const std::string kind = string_or(submit, "kind");
    const std::uint64_t version = brief.value("expected_version", std::uint64_t{0});
    r.version = version;
    if (kind.empty()) return finish("nothing to do: nothing can be submitted in state " + r.state);
    // From here on the task is this agent's and open: whatever the job ends with, it waits for
    // the next change (a review, an approval) unless it fails for want of an answer.
    r.waiting = true;
    if (!submit.value("now", false)) {
      const std::string first = string_or(submit, "first");
      if (first.empty() || took_first)
        return finish("nothing to do: a " + kind + " is due after someone else acts (state " + r.state + ")");
      const json step = {{"event", first}, {"expected_version", version}};
      const http_reply s = call("POST", task_path + "/transitions", step.dump(), "POST " + first);
      if (s.status == 409) continue;  // it changed since the brief: read it again
      if (s.status != 200) {
        if (s.status == 422) return finish("`" + first + "` denied: " + error_of(s.body));
        return fail(s, "taking `" + first + "`");
      }
      took_first = true;
      did.push_back("took `" + first + "`");
      continue;
    }
    if (!submit.value("allowed", false)) {
      std::vector<std::string> reasons;
      if (submit.contains("reasons") && submit["reasons"].is_array())
        for (const auto& reason : submit["reasons"])
          if (reason.is_string()) reasons.push_back(reason.get<std::string>());
      return finish("not submitting the " + kind + ": the policy would deny it (" + join(reasons, "; ") + ")");
    }
    const json& markers = brief.contains("markers") && brief["markers"].is_object() ? brief["markers"] : json::object();
    const std::string begin = string_or(markers, "begin"), end = string_or(markers, "end");
    if (begin.empty() || end.empty()) return finish("failed: the brief has no markers");
    const std::string title = string_or(t, "title", w.task);
    const std::string content = kind == "plan" ? plan_text(title, w.task, version) : result_text(title, w.task, version);
    const std::string body = json{{"task_id", w.task}, {"body", begin + "\n" + content + "\n" + end + "\n"}}.dump();
    const std::string callback = prefix + "/api/executions/callback";
    header_list headers;
    const auto secret = m_options.secrets.find(w.agent);
    const std::string& key = secret != m_options.secrets.end() ? secret->second : m_options.default_secret;
    if (!key.empty()) {
      // Signed afresh on every attempt: the server remembers accepted signatures (replays are 409).
      const std::string ts = std::to_string(m_options.clock() / 1000);
      headers.emplace_back("X-Agentos-Timestamp", ts);
      headers.emplace_back("X-Agentos-Signature", "sha256=" + hmac_sha256_hex(key, signing_input(ts, "POST", callback, body)));
    }
    const http_reply c = call("POST", callback, body, "POST callback", std::move(headers));
    if (c.status == 200) {
      const json answer = json::parse(c.body, nullptr, false);
      std::string stored = "submitted the " + kind;
      if (answer.is_object() && answer.contains("artifact") && answer["artifact"].is_object())
        stored += " v" + std::to_string(answer["artifact"].value("version", std::uint64_t{0}));
      if (answer.is_object() && answer.contains("task") && answer["task"].is_object()) {
        r.state = string_or(answer["task"], "state", r.state);
        r.version = answer["task"].value("version", r.version);
      }
      return finish(std::move(stored));
    }
    if (c.status == 409 && error_of(c.body).starts_with("task.version_conflict")) continue;
    if (c.status == 422) return finish("the " + kind + " was refused: " + error_of(c.body));
    return fail(c, "calling back");
  }
  return finish("gave up: the task changed under every brief it read (" + std::to_string(max_rounds) + " rounds)");
}

void executor::park(const job_report& r, const wake& w) {
  if (!m_follower || !r.waiting) {
    m_parked.erase(r.task);
    return;
  }
  if (const auto seen = m_latest.find(r.task); seen != m_latest.end() && seen->second > r.version) {
    // The task moved on while the job ran (its event came before the task was parked): again now.
    if (!m_pending.contains(r.task)) {
      wake again = w;
      again.reason = "version " + std::to_string(seen->second) + " came during the last job";
      m_pending.emplace(r.task, pending{std::move(again), 1, std::chrono::steady_clock::now()});
      m_order.push_back(r.task);
    }
    m_parked.erase(r.task);
    return;
  }
  if (m_parked.size() >= m_options.max_parked && !m_parked.contains(r.task)) return;  // waits for a wake
  m_parked[r.task] = parked_task{w, r.version};
}

void executor::on_event(const json& e) {
  const std::string task = string_or(e, "task");
  const auto v = e.find("version");
  if (task.empty() || v == e.end() || !v->is_number_unsigned()) return;  // task.created has no version
  const std::uint64_t version = v->get<std::uint64_t>();
  {
    std::lock_guard lock(m_mutex);
    // Bounded: the newest versions only matter for the jobs of the moment.
    if (m_latest.size() >= 2 * m_options.max_parked && !m_latest.contains(task)) m_latest.clear();
    auto& latest = m_latest[task];
    latest = std::max(latest, version);
    const auto it = m_parked.find(task);
    if (m_stopped || it == m_parked.end() || version <= it->second.version) return;
    wake w = std::move(it->second.w);
    m_parked.erase(it);
    w.reason = "event " + string_or(e, "event", string_or(e, "type")) + " by " + string_or(e, "actor", "-") + ", " +
               string_or(e, "from", "?") + " -> " + string_or(e, "to", "?");
    if (!m_pending.contains(task)) {
      m_pending.emplace(task, pending{std::move(w), 1, std::chrono::steady_clock::now()});
      m_order.push_back(task);
    }
  }
  m_cv.notify_all();
}

std::size_t executor::parked() const {
  std::lock_guard lock(m_mutex);
  return m_parked.size();
}

bool executor::wait_following(std::chrono::milliseconds timeout) const {
  return m_follower && m_follower->wait_following(timeout);
}

bool executor::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(m_mutex);
  return m_cv.wait_for(lock, timeout, [&] { return m_pending.empty() && !m_running; });
}

std::vector<job_report> executor::reports() const {
  std::lock_guard lock(m_mutex);
  return {m_reports.begin(), m_reports.end()};
}

void executor::stop() {
  if (m_follower) m_follower->stop();
  std::vector<std::string> dropped;
  {
    std::lock_guard lock(m_mutex);
    if (m_stopped) return;
    m_stopped = true;
    dropped.assign(m_order.begin(), m_order.end());
    m_pending.clear();
    m_order.clear();
    m_parked.clear();
  }
  m_worker.request_stop();
  m_cv.notify_all();
  if (m_worker.joinable()) m_worker.join();
  if (!dropped.empty())
    say("agentos executor: stopped; dropped the waiting jobs of " + join(dropped, ", ") +
        " (the next wake for each tries again)");
  std::lock_guard lock(m_mutex);
  m_cv.notify_all();
}

}  // namespace agentos::runtime::projection
