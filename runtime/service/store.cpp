#include "runtime/service/store.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "engine/sha256.hpp"
#include "runtime/service/keys.hpp"
#include "runtime/service/task_record.hpp"
#include "runtime/store/lmdb_kv.hpp"

namespace agentos::runtime {

namespace fs = std::filesystem;
using kv::table;

namespace {

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

outcome failed_outcome(const store_error& e) {
  outcome o;
  o.status = outcome_status::failed;
  o.code = "store." + std::string(to_string(e.code));
  o.message = e.message;
  return o;
}

struct pending {
  operation op;
  // Set: not an operation but a policy to make active (task_store::activate), alone in its batch.
  std::optional<compiled_policy> activation;
  std::int64_t activation_time = 0;
  std::promise<outcome> promise;
  std::optional<outcome> result;
};

}  // namespace

struct task_store::impl {
  env environment;
  lmdb_tables tables;
  store_options options;
  std::unique_ptr<policy_context> context;  // null: no policy
  audit_head head;

  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::unique_ptr<pending>> queue;
  bool stopping = false;
  std::size_t last_batch = 1;  // writer thread only
  std::thread writer;

  mutable std::mutex stats_mutex;
  writer_stats counters;

  // What graph() and policy() hand to other threads: the writer's policy, republished whenever
  // the writer switches (the context itself belongs to the writer thread).
  mutable std::mutex policy_mutex;
  compiled_policy published;

  void publish() {
    std::lock_guard lock(policy_mutex);
    published = context ? context->policy() : compiled_policy{};
  }

  void count_commit(std::size_t batch) {
    std::lock_guard lock(stats_mutex);
    counters.operations += batch;
    counters.commits += 1;
    counters.max_batch = std::max<std::uint64_t>(counters.max_batch, batch);
    std::size_t bucket = 0;
    while (bucket + 1 < writer_stats::batch_buckets && (std::size_t{1} << bucket) < batch) ++bucket;
    counters.batch_sizes[bucket] += 1;
  }

  // The last committed outbox seq, and the wait for it to move (task_store::wait_outbox).
  std::atomic<std::uint64_t> outbox_head{0};
  mutable std::mutex outbox_mutex;
  mutable std::condition_variable_any outbox_moved;

  void publish_outbox(std::uint64_t seq) {
    if (seq == outbox_head.load()) return;
    {
      std::lock_guard lock(outbox_mutex);
      outbox_head.store(seq);
    }
    outbox_moved.notify_all();
  }

  impl(env e, lmdb_tables t, store_options o) : environment(std::move(e)), tables(t), options(std::move(o)) {}

  template <class F>
  auto read(F&& fn) const -> decltype(fn(std::declval<lmdb_kv&>())) {
    auto t = const_cast<env&>(environment).begin_read();
    if (!t) return std::move(t).error();
    lmdb_kv r(*t, tables);
    return fn(r);
  }

  void run() {
    for (;;) {
      std::vector<std::unique_ptr<pending>> batch;
      {
        std::unique_lock lock(mutex);
        wake.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty() && stopping) return;
        // Linger: wait (at most `linger`) until as many operations are queued as the last batch
        // held. Callers that were in the last commit come back a few microseconds apart; without
        // the wait the writer would commit the first alone and the rest in the next batch.
        const std::size_t expect = std::min(options.max_batch, std::max<std::size_t>(1, last_batch));
        if (options.linger.count() > 0 && queue.size() < expect && !stopping) {
          wake.wait_for(lock, options.linger, [&] { return stopping || queue.size() >= expect; });
        }
        while (!queue.empty() && batch.size() < options.max_batch) {
          if (queue.front()->activation && !batch.empty()) break;  // an activation starts a batch of its own
          batch.push_back(std::move(queue.front()));
          queue.pop_front();
          if (batch.back()->activation) break;
        }
      }
      last_batch = batch.size();
      commit_batch(batch);
      for (auto& p : batch) p->promise.set_value(std::move(*p->result));
    }
  }

