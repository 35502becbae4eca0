// The LMDB store foundation on real LMDB files in temporary directories.
#include "runtime/store/lmdb.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using namespace agentos::runtime;

namespace {

using agentos::testing::temp_dir;

env open_ok(const fs::path& dir, const env_options& options = {}) {
    auto e = env::open(dir, options);
    if (!e) ADD_FAILURE() << e.error().message;
    return std::move(e).value();
}

void put_one(env& e, std::string_view db, std::string_view k, std::string_view v) {
    auto t = e.begin_write();
    ASSERT_TRUE(t) << t.error().message;
    auto d = t->open_db(db);
    ASSERT_TRUE(d) << d.error().message;
    ASSERT_TRUE(t->put(*d, k, v));
    ASSERT_TRUE(t->commit());
}

std::optional<std::string> get_one(env& e, std::string_view db, std::string_view k) {
    auto t = e.begin_read();
    if (!t) {
        ADD_FAILURE() << t.error().message;
        return std::nullopt;
    }
    auto d = t->open_db(db);
    if (!d) return std::nullopt;  // the database does not exist yet
    auto v = t->get(*d, k);
    if (!v) {
        ADD_FAILURE() << v.error().message;
        return std::nullopt;
    }
    if (!*v) return std::nullopt;
    return std::string(**v);
}

}  // namespace

TEST(lmdb_store, put_get_delete_round_trip) {
    temp_dir dir;
    env e = open_ok(dir.path());
    put_one(e, "tasks", "t1", "hello");
    EXPECT_EQ(get_one(e, "tasks", "t1"), "hello");
    EXPECT_EQ(get_one(e, "tasks", "t2"), std::nullopt);
    {
        auto t = e.begin_write();
        ASSERT_TRUE(t);
        auto d = t->open_db("tasks");
        ASSERT_TRUE(d);
        auto gone = t->del(*d, "t1");
        ASSERT_TRUE(gone);
        EXPECT_TRUE(*gone);
        auto again = t->del(*d, "t1");
        ASSERT_TRUE(again);
        EXPECT_FALSE(*again);
        ASSERT_TRUE(t->commit());
    }
    EXPECT_EQ(get_one(e, "tasks", "t1"), std::nullopt);
}

TEST(lmdb_store, cursor_iterates_in_key_order) {
    temp_dir dir;
    env e = open_ok(dir.path());
    put_one(e, "idx", "b", "2");
    put_one(e, "idx", "a", "1");
    put_one(e, "idx", "c", "3");
    auto t = e.begin_read();
    ASSERT_TRUE(t);
    auto d = t->open_db("idx");
    ASSERT_TRUE(d);
    auto c = t->open_cursor(*d);
    ASSERT_TRUE(c);
    std::string keys;
    for (auto kv = c->first(); kv && *kv; kv = c->next()) keys += (*kv)->first;
    EXPECT_EQ(keys, "abc");
    auto s = c->seek("bb");
    ASSERT_TRUE(s);
    ASSERT_TRUE(*s);
    EXPECT_EQ((*s)->first, "c");
}

TEST(lmdb_store, write_txn_aborts_in_destructor) {
    temp_dir dir;
    env e = open_ok(dir.path());
    put_one(e, "tasks", "keep", "1");
    {
        auto t = e.begin_write();
        ASSERT_TRUE(t);
        auto d = t->open_db("tasks");
        ASSERT_TRUE(d);
        ASSERT_TRUE(t->put(*d, "lost", "x"));
    }  // no commit
    EXPECT_EQ(get_one(e, "tasks", "lost"), std::nullopt);
    EXPECT_EQ(get_one(e, "tasks", "keep"), "1");
}

TEST(lmdb_store, commit_persists_across_reopen) {
    temp_dir dir;
    {
        env e = open_ok(dir.path());
        put_one(e, "tasks", "t1", "durable");
    }
    env e = open_ok(dir.path());
    EXPECT_EQ(get_one(e, "tasks", "t1"), "durable");
}

