// Durably committed transitions per second through the task store's full pipeline (decision,
// hash-chained audit record, outbox event, indexes) with 1, 4 and 32 concurrent clients, against
// SQLite doing the equivalent work (update the task row, insert an audit row; WAL,
// synchronous=FULL) in the same run on the same disk; then store size and resident memory per
// million tasks (issue #4). A driver rather than a Google Benchmark: what is measured is the
// throughput of many threads sharing one writer, over a fixed wall-clock window.
//
//   commit_bench                     the full run (about 3 minutes with the defaults)
//   commit_bench --quick             one short window each and a small size phase: a smoke test
//   commit_bench --clients=1,4 --duration=5 --warmup=1 --repeat=3 --dir=PATH --size-tasks=200000
//                --tasks-per-client=8 --background=10000 --no-sqlite --no-floor --no-size --keep
//
// Every transition must be applied: a denial, conflict or failure stops the run and the binary
// exits with status 1, since a benchmark of denials would measure the wrong thing. The data
// directory must be on a real disk (the default is $TMPDIR or /tmp; the filesystem is printed):
// on tmpfs an fsync costs nothing and the figures mean something else.
#include <fcntl.h>
#include <malloc.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "runtime/service/store.hpp"
#include "runtime/store/lmdb.hpp"

namespace fs = std::filesystem;
using namespace agentos::runtime;
using nlohmann::json;
using steady = std::chrono::steady_clock;

namespace {

constexpr std::int64_t t0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z: `now` of every operation

// ---- options

struct options {
  std::vector<int> clients{1, 4, 32};
  double duration = 3.0;  // measured window, seconds
  double warmup = 0.5;
  std::size_t tasks_per_client = 8;
  std::size_t background = 10'000;  // tasks in the store besides the clients' own
  std::size_t size_tasks = 200'000;
  fs::path dir;  // parent of the data directories
  fs::path policy = fs::path(AGENTOS_SOURCE_DIR) / "policies" / "agent-os.policy";
  bool sqlite = true;
  bool floor = true;  // the LMDB floor (run_floor)
  bool size = true;
  bool keep = false;
  long linger_us = 0;  // store_options::linger (off by default, as in the store)
  int repeat = 3;  // interleaved runs of every configuration; the median is reported
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "commit_bench: %s\n", what.c_str());
  std::exit(1);
}

std::vector<int> parse_list(std::string_view s) {
  std::vector<int> out;
  std::stringstream in{std::string(s)};
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoi(item));
  return out;
}

options parse_args(int argc, char** argv) {
  options o;
  if (const char* t = std::getenv("TMPDIR"); t && *t) o.dir = t;
  else o.dir = "/tmp";
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto val = [&](std::string_view name) -> std::optional<std::string> {
      if (a.size() > name.size() && a.substr(0, name.size()) == name && a[name.size()] == '=')
        return std::string(a.substr(name.size() + 1));
      return std::nullopt;
    };
    if (a == "--quick") {
      o.duration = 0.5;
      o.warmup = 0.1;
      o.background = 1'000;
      o.size_tasks = 10'000;
      o.repeat = 1;
    } else if (a == "--no-sqlite") o.sqlite = false;
    else if (a == "--no-floor") o.floor = false;
    else if (a == "--no-size") o.size = false;
    else if (a == "--keep") o.keep = true;
    else if (auto v = val("--clients")) o.clients = parse_list(*v);
    else if (auto v = val("--duration")) o.duration = std::stod(*v);
    else if (auto v = val("--repeat")) o.repeat = std::max(1, std::stoi(*v));
    else if (auto v = val("--warmup")) o.warmup = std::stod(*v);
    else if (auto v = val("--tasks-per-client")) o.tasks_per_client = std::stoul(*v);
    else if (auto v = val("--background")) o.background = std::stoul(*v);
    else if (auto v = val("--size-tasks")) o.size_tasks = std::stoul(*v);
    else if (auto v = val("--dir")) o.dir = *v;
    else if (auto v = val("--policy")) o.policy = *v;
    else if (auto v = val("--linger")) o.linger_us = std::stol(*v);
    else if (a == "--help" || a == "-h") {
      std::puts("commit_bench [--quick] [--clients=1,4,32] [--duration=S] [--warmup=S] [--dir=PATH] [--policy=FILE]\n"
                "             [--tasks-per-client=N] [--background=N] [--size-tasks=N] [--repeat=N] [--linger=US]\n"
                "             [--no-sqlite] [--no-floor] [--no-size] [--keep]");
      std::exit(0);
    } else die("unknown argument " + std::string(a) + " (--help lists them)");
  }
  if (o.clients.empty() || o.tasks_per_client == 0) die("need at least one client and one task per client");
  return o;
}

// ---- the machine

std::string first_line_with(const char* file, std::string_view prefix) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) return line;
  return {};
}

std::string after_colon(std::string s) {
  const auto c = s.find(':');
  if (c == std::string::npos) return s;
  s = s.substr(c + 1);
  s.erase(0, s.find_first_not_of(" \t"));
  return s;
}

// /proc/self/status fields in kB (VmRSS, RssAnon, RssFile).
long status_kb(std::string_view field) {
  const std::string line = first_line_with("/proc/self/status", std::string(field) + ":");
  return line.empty() ? -1 : std::atol(after_colon(line).c_str());
}

struct mount_info {
  std::string point, fstype, source;
};

// The mount holding `p`: the longest mount point that prefixes its canonical path.
mount_info mount_of(const fs::path& p) {
  const std::string path = fs::canonical(p).string();
  mount_info best;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point, word;
    f >> id >> parent >> dev >> root >> point;
    while (f >> word && word != "-") {
    }
    mount_info m;
    m.point = point;
    f >> m.fstype >> m.source;
    const bool prefix = path == point || point == "/" ||
                        (path.rfind(point, 0) == 0 && path.size() > point.size() && path[point.size()] == '/');
    if (prefix && point.size() >= best.point.size()) best = m;
  }
  return best;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

