// kv::writer over an LMDB transaction: one named database per kv::table, opened once at startup.
#pragma once

#include <array>

#include "runtime/store/kv.hpp"
#include "runtime/store/lmdb.hpp"

namespace agentos::runtime {

class lmdb_tables {
 public:
  // Opens (creating) every table in one write txn. Call once after env::open.
  static result<lmdb_tables> open(env& e);
  [[nodiscard]] dbi operator[](kv::table t) const { return m_dbis[static_cast<std::size_t>(t)]; }
  // Opens the tables in a read txn (for a store that must already have them); not_found otherwise.
  static result<lmdb_tables> open_existing(txn& t);

 private:
  std::array<dbi, kv::table_count> m_dbis{};
};

class lmdb_kv final : public kv::writer {
 public:
  lmdb_kv(txn& t, const lmdb_tables& tables) : m_txn(&t), m_tables(&tables) {}
  void rebind(txn& t) { m_txn = &t; }

  result<std::optional<std::string_view>> get(kv::table t, std::string_view key) override;
  result<void> scan(kv::table t, std::string_view from, const kv::visitor& fn) override;
  result<std::optional<std::pair<std::string_view, std::string_view>>> last(kv::table t) override;
  result<void> put(kv::table t, std::string_view key, std::string_view value) override;
  result<bool> del(kv::table t, std::string_view key) override;

  // How many puts and dels were asked of this writer, failed ones included: zero means it has
  // not touched the transaction.
  [[nodiscard]] std::size_t writes() const { return m_writes; }

 private:
  txn* m_txn;
  const lmdb_tables* m_tables;
  std::size_t m_writes = 0;
};

}  // namespace agentos::runtime
