#include "runtime/store/error.hpp"

#include <lmdb.h>

#include <cerrno>

namespace agentos::runtime {

std::string_view to_string(store_errc code) noexcept {
    switch (code) {
        case store_errc::not_found: return "not_found";
        case store_errc::map_full: return "map_full";
        case store_errc::locked: return "locked";
        case store_errc::corrupt: return "corrupt";
        case store_errc::io: return "io";
        case store_errc::no_space: return "no_space";
        case store_errc::permission_denied: return "permission_denied";
        case store_errc::busy: return "busy";
        case store_errc::version_mismatch: return "version_mismatch";
        case store_errc::already_open: return "already_open";
        case store_errc::invalid: return "invalid";
        case store_errc::bad_txn: return "bad_txn";
        case store_errc::conflict: return "conflict";
        case store_errc::internal: return "internal";
    }
    return "unknown";
}

namespace {

store_errc classify(int rc) noexcept {
    switch (rc) {
        case MDB_NOTFOUND: return store_errc::not_found;
        case MDB_KEYEXIST: return store_errc::conflict;
        case MDB_MAP_FULL: return store_errc::map_full;
        case MDB_CORRUPTED:
        case MDB_PAGE_NOTFOUND: return store_errc::corrupt;
        case MDB_INVALID:
        case MDB_INCOMPATIBLE:
        case MDB_BAD_DBI:
        case MDB_BAD_VALSIZE:
        case MDB_BAD_RSLOT:
        case EINVAL:
        case ENOTDIR: return store_errc::invalid;
        case MDB_VERSION_MISMATCH: return store_errc::version_mismatch;
        case MDB_READERS_FULL:
        case MDB_TXN_FULL:
        case MDB_CURSOR_FULL:
        case MDB_DBS_FULL:
        case MDB_MAP_RESIZED:
        case EBUSY: return store_errc::busy;
        case MDB_BAD_TXN:
        case MDB_PANIC: return store_errc::bad_txn;
        case EACCES:
        case EPERM:
        case EROFS: return store_errc::permission_denied;
        case ENOSPC:
        case EDQUOT: return store_errc::no_space;
        case EIO: return store_errc::io;
        case EAGAIN: return store_errc::locked;  // EWOULDBLOCK == EAGAIN on Linux
        case ENOENT: return store_errc::not_found;
        default: return store_errc::internal;
    }
}

}  // namespace

store_error translate_mdb(int rc, std::string_view what) {
    std::string message(what);
    message += ": ";
    message += mdb_strerror(rc);  // covers errno values too
    if (rc == MDB_MAP_FULL) message += " (grow the map and retry)";
    if (rc == MDB_PANIC || rc == EIO) message += " (the environment must be reopened)";
    return store_error{classify(rc), rc, std::move(message)};
}

}  // namespace agentos::runtime