double seconds_since(steady::time_point a) { return std::chrono::duration<double>(steady::now() - a).count(); }

// What one fdatasync costs on this disk: 4 KiB rewritten in place (a WAL frame after the first
// checkpoint, an LMDB meta page) and 4 KiB appended (a file that grows), median of 200 each.
std::pair<double, double> fdatasync_us(const fs::path& dir) {
  const fs::path file = dir / "fsync-probe";
  const int fd = ::open(file.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0600);
  if (fd < 0) die("cannot create " + file.string());
  std::string page(4096, 'x');
  std::vector<double> in_place, append;
  for (int i = 0; i < 200; ++i) {
    auto a = steady::now();
    if (::pwrite(fd, page.data(), page.size(), 0) != 4096 || ::fdatasync(fd) != 0) die("fsync probe failed");
    in_place.push_back(seconds_since(a) * 1e6);
  }
  for (int i = 0; i < 200; ++i) {
    auto a = steady::now();
    if (::pwrite(fd, page.data(), page.size(), static_cast<off_t>(4096) * (i + 1)) != 4096 || ::fdatasync(fd) != 0)
      die("fsync probe failed");
    append.push_back(seconds_since(a) * 1e6);
  }
  ::close(fd);
  fs::remove(file);
  return {median(in_place), median(append)};
}

// The median of 50 in-place 4 KiB fdatasyncs in `dir`: taken before and after every run, because
// on a virtual disk the cost of a sync can change by an order of magnitude from one second to the
// next (on the recorded machine: about 0.1 ms when its CPUs are idle, 4 ms when they are busy).
double sync_probe_us(const fs::path& dir) {
  const fs::path file = dir / "sync-probe";
  const int fd = ::open(file.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0600);
  if (fd < 0) die("cannot create " + file.string());
  std::string page(4096, 'x');
  std::vector<double> t;
  for (int i = 0; i < 50; ++i) {
    auto a = steady::now();
    if (::pwrite(fd, page.data(), page.size(), 0) != 4096 || ::fdatasync(fd) != 0) die("fsync probe failed");
    t.push_back(seconds_since(a) * 1e6);
  }
  ::close(fd);
  fs::remove(file);
  return median(t);
}

// Process CPU time so far: user, system (seconds).
std::pair<double, double> cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return {s(u.ru_utime), s(u.ru_stime)};
}

// ---- the agentos side

json actor(const std::string& id) { return {{"id", id}}; }

// A task as a client would file it: engineering work, which the policy routes to `claude` (role
// engineer, direct mode) with `claude_pm` as its reviewer.
create_op make_create(std::size_t n) {
  create_op op;
  op.task = {{"title", "fix the flaky integration test #" + std::to_string(n)},
             {"kind", "engineering"},
             {"brief", "The nightly run fails about one time in twenty on the retry path of the upload client; "
                       "find the race, fix it and add a regression test that fails without the fix."}};
  op.actor = actor("openclaw");
  op.now = t0;
  return op;
}

transition_op make_move(const std::string& id, const char* event, const char* who, std::int64_t now) {
  transition_op op;
  op.task_id = id;
  op.event = event;
  op.actor = actor(who);
  op.now = now;
  return op;
}

void expect_applied(const outcome& o, const std::string& what) {
  if (o.status != outcome_status::applied)
    die(what + ": " + std::string(to_string(o.status)) + " " + o.code + ": " + o.message);
}

// Submits every operation with up to `window` in flight, so the writer sees full batches, and
// returns the outcomes in order. Any outcome but `applied` is fatal.
std::vector<outcome> submit_all(task_store& s, std::vector<operation> ops, const char* what, std::size_t window = 4096) {
  std::vector<outcome> out;
  out.reserve(ops.size());
  std::deque<std::future<outcome>> in_flight;
  auto drain_one = [&] {
    out.push_back(in_flight.front().get());
    in_flight.pop_front();
    expect_applied(out.back(), what);
  };
  for (auto& op : ops) {
    in_flight.push_back(s.submit(std::move(op)));
    if (in_flight.size() >= window) drain_one();
  }
  while (!in_flight.empty()) drain_one();
  return out;
}

std::vector<std::string> create_tasks(task_store& s, std::size_t n, std::size_t first) {
  std::vector<operation> ops;
  ops.reserve(n);
  for (std::size_t i = 0; i < n; ++i) ops.emplace_back(make_create(first + i));
  std::vector<std::string> ids;
  ids.reserve(n);
  for (auto& o : submit_all(s, std::move(ops), "create")) ids.push_back(o.body["task"]["id"].get<std::string>());
  return ids;
}

// Takes new tasks to `executing` (assign by the Chief of Staff, start by the assignee).
void start_tasks(task_store& s, const std::vector<std::string>& ids) {
  std::vector<operation> assign, start;
  for (const auto& id : ids) {
    assign.emplace_back(make_move(id, "assign", "openclaw", t0 + 1));
    start.emplace_back(make_move(id, "start", "claude", t0 + 2));
  }
  submit_all(s, std::move(assign), "assign");
  submit_all(s, std::move(start), "start");
}

// The measured loop on one task, from `executing`: the engineer submits a result, its parent asks
// for a revision, and again. Both are allowed by the policy and write the task, its state index,
// its due-time index, an audit record and an outbox event. (From the third revision on the
// `stronger_executor` escalation holds; it is recorded once per task, when it starts to hold.)
struct loop_step {
  const char* event;
  const char* actor;
  const char* state;  // after the step (for SQLite's row)
};
constexpr loop_step loop[2] = {{"submit_result", "claude", "result_review"},
                               {"request_revision", "claude_pm", "executing"}};

std::unique_ptr<task_store> open_store(const fs::path& dir, const compiled_policy& policy,
                                       std::chrono::microseconds linger = {}) {
  store_options so;
  so.linger = linger;
  auto s = task_store::open(dir, policy, so);
  if (!s) die("open " + dir.string() + ": " + s.error().message);
  return std::move(*s);
}