  // Applies a batch in one write txn. First every operation straight in that txn (the common
  // case: each one either commits its writes or writes nothing); when one would have to be undone
  // alone (a store error, or an outcome that is not acknowledged after it wrote something), the
  // txn is dropped and the batch runs again with each operation in a nested txn, so a failed one
  // does not disturb the others. Operations are functions of their op (which carries `now`) and
  // the store, so the second run decides exactly as the first would have. Nested txns cost a
  // 2 MiB allocation each in LMDB, which is why they are kept for that second run. On map_full
  // the whole batch is retried after growing the map (no txn may be open while it grows).
  void commit_batch(std::vector<std::unique_ptr<pending>>& batch) {
    if (batch.size() == 1 && batch.front()->activation) return commit_activation(*batch.front());
    bool nested = false;
    for (int attempt = 0;; ++attempt) {
      const audit_head saved = head;
      bool needs_nesting = false;
      std::optional<store_error> whole = try_batch(batch, nested, needs_nesting);
      if (!whole && !needs_nesting) {
        count_commit(batch.size());
        publish_outbox(head.next_outbox - 1);
        return;
      }
      head = saved;
      if (context) context->forget_all();  // the cache may hold what the aborted txn wrote
      if (needs_nesting) {
        nested = true;
        std::lock_guard lock(stats_mutex);
        counters.nested_retries += 1;
        continue;
      }
      if (whole->code == store_errc::map_full && attempt < 3) {
        if (auto g = environment.grow(); g) continue;
        else whole = std::move(g).error();
      }
      for (auto& p : batch) p->result = failed_outcome(*whole);
      return;
    }
  }

  // Records the policy as active in its own write txn and, once that commit returned, switches
  // the writer to it: operations before it in the queue were decided by the old policy, those
  // after it by the new one, and a failed commit leaves the old one in place.
  void commit_activation(pending& p) {
    auto next = std::make_unique<policy_context>(std::move(*p.activation), options.limits, options.skills);
    const json previous = context ? json(context->graph().version()) : json(nullptr);
    for (int attempt = 0;; ++attempt) {
      audit_head h = head;
      std::optional<store_error> failure;
      bool activated = false;
      {
        auto t = environment.begin_write();
        if (!t) {
          failure = std::move(t).error();
        } else {
          lmdb_kv w(*t, tables);
          auto a = runtime::activate(w, *next, h, p.activation_time);
          if (!a) failure = std::move(a).error();
          else if (*a) {
            if (auto c = t->commit(); !c) failure = std::move(c).error();
            else activated = true;
          }
        }
      }
      if (!failure) {
        outcome o;
        o.status = outcome_status::applied;
        o.code = activated ? "policy.activated" : "policy.unchanged";
        o.message = activated ? "activated policy " + next->graph().version()
                              : "policy " + next->graph().version() + " is already active";
        o.body = {{"activated", activated}, {"version", next->graph().version()}, {"previous", previous}};
        if (activated) {
          o.body["audit_seq"] = h.next_seq - 1;
          head = h;
          context = std::move(next);
          publish();
          count_commit(1);
        }
        p.result = std::move(o);
        return;
      }
      if (failure->code == store_errc::map_full && attempt < 3) {
        if (auto g = environment.grow(); g) continue;
        else failure = std::move(g).error();
      }
      p.result = failed_outcome(*failure);
      return;
    }
  }

  std::future<outcome> enqueue(std::unique_ptr<pending> p) {
    auto f = p->promise.get_future();
    {
      std::lock_guard lock(mutex);
      queue.push_back(std::move(p));
    }
    wake.notify_one();
    // The outcome's JSON body is finished on the caller's thread, not the writer's.
    return std::async(std::launch::deferred, [f = std::move(f)]() mutable {
      outcome o = f.get();
      finish_body(o);
      return o;
    });
  }

