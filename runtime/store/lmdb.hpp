// Move-only RAII wrappers over an LMDB environment, its transactions, cursors and named
// databases. LMDB itself stays private to the runtime's sources: this header only names its
// opaque handle types.
//
// Ownership and threading: an `env` owns the MDB_env and is registered process-wide by its
// canonical path, so a directory cannot be opened twice in one process. A `txn` must not
// outlive its `env`, a `cursor` must not outlive its `txn`, and a parent txn must not be used
// while a child is live (LMDB's rules). Read txns are not bound to a thread (MDB_NOTLS); a
// write txn must stay on the thread that began it. Only one write txn exists at a time per
// environment (LMDB serialises writers). A child txn must end before its parent does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "runtime/store/result.hpp"
#include "runtime/store/schema.hpp"

struct MDB_env;
struct MDB_txn;
struct MDB_cursor;

namespace agentos::runtime {

namespace detail {
struct env_state;
}

struct env_options {
    std::size_t map_size = std::size_t{64} << 20;  // initial map size; grow() doubles it
    unsigned max_dbs = 32;                          // named databases, including "meta"
    unsigned max_readers = 126;
    // Refuse (store_errc::locked) a store another process has open. LMDB itself allows
    // many processes; the runtime keeps one owner per store so that the group-commit writer
    // is the only writer. Turn off only for read-only inspection tools.
    bool exclusive = true;
    schema_spec schema;                             // checked (and migrated) at open
    // TESTS ONLY: MDB_NOSYNC, so a commit is not durable when it returns. It exists so the
    // power-loss harness can prove it detects losses; nothing else may set it.
    bool unsafe_no_sync = false;
};

// What `agentos store stat` shows.
struct env_stat {
    std::size_t map_size = 0;
    std::size_t used_bytes = 0;     // (last page used + 1) * page size
    std::size_t page_size = 0;
    std::size_t last_txn_id = 0;
    unsigned max_readers = 0;
    unsigned readers_used = 0;
};

// A named database handle. Valid for the lifetime of the env once the txn that opened it
// committed (a handle opened in an aborted write txn must not be used).
class dbi {
public:
    dbi() = default;
    unsigned handle() const noexcept { return m_handle; }

private:
    friend class txn;
    explicit dbi(unsigned h) : m_handle(h) {}
    unsigned m_handle = 0;
};

using key_value = std::pair<std::string_view, std::string_view>;

// Iteration over one database in key order. Views point into the map and stay valid until
// the txn ends or writes.
class cursor {
public:
    cursor(cursor&& other) noexcept;
    cursor& operator=(cursor&& other) noexcept;
    cursor(const cursor&) = delete;
    cursor& operator=(const cursor&) = delete;
    ~cursor();

    result<std::optional<key_value>> first();
    result<std::optional<key_value>> next();
    // The first entry whose key is >= `key`.
    result<std::optional<key_value>> seek(std::string_view key);
    result<std::optional<key_value>> last();

private:
    friend class txn;
    explicit cursor(MDB_cursor* c) : m_cursor(c) {}
    result<std::optional<key_value>> step(std::string_view key, int op);
    MDB_cursor* m_cursor = nullptr;
};

// A read-only or read-write transaction. The destructor aborts unless commit() was called.
class txn {
public:
    txn(txn&& other) noexcept;
    txn& operator=(txn&& other) noexcept;
    txn(const txn&) = delete;
    txn& operator=(const txn&) = delete;
    ~txn();

    bool read_only() const noexcept { return m_read_only; }
    bool active() const noexcept { return m_txn != nullptr; }

    // Opens (in a write txn: creates if missing) the named database.
    result<dbi> open_db(std::string_view name);

    // Absent keys are std::nullopt. The view points into the map; see `cursor`.
    result<std::optional<std::string_view>> get(dbi db, std::string_view key);
    result<void> put(dbi db, std::string_view key, std::string_view value);
    // True when the key existed.
    result<bool> del(dbi db, std::string_view key);
    result<cursor> open_cursor(dbi db);
    // The number of entries in `db`.
    result<std::size_t> count(dbi db);

    // A nested write txn: its commit folds into this one, its abort leaves this one intact.
    result<txn> child();

    // The handle is released before mdb_txn_commit, since LMDB frees it even on failure.
    result<void> commit();
    void abort() noexcept;

private:
    friend class env;
    txn(MDB_txn* t, detail::env_state* owner, bool read_only);
    MDB_txn* m_txn = nullptr;
    detail::env_state* m_owner = nullptr;
    bool m_read_only = true;
};

class env {
public:
    // Opens (creating if needed, mode 0700) the store in `dir`: refuses a non-directory, an
    // unwritable directory, a directory this process already has open (already_open) and,
    // when exclusive, one another process has open (locked); clears stale reader slots; then
    // checks the schema version, running migrations in one write txn.
    static result<env> open(const std::filesystem::path& dir, const env_options& options = {});

    env(env&& other) noexcept;
    env& operator=(env&& other) noexcept;
    env(const env&) = delete;
    env& operator=(const env&) = delete;
    ~env();

    result<txn> begin_read() const;
    result<txn> begin_write();

    // Doubles the map. Needs no txn open in this process (else `busy`); on failure the old
    // size stays in force and the error is returned.
    result<void> grow();
    std::size_t map_size() const noexcept;
    const std::filesystem::path& path() const noexcept;
    env_stat stat() const;

    // A consistent, compacted copy of the store into the empty directory `dir` (created if
    // missing), taken under a read txn: writers carry on while it runs.
    result<void> copy_to(const std::filesystem::path& dir) const;

    // After an I/O error on commit the environment is unusable (LMDB's state is unknown): every
    // later begin_write() fails with `io` until the store is reopened.
    bool failed() const noexcept;

    // Runs `fn` in a write txn and commits; if it fails with map_full, grows the map once and
    // runs `fn` again in a fresh txn. `fn` must therefore be safe to run twice.
    result<void> with_write(const std::function<result<void>(txn&)>& fn);

private:
    explicit env(std::unique_ptr<detail::env_state> state);
    std::unique_ptr<detail::env_state> m_state;
};

}  // namespace agentos::runtime