TEST(lmdb_store, nested_child_abort_leaves_parent_intact) {
    temp_dir dir;
    env e = open_ok(dir.path());
    put_one(e, "tasks", "init", "0");  // create the db in a committed txn first
    {
        auto parent = e.begin_write();
        ASSERT_TRUE(parent);
        auto d = parent->open_db("tasks");
        ASSERT_TRUE(d);
        ASSERT_TRUE(parent->put(*d, "parent", "p"));
        {
            auto child = parent->child();
            ASSERT_TRUE(child) << child.error().message;
            ASSERT_TRUE(child->put(*d, "child_aborted", "c"));
            ASSERT_TRUE(child->put(*d, "parent", "overwritten"));
        }  // aborted
        {
            auto child = parent->child();
            ASSERT_TRUE(child);
            ASSERT_TRUE(child->put(*d, "child_committed", "c"));
            ASSERT_TRUE(child->commit());
        }
        auto p = parent->get(*d, "parent");
        ASSERT_TRUE(p);
        EXPECT_EQ(**p, "p");
        ASSERT_TRUE(parent->commit());
    }
    EXPECT_EQ(get_one(e, "tasks", "parent"), "p");
    EXPECT_EQ(get_one(e, "tasks", "child_aborted"), std::nullopt);
    EXPECT_EQ(get_one(e, "tasks", "child_committed"), "c");
}

TEST(lmdb_store, read_txn_refuses_writes_and_children) {
    temp_dir dir;
    env e = open_ok(dir.path());
    put_one(e, "tasks", "a", "1");
    auto t = e.begin_read();
    ASSERT_TRUE(t);
    auto d = t->open_db("tasks");
    ASSERT_TRUE(d);
    auto r = t->put(*d, "b", "2");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, store_errc::invalid);
    auto c = t->child();
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, store_errc::invalid);
}

namespace {
env_options tiny_map() {
    env_options o;
    o.map_size = 64 * 1024;
    return o;
}
}  // namespace

TEST(lmdb_store, map_full_then_grow_then_success) {
    temp_dir dir;
    env e = open_ok(dir.path(), tiny_map());
    const std::string value(1024, 'v');
    std::optional<store_error> full;
    int i = 0;
    for (; i < 10000 && !full; ++i) {
        auto t = e.begin_write();
        ASSERT_TRUE(t);
        auto d = t->open_db("blobs");
        ASSERT_TRUE(d);
        auto r = t->put(*d, "k" + std::to_string(i), value);
        if (!r) {
            full = r.error();
            break;
        }
        auto c = t->commit();
        if (!c) full = c.error();
    }
    ASSERT_TRUE(full) << "the 64 KiB map never filled";
    EXPECT_EQ(full->code, store_errc::map_full) << full->message;

    const std::size_t before = e.map_size();
    {
        auto open = e.begin_read();
        ASSERT_TRUE(open);
        auto refused = e.grow();
        ASSERT_FALSE(refused);
        EXPECT_EQ(refused.error().code, store_errc::busy);
    }
    ASSERT_TRUE(e.grow());
    EXPECT_EQ(e.map_size(), before * 2);
    put_one(e, "blobs", "k" + std::to_string(i), value);
    EXPECT_EQ(get_one(e, "blobs", "k" + std::to_string(i)), value);
    EXPECT_EQ(get_one(e, "blobs", "k0"), value);
}

TEST(lmdb_store, with_write_grows_once_on_map_full) {
    temp_dir dir;
    env e = open_ok(dir.path(), tiny_map());
    const std::size_t before = e.map_size();
    const std::string value(1024, 'v');
    int runs = 0;
    // About 40 KiB of values (about 14 leaf pages of 4 KiB plus branch and meta pages) does
    // not fit a 64 KiB map but does fit 128 KiB.
    auto r = e.with_write([&](txn& t) -> result<void> {
        ++runs;
        auto d = t.open_db("blobs");
        if (!d) return std::move(d).error();
        for (int i = 0; i < 40; ++i)
            if (auto p = t.put(*d, "k" + std::to_string(i), value); !p) return p;
        return {};
    });
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(runs, 2);
    EXPECT_EQ(e.map_size(), before * 2);
    EXPECT_EQ(get_one(e, "blobs", "k39"), value);
}

TEST(lmdb_store, with_write_gives_up_after_one_growth) {
    temp_dir dir;
    env e = open_ok(dir.path(), tiny_map());
    const std::string value(1024, 'v');
    int runs = 0;
    auto r = e.with_write([&](txn& t) -> result<void> {
        ++runs;
        auto d = t.open_db("blobs");
        if (!d) return std::move(d).error();
        for (int i = 0; i < 1000; ++i)  // ~1 MiB: too big even for 128 KiB
            if (auto p = t.put(*d, "k" + std::to_string(i), value); !p) return p;
        return {};
    });
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, store_errc::map_full);
    EXPECT_EQ(runs, 2);
    // The store is still usable after the failed attempts.
    put_one(e, "small", "a", "b");
    EXPECT_EQ(get_one(e, "small", "a"), "b");
}