  // One attempt at a batch (see commit_batch). With `nested` false, sets `needs_nesting` and
  // returns (the txn aborted) as soon as an operation would need its own writes undone.
  std::optional<store_error> try_batch(std::vector<std::unique_ptr<pending>>& batch, bool nested, bool& needs_nesting) {
    if (!context) {
      for (auto& p : batch)
      {
        outcome o;
        o.status = outcome_status::failed;
        o.code = "store.no_policy";
        o.message = "the store has no active policy: open it with a policy first";
        p->result = std::move(o);
      }
      return std::nullopt;
    }
    auto parent = environment.begin_write();
    if (!parent) return std::move(parent).error();
    for (auto& p : batch) {
      if (!nested) {
        lmdb_kv w(*parent, tables);
        audit_head h = head;
        result<outcome> r = runtime::apply(w, *context, h, p->op);
        if (r && r->acknowledged()) {
          head = std::move(h);
          p->result = std::move(*r);
        } else if (r && w.writes() == 0) {
          p->result = std::move(*r);  // refused before it wrote anything: nothing to undo
        } else if (!r && (r.error().code == store_errc::map_full || r.error().code == store_errc::io ||
                          r.error().code == store_errc::no_space)) {
          return std::move(r).error();  // the whole batch is retried or failed, as below
        } else {
          needs_nesting = true;
          return std::nullopt;
        }
        continue;
      }
      auto child = parent->child();
      if (!child) return std::move(child).error();
      lmdb_kv w(*child, tables);
      audit_head h = head;
      result<outcome> r = runtime::apply(w, *context, h, p->op);
      if (r && r->acknowledged()) {
        if (auto c = child->commit(); !c) return std::move(c).error();
        head = std::move(h);
        p->result = std::move(*r);
      } else if (r) {
        child->abort();
        p->result = std::move(*r);
      } else {
        child->abort();
        context->forget_all();  // the failed operation may have cached what it did not write
        if (r.error().code == store_errc::map_full || r.error().code == store_errc::io ||
            r.error().code == store_errc::no_space)
          return std::move(r).error();  // the whole batch is retried or failed
        p->result = failed_outcome(r.error());
      }
    }
    if (auto c = parent->commit(); !c) return std::move(c).error();
    return std::nullopt;
  }
};

task_store::task_store(std::unique_ptr<impl> p) : m(std::move(p)) {}

task_store::~task_store() {
  if (!m) return;
  {
    std::lock_guard lock(m->mutex);
    m->stopping = true;
  }
  m->wake.notify_all();
  if (m->writer.joinable()) m->writer.join();
}

result<std::unique_ptr<task_store>> task_store::open(const fs::path& dir, std::optional<compiled_policy> policy,
                                                     const store_options& options) {
  if (policy && !policy->graph)
    return store_error{store_errc::invalid, 0, "the policy has errors:\n" + policy->problems};
  auto e = env::open(dir, options.env);
  if (!e) return std::move(e).error();
  auto tables = lmdb_tables::open(*e);
  if (!tables) return std::move(tables).error();
  auto p = std::make_unique<impl>(std::move(*e), *tables, options);

  // The active policy: the one given, or the store's own.
  bool stored_policy = false;
  {
    auto t = p->environment.begin_read();
    if (!t) return std::move(t).error();
    lmdb_kv r(*t, p->tables);
    auto head = read_head(r);
    if (!head) return std::move(head).error();
    p->head = *head;
    if (!policy) {
      auto active = r.get(table::meta, keys::active_policy);
      if (!active) return std::move(active).error();
      if (*active) {
        auto raw = r.get(table::policies, **active);
        if (!raw) return std::move(raw).error();
        const json rec = *raw ? json::parse(**raw, nullptr, false) : json();
        auto bundle = rec.is_object() ? policy_bundle::from_json(rec["bundle"]) : std::nullopt;
        if (!bundle)
          return store_error{store_errc::corrupt, 0, "policies/" + std::string(**active) + ": bundle is missing or malformed"};
        auto compiled = compile_bundle(std::move(*bundle));
        if (!compiled.graph)
          return store_error{store_errc::invalid, 0, "the store's active policy no longer compiles:\n" + compiled.problems};
        if (compiled.graph->version() != **active)
          return store_error{store_errc::version_mismatch, 0,
                             "the store's active policy " + std::string(**active) + " recompiles to " +
                                 compiled.graph->version() + " with this build; open it with --policy to activate that"};
        policy = std::move(compiled);
        stored_policy = true;
      }
    }
  }
  if (policy) p->context = std::make_unique<policy_context>(std::move(*policy), options.limits, options.skills);
  if (policy && !stored_policy) {
    auto t = p->environment.begin_write();
    if (!t) return std::move(t).error();
    lmdb_kv w(*t, p->tables);
    audit_head h = p->head;
    auto activated = runtime::activate(w, *p->context, h, wall_ms());
    if (!activated) return std::move(activated).error();
    if (*activated) {
      if (auto c = t->commit(); !c) return std::move(c).error();
      p->head = h;
    }
  }
  p->publish();
  p->outbox_head = p->head.next_outbox - 1;
  impl* raw = p.get();
  p->writer = std::thread([raw] { raw->run(); });
  return std::unique_ptr<task_store>(new task_store(std::move(p)));
}