struct record_sizes {
  std::size_t task = 0, audit = 0, outbox = 0;
};

// Runs the loop on one task in a scratch store and measures the records it writes, so that
// SQLite's rows carry as many bytes as ours (and a policy that denies the loop fails here, early).
record_sizes calibrate(const fs::path& dir, const compiled_policy& policy) {
  auto s = open_store(dir, policy);
  const auto ids = create_tasks(*s, 1, 0);
  start_tasks(*s, ids);
  for (int i = 0; i < 8; ++i) {
    const auto& st = loop[i % 2];
    expect_applied(s->apply(make_move(ids[0], st.event, st.actor, t0 + 10 + i)), "calibration");
  }
  record_sizes r;
  auto t = s->task(ids[0]);
  if (!t || !*t) die("calibration: task not found");
  r.task = (**t).dump().size();
  audit_filter f;
  f.task = ids[0];
  f.kind = "transition";
  auto a = s->audit(f);
  if (!a || a->empty()) die("calibration: no audit records");
  r.audit = 65 + a->back().record.dump().size();  // hash, space, record
  auto ob = s->outbox(0, 0);
  if (!ob || ob->empty()) die("calibration: empty outbox");
  r.outbox = ob->back().dump().size();
  return r;
}

struct run_result {
  double tx_per_s = 0;
  double seconds = 0;  // the window, as measured
  std::uint64_t transitions = 0;
  double p50_ms = 0, p99_ms = 0;
  double user_us_per_tx = 0, sys_us_per_tx = 0;  // process CPU per transition in the window
  // agentos only
  std::uint64_t commits = 0;
  double avg_batch = 0;
  double bytes_per_tx = 0;  // growth of the used pages per transition in the window
  double sync_before_us = 0, sync_after_us = 0;  // sync_probe_us() around the run
};

// Per-thread counters on their own cache lines.
struct alignas(64) client_counter {
  std::atomic<std::uint64_t> done{0};
};

// Runs `clients` threads calling `step(client, n)` (one synchronous transaction) until told to
// stop, and measures the window after the warm-up. `sample` is called at the window's start and
// end (for the store's counters).
template <class Step, class Sample>
run_result drive(int clients, const options& o, Step step, Sample sample) {
  std::vector<client_counter> counters(static_cast<std::size_t>(clients));
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(clients));
  std::atomic<bool> measuring{false}, stop{false};
  std::latch ready(clients + 1);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto& lat = latencies[static_cast<std::size_t>(c)];
      lat.reserve(1 << 16);
      ready.arrive_and_wait();
      for (std::uint64_t n = 0; !stop.load(std::memory_order_relaxed); ++n) {
        const auto a = steady::now();
        step(c, n);
        const double ms = seconds_since(a) * 1e3;
        if (measuring.load(std::memory_order_relaxed)) lat.push_back(ms);
        counters[static_cast<std::size_t>(c)].done.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  auto total = [&] {
    std::uint64_t n = 0;
    for (auto& k : counters) n += k.done.load(std::memory_order_relaxed);
    return n;
  };
  ready.arrive_and_wait();
  std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup));
  sample(true);
  const std::uint64_t n0 = total();
  const auto cpu0 = cpu_seconds();
  const auto start = steady::now();
  measuring = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(o.duration));
  const std::uint64_t n1 = total();
  const auto cpu1 = cpu_seconds();
  const double elapsed = seconds_since(start);
  measuring = false;
  sample(false);
  stop = true;
  for (auto& t : threads) t.join();

  run_result r;
  r.transitions = n1 - n0;
  r.seconds = elapsed;
  r.tx_per_s = static_cast<double>(r.transitions) / elapsed;
  if (r.transitions) {
    r.user_us_per_tx = (cpu1.first - cpu0.first) * 1e6 / static_cast<double>(r.transitions);
    r.sys_us_per_tx = (cpu1.second - cpu0.second) * 1e6 / static_cast<double>(r.transitions);
  }
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  r.p50_ms = percentile(all, 0.50);
  r.p99_ms = percentile(all, 0.99);
  return r;
}

run_result run_agentos(const fs::path& dir, const compiled_policy& policy, int clients, const options& o) {
  auto s = open_store(dir, policy, std::chrono::microseconds(o.linger_us));
  create_tasks(*s, o.background, 1'000'000);
  const std::size_t k = o.tasks_per_client;
  const auto ids = create_tasks(*s, static_cast<std::size_t>(clients) * k, 0);
  start_tasks(*s, ids);

  // Client c owns ids[c*k .. c*k+k) and moves them in turn; each task keeps its place in the loop
  // and its own clock (1 ms per step, so no time-based escalation comes due).
  std::vector<std::uint64_t> steps(ids.size(), 0);
  std::mutex failure_mutex;
  std::string failure;
  writer_stats w0, w1;
  std::size_t used0 = 0, used1 = 0;
  auto used = [&] {
    auto st = s->stat();
    if (!st) die("stat: " + st.error().message);
    return st->env.used_bytes;
  };
  run_result r = drive(
      clients, o,
      [&](int c, std::uint64_t n) {
        const std::size_t i = static_cast<std::size_t>(c) * k + n % k;
        const std::uint64_t step = steps[i]++;
        const auto& st = loop[step % 2];
        outcome out = s->submit(make_move(ids[i], st.event, st.actor, t0 + 10 + static_cast<std::int64_t>(step))).get();
        if (out.status != outcome_status::applied) {
          std::lock_guard lock(failure_mutex);
          if (failure.empty())
            failure = std::string(st.event) + " on " + ids[i] + ": " + std::string(to_string(out.status)) + " " +
                      out.code + ": " + out.message;
        }
      },
      [&](bool begin) {
        (begin ? w0 : w1) = s->stats();
        (begin ? used0 : used1) = used();
      });
  if (!failure.empty()) die("agentos, " + std::to_string(clients) + " clients: " + failure);
  r.commits = w1.commits - w0.commits;
  r.avg_batch = r.commits ? static_cast<double>(w1.operations - w0.operations) / static_cast<double>(r.commits) : 0;
  r.bytes_per_tx = r.transitions ? static_cast<double>(used1 - used0) / static_cast<double>(r.transitions) : 0;
  return r;
}

