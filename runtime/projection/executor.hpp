// The executor that Paperclip's HTTP adapter wakes (docs/paperclip.md, "The executor"): for each
// wake it reads the task's brief as the agent the wake names, takes the one step the agent may
// take itself (`start`, `unblock`) when the brief says so, and writes back a plan or a result
// through the executor protocol's callback (docs/api-executor.md) — a fixed, deterministic text,
// no model — or does nothing when the next step is someone else's (a review). It never changes
// a task's state by other means; the policy decides everything it sends.
//
// Jobs run one at a time on a worker thread of their own, from a queue keyed by task: a wake for
// a task already waiting merges into it, so repeated wakes for the same task make one job. A job
// that found the server unreachable (no answer, 5xx) is retried with backoff a bounded number of
// times. Every request has a timeout. Each job writes one log line.
//
// A wake can come before the backend has the change that caused it (Paperclip wakes the agent
// the moment an operator approves a plan there; the reconciler applies approve_plan after its
// next read of Paperclip's activity). So a job that ends waiting for someone else parks the task,
// and the event stream of the server (event_follower) runs it again when the task moves past the
// version the job saw. Only tasks a wake brought are parked: Paperclip's wakes stay what starts
// work. Thread safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "runtime/projection/agentos_url.hpp"
#include "runtime/projection/event_follower.hpp"
#include "runtime/projection/wake.hpp"

namespace agentos::runtime::projection {

// agent id -> its bearer token, from a tokens file as `agentos serve --tokens` reads it
// ({"<token>": "<actor id>"}, validated the same way). An agent with several tokens gets the first
// in the file's key order. nullopt with why in `error`.
[[nodiscard]] std::optional<std::map<std::string, std::string>> load_agent_tokens(const std::filesystem::path& file,
                                                                                std::string& error);

// The texts the executor writes back (the content between the markers).
[[nodiscard]] std::string plan_text(std::string_view title, std::string_view task, std::uint64_t version);
[[nodiscard]] std::string result_text(std::string_view title, std::string_view task, std::uint64_t version);

struct executor_options {
  agentos_url agentos;
  std::map<std::string, std::string> tokens;   // agent -> bearer token: the agents it acts for
  std::map<std::string, std::string> secrets;  // agent -> HMAC key for signed callbacks
  std::string default_secret;                  // for agents without one in `secrets` ("" : unsigned)
  std::chrono::milliseconds timeout{10'000};   // one request: connect, send, read the answer
  std::size_t max_queue = 1'024;               // tasks waiting; a wake beyond is refused (503)
  std::size_t max_attempts = 6;                // of a job whose server was unreachable
  std::chrono::milliseconds first_retry{1'000};  // doubled after each failed attempt
  std::chrono::milliseconds max_retry{30'000};
  std::function<void(const std::string&)> log;  // one line per job (and per ignored wake); empty: none
  std::function<std::int64_t()> clock;          // unix ms for signature timestamps; empty: the wall clock
  bool follow_events = true;                    // park waiting tasks and follow GET /api/events
  std::size_t max_parked = 10'000;              // parked tasks at most; beyond, a task waits for a wake
};

// What became of a wake.
enum class admission { queued, merged, ignored, full };

struct admit_result {
  admission what = admission::ignored;
  std::string message;  // why, for `ignored` and `full`
};

// One finished job, as logged.
struct job_report {
  std::string task, agent, run_id, reason;
  std::string did;          // what it did: "submitted the result", "waiting: ...", "failed: ..."
  std::vector<std::string> calls;  // "GET brief 200", "POST start 200", "POST callback 200", ...
  std::string state;        // the task's state at the end, as last seen ("" when unknown)
  bool transient = false;   // failed for want of an answer; retried while attempts remain
  unsigned attempt = 1;
  bool waiting = false;     // the task is the agent's and open, but the next step is someone else's
  std::uint64_t version = 0;  // the task's version when the job ended (0 when unknown)
};
[[nodiscard]] std::string to_text(const job_report& r);

class executor {
 public:
  explicit executor(executor_options options);
  ~executor();  // stop()
  executor(const executor&) = delete;
  executor& operator=(const executor&) = delete;

  // Takes a parsed wake: queued (or merged into the task's waiting job), or ignored (no agent,
  // an agent without a token, no task line), or refused when the queue is full. Never blocks on
  // the network.
  admit_result enqueue(const wake& w);

  // Waits until no job waits or runs (retries included); false when `timeout` passed first.
  bool wait_idle(std::chrono::milliseconds timeout);
  // Every job finished so far, oldest first (at most the last 1,000).
  [[nodiscard]] std::vector<job_report> reports() const;
  // Tasks parked now, and whether the event stream is open (for tests and the log).
  [[nodiscard]] std::size_t parked() const;
  bool wait_following(std::chrono::milliseconds timeout) const;

  // Finishes the job in flight (abandoning a request still waiting for an answer) and drops the
  // queue, logging what it dropped. Safe to call more than once.
  void stop();

 private:
  struct pending {
    wake w;
    unsigned attempt = 1;
    std::chrono::steady_clock::time_point ready;
  };
  struct parked_task {
    wake w;
    std::uint64_t version = 0;  // the version the last job saw; a later one runs it again
  };
  void work(std::stop_token stop);
  job_report run_job(const pending& p, const std::stop_token& stop);
  void say(const std::string& line) const;
  void on_event(const nlohmann::json& event);
  // After a job: park the task, or queue it again at once when the stream already showed a newer
  // version. Called with m_mutex held.
  void park(const job_report& r, const wake& w);

  executor_options m_options;
  mutable std::mutex m_mutex;
  std::condition_variable_any m_cv;
  std::map<std::string, pending> m_pending;  // by task
  std::deque<std::string> m_order;           // tasks in arrival order
  bool m_running = false;                    // a job is in flight
  bool m_stopped = false;
  std::deque<job_report> m_reports;
  std::map<std::string, parked_task> m_parked;           // by task
  std::map<std::string, std::uint64_t> m_latest;          // task -> the newest version the stream showed
  std::jthread m_worker;
  std::unique_ptr<event_follower> m_follower;  // last: its callback uses everything above
};

}  // namespace agentos::runtime::projection