std::future<outcome> task_store::submit(operation op) {
  auto p = std::make_unique<pending>();
  p->op = std::move(op);
  return m->enqueue(std::move(p));
}

outcome task_store::activate(compiled_policy policy, std::int64_t now) {
  if (!policy.graph || !policy.bundle) {
    outcome o;
    o.status = outcome_status::invalid;
    o.code = "policy.invalid";
    o.message = "the policy has errors:\n" + policy.problems;
    return o;
  }
  auto p = std::make_unique<pending>();
  p->activation = std::move(policy);
  p->activation_time = now;
  return m->enqueue(std::move(p)).get();
}

const skill_source* task_store::skills() const { return m->options.skills.get(); }

std::shared_ptr<const engine::rule_graph> task_store::graph() const { return policy().graph; }

compiled_policy task_store::policy() const {
  std::lock_guard lock(m->policy_mutex);
  return m->published;
}

writer_stats task_store::stats() const {
  std::lock_guard lock(m->stats_mutex);
  return m->counters;
}

const fs::path& task_store::path() const { return m->environment.path(); }

namespace {

result<std::vector<json>> parse_all(kv::reader& r, table t, std::string_view prefix, std::size_t limit = 0) {
  std::vector<json> out;
  std::optional<store_error> bad;
  auto s = kv::scan_prefix(r, t, prefix, [&](std::string_view, std::string_view v) {
    json j = json::parse(v, nullptr, false);
    if (j.is_discarded()) {
      bad = store_error{store_errc::corrupt, 0, std::string(kv::name(t)) + ": malformed record"};
      return false;
    }
    out.push_back(std::move(j));
    return limit == 0 || out.size() < limit;
  });
  if (!s) return std::move(s).error();
  if (bad) return std::move(*bad);
  return out;
}


}  // namespace

result<std::optional<task_record>> task_store::record(std::string_view id) const {
  return m->read([&](lmdb_kv& r) -> result<std::optional<task_record>> {
    auto raw = r.get(table::tasks, id);
    if (!raw) return std::move(raw).error();
    if (!*raw) return std::optional<task_record>{};
    auto t = decode_task(**raw);
    if (!t) return store_error{store_errc::corrupt, 0, "tasks/" + std::string(id) + ": malformed record"};
    return std::optional<task_record>{std::move(*t)};
  });
}

result<std::optional<json>> task_store::task(std::string_view id) const {
  auto rec = record(id);
  if (!rec) return std::move(rec).error();
  if (!*rec) return std::optional<json>{};
  return std::optional<json>{to_json(**rec)};
}

result<std::optional<std::string>> task_store::task_json(std::string_view id) const {
  auto rec = record(id);
  if (!rec) return std::move(rec).error();
  if (!*rec) return std::optional<std::string>{};
  std::string out;
  append_task_json(out, **rec);
  return std::optional<std::string>{std::move(out)};
}

