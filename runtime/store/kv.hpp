// The storage interface the transition pipeline is written against: ordered key/value tables
// inside one transaction. LMDB implements it (lmdb_kv.hpp); a second backend (a distributed
// database) implements the same two classes and the pipeline, audit and reads work unchanged.
// Keys compare bytewise; integers in keys are big-endian so that key order is numeric order.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/store/result.hpp"

namespace agentos::runtime::kv {

enum class table : std::uint8_t {
  meta,            // schema version, counters, the audit head, the active policy version
  tasks,           // task id -> task record (JSON)
  by_state,        // state \0 task id -> ""
  by_assignee,     // assignee \0 task id -> ""
  by_project,      // project \0 task id -> ""
  by_due,          // be64(due ms) task id -> ""
  agents,          // agent id -> agent record (JSON)
  blobs,           // sha256 hex -> artifact bytes (content-addressed, shared between tasks)
  artifacts,       // task id \0 kind \0 be32(version) -> artifact reference (JSON)
  reviews,         // task id \0 be64(audit seq) -> review record (JSON)
  audit,           // be64(seq) -> audit record (JSON, hash-chained)
  outbox,          // be64(seq) -> event (JSON)
  idempotency,     // key -> the outcome first returned for it (JSON)
  policies,        // policy version -> { sources, activated } (JSON)
  tokens,          // sha256 hex of an issued bearer token -> { agent, token_id, created_at } (JSON)
  tokens_by_agent, // agent id \0 sha256 hex -> "" (what a rotation revokes)
  webhooks,        // subscription id -> subscription with its delivery cursor (JSON)
  deliveries,      // subscription id \0 be64(n) -> one delivery attempt (JSON)
  projection,      // the Paperclip projection's mapping and cursors (runtime/projection/mapping.hpp)
  // a new table goes above this line
};
inline constexpr std::size_t table_count = static_cast<std::size_t>(table::projection) + 1;

[[nodiscard]] std::string_view name(table t);

using visitor = std::function<bool(std::string_view key, std::string_view value)>;

class reader {
 public:
  virtual ~reader() = default;
  // Views stay valid until the transaction ends or writes.
  virtual result<std::optional<std::string_view>> get(table t, std::string_view key) = 0;
  // Visits entries with key >= from in key order while `fn` returns true.
  virtual result<void> scan(table t, std::string_view from, const visitor& fn) = 0;
  // The entry with the greatest key.
  virtual result<std::optional<std::pair<std::string_view, std::string_view>>> last(table t) = 0;
};

class writer : public reader {
 public:
  virtual result<void> put(table t, std::string_view key, std::string_view value) = 0;
  virtual result<bool> del(table t, std::string_view key) = 0;
};

// Big-endian integers for keys.
inline std::string be64(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) s[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
  return s;
}
inline std::optional<std::uint64_t> read_be64(std::string_view s) {
  if (s.size() < 8) return std::nullopt;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}
inline std::string be32(std::uint32_t v) { return be64(v).substr(4); }

// Scans every key that starts with `prefix`.
inline result<void> scan_prefix(reader& r, table t, std::string_view prefix, const visitor& fn) {
  return r.scan(t, prefix, [&](std::string_view k, std::string_view v) {
    if (k.substr(0, prefix.size()) != prefix) return false;
    return fn(k, v);
  });
}

}  // namespace agentos::runtime::kv