// ---- the SQLite side

void sql_check(sqlite3* db, int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    die(std::string("sqlite: ") + what + ": " + sqlite3_errstr(rc) + " (" + sqlite3_errmsg(db) + ")");
}

void sql_exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string e = err ? err : "?";
    sqlite3_free(err);
    die(std::string("sqlite: ") + sql + ": " + e);
  }
}

sqlite3* sql_open(const fs::path& file) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK)
    die("sqlite: cannot open " + file.string());
  sqlite3_busy_timeout(db, 10'000);
  // journal_mode is a property of the file; synchronous belongs to the connection.
  sql_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
  return db;
}

// A body of `size` bytes whose first bytes say which version it is, so every write changes it.
void fill_body(std::string& body, std::size_t size, std::string_view head) {
  body.assign(size, 'x');
  std::copy(head.begin(), head.begin() + static_cast<std::ptrdiff_t>(std::min(head.size(), size)), body.begin());
}

struct sql_client {
  sqlite3* db = nullptr;
  sqlite3_stmt *begin = nullptr, *select = nullptr, *update = nullptr, *insert = nullptr, *commit = nullptr;
  std::string task_body, audit_body;

  sql_client(const fs::path& file) : db(sql_open(file)) {
    auto prep = [&](const char* sql) {
      sqlite3_stmt* st = nullptr;
      sql_check(db, sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr), sql);
      return st;
    };
    begin = prep("BEGIN IMMEDIATE");
    select = prep("SELECT state, version FROM tasks WHERE id = ?1");
    update = prep("UPDATE tasks SET state = ?2, version = version + 1, body = ?3 WHERE id = ?1");
    insert = prep("INSERT INTO audit(task, body) VALUES (?1, ?2)");
    commit = prep("COMMIT");
  }
  ~sql_client() {
    for (auto* st : {begin, select, update, insert, commit}) sqlite3_finalize(st);
    sqlite3_close_v2(db);
  }
  sql_client(const sql_client&) = delete;
  sql_client& operator=(const sql_client&) = delete;

  void run(sqlite3_stmt* st, const char* what) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sql_check(db, rc, what);
  }

  // One transition: read the row, write it back one version on, append an audit row, commit.
  void transition(const std::string& id, const record_sizes& sizes, const char* state) {
    run(begin, "BEGIN IMMEDIATE");
    sqlite3_bind_text(select, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
    int rc = sqlite3_step(select);
    if (rc != SQLITE_ROW) sql_check(db, rc == SQLITE_DONE ? SQLITE_NOTFOUND : rc, "SELECT task");
    const std::int64_t version = sqlite3_column_int64(select, 1);
    sqlite3_reset(select);
    const std::string head = "{\"id\":\"" + id + "\",\"version\":" + std::to_string(version + 1) + ",\"state\":\"" +
                             state + "\"";
    fill_body(task_body, sizes.task, head);
    fill_body(audit_body, sizes.audit, head);
    sqlite3_bind_text(update, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
    sqlite3_bind_text(update, 2, state, -1, SQLITE_STATIC);
    sqlite3_bind_text(update, 3, task_body.data(), static_cast<int>(task_body.size()), SQLITE_STATIC);
    run(update, "UPDATE task");
    sqlite3_bind_text(insert, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
    sqlite3_bind_text(insert, 2, audit_body.data(), static_cast<int>(audit_body.size()), SQLITE_STATIC);
    run(insert, "INSERT audit");
    run(commit, "COMMIT");
  }
};

// `shared`: all clients use one connection under a mutex instead of a connection each. SQLite
// serialises writers either way; with a connection each, a client that finds the database locked
// sleeps in the busy handler (1, 2, 5, 10 ... ms) rather than queueing, so the shared connection
// is SQLite's best case in one process.
run_result run_sqlite(const fs::path& dir, int clients, bool shared, const record_sizes& sizes, const options& o) {
  fs::create_directories(dir);
  const fs::path file = dir / "bench.db";
  const std::size_t k = o.tasks_per_client;
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < static_cast<std::size_t>(clients) * k; ++i) ids.push_back("T-" + std::to_string(i + 1));
  {
    sqlite3* db = sql_open(file);
    sql_exec(db,
             "CREATE TABLE tasks(id TEXT PRIMARY KEY, state TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL);"
             "CREATE TABLE audit(seq INTEGER PRIMARY KEY, task TEXT NOT NULL, body TEXT NOT NULL);"
             "BEGIN;");
    sqlite3_stmt* ins = nullptr;
    sql_check(db, sqlite3_prepare_v2(db, "INSERT INTO tasks VALUES (?1, 'executing', 3, ?2)", -1, &ins, nullptr), "prepare");
    std::string body;
    auto add = [&](const std::string& id) {
      fill_body(body, sizes.task, "{\"id\":\"" + id + "\"");
      sqlite3_bind_text(ins, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
      sqlite3_bind_text(ins, 2, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
      const int rc = sqlite3_step(ins);
      sqlite3_reset(ins);
      sql_check(db, rc, "INSERT task");
    };
    for (std::size_t i = 0; i < o.background; ++i) add("B-" + std::to_string(i + 1));
    for (const auto& id : ids) add(id);
    sqlite3_finalize(ins);
    sql_exec(db, "COMMIT;");
    sqlite3_close_v2(db);
  }
  std::vector<std::unique_ptr<sql_client>> conns;
  for (int c = 0; c < (shared ? 1 : clients); ++c) conns.push_back(std::make_unique<sql_client>(file));
  std::mutex one_writer;
  std::vector<std::uint64_t> steps(ids.size(), 0);
  return drive(
      clients, o,
      [&](int c, std::uint64_t n) {
        const std::size_t i = static_cast<std::size_t>(c) * k + n % k;
        const char* state = loop[steps[i]++ % 2].state;
        if (shared) {
          std::lock_guard lock(one_writer);
          conns[0]->transition(ids[i], sizes, state);
        } else {
          conns[static_cast<std::size_t>(c)]->transition(ids[i], sizes, state);
        }
      },
      [](bool) {});
}

// ---- the LMDB floor

// The most a group commit on LMDB can give C synchronous clients on this disk, whatever the
// pipeline above it does: one thread, no clients to wake, no decision, no hashing, no encoding;
// each commit holds exactly C transitions (the most C clients that each wait for their commit can
// put in one), and each transition rewrites a task record and appends an audit record and an
// outbox event of the sizes the store writes (`calibrate`), in three tables. Default flags: both
// of LMDB's syncs per commit, as in the store.
run_result run_floor(const fs::path& dir, int clients, const record_sizes& sizes, const options& o) {
  env_options eo;
  eo.map_size = std::size_t{1} << 30;
  auto e = env::open(dir, eo);
  if (!e) die("floor: open " + dir.string() + ": " + e.error().message);
  auto check = [](auto&& r, const char* what) {
    if (!r) die(std::string("floor: ") + what + ": " + r.error().message);
    if constexpr (!std::is_same_v<std::decay_t<decltype(r)>, result<void>>) return std::move(*r);
  };
  const std::size_t k = o.tasks_per_client;
  const std::size_t n_tasks = static_cast<std::size_t>(clients) * k;
  dbi tasks, audit, outbox;
  std::string task_body, audit_body, event_body;
  auto key = [](std::size_t i) { return "T-" + std::to_string(i + 1); };
  {
    auto t = check(e->begin_write(), "begin");
    tasks = check(t.open_db("tasks"), "open tasks");
    audit = check(t.open_db("audit"), "open audit");
    outbox = check(t.open_db("outbox"), "open outbox");
    for (std::size_t i = 0; i < o.background + n_tasks; ++i) {
      const std::string id = i < n_tasks ? key(i) : "B-" + std::to_string(i);
      fill_body(task_body, sizes.task, "{\"id\":\"" + id + "\"");
      check(t.put(tasks, id, task_body), "put task");
    }
    check(t.commit(), "commit");
  }
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < n_tasks; ++i) ids.push_back(key(i));
  std::uint64_t seq = 0, done = 0, commits = 0;
  std::vector<std::uint64_t> steps(n_tasks, 0);
  auto one_commit = [&] {
    auto t = check(e->begin_write(), "begin");
    for (int c = 0; c < clients; ++c) {
      const std::size_t i = static_cast<std::size_t>(c) * k + done / static_cast<std::size_t>(clients) % k;
      const std::string head = "{\"id\":\"" + ids[i] + "\",\"version\":" + std::to_string(++steps[i]);
      fill_body(task_body, sizes.task, head);
      fill_body(audit_body, sizes.audit, head);
      fill_body(event_body, sizes.outbox, head);
      char be[8];
      ++seq;
      for (int b = 0; b < 8; ++b) be[b] = static_cast<char>(seq >> (56 - 8 * b));
      const std::string_view seq_key(be, 8);
      check(t.put(tasks, ids[i], task_body), "put task");
      check(t.put(audit, seq_key, audit_body), "put audit");
      check(t.put(outbox, seq_key, event_body), "put outbox");
    }
    check(t.commit(), "commit");
    done += static_cast<std::uint64_t>(clients);
    ++commits;
  };
  const auto warm = steady::now();
  while (seconds_since(warm) < o.warmup) one_commit();
  const std::uint64_t n0 = done, c0 = commits;
  const auto cpu0 = cpu_seconds();
  const auto start = steady::now();
  std::vector<double> lat;
  while (seconds_since(start) < o.duration) {
    const auto a = steady::now();
    one_commit();
    lat.push_back(seconds_since(a) * 1e3);
  }
  const double elapsed = seconds_since(start);
  const auto cpu1 = cpu_seconds();
  run_result r;
  r.transitions = done - n0;
  r.commits = commits - c0;
  r.seconds = elapsed;
  r.tx_per_s = static_cast<double>(r.transitions) / elapsed;
  r.avg_batch = clients;
  r.user_us_per_tx = (cpu1.first - cpu0.first) * 1e6 / static_cast<double>(r.transitions);
  r.sys_us_per_tx = (cpu1.second - cpu0.second) * 1e6 / static_cast<double>(r.transitions);
  r.p50_ms = percentile(lat, 0.50);  // a commit's duration: what each of its C clients would wait at least
  r.p99_ms = percentile(lat, 0.99);
  return r;
}

// ---- size and memory

// Resident memory after some number of creates (kB, from /proc/self/status); `trimmed` is RssAnon
// after malloc_trim(0), i.e. without the free heap the allocator keeps.
struct rss_point {
  std::size_t tasks = 0;
  long rss = 0, anon = 0, file = 0, trimmed = 0;
};

rss_point rss_now(std::size_t tasks) {
  rss_point p{tasks, status_kb("VmRSS"), status_kb("RssAnon"), status_kb("RssFile"), 0};
  ::malloc_trim(0);
  p.trimmed = status_kb("RssAnon");
  return p;
}

struct size_result {
  std::size_t tasks = 0;
  double seconds = 0;
  std::uint64_t commits = 0;
  std::size_t used_before = 0, used_after = 0, file_bytes = 0, page_size = 0;
  std::uint64_t audit_records = 0;
  std::vector<table_count> tables;
  std::vector<rss_point> rss;  // after open, then after each slice of creates
};

size_result run_size(const fs::path& dir, const compiled_policy& policy, std::size_t n) {
  size_result r;
  r.tasks = n;
  auto s = open_store(dir, policy);
  auto st0 = s->stat();
  if (!st0) die("stat: " + st0.error().message);
  r.used_before = st0->env.used_bytes;
  r.rss.push_back(rss_now(0));
  double seconds = 0;
  // In slices, so the ops and outcomes held at once stay small beside what is measured, with the
  // memory read after each (not timed).
  const std::size_t slice = std::max<std::size_t>(1, n / 10);
  for (std::size_t done = 0; done < n;) {
    const std::size_t m = std::min(slice, n - done);
    const auto start = steady::now();
    create_tasks(*s, m, done);
    seconds += seconds_since(start);
    done += m;
    r.rss.push_back(rss_now(done));
  }
  r.seconds = seconds;
  r.commits = s->stats().commits;
  auto st = s->stat();
  if (!st) die("stat: " + st.error().message);
  r.used_after = st->env.used_bytes;
  r.page_size = st->env.page_size;
  r.audit_records = st->audit_records;
  r.tables = st->tables;
  r.file_bytes = fs::file_size(dir / "data.mdb");
  return r;
}

// ---- output

std::string fmt(double v, int decimals = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  // thousands separators on the integer part
  std::string s = buf;
  const auto dot = s.find('.');
  std::string head = s.substr(0, dot), tail = dot == std::string::npos ? "" : s.substr(dot);
  const bool neg = !head.empty() && head[0] == '-';
  if (neg) head.erase(0, 1);
  for (int i = static_cast<int>(head.size()) - 3; i > 0; i -= 3) head.insert(static_cast<std::size_t>(i), ",");
  return (neg ? "-" : "") + head + tail;
}

std::string mib(double bytes) { return fmt(bytes / (1024.0 * 1024.0), 1) + " MiB"; }

}  // namespace

int main(int argc, char** argv) {
  const options o = parse_args(argc, argv);
  fs::create_directories(o.dir);
  std::string tmpl = (o.dir / "agentos-commit-bench-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) die("cannot create a directory under " + o.dir.string());
  const fs::path base = tmpl;
  struct cleanup {
    fs::path p;
    bool keep;
    ~cleanup() {
      std::error_code ec;
      if (!keep) fs::remove_all(p, ec);
    }
  } cleanup_base{base, o.keep};

  // The machine
  utsname u{};
  ::uname(&u);
  const mount_info mnt = mount_of(base);
  std::printf("# commit_bench\n\n");
  std::printf("machine:     %u cores (nproc), %s, %s\n", std::thread::hardware_concurrency(),
              after_colon(first_line_with("/proc/cpuinfo", "model name")).c_str(),
              after_colon(first_line_with("/proc/meminfo", "MemTotal")).c_str());
  std::printf("kernel:      %s %s\n", u.sysname, u.release);
  std::printf("data dir:    %s (%s on %s, mounted at %s)\n", base.c_str(), mnt.fstype.c_str(), mnt.source.c_str(),
              mnt.point.c_str());
  if (mnt.fstype == "tmpfs" || mnt.fstype == "ramfs")
    std::printf("             WARNING: %s has no durable storage; fsync is free here and the figures are not durable commits\n",
                mnt.fstype.c_str());
  std::printf("load avg:    %s\n", [] {
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
  }().c_str());
  std::printf("sqlite:      %s (WAL, synchronous=FULL)\n", sqlite3_libversion());
  const auto [sync_in_place, sync_append] = fdatasync_us(base);
  std::printf("fdatasync:   %s us (4 KiB rewritten in place), %s us (4 KiB appended), median of 200\n",
              fmt(sync_in_place, 0).c_str(), fmt(sync_append, 0).c_str());
  std::printf("window:      %.1f s measured after %.1f s warm-up, %d runs of each; %zu tasks per client, %zu other tasks in each store\n\n",
              o.duration, o.warmup, o.repeat, o.tasks_per_client, o.background);
  std::fflush(stdout);

  compiled_policy policy = load_policy(o.policy);
  if (!policy.graph) die("policy " + o.policy.string() + ":\n" + policy.problems);

  // Size first, in a process that has not yet allocated (and freed) for the throughput runs, so
  // that its RSS growth is not hidden by memory the allocator already holds.
  std::optional<size_result> sz;
  if (o.size) {
    std::fprintf(stderr, "size: creating %zu tasks\n", o.size_tasks);
    sz = run_size(base / "size", policy, o.size_tasks);
    fs::remove_all(base / "size");
  }

  const record_sizes sizes = calibrate(base / "calibrate", policy);
  fs::remove_all(base / "calibrate");
  std::printf("records:     task %zu B, transition audit record %zu B, outbox event %zu B (SQLite rows: task body %zu B, audit body %zu B)\n\n",
              sizes.task, sizes.audit, sizes.outbox, sizes.task, sizes.audit);

  // Repetitions interleave the systems (agentos, SQLite, SQLite shared, for each client count,
  // then again), so that a burst of someone else's I/O lands on all of them alike; each cell is
  // the median repetition, with the range beside it.
  struct row {
    int clients;
    std::vector<run_result> a, s, m, f;
  };
  std::vector<row> rows;
  for (int c : o.clients) rows.push_back({c, {}, {}, {}, {}});
  auto probed = [](const fs::path& dir, auto run) {
    const double before = sync_probe_us(dir);
    run_result r = run();
    r.sync_before_us = before;
    r.sync_after_us = sync_probe_us(dir);
    return r;
  };
  for (int rep = 0; rep < o.repeat; ++rep) {
    for (auto& r : rows) {
      const int c = r.clients;
      const std::string tag = std::to_string(c) + " clients, run " + std::to_string(rep + 1) + "/" + std::to_string(o.repeat);
      std::fprintf(stderr, "agentos: %s\n", tag.c_str());
      r.a.push_back(probed(base, [&] { return run_agentos(base / "agentos", policy, c, o); }));
      fs::remove_all(base / "agentos");
      if (o.floor) {
        std::fprintf(stderr, "LMDB floor: %s\n", tag.c_str());
        r.f.push_back(probed(base, [&] { return run_floor(base / "floor", c, sizes, o); }));
        fs::remove_all(base / "floor");
      }
      if (!o.sqlite) continue;
      std::fprintf(stderr, "sqlite, a connection each: %s\n", tag.c_str());
      r.s.push_back(probed(base, [&] { return run_sqlite(base / "sqlite", c, false, sizes, o); }));
      fs::remove_all(base / "sqlite");
      if (c > 1) {
        std::fprintf(stderr, "sqlite, one shared connection: %s\n", tag.c_str());
        r.m.push_back(probed(base, [&] { return run_sqlite(base / "sqlite", c, true, sizes, o); }));
        fs::remove_all(base / "sqlite");
      } else {
        r.m.push_back(r.s.back());  // one client: the same thing
      }
    }
  }
  auto med = [](std::vector<run_result> v) {
    if (v.empty()) return run_result{};
    std::sort(v.begin(), v.end(), [](const run_result& x, const run_result& y) { return x.tx_per_s < y.tx_per_s; });
    return v[v.size() / 2];
  };
  auto cell = [&](const std::vector<run_result>& v) {
    if (v.empty()) return std::string("-");
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end(), [](const run_result& x, const run_result& y) {
      return x.tx_per_s < y.tx_per_s;
    });
    std::string out = fmt(med(v).tx_per_s);
    if (v.size() > 1) out += " (" + fmt(lo->tx_per_s) + "–" + fmt(hi->tx_per_s) + ")";
    return out;
  };

  std::printf("## Durable transitions per second\n\n");
  std::printf("Median of %d interleaved runs (range in brackets); latency and CPU from the median run.\n\n", o.repeat);
  std::printf("| clients | agentos tx/s | p50 / p99 ms | commits/s | avg group | CPU us/tx user + sys | sqlite tx/s (conn each) | p50 / p99 ms "
              "| sqlite tx/s (shared conn) | agentos ÷ sqlite | agentos ÷ best sqlite |\n");
  std::printf("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  struct summary {
    int clients;
    run_result a, s, m, f;
  };
  std::vector<summary> sums;
  for (const auto& r : rows) sums.push_back({r.clients, med(r.a), med(r.s), med(r.m), med(r.f)});
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& r = sums[i];
    const double best = std::max(r.s.tx_per_s, r.m.tx_per_s);
    std::printf("| %d | %s | %s / %s | %s | %s | %s + %s | %s | %s / %s | %s | %s | %s |\n", r.clients,
                cell(rows[i].a).c_str(), fmt(r.a.p50_ms, 2).c_str(), fmt(r.a.p99_ms, 2).c_str(),
                fmt(static_cast<double>(r.a.commits) / r.a.seconds).c_str(), fmt(r.a.avg_batch, 1).c_str(),
                fmt(r.a.user_us_per_tx, 0).c_str(), fmt(r.a.sys_us_per_tx, 0).c_str(), cell(rows[i].s).c_str(),
                o.sqlite ? fmt(r.s.p50_ms, 2).c_str() : "-", o.sqlite ? fmt(r.s.p99_ms, 2).c_str() : "-",
                cell(rows[i].m).c_str(),
                o.sqlite && r.s.tx_per_s > 0 ? (fmt(r.a.tx_per_s / r.s.tx_per_s, 2) + "×").c_str() : "-",
                o.sqlite && best > 0 ? (fmt(r.a.tx_per_s / best, 2) + "×").c_str() : "-");
  }
  if (o.floor) {
    std::printf("\n### The LMDB floor\n\n");
    std::printf("One thread committing groups of exactly as many transitions as there are clients, each a task record\n"
                "rewritten and an audit record and outbox event appended (the store's sizes), in three tables, with\n"
                "LMDB's two syncs per commit and nothing else: no clients to wake, no decision, no hashing, no\n"
                "encoding. No store built on LMDB commits can beat it with that many synchronous clients.\n\n");
    std::printf("| clients | floor tx/s | commit p50 / p99 ms | commits/s | CPU us/tx user + sys | floor ÷ sqlite | agentos ÷ floor |\n");
    std::printf("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& r = sums[i];
      std::printf("| %d | %s | %s / %s | %s | %s + %s | %s | %s |\n", r.clients, cell(rows[i].f).c_str(),
                  fmt(r.f.p50_ms, 2).c_str(), fmt(r.f.p99_ms, 2).c_str(),
                  fmt(static_cast<double>(r.f.commits) / r.f.seconds).c_str(), fmt(r.f.user_us_per_tx, 0).c_str(),
                  fmt(r.f.sys_us_per_tx, 0).c_str(),
                  o.sqlite && r.s.tx_per_s > 0 ? (fmt(r.f.tx_per_s / r.s.tx_per_s, 2) + "×").c_str() : "-",
                  r.f.tx_per_s > 0 ? (fmt(r.a.tx_per_s / r.f.tx_per_s, 2) + "×").c_str() : "-");
    }
  }
  std::printf("\nEvery run, in the order run, with the median fdatasync (4 KiB in place) measured just before and after it:\n\n");
  std::printf("| run | clients | system | tx/s | p50 / p99 ms | CPU us/tx user + sys | fdatasync before / after us |\n"
              "| ---: | ---: | --- | ---: | ---: | ---: | ---: |\n");
  for (int rep = 0; rep < o.repeat; ++rep)
    for (const auto& r : rows) {
      auto line = [&](const char* system, const std::vector<run_result>& v) {
        if (static_cast<std::size_t>(rep) >= v.size()) return;
        const auto& x = v[static_cast<std::size_t>(rep)];
        std::printf("| %d | %d | %s | %s | %s / %s | %s + %s | %s / %s |\n", rep + 1, r.clients, system,
                    fmt(x.tx_per_s).c_str(), fmt(x.p50_ms, 2).c_str(), fmt(x.p99_ms, 2).c_str(),
                    fmt(x.user_us_per_tx).c_str(), fmt(x.sys_us_per_tx).c_str(), fmt(x.sync_before_us).c_str(),
                    fmt(x.sync_after_us).c_str());
      };
      line("agentos", r.a);
      line("LMDB floor", r.f);
      line("sqlite, conn each", r.s);
      if (r.clients > 1) line("sqlite, shared conn", r.m);
    }
  std::printf("\nagentos store growth in the window: ");
  for (const auto& r : sums) std::printf("%s B/transition (%d clients)  ", fmt(r.a.bytes_per_tx).c_str(), r.clients);
  std::printf("\n");

  // Targets of issue #4.
  std::printf("\n## Targets\n\n");
  for (const auto& r : sums) {
    if (r.clients == 4 && o.sqlite) {
      const bool met = r.a.tx_per_s >= 2 * r.s.tx_per_s;
      std::printf("- at least 2× SQLite at 4 clients: %s× -> %s\n", fmt(r.a.tx_per_s / r.s.tx_per_s, 2).c_str(),
                  met ? "met" : "NOT met");
      if (o.floor)
        std::printf("  (the LMDB floor at 4 clients: %s×%s)\n", fmt(r.f.tx_per_s / r.s.tx_per_s, 2).c_str(),
                    r.f.tx_per_s < 2 * r.s.tx_per_s ? ": below the target, so no pipeline on LMDB can meet it on this disk" : "");
    }
    if (r.clients == 32) {
      const bool met = r.a.tx_per_s >= 50'000;
      std::printf("- at least 50,000 transitions/s at 32 clients: %s -> %s\n", fmt(r.a.tx_per_s).c_str(),
                  met ? "met" : "NOT met");
      if (o.floor) std::printf("  (the LMDB floor at 32 clients: %s)\n", fmt(r.f.tx_per_s).c_str());
    }
    if (r.clients == 1 && o.sqlite)
      std::printf("- 1 client (no target): %s×\n", fmt(r.a.tx_per_s / r.s.tx_per_s, 2).c_str());
  }

  if (sz) {
    const double n = static_cast<double>(sz->tasks), per_m = 1e6 / n;
    const double used = static_cast<double>(sz->used_after - sz->used_before);
    std::printf("\n## Store size and resident memory (%s tasks created through the store)\n\n", fmt(n).c_str());
    std::printf("created in %.2f s: %s tasks/s, %s commits (avg group %.1f)\n", sz->seconds, fmt(n / sz->seconds).c_str(),
                fmt(static_cast<double>(sz->commits)).c_str(), n / static_cast<double>(std::max<std::uint64_t>(1, sz->commits)));
    std::printf("used pages: %s (%s B/task) -> %s per million tasks; data.mdb file %s -> %s per million\n",
                mib(used).c_str(), fmt(used / n).c_str(), mib(used * per_m).c_str(),
                mib(static_cast<double>(sz->file_bytes)).c_str(), mib(static_cast<double>(sz->file_bytes) * per_m).c_str());
    std::printf("entries:");
    for (const auto& t : sz->tables)
      if (t.entries) std::printf(" %s %s", t.table.c_str(), fmt(static_cast<double>(t.entries)).c_str());
    std::printf("\n");
    std::printf("\nresident memory after open and after each slice of creates (MiB; anon trimmed: after malloc_trim):\n\n");
    std::printf("| tasks | VmRSS | RssAnon | RssFile (LMDB map) | RssAnon trimmed |\n| ---: | ---: | ---: | ---: | ---: |\n");
    auto m = [](long kb) { return fmt(static_cast<double>(kb) / 1024.0, 1); };
    for (const auto& p : sz->rss)
      std::printf("| %s | %s | %s | %s | %s |\n", fmt(static_cast<double>(p.tasks)).c_str(), m(p.rss).c_str(),
                  m(p.anon).c_str(), m(p.file).c_str(), m(p.trimmed).c_str());
    // The slope over the second half excludes what is paid once (the first batches' dirty-page
    // lists, the allocator's arenas), which a straight scaling of the total would multiply.
    const auto& mid = sz->rss[sz->rss.size() / 2];
    const auto& end = sz->rss.back();
    const double dn = static_cast<double>(end.tasks - mid.tasks);
    if (dn > 0) {
      auto slope = [&](long a, long b) { return mib(static_cast<double>(b - a) * 1024 / dn * 1e6); };
      std::printf("\nper million tasks, extrapolated linearly from the second half (%s to %s tasks): VmRSS %s, RssAnon %s, "
                  "RssFile %s, RssAnon trimmed %s\n",
                  fmt(static_cast<double>(mid.tasks)).c_str(), fmt(static_cast<double>(end.tasks)).c_str(),
                  slope(mid.rss, end.rss).c_str(), slope(mid.anon, end.anon).c_str(), slope(mid.file, end.file).c_str(),
                  slope(mid.trimmed, end.trimmed).c_str());
      const auto& first = sz->rss.front();
      std::printf("from open to %s tasks, scaled to a million: VmRSS %s, RssAnon trimmed %s\n",
                  fmt(static_cast<double>(end.tasks)).c_str(),
                  mib(static_cast<double>(end.rss - first.rss) * 1024 / static_cast<double>(end.tasks) * 1e6).c_str(),
                  mib(static_cast<double>(end.trimmed - first.trimmed) * 1024 / static_cast<double>(end.tasks) * 1e6).c_str());
      long peak = 0;
      for (const auto& p : sz->rss) peak = std::max(peak, p.trimmed);
      std::printf("peak RssAnon trimmed: %s (a bounded cache shows as a plateau in the table, not as a slope; read the "
                  "table before the extrapolations)\n",
                  mib(static_cast<double>(peak) * 1024).c_str());
    }
  }
  std::printf("\nload avg at the end: %s\n", [] {
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
  }().c_str());
  if (o.keep) std::printf("data kept in %s\n", base.c_str());
  return 0;
}