result<std::vector<json>> task_store::tasks(const task_filter& f) const {
  return m->read([&](lmdb_kv& r) -> result<std::vector<json>> {
    // Drive the scan from the most selective index given; check the other filters per task. Every
    // scan visits tasks in id order (an index entry is `value \0 id`), so `after` is a seek.
    table index = table::tasks;
    std::string prefix;
    if (!f.assignee.empty()) index = table::by_assignee, prefix = keys::prefix(f.assignee);
    else if (!f.state.empty()) index = table::by_state, prefix = keys::prefix(f.state);
    else if (!f.project.empty()) index = table::by_project, prefix = keys::prefix(f.project);
    std::vector<json> out;
    std::optional<store_error> bad;
    auto keep = [&](std::string_view raw) {
      auto t = decode_task(raw);
      if (!t) {
        bad = store_error{store_errc::corrupt, 0, "tasks: malformed record"};
        return false;
      }
      auto is = [&](const std::string& have, const std::string& want) { return want.empty() || have == want; };
      const bool labelled =
          f.label.empty() || std::find(t->labels.begin(), t->labels.end(), f.label) != t->labels.end();
      if (is(t->state, f.state) && is(t->assignee, f.assignee) && is(t->project, f.project) && labelled)
        out.push_back(to_json(*t));
      return f.limit == 0 || out.size() < f.limit;
    };
    // The first key after the cursor: `after \0` is the least key greater than `after`.
    const std::string from = f.after.empty() ? prefix : prefix + f.after + '\0';
    result<void> s = index == table::tasks
                         ? r.scan(table::tasks, from, [&](std::string_view, std::string_view v) { return keep(v); })
                         : r.scan(index, from, [&](std::string_view k, std::string_view) {
                             if (k.substr(0, prefix.size()) != prefix) return false;
                             auto raw = r.get(table::tasks, k.substr(prefix.size()));
                             if (!raw || !*raw) {
                               bad = store_error{store_errc::corrupt, 0,
                                                 std::string(kv::name(index)) + ": entry for a missing task"};
                               return false;
                             }
                             return keep(**raw);
                           });
    if (!s) return std::move(s).error();
    if (bad) return std::move(*bad);
    return out;
  });
}

result<std::vector<audit_entry>> task_store::audit(const audit_filter& f) const {
  return m->read([&](lmdb_kv& r) { return read_audit(r, f); });
}

result<std::vector<json>> task_store::artifacts(std::string_view task_id) const {
  return m->read([&](lmdb_kv& r) { return parse_all(r, table::artifacts, keys::prefix(task_id)); });
}

result<std::optional<std::string>> task_store::artifact_content(std::string_view task_id, std::string_view kind,
                                                                std::uint32_t version) const {
  return m->read([&](lmdb_kv& r) -> result<std::optional<std::string>> {
    auto ref = r.get(table::artifacts, keys::artifact(task_id, kind, version));
    if (!ref) return std::move(ref).error();
    if (!*ref) return std::optional<std::string>{};
    json j = json::parse(**ref, nullptr, false);
    if (j.is_discarded() || !j.contains("sha256")) return store_error{store_errc::corrupt, 0, "artifacts: malformed record"};
    auto blob = r.get(table::blobs, j["sha256"].get<std::string>());
    if (!blob) return std::move(blob).error();
    if (!*blob) return store_error{store_errc::corrupt, 0, "blobs: missing content " + j["sha256"].get<std::string>()};
    return std::optional<std::string>{std::string(**blob)};
  });
}

result<std::vector<json>> task_store::reviews(std::string_view task_id) const {
  return m->read([&](lmdb_kv& r) { return parse_all(r, table::reviews, keys::prefix(task_id)); });
}

result<std::vector<json>> task_store::outbox(std::uint64_t after, std::size_t limit) const {
  return m->read([&](lmdb_kv& r) -> result<std::vector<json>> {
    std::vector<json> out;
    auto s = r.scan(table::outbox, kv::be64(after + 1), [&](std::string_view, std::string_view v) {
      json j = json::parse(v, nullptr, false);
      if (!j.is_discarded()) out.push_back(std::move(j));
      return limit == 0 || out.size() < limit;
    });
    if (!s) return std::move(s).error();
    return out;
  });
}

std::uint64_t task_store::outbox_head() const { return m->outbox_head.load(); }

