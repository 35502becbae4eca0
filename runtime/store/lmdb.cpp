#include "runtime/store/lmdb.hpp"

#include <lmdb.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <set>
#include <string>
#include <system_error>

namespace agentos::runtime {

namespace fs = std::filesystem;

namespace detail {

// Canonical paths of the environments open in this process. LMDB forbids opening one
// environment twice in a process (its POSIX locks would be released by the second close).
class open_registry {
public:
    static open_registry& instance() {
        static open_registry registry;
        return registry;
    }
    bool add(const std::string& path) {
        std::lock_guard lock(m_mutex);
        return m_paths.insert(path).second;
    }
    void remove(const std::string& path) {
        std::lock_guard lock(m_mutex);
        m_paths.erase(path);
    }

private:
    std::mutex m_mutex;
    std::set<std::string> m_paths;
};

struct env_state {
    MDB_env* handle = nullptr;
    fs::path path;
    std::string registered;  // key in open_registry, empty when not registered
    int lock_fd = -1;        // flock()ed agentos.lock when the env is exclusive
    std::atomic<int> open_txns{0};
    std::atomic<bool> failed{false};  // an I/O error on commit: refuse further writes

    ~env_state() {
        if (handle != nullptr) mdb_env_close(handle);
        if (lock_fd >= 0) ::close(lock_fd);  // releases the flock
        if (!registered.empty()) open_registry::instance().remove(registered);
    }
};

}  // namespace detail

namespace {

MDB_val to_val(std::string_view s) {
    return MDB_val{s.size(), const_cast<char*>(s.data())};
}

std::string_view from_val(const MDB_val& v) {
    return {static_cast<const char*>(v.mv_data), v.mv_size};
}

store_error make_error(store_errc code, std::string message) {
    return store_error{code, 0, std::move(message)};
}

// True when the file system holding `dir` has (next to) no space left for us.
bool disk_full(const fs::path& dir) {
    struct statvfs st {};
    if (::statvfs(dir.c_str(), &st) != 0) return false;
    return static_cast<unsigned long long>(st.f_bavail) * st.f_frsize < (1ull << 20);
}

// Runs a cleanup unless dismissed.
template <class F>
class scope_guard {
public:
    explicit scope_guard(F f) : m_f(std::move(f)) {}
    ~scope_guard() {
        if (m_active) m_f();
    }
    void dismiss() noexcept { m_active = false; }
    scope_guard(const scope_guard&) = delete;
    scope_guard& operator=(const scope_guard&) = delete;

private:
    F m_f;
    bool m_active = true;
};

}  // namespace

// ---- cursor

cursor::cursor(cursor&& other) noexcept : m_cursor(std::exchange(other.m_cursor, nullptr)) {}

cursor& cursor::operator=(cursor&& other) noexcept {
    if (this != &other) {
        if (m_cursor != nullptr) mdb_cursor_close(m_cursor);
        m_cursor = std::exchange(other.m_cursor, nullptr);
    }
    return *this;
}

cursor::~cursor() {
    if (m_cursor != nullptr) mdb_cursor_close(m_cursor);
}

result<std::optional<key_value>> cursor::step(std::string_view key, int op) {
    if (m_cursor == nullptr) return make_error(store_errc::invalid, "cursor: moved-from cursor");
    MDB_val k = to_val(key);
    MDB_val v{};
    int rc = mdb_cursor_get(m_cursor, &k, &v, static_cast<MDB_cursor_op>(op));
    if (rc == MDB_NOTFOUND) return std::optional<key_value>{};
    if (rc != MDB_SUCCESS) return translate_mdb(rc, "mdb_cursor_get");
    return std::optional<key_value>{key_value{from_val(k), from_val(v)}};
}

result<std::optional<key_value>> cursor::first() { return step({}, MDB_FIRST); }
result<std::optional<key_value>> cursor::next() { return step({}, MDB_NEXT); }
result<std::optional<key_value>> cursor::last() { return step({}, MDB_LAST); }
result<std::optional<key_value>> cursor::seek(std::string_view key) {
    return step(key, MDB_SET_RANGE);
}

// ---- txn

txn::txn(MDB_txn* t, detail::env_state* owner, bool read_only)
    : m_txn(t), m_owner(owner), m_read_only(read_only) {
    m_owner->open_txns.fetch_add(1);
}

txn::txn(txn&& other) noexcept
    : m_txn(std::exchange(other.m_txn, nullptr)),
      m_owner(std::exchange(other.m_owner, nullptr)),
      m_read_only(other.m_read_only) {}

txn& txn::operator=(txn&& other) noexcept {
    if (this != &other) {
        abort();
        m_txn = std::exchange(other.m_txn, nullptr);
        m_owner = std::exchange(other.m_owner, nullptr);
        m_read_only = other.m_read_only;
    }
    return *this;
}

txn::~txn() { abort(); }

void txn::abort() noexcept {
    if (m_txn != nullptr) {
        mdb_txn_abort(std::exchange(m_txn, nullptr));
        m_owner->open_txns.fetch_sub(1);
    }
}

result<void> txn::commit() {
    if (m_txn == nullptr) return make_error(store_errc::invalid, "commit: transaction not active");
    // LMDB frees the txn whether or not the commit succeeds: drop our handle first.
    MDB_txn* t = std::exchange(m_txn, nullptr);
    m_owner->open_txns.fetch_sub(1);
    int rc = mdb_txn_commit(t);
    if (rc != MDB_SUCCESS) {
        store_error e = translate_mdb(rc, "mdb_txn_commit");
        if (e.code == store_errc::io && disk_full(m_owner->path)) {
            // LMDB reports a short write as EIO; on a full disk that is ENOSPC in disguise. The
            // meta page was not switched, so the store is intact and usable once there is room.
            e.code = store_errc::no_space;
            e.message = "mdb_txn_commit: no space left on device (a short write: the disk holding " +
                        m_owner->path.string() + " is full); nothing of this transaction was committed";
        } else if (e.code == store_errc::io) {
            // A failed write or sync leaves the file in a state LMDB cannot vouch for; the meta
            // page was not switched, so reopening recovers the last committed state.
            m_owner->failed.store(true);
        }
        return e;
    }
    return {};
}

result<dbi> txn::open_db(std::string_view name) {
    if (m_txn == nullptr) return make_error(store_errc::invalid, "open_db: transaction not active");
    std::string n(name);  // LMDB wants a NUL-terminated name
    MDB_dbi handle = 0;
    int rc = mdb_dbi_open(m_txn, n.c_str(), m_read_only ? 0u : unsigned{MDB_CREATE}, &handle);
    if (rc != MDB_SUCCESS) return translate_mdb(rc, "mdb_dbi_open " + n);
    return dbi{handle};
}

result<std::optional<std::string_view>> txn::get(dbi db, std::string_view key) {
    if (m_txn == nullptr) return make_error(store_errc::invalid, "get: transaction not active");
    MDB_val k = to_val(key);
    MDB_val v{};
    int rc = mdb_get(m_txn, db.handle(), &k, &v);
    if (rc == MDB_NOTFOUND) return std::optional<std::string_view>{};
    if (rc != MDB_SUCCESS) return translate_mdb(rc, "mdb_get");
    return std::optional<std::string_view>{from_val(v)};
}

result<void> txn::put(dbi db, std::string_view key, std::string_view value) {
    if (m_txn == nullptr) return make_error(store_errc::invalid, "put: transaction not active");
    if (m_read_only) return make_error(store_errc::invalid, "put: read-only transaction");
    MDB_val k = to_val(key);
    MDB_val v = to_val(value);
    int rc = mdb_put(m_txn, db.handle(), &k, &v, 0);
    if (rc != MDB_SUCCESS) return translate_mdb(rc, "mdb_put");
    return {};
}

result<bool> txn::del(dbi db, std::string_view key) {
    if (m_txn == nullptr) return make_error(store_errc::invalid, "del: transaction not active");
    if (m_read_only) return make_error(store_errc::invalid, "del: read-only transaction");
    MDB_val k = to_val(key);
    int rc = mdb_del(m_txn, db.handle(), &k, nullptr);
    if (rc == MDB_NOTFOUND) return false;
    if (rc != MDB_SUCCESS) return translate_mdb(rc, "mdb_del");
    return true;
}

result<cursor> txn::open_cursor(dbi db) {
    if (m_txn == nullptr) return make_error(store_errc::invalid, "open_cursor: transaction not active");
    MDB_cursor* c = nullptr;
    int rc = mdb_cursor_open(m_txn, db.handle(), &c);
    if (rc != MDB_SUCCESS) return translate_mdb(rc, "mdb_cursor_open");
    return cursor{c};
}

result<std::size_t> txn::count(dbi db) {
    if (m_txn == nullptr) return make_error(store_errc::invalid, "count: transaction not active");
    MDB_stat st{};
    int rc = mdb_stat(m_txn, db.handle(), &st);
    if (rc != MDB_SUCCESS) return translate_mdb(rc, "mdb_stat");
    return static_cast<std::size_t>(st.ms_entries);
}

result<txn> txn::child() {
    if (m_txn == nullptr) return make_error(store_errc::invalid, "child: transaction not active");
    if (m_read_only) return make_error(store_errc::invalid, "child: nested txns need a write txn");
    MDB_txn* t = nullptr;
    int rc = mdb_txn_begin(mdb_txn_env(m_txn), m_txn, 0, &t);
    if (rc != MDB_SUCCESS) return translate_mdb(rc, "mdb_txn_begin (nested)");
    return txn{t, m_owner, false};
}

// ---- env

env::env(std::unique_ptr<detail::env_state> state) : m_state(std::move(state)) {}
env::env(env&& other) noexcept = default;
env& env::operator=(env&& other) noexcept = default;
env::~env() = default;

const fs::path& env::path() const noexcept { return m_state->path; }

std::size_t env::map_size() const noexcept {
    MDB_envinfo info{};
    mdb_env_info(m_state->handle, &info);
    return info.me_mapsize;
}

namespace {

result<MDB_txn*> begin(detail::env_state& state, unsigned flags) {
    MDB_env* e = state.handle;
    MDB_txn* t = nullptr;
    int rc = mdb_txn_begin(e, nullptr, flags, &t);
    if (rc == MDB_MAP_RESIZED && state.open_txns.load() == 0) {
        // Another process grew the map: adopt its size (allowed only with no txn of ours
        // open) and try once more. With txns open the caller gets `busy` and retries later.
        rc = mdb_env_set_mapsize(e, 0);
        if (rc == MDB_SUCCESS) rc = mdb_txn_begin(e, nullptr, flags, &t);
    }
    if (rc != MDB_SUCCESS) return translate_mdb(rc, "mdb_txn_begin");
    return t;
}

}  // namespace

result<txn> env::begin_read() const {
    auto t = begin(*m_state, MDB_RDONLY);
    if (!t) return std::move(t).error();
    return txn{*t, m_state.get(), true};
}

result<txn> env::begin_write() {
    if (m_state->failed.load())
        return make_error(store_errc::io, m_state->path.string() +
                                              ": an earlier commit failed with an I/O error; reopen the store");
    auto t = begin(*m_state, 0);
    if (!t) return std::move(t).error();
    return txn{*t, m_state.get(), false};
}

bool env::failed() const noexcept { return m_state->failed.load(); }

env_stat env::stat() const {
    env_stat out;
    MDB_envinfo info{};
    MDB_stat st{};
    mdb_env_info(m_state->handle, &info);
    mdb_env_stat(m_state->handle, &st);
    out.map_size = info.me_mapsize;
    out.page_size = st.ms_psize;
    out.used_bytes = (info.me_last_pgno + 1) * st.ms_psize;
    out.last_txn_id = info.me_last_txnid;
    out.max_readers = info.me_maxreaders;
    out.readers_used = info.me_numreaders;
    return out;
}

result<void> env::copy_to(const fs::path& dir) const {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return store_error{store_errc::io, ec.value(), dir.string() + ": cannot create: " + ec.message()};
    if (fs::exists(dir / "data.mdb"))
        return make_error(store_errc::invalid, dir.string() + ": already holds a store; back up into an empty directory");
    int rc = mdb_env_copy2(m_state->handle, dir.c_str(), MDB_CP_COMPACT);
    if (rc != MDB_SUCCESS) return translate_mdb(rc, "mdb_env_copy2 " + dir.string());
    return {};
}

result<void> env::grow() {
    if (m_state->open_txns.load() != 0)
        return make_error(store_errc::busy, "grow: a transaction is open in this process");
    const std::size_t old_size = map_size();
    const std::size_t new_size = old_size * 2;
    // If the resize fails part way, put the old size back so the env stays usable.
    bool restore = true;
    scope_guard guard([&] {
        if (restore) mdb_env_set_mapsize(m_state->handle, old_size);
    });
    int rc = mdb_env_set_mapsize(m_state->handle, new_size);
    if (rc != MDB_SUCCESS) return translate_mdb(rc, "mdb_env_set_mapsize");
    restore = false;
    return {};
}

result<void> env::with_write(const std::function<result<void>(txn&)>& fn) {
    for (int attempt = 0;; ++attempt) {
        result<void> outcome = [&]() -> result<void> {
            auto t = begin_write();
            if (!t) return std::move(t).error();
            if (auto r = fn(*t); !r) return r;
            return t->commit();
        }();
        if (outcome || outcome.error().code != store_errc::map_full || attempt > 0) return outcome;
        if (auto g = grow(); !g) return g;
    }
}

namespace {

// LMDB writes a new data file's meta pages without syncing them, so a power loss just after
// creating a store can leave a data.mdb that no longer opens. A new store is therefore made in a
// staging directory, synced, and renamed into place (then the directory is synced): data.mdb
// either does not exist or is a valid empty store.
result<void> create_atomically(const fs::path& dir, const env_options& options) {
    std::error_code ec;
    if (fs::exists(dir / "data.mdb", ec)) return {};
    const fs::path staging = dir / ".creating";
    fs::remove_all(staging, ec);
    if (!fs::create_directory(staging, ec) && ec)
        return translate_mdb(ec.value(), staging.string() + ": cannot create");
    MDB_env* e = nullptr;
    if (int rc = mdb_env_create(&e); rc != MDB_SUCCESS) return translate_mdb(rc, "mdb_env_create");
    scope_guard close_env([&] { mdb_env_close(e); });
    if (int rc = mdb_env_set_mapsize(e, options.map_size); rc != MDB_SUCCESS) return translate_mdb(rc, "mdb_env_set_mapsize");
    if (int rc = mdb_env_open(e, staging.c_str(), MDB_NOTLS, 0600); rc != MDB_SUCCESS)
        return translate_mdb(rc, staging.string() + ": cannot create store");
    if (int rc = mdb_env_sync(e, 1); rc != MDB_SUCCESS) return translate_mdb(rc, staging.string() + ": sync");
    close_env.dismiss();
    mdb_env_close(e);
    if (::rename((staging / "data.mdb").c_str(), (dir / "data.mdb").c_str()) != 0)
        return translate_mdb(errno, (dir / "data.mdb").string() + ": cannot move the new store into place");
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return translate_mdb(errno, dir.string() + ": cannot open to sync");
    const int rc = ::fsync(dfd);
    const int err = errno;
    ::close(dfd);
    if (rc != 0) return translate_mdb(err, dir.string() + ": fsync");
    fs::remove_all(staging, ec);
    return {};
}

}  // namespace

result<env> env::open(const fs::path& dir, const env_options& options) {
    std::error_code ec;
    const std::string shown = dir.string();
    auto st = fs::status(dir, ec);
    if (fs::exists(st)) {
        if (!fs::is_directory(st))
            return make_error(store_errc::invalid, shown + ": not a directory");
    } else {
        if (!fs::create_directories(dir, ec) && ec)
            return store_error{ec.value() == EACCES ? store_errc::permission_denied : store_errc::io,
                               ec.value(), shown + ": cannot create directory: " + ec.message()};
        fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
        if (ec)
            return store_error{store_errc::io, ec.value(),
                               shown + ": cannot set mode 0700: " + ec.message()};
    }
    if (::access(dir.c_str(), W_OK | X_OK) != 0) {
        int err = errno;
        return translate_mdb(err, shown + ": data directory is not writable");
    }
    fs::path canonical = fs::canonical(dir, ec);
    if (ec) return store_error{store_errc::io, ec.value(), shown + ": " + ec.message()};

    auto state = std::make_unique<detail::env_state>();
    state->path = canonical;
    if (!detail::open_registry::instance().add(canonical.string()))
        return make_error(store_errc::already_open,
                          canonical.string() + ": store is already open in this process");
    state->registered = canonical.string();

    // From here on, `state`'s destructor closes the env and unregisters the path on failure.
    if (options.exclusive) {
        // LMDB's own lock file admits many processes; ours admits one. flock (not fcntl) so
        // that it does not interfere with LMDB's fcntl locks on lock.mdb.
        const fs::path lock_path = canonical / "agentos.lock";
        state->lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (state->lock_fd < 0) return translate_mdb(errno, lock_path.string() + ": cannot open lock file");
        if (::flock(state->lock_fd, LOCK_EX | LOCK_NB) != 0) {
            int err = errno;
            if (err == EWOULDBLOCK)
                return store_error{store_errc::locked, err,
                                   canonical.string() + ": store is open in another process"};
            return translate_mdb(err, lock_path.string() + ": cannot lock");
        }
    }
    if (auto made = create_atomically(canonical, options); !made) return std::move(made).error();
    if (int rc = mdb_env_create(&state->handle); rc != MDB_SUCCESS) {
        state->handle = nullptr;
        return translate_mdb(rc, "mdb_env_create");
    }
    if (int rc = mdb_env_set_mapsize(state->handle, options.map_size); rc != MDB_SUCCESS)
        return translate_mdb(rc, "mdb_env_set_mapsize");
    if (int rc = mdb_env_set_maxdbs(state->handle, options.max_dbs); rc != MDB_SUCCESS)
        return translate_mdb(rc, "mdb_env_set_maxdbs");
    if (int rc = mdb_env_set_maxreaders(state->handle, options.max_readers); rc != MDB_SUCCESS)
        return translate_mdb(rc, "mdb_env_set_maxreaders");
    // Durable by construction: never MDB_NOMETASYNC or MDB_WRITEMAP, and MDB_NOSYNC only for
    // the power-loss harness's self-check (env_options::unsafe_no_sync).
    const unsigned flags = MDB_NOTLS | (options.unsafe_no_sync ? unsigned{MDB_NOSYNC} : 0u);
    if (int rc = mdb_env_open(state->handle, canonical.c_str(), flags, 0600); rc != MDB_SUCCESS)
        return translate_mdb(rc, canonical.string() + ": cannot open store");
    int dead = 0;
    if (int rc = mdb_reader_check(state->handle, &dead); rc != MDB_SUCCESS)
        return translate_mdb(rc, canonical.string() + ": stale reader check");

    env e{std::move(state)};
    if (auto s = detail::apply_schema(e, options.schema); !s) return std::move(s).error();
    return e;
}

}  // namespace agentos::runtime
