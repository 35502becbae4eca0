#include "runtime/service/audit.hpp"

#include <map>

#include "engine/explain.hpp"
#include "engine/report.hpp"
#include "engine/request_json.hpp"
#include "engine/sha256.hpp"
#include "runtime/service/pipeline.hpp"
#include "runtime/service/policy_bundle.hpp"

namespace agentos::runtime {

using nlohmann::json;
using kv::table;

namespace {

std::string chain_hash(std::string_view prev, std::string_view bytes) {
  engine::sha256 h;
  h.update(prev);
  h.update(bytes);
  return engine::to_hex(h.finish());
}

std::optional<audit_entry> decode(std::string_view key, std::string_view value) {
  const auto seq = kv::read_be64(key);
  if (!seq || key.size() != 8 || value.size() < 66 || value[64] != ' ') return std::nullopt;
  audit_entry e;
  e.seq = *seq;
  e.hash = std::string(value.substr(0, 64));
  e.record = json::parse(value.substr(65), nullptr, false);
  if (e.record.is_discarded() || !e.record.is_object()) return std::nullopt;
  return e;
}

}  // namespace

result<std::uint64_t> append_audit_text(kv::writer& w, audit_head& head, std::string_view fields) {
  const std::uint64_t seq = head.next_seq;
  std::string value;
  value.reserve(64 + 1 + 90 + fields.size());
  value.append(64, '0');  // the hash, filled in below
  value += " {\"seq\":";
  value += std::to_string(seq);
  value += ",\"prev\":\"";
  value += head.last_hash;
  value += "\",";
  value += fields;
  value.push_back('}');
  std::string hash = chain_hash(head.last_hash, std::string_view(value).substr(65));
  value.replace(0, 64, hash);
  if (auto r = w.put(table::audit, kv::be64(seq), value); !r) return std::move(r).error();
  head.next_seq = seq + 1;
  head.last_hash = std::move(hash);
  return seq;
}

result<std::uint64_t> append_audit(kv::writer& w, audit_head& head, const json& record) {
  const std::string text = record.dump();  // "{...}"
  return append_audit_text(w, head, std::string_view(text).substr(1, text.size() - 2));
}

json intake_output(const engine::rule_graph& g, const engine::route_result& r, const engine::gate_result& gate) {
  json gates = json::array();
  for (const engine::rule_id id : gate.held) gates.push_back(g.rule(id).name);
  return {{"route",
           {{"rule", r.routed() ? json(g.rule(r.rule).name) : json(nullptr)},
            {"target", r.routed() ? json(engine::target_text(g, r.to)) : json(nullptr)},
            {"fallback", r.fallback}}},
          {"mode", engine::mode_name(gate.mode)},
          {"gates", std::move(gates)}};
}

json escalation_output(const engine::rule_graph& g, std::span<const engine::escalation_hit> hits) {
  json out = json::array();
  for (const auto& h : hits) out.push_back({{"rule", g.rule(h.rule).name}, {"target", engine::target_text(g, h.to)}});
  return {{"escalations", std::move(out)}};
}

result<std::vector<audit_entry>> read_audit(kv::reader& r, const audit_filter& f) {
  std::vector<audit_entry> out;
  std::optional<store_error> bad;
  auto field_is = [](const json& rec, const char* key, const std::string& want) {
    if (want.empty()) return true;
    const auto it = rec.find(key);
    return it != rec.end() && it->is_string() && *it == want;
  };
  auto s = r.scan(table::audit, f.after_seq ? kv::be64(f.after_seq + 1) : std::string(),
                  [&](std::string_view k, std::string_view v) {
                    auto e = decode(k, v);
                    if (!e) {
                      bad = store_error{store_errc::corrupt, 0,
                                        "audit: record " + std::to_string(kv::read_be64(k).value_or(0)) + " is malformed"};
                      return false;
                    }
                    const json& rec = e->record;
                    const std::int64_t at = rec.value("at", std::int64_t{0});
                    if (!field_is(rec, "task", f.task) || !field_is(rec, "actor", f.actor) ||
                        !field_is(rec, "event", f.event) || !field_is(rec, "kind", f.kind) ||
                        !field_is(rec, "effect", f.effect) || (f.since && at < *f.since) || (f.until && at > *f.until))
                      return true;
                    out.push_back(std::move(*e));
                    return f.limit == 0 || out.size() < f.limit;
                  });
  if (!s) return std::move(s).error();
  if (bad) return std::move(*bad);
  return out;
}

namespace {

class replayer {
 public:
  explicit replayer(kv::reader& r) : m_reader(r) {}