std::uint64_t task_store::wait_outbox(std::uint64_t after, std::chrono::steady_clock::time_point until,
                                      std::stop_token stop) const {
  std::unique_lock lock(m->outbox_mutex);
  m->outbox_moved.wait_until(lock, stop, until, [&] { return m->outbox_head.load() > after; });
  return m->outbox_head.load();
}

result<void> task_store::read_records(const std::function<result<void>(kv::reader&)>& fn) const {
  return m->read([&](lmdb_kv& r) { return fn(r); });
}

result<std::vector<json>> task_store::agents() const {
  return m->read([&](lmdb_kv& r) { return parse_all(r, table::agents, {}); });
}

result<std::optional<json>> task_store::agent(std::string_view id) const {
  return m->read([&](lmdb_kv& r) -> result<std::optional<json>> {
    auto raw = r.get(table::agents, id);
    if (!raw) return std::move(raw).error();
    if (!*raw) return std::optional<json>{};
    json j = json::parse(**raw, nullptr, false);
    if (j.is_discarded()) return store_error{store_errc::corrupt, 0, "agents/" + std::string(id) + ": malformed record"};
    return std::optional<json>{std::move(j)};
  });
}

result<std::vector<issued_token>> task_store::tokens() const {
  return m->read([&](lmdb_kv& r) -> result<std::vector<issued_token>> {
    std::vector<issued_token> out;
    std::optional<store_error> bad;
    auto s = r.scan(table::tokens, {}, [&](std::string_view k, std::string_view v) {
      const json j = json::parse(v, nullptr, false);
      if (j.is_discarded() || !j.contains("agent") || !j["agent"].is_string()) {
        bad = store_error{store_errc::corrupt, 0, "tokens: malformed record"};
        return false;
      }
      out.push_back({std::string(k), j["agent"].get<std::string>()});
      return true;
    });
    if (!s) return std::move(s).error();
    if (bad) return std::move(*bad);
    return out;
  });
}

result<std::vector<std::pair<std::string, std::uint64_t>>> task_store::count_by_state() const {
  return m->read([&](lmdb_kv& r) -> result<std::vector<std::pair<std::string, std::uint64_t>>> {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    auto s = r.scan(table::by_state, {}, [&](std::string_view k, std::string_view) {
      const std::string_view state = k.substr(0, k.find('\0'));
      if (out.empty() || out.back().first != state) out.emplace_back(std::string(state), 0);
      ++out.back().second;
      return true;
    });
    if (!s) return std::move(s).error();
    return out;
  });
}

result<verify_report> task_store::verify(const std::function<void(std::uint64_t)>& progress) const {
  return m->read([&](lmdb_kv& r) { return verify_audit(r, progress); });
}

result<store_stat> task_store::stat() const {
  store_stat out;
  out.env = m->environment.stat();
  auto t = m->environment.begin_read();
  if (!t) return std::move(t).error();
  for (std::size_t i = 0; i < kv::table_count; ++i) {
    auto n = t->count(m->tables[static_cast<table>(i)]);
    if (!n) return std::move(n).error();
    out.tables.push_back({std::string(kv::name(static_cast<table>(i))), *n});
    if (static_cast<table>(i) == table::audit) out.audit_records = *n;
  }
  lmdb_kv r(*t, m->tables);
  auto head = read_head(r);
  if (!head) return std::move(head).error();
  out.audit_head_seq = head->next_seq - 1;
  out.audit_head_hash = head->last_hash;
  auto active = r.get(table::meta, keys::active_policy);
  if (!active) return std::move(active).error();
  if (*active) out.active_policy = std::string(**active);
  auto s = r.scan(table::by_due, {}, [&](std::string_view k, std::string_view) {
    if (k.size() >= 8) out.next_due = keys::due_instant(k);
    return false;
  });
  if (!s) return std::move(s).error();
  return out;
}