TEST(lmdb_store, same_directory_twice_is_already_open) {
    temp_dir dir;
    env first = open_ok(dir.path());
    auto second = env::open(dir.path() / "." );  // a different spelling of the same path
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, store_errc::already_open) << second.error().message;
    // Closing the first frees the path.
    env moved = std::move(first);
    { env gone = std::move(moved); }
    auto third = env::open(dir.path());
    EXPECT_TRUE(third) << (third ? "" : third.error().message);
}

TEST(lmdb_store, store_open_in_another_process_is_locked) {
    temp_dir dir;
    int to_parent[2];
    int to_child[2];
    ASSERT_EQ(::pipe(to_parent), 0);
    ASSERT_EQ(::pipe(to_child), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        // The child owns the store until the parent has tried to open it.
        auto e = env::open(dir.path());
        char ok = e ? 'y' : 'n';
        (void)!::write(to_parent[1], &ok, 1);
        char done;
        (void)!::read(to_child[0], &done, 1);
        ::_exit(e ? 0 : 1);
    }
    char ok = 0;
    ASSERT_EQ(::read(to_parent[0], &ok, 1), 1);
    ASSERT_EQ(ok, 'y');
    auto second = env::open(dir.path());
    char done = 'x';
    ASSERT_EQ(::write(to_child[1], &done, 1), 1);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, store_errc::locked) << second.error().message;
    // Once the other process has gone, the store opens.
    auto third = env::open(dir.path());
    EXPECT_TRUE(third) << (third ? "" : third.error().message);
    for (int fd : {to_parent[0], to_parent[1], to_child[0], to_child[1]}) ::close(fd);
}

TEST(lmdb_store, creates_missing_directory_with_mode_0700) {
    temp_dir dir;
    fs::path store = dir.path() / "a" / "store";
    env e = open_ok(store);
    struct stat st {};
    ASSERT_EQ(::stat(store.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(lmdb_store, file_path_is_refused) {
    temp_dir dir;
    fs::path file = dir.path() / "not_a_dir";
    std::ofstream(file) << "x";
    auto e = env::open(file);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, store_errc::invalid);
    EXPECT_NE(e.error().message.find("not a directory"), std::string::npos) << e.error().message;
}

TEST(lmdb_store, unwritable_directory_is_reported) {
    temp_dir dir;
    fs::path store = dir.path() / "ro";
    fs::create_directory(store);
    fs::permissions(store, fs::perms::owner_read | fs::perms::owner_exec, fs::perm_options::replace);
    if (::access(store.c_str(), W_OK) == 0)
        GTEST_SKIP() << "running with privileges that ignore directory permissions (root?)";
    auto e = env::open(store);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, store_errc::permission_denied);
    EXPECT_NE(e.error().message.find("not writable"), std::string::npos) << e.error().message;
}

TEST(lmdb_store, garbage_data_file_is_a_clear_error) {
    temp_dir dir;
    {
        env e = open_ok(dir.path());
        put_one(e, "tasks", "t1", "v");
    }
    {
        std::ofstream out(dir.path() / "data.mdb", std::ios::binary | std::ios::trunc);
        std::string garbage(16 * 1024, '\xAB');
        out << garbage;
    }
    auto e = env::open(dir.path());
    ASSERT_FALSE(e);
    EXPECT_TRUE(e.error().code == store_errc::invalid || e.error().code == store_errc::corrupt)
        << to_string(e.error().code) << ": " << e.error().message;
    // A failed open releases the path: a second attempt gives the same error, not already_open.
    auto again = env::open(dir.path());
    ASSERT_FALSE(again);
    EXPECT_NE(again.error().code, store_errc::already_open);
}

TEST(lmdb_store, garbage_tree_pages_are_corrupt_not_a_crash) {
    temp_dir dir;
    {
        env e = open_ok(dir.path());
        auto t = e.begin_write();
        ASSERT_TRUE(t);
        auto d = t->open_db("tasks");
        ASSERT_TRUE(d);
        for (int i = 0; i < 2000; ++i) ASSERT_TRUE(t->put(*d, "k" + std::to_string(i), std::string(100, 'x')));
        ASSERT_TRUE(t->commit());
    }
    // Keep the two meta pages (LMDB checks their magic), overwrite every tree page.
    const fs::path data = dir.path() / "data.mdb";
    const auto size = fs::file_size(data);
    ASSERT_GT(size, 8192u);
    {
        std::fstream f(data, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(8192);
        std::string garbage(size - 8192, '\xAB');
        f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    }
    // The schema check at open reads the tree, so the damage shows there.
    auto e = env::open(dir.path());
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, store_errc::corrupt) << e.error().message;
}

TEST(lmdb_store, schema_new_store_gets_current_version) {
    temp_dir dir;
    env_options o;
    o.schema.current = 3;
    env e = open_ok(dir.path(), o);
    auto t = e.begin_read();
    ASSERT_TRUE(t);
    auto v = read_schema_version(*t);
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, std::optional<std::uint32_t>{3});
}

