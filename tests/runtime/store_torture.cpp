// The writer and checker that the crash, power-loss and ENOSPC tests drive (tests/runtime/*.sh).
//
//   store_torture write DIR --acks FILE [--nosync] [--count N] [--clients N]
//     Runs client threads against a task store in DIR with the shipped policy: each creates
//     engineering tasks and moves them round the revision loop (submit_result, request_revision),
//     with an occasional denied self-acceptance. After every acknowledged outcome it appends
//     "ack <task> <version> <audit seq>\n" to FILE with one write(2). Runs until killed, or until
//     N acknowledgements (exit 0). A store error ends it with exit 1 and the error on stderr.
//   store_torture verify DIR --acks FILE
//     Opens the store (failing to open is corruption), checks that every acknowledged outcome is
//     there (task at that version or later, audit record with that seq for that task), then runs
//     the store check: indexes, artifacts, the audit chain and a replay of every decision.
//     Exit 0 when all holds, 1 on any loss or corruption (printed), 2 on usage errors.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "runtime/service/store.hpp"

namespace fs = std::filesystem;
using namespace agentos::runtime;
using nlohmann::json;

namespace {

int usage() {
  std::cerr << "usage: store_torture write DIR --acks FILE [--nosync] [--count N] [--clients N]\n"
               "       store_torture verify DIR --acks FILE\n";
  return 2;
}

struct args {
  std::string mode, dir, acks;
  bool nosync = false;
  long count = 0;
  int clients = 4;
};

std::atomic<long> acked{0};
std::atomic<long> reserved{0};
std::atomic<bool> stop{false};
std::atomic<std::int64_t> clock_ms{1'767'225'600'000};
std::mutex error_mutex;
std::string first_error;

void record_ack(int fd, const outcome& o) {
  const json& task = o.body.contains("task") ? o.body["task"] : json();
  const std::string id = task.is_object() ? task.value("id", std::string("-")) : "-";
  const std::uint64_t version = task.is_object() ? task.value("version", std::uint64_t{0}) : 0;
  const std::uint64_t seq = o.body.value("audit_seq", std::uint64_t{0});
  char line[256];
  const int n = std::snprintf(line, sizeof line, "ack %s %llu %llu\n", id.c_str(),
                              static_cast<unsigned long long>(version), static_cast<unsigned long long>(seq));
  if (::write(fd, line, static_cast<std::size_t>(n)) != n) std::abort();
}

void fail(const outcome& o) {
  std::lock_guard lock(error_mutex);
  if (first_error.empty()) first_error = "error[" + o.code + "]: " + o.message;
  stop = true;
}

void client(task_store& s, int fd, int index, long count) {
  auto submit = [&](operation op) -> std::optional<outcome> {
    if (stop) return std::nullopt;
    // With --count, never have more operations in flight than acknowledgements still wanted.
    if (count > 0 && reserved.fetch_add(1) >= count) {
      stop = true;
      return std::nullopt;
    }
    outcome o = s.apply(std::move(op));
    if (o.status == outcome_status::failed) {
      fail(o);
      return std::nullopt;
    }
    if (o.acknowledged()) {
      record_ack(fd, o);
      if (count > 0 && ++acked >= count) stop = true;
    } else if (count > 0) {
      --reserved;  // not acknowledged: it does not count
    }
    return o;
  };
  auto now = [] { return clock_ms.fetch_add(7); };
  auto move = [&](const std::string& id, const char* event, const char* who, const char* artifact = nullptr) {
    transition_op op;
    op.task_id = id;
    op.event = event;
    op.actor = {{"id", who}};
    op.now = now();
    if (artifact) op.artifact = artifact_input{"result", artifact};
    return submit(op);
  };
  for (int round = 0; !stop; ++round) {
    create_op c;
    c.task = {{"title", "torture " + std::to_string(index) + "." + std::to_string(round)}, {"kind", "engineering"}};
    c.actor = {{"id", "openclaw"}};
    c.now = now();
    auto created = submit(c);
    if (!created || created->status != outcome_status::applied) continue;
    const std::string id = created->body["task"]["id"];
    if (!move(id, "assign", "openclaw") || !move(id, "start", "claude")) continue;
    for (int i = 0; i < 20 && !stop; ++i) {
      if (!move(id, "submit_result", "claude", "attempt")) break;
      if (i % 5 == 4) move(id, "accept_result", "claude");  // denied: no self-acceptance
      if (!move(id, "request_revision", "claude_pm")) break;
    }
  }
}

int write_mode(const args& a) {
  const int fd = ::open(a.acks.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::perror(a.acks.c_str());
    return 2;
  }
  std::optional<compiled_policy> policy;
  auto p = load_policy(fs::path(AGENTOS_SOURCE_DIR) / "policies" / "agent-os.policy");
  if (!p.graph) {
    std::cerr << p.problems;
    return 2;
  }
  store_options options;
  options.env.unsafe_no_sync = a.nosync;
  auto s = task_store::open(a.dir, std::move(p), options);
  if (!s) {
    std::cerr << "store_torture: error[store." << to_string(s.error().code) << "]: " << s.error().message << "\n";
    return 1;
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < a.clients; ++i) threads.emplace_back([&, i] { client(**s, fd, i, a.count); });
  for (auto& t : threads) t.join();
  ::close(fd);
  if (std::getenv("STORE_TORTURE_STATS")) {
    const auto st = (*s)->stats();
    std::cerr << "store_torture: " << st.operations << " operations in " << st.commits << " commits (largest "
              << st.max_batch << ")\n";
  }
  if (!first_error.empty()) {
    std::cerr << "store_torture: " << first_error << "\n";
    return 1;
  }
  return 0;
}

int verify_mode(const args& a) {
  auto s = task_store::open(a.dir, std::nullopt);
  if (!s) {
    std::cerr << "store_torture verify: cannot open the store: error[store." << to_string(s.error().code)
              << "]: " << s.error().message << "\n";
    return 1;
  }
  std::ifstream in(a.acks);
  std::string line;
  long acks = 0, losses = 0;
  auto lost = [&](const std::string& what) {
    if (++losses <= 20) std::cerr << "LOST: " << what << "\n";
  };
  std::uint64_t max_seq = 0;
  std::vector<std::pair<std::string, std::uint64_t>> seqs;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a last line without its newline was never fully written
    std::istringstream ls(line);
    std::string tag, id;
    std::uint64_t version = 0, seq = 0;
    if (!(ls >> tag >> id >> version >> seq) || tag != "ack") continue;
    ++acks;
    if (id != "-") {
      auto t = (*s)->task(id);
      if (!t) {
        std::cerr << "store_torture verify: " << t.error().message << "\n";
        return 1;
      }
      if (!*t)
        lost("task " + id + " (acknowledged at version " + std::to_string(version) + ") is missing");
      else if ((**t)["version"].get<std::uint64_t>() < version)
        lost("task " + id + " is at version " + (**t)["version"].dump() + ", acknowledged " + std::to_string(version));
    }
    if (seq != 0) seqs.emplace_back(id, seq), max_seq = std::max(max_seq, seq);
  }
  // Every acknowledged audit record: one pass over the log.
  auto log = (*s)->audit({});
  if (!log) {
    std::cerr << "store_torture verify: " << log.error().message << "\n";
    return 1;
  }
  std::vector<std::string> task_at(max_seq + 1);
  std::vector<bool> present(max_seq + 1, false);
  for (const auto& e : *log)
    if (e.seq <= max_seq) {
      present[e.seq] = true;
      task_at[e.seq] = e.record.contains("task") && e.record["task"].is_string() ? e.record["task"].get<std::string>() : "";
    }
  for (const auto& [id, seq] : seqs) {
    if (!present[seq]) lost("audit record " + std::to_string(seq) + " for " + id + " is missing");
    else if (id != "-" && task_at[seq] != id) lost("audit record " + std::to_string(seq) + " is not about " + id);
  }
  auto rep = (*s)->check();
  if (!rep) {
    std::cerr << "CORRUPT: store check failed: " << rep.error().message << "\n";
    return 1;
  }
  for (const auto& p : rep->problems) std::cerr << "CORRUPT: " << p << "\n";
  for (const auto& p : rep->audit.problems) std::cerr << "CORRUPT: audit: " << p << "\n";
  std::cout << "verify: " << acks << " acknowledged, " << losses << " lost; " << rep->tasks << " tasks, "
            << rep->audit.records << " audit records (" << rep->audit.replayed << " replayed), "
            << (rep->ok() ? "store ok" : "store CORRUPT") << "\n";
  return losses == 0 && rep->ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  args a;
  a.mode = argv[1];
  a.dir = argv[2];
  for (int i = 3; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
    if (arg == "--acks") a.acks = next();
    else if (arg == "--nosync") a.nosync = true;
    else if (arg == "--count") a.count = std::atol(next().c_str());
    else if (arg == "--clients") a.clients = std::max(1, std::atoi(next().c_str()));
    else return usage();
  }
  if (a.acks.empty()) return usage();
  if (a.mode == "write") return write_mode(a);
  if (a.mode == "verify") return verify_mode(a);
  return usage();
}