result<check_report> task_store::check(const std::function<void(std::uint64_t)>& progress) const {
  return m->read([&](lmdb_kv& r) -> result<check_report> {
    check_report rep;
    auto note = [&](std::string s) {
      if (rep.problems.size() < 50) rep.problems.push_back(std::move(s));
    };
    // Every task parses and its index entries exist.
    auto s = r.scan(table::tasks, {}, [&](std::string_view k, std::string_view v) {
      ++rep.tasks;
      auto t = decode_task(v);
      if (!t || t->id != k) {
        note("tasks/" + std::string(k) + ": malformed record");
        return true;
      }
      auto expect = [&](table ix, const std::string& value) {
        if (value.empty()) return;
        auto hit = r.get(ix, keys::index(value, k));
        if (!hit || !*hit) note(std::string(kv::name(ix)) + ": no entry for task " + std::string(k));
      };
      expect(table::by_state, t->state);
      expect(table::by_assignee, t->assignee);
      expect(table::by_project, t->project);
      if (t->due_at && !t->indexed_due) note("by_due: task " + std::string(k) + " is due but not in the index");
      if (t->due_at && t->indexed_due && *t->indexed_due > *t->due_at)
        note("by_due: task " + std::string(k) + " is indexed after it comes due");
      if (t->indexed_due) {
        auto hit = r.get(table::by_due, keys::due(*t->indexed_due, k));
        if (!hit || !*hit) note("by_due: no entry for task " + std::string(k));
      }
      return true;
    });
    if (!s) return std::move(s).error();
    // Every index entry points at a task.
    for (table ix : {table::by_state, table::by_assignee, table::by_project, table::by_due}) {
      auto si = r.scan(ix, {}, [&](std::string_view k, std::string_view) {
        ++rep.index_entries;
        const std::string_view id = ix == table::by_due ? k.substr(std::min<std::size_t>(8, k.size()))
                                                        : k.substr(std::min(k.find('\0'), k.size() - 1) + 1);
        auto hit = r.get(table::tasks, id);
        if (!hit || !*hit) note(std::string(kv::name(ix)) + ": entry for missing task " + std::string(id));
        return true;
      });
      if (!si) return std::move(si).error();
    }
    // Every issued token is listed under its agent (what a rotation revokes), and back.
    auto st = r.scan(table::tokens, {}, [&](std::string_view k, std::string_view v) {
      const json j = json::parse(v, nullptr, false);
      const std::string agent = j.is_object() ? j.value("agent", std::string()) : std::string();
      auto hit = agent.empty() ? result<std::optional<std::string_view>>(std::nullopt)
                               : r.get(table::tokens_by_agent, keys::index(agent, k));
      if (!hit || !*hit) note("tokens_by_agent: no entry for token " + std::string(k.substr(0, 16)));
      return true;
    });
    if (!st) return std::move(st).error();
    auto sb = r.scan(table::tokens_by_agent, {}, [&](std::string_view k, std::string_view) {
      const std::string_view hash = k.substr(std::min(k.find('\0'), k.size() - 1) + 1);
      auto hit = r.get(table::tokens, hash);
      if (!hit || !*hit) note("tokens_by_agent: entry for a missing token " + std::string(hash.substr(0, 16)));
      return true;
    });
    if (!sb) return std::move(sb).error();
    // Every artifact's content is present and hashes to its name.
    auto sa = r.scan(table::artifacts, {}, [&](std::string_view, std::string_view v) {
      ++rep.artifacts;
      json j = json::parse(v, nullptr, false);
      if (j.is_discarded() || !j.contains("sha256")) {
        note("artifacts: malformed record");
        return true;
      }
      const std::string sha = j["sha256"].get<std::string>();
      auto blob = r.get(table::blobs, sha);
      if (!blob || !*blob) note("blobs: missing " + sha);
      else if (engine::sha256_hex(**blob) != sha) note("blobs: content of " + sha + " does not match its hash");
      return true;
    });
    if (!sa) return std::move(sa).error();
    auto v = verify_audit(r, progress);
    if (!v) return std::move(v).error();
    rep.audit = std::move(*v);
    return rep;
  });
}

result<void> task_store::backup(const fs::path& dir) const { return m->environment.copy_to(dir); }

}  // namespace agentos::runtime