  // The recomputed output of a decision record, or an explanation of why it cannot be replayed.
  result<std::optional<json>> replay(const json& rec, std::string& problem) {
    const std::string version = rec.value("policy", std::string());
    auto g = graph(version, problem);
    if (!g) return std::move(g).error();
    if (!*g) return std::optional<json>{};
    const engine::rule_graph& graph = ***g;
    auto built = engine::request_from_json(rec["input"], graph);
    if (!built.ok()) {
      problem = "input does not build a request: " + built.errors.front().pointer + ": " + built.errors.front().message;
      return std::optional<json>{};
    }
    engine::decision_buffer& buf = m_buffers[version];
    const std::string kind = rec.value("kind", std::string());
    if (kind == "transition") {
      std::string text;
      engine::append_decision_json(text, graph, engine::decide(graph, *built.value, buf));
      return std::optional<json>{json::parse(text)};
    }
    if (kind == "intake") {
      const auto route = engine::route(graph, *built.value, buf);
      const auto gate = engine::gate(graph, *built.value, buf);
      return std::optional<json>{intake_output(graph, route, gate)};
    }
    return std::optional<json>{escalation_output(graph, engine::escalations(graph, *built.value, buf))};
  }

  std::size_t versions() const { return m_graphs.size(); }

 private:
  result<std::optional<std::shared_ptr<const engine::rule_graph>>> graph(const std::string& version, std::string& problem) {
    if (auto it = m_graphs.find(version); it != m_graphs.end()) {
      if (!it->second) problem = m_problems[version];
      return it->second ? std::optional{it->second} : std::nullopt;
    }
    auto raw = m_reader.get(table::policies, version);
    if (!raw) return std::move(raw).error();
    std::shared_ptr<const engine::rule_graph> g;
    if (!*raw) {
      m_problems[version] = "policy " + version + " is not stored";
    } else {
      json rec = json::parse(**raw, nullptr, false);
      auto bundle = rec.is_discarded() ? std::nullopt : policy_bundle::from_json(rec["bundle"]);
      if (!bundle) {
        m_problems[version] = "policy " + version + ": stored bundle is malformed";
      } else {
        auto compiled = compile_bundle(std::move(*bundle));
        if (!compiled.graph)
          m_problems[version] = "policy " + version + " no longer compiles: " + compiled.problems;
        else if (compiled.graph->version() != version)
          m_problems[version] = "policy " + version + " recompiles to " + compiled.graph->version();
        else
          g = compiled.graph;
      }
    }
    m_graphs[version] = g;
    if (g) m_buffers[version].fit(*g);
    if (!g) problem = m_problems[version];
    return g ? std::optional{g} : std::nullopt;
  }

  kv::reader& m_reader;
  std::map<std::string, std::shared_ptr<const engine::rule_graph>> m_graphs;
  std::map<std::string, std::string> m_problems;
  std::map<std::string, engine::decision_buffer> m_buffers;
};

}  // namespace

result<verify_report> verify_audit(kv::reader& r, const std::function<void(std::uint64_t)>& progress) {
  verify_report rep;
  replayer replay(r);
  std::string prev(64, '0');
  std::uint64_t expect = 1;
  std::optional<store_error> failure;
  auto note = [&](std::string line) {
    if (rep.problems.size() < 50) rep.problems.push_back(std::move(line));
  };
  auto s = r.scan(table::audit, {}, [&](std::string_view k, std::string_view v) {
    ++rep.records;
    const std::uint64_t key_seq = kv::read_be64(k).value_or(0);
    auto e = decode(k, v);
    if (!e) {
      ++rep.chain_breaks;
      note("record " + std::to_string(key_seq) + ": malformed");
      return true;
    }
    const std::string_view bytes = v.substr(65);
    bool linked = true;
    if (e->seq != expect) {
      ++rep.chain_breaks;
      note("record " + std::to_string(e->seq) + ": expected sequence number " + std::to_string(expect));
      linked = false;
    }
    if (e->record.value("seq", std::uint64_t{0}) != e->seq || e->record.value("prev", std::string()) != prev) {
      ++rep.chain_breaks;
      note("record " + std::to_string(e->seq) + ": does not link to the previous record");
      linked = false;
    }
    if (chain_hash(e->record.value("prev", std::string()), bytes) != e->hash) {
      ++rep.chain_breaks;
      note("record " + std::to_string(e->seq) + ": hash does not match its contents");
      linked = false;
    }
    (void)linked;
    prev = e->hash;
    expect = e->seq + 1;
    const std::string kind = e->record.value("kind", std::string());
    if (kind == "transition" || kind == "intake" || kind == "escalation") {
      std::string problem;
      auto out = replay.replay(e->record, problem);
      if (!out) {
        failure = std::move(out).error();
        return false;
      }
      ++rep.replayed;
      if (!*out) {
        ++rep.mismatches;
        note("record " + std::to_string(e->seq) + ": cannot replay: " + problem);
      } else if (**out != e->record["output"]) {
        ++rep.mismatches;
        note("record " + std::to_string(e->seq) + " (" + kind + " " + e->record.value("task", std::string()) +
             "): replay gives " + (*out)->dump() + ", recorded " + e->record["output"].dump());
      }
    }
    if (progress && rep.records % 10'000 == 0) progress(rep.records);
    return true;
  });
  if (!s) return std::move(s).error();
  if (failure) return std::move(*failure);
  rep.policy_versions = replay.versions();
  return rep;
}

}  // namespace agentos::runtime