TEST(lmdb_store, schema_migration_runs_once_in_order) {
    temp_dir dir;
    {
        env_options o;
        o.schema.current = 1;
        env e = open_ok(dir.path(), o);
        put_one(e, "tasks", "t1", "old");
    }
    std::string trace;
    env_options o;
    o.schema.current = 3;
    o.schema.migrations = {
        {2, [&](txn& t) -> result<void> {  // deliberately listed out of order
             trace += "2";
             auto d = t.open_db("tasks");
             if (!d) return std::move(d).error();
             return t.put(*d, "t1", "v3");
         }},
        {1, [&](txn&) -> result<void> {
             trace += "1";
             return {};
         }},
    };
    {
        env e = open_ok(dir.path(), o);
        EXPECT_EQ(trace, "12");
        EXPECT_EQ(get_one(e, "tasks", "t1"), "v3");
    }
    {
        env e = open_ok(dir.path(), o);
        EXPECT_EQ(trace, "12");  // already at version 3: nothing ran
    }
}

TEST(lmdb_store, schema_failed_migration_changes_nothing) {
    temp_dir dir;
    {
        env_options o;
        o.schema.current = 1;
        env e = open_ok(dir.path(), o);
        put_one(e, "tasks", "t1", "old");
    }
    env_options o;
    o.schema.current = 2;
    o.schema.migrations = {{1, [](txn& t) -> result<void> {
                                auto d = t.open_db("tasks");
                                if (!d) return std::move(d).error();
                                if (auto r = t.put(*d, "t1", "half"); !r) return r;
                                return store_error{store_errc::internal, 0, "migration failed"};
                            }}};
    auto failed = env::open(dir.path(), o);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().message, "migration failed");

    env_options v1;
    v1.schema.current = 1;
    env e = open_ok(dir.path(), v1);  // still version 1, data untouched
    EXPECT_EQ(get_one(e, "tasks", "t1"), "old");
}

TEST(lmdb_store, schema_missing_migration_is_refused) {
    temp_dir dir;
    { env e = open_ok(dir.path()); }
    env_options o;
    o.schema.current = 2;
    auto e = env::open(dir.path(), o);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, store_errc::version_mismatch);
}

TEST(lmdb_store, schema_newer_store_is_refused) {
    temp_dir dir;
    {
        env_options o;
        o.schema.current = 5;
        env e = open_ok(dir.path(), o);
    }
    env_options o;
    o.schema.current = 4;
    auto e = env::open(dir.path(), o);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, store_errc::version_mismatch);
    EXPECT_NE(e.error().message.find("newer"), std::string::npos) << e.error().message;
}

// LMDB's codes are part of its stable ABI; the test names them by value so that it, like the
// rest of the runtime's users, does not include lmdb.h.
TEST(lmdb_store, translate_mdb_maps_codes) {
    EXPECT_EQ(translate_mdb(-30792, "x").code, store_errc::map_full);          // MDB_MAP_FULL
    EXPECT_EQ(translate_mdb(-30796, "x").code, store_errc::corrupt);           // MDB_CORRUPTED
    EXPECT_EQ(translate_mdb(-30797, "x").code, store_errc::corrupt);           // MDB_PAGE_NOTFOUND
    EXPECT_EQ(translate_mdb(-30793, "x").code, store_errc::invalid);           // MDB_INVALID
    EXPECT_EQ(translate_mdb(-30794, "x").code, store_errc::version_mismatch);  // MDB_VERSION_MISMATCH
    EXPECT_EQ(translate_mdb(-30790, "x").code, store_errc::busy);              // MDB_READERS_FULL
    EXPECT_EQ(translate_mdb(-30782, "x").code, store_errc::bad_txn);           // MDB_BAD_TXN
    EXPECT_EQ(translate_mdb(EACCES, "x").code, store_errc::permission_denied);
    EXPECT_EQ(translate_mdb(ENOSPC, "x").code, store_errc::no_space);
    EXPECT_EQ(translate_mdb(EIO, "x").code, store_errc::io);
    auto e = translate_mdb(-30792, "mdb_put");
    EXPECT_EQ(e.mdb_code, -30792);
    EXPECT_EQ(e.message.rfind("mdb_put: ", 0), 0u) << e.message;
}
