#include "runtime/store/lmdb_kv.hpp"

namespace agentos::runtime {

namespace kv {
std::string_view name(table t) {
  switch (t) {
    case table::meta: return "meta";
    case table::tasks: return "tasks";
    case table::by_state: return "by_state";
    case table::by_assignee: return "by_assignee";
    case table::by_project: return "by_project";
    case table::by_due: return "by_due";
    case table::agents: return "agents";
    case table::blobs: return "blobs";
    case table::artifacts: return "artifacts";
    case table::reviews: return "reviews";
    case table::audit: return "audit";
    case table::outbox: return "outbox";
    case table::idempotency: return "idempotency";
    case table::policies: return "policies";
    case table::tokens: return "tokens";
    case table::tokens_by_agent: return "tokens_by_agent";
    case table::webhooks: return "webhooks";
    case table::deliveries: return "deliveries";
    case table::projection: return "projection";
  }
  return "?";
}
}  // namespace kv

result<lmdb_tables> lmdb_tables::open(env& e) {
  lmdb_tables out;
  auto t = e.begin_write();
  if (!t) return std::move(t).error();
  for (std::size_t i = 0; i < kv::table_count; ++i) {
    auto d = t->open_db(kv::name(static_cast<kv::table>(i)));
    if (!d) return std::move(d).error();
    out.m_dbis[i] = *d;
  }
  if (auto c = t->commit(); !c) return std::move(c).error();
  return out;
}

result<lmdb_tables> lmdb_tables::open_existing(txn& t) {
  lmdb_tables out;
  for (std::size_t i = 0; i < kv::table_count; ++i) {
    auto d = t.open_db(kv::name(static_cast<kv::table>(i)));
    if (!d) return std::move(d).error();
    out.m_dbis[i] = *d;
  }
  return out;
}

result<std::optional<std::string_view>> lmdb_kv::get(kv::table t, std::string_view key) {
  return m_txn->get((*m_tables)[t], key);
}

result<void> lmdb_kv::scan(kv::table t, std::string_view from, const kv::visitor& fn) {
  auto c = m_txn->open_cursor((*m_tables)[t]);
  if (!c) return std::move(c).error();
  auto at = from.empty() ? c->first() : c->seek(from);
  while (true) {
    if (!at) return std::move(at).error();
    if (!*at) return {};
    if (!fn((*at)->first, (*at)->second)) return {};
    at = c->next();
  }
}

result<std::optional<std::pair<std::string_view, std::string_view>>> lmdb_kv::last(kv::table t) {
  auto c = m_txn->open_cursor((*m_tables)[t]);
  if (!c) return std::move(c).error();
  auto at = c->last();
  if (!at) return std::move(at).error();
  if (!*at) return std::optional<std::pair<std::string_view, std::string_view>>{};
  return std::optional<std::pair<std::string_view, std::string_view>>{**at};
}

result<void> lmdb_kv::put(kv::table t, std::string_view key, std::string_view value) {
  ++m_writes;
  return m_txn->put((*m_tables)[t], key, value);
}

result<bool> lmdb_kv::del(kv::table t, std::string_view key) {
  ++m_writes;
  return m_txn->del((*m_tables)[t], key);
}

}  // namespace agentos::runtime
