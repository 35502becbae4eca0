// Typed errors of the LMDB store. translate_mdb() is the one place that maps LMDB (and errno)
// return codes to store_errc; nothing else in the runtime interprets an MDB code.
// Expected misses (a key that is absent) are std::optional, never a store_error.
#pragma once

#include <string>
#include <string_view>

namespace agentos::runtime {

enum class store_errc {
    not_found,          // something that must exist does not (a named database in a read txn)
    map_full,           // the memory map is full: grow() and retry
    locked,             // the lock file cannot be locked
    corrupt,            // a page or the data file is damaged
    io,                 // an I/O error (EIO, a failed fsync): treat the environment as dead, reopen
    no_space,           // ENOSPC: the disk is full
    permission_denied,  // EACCES/EPERM/EROFS on the data directory or its files
    busy,               // the operation needs no transaction open, or too many readers/txns
    version_mismatch,   // LMDB format or store schema version is not the one this build reads
    already_open,       // this process already has the directory open
    invalid,            // not an LMDB file, not a directory, or a misuse of the API
    bad_txn,            // the transaction had an earlier error and can only be aborted
    conflict,           // a key exists when it must not (MDB_KEYEXIST)
    internal,           // any other code
};

std::string_view to_string(store_errc code) noexcept;

struct store_error {
    store_errc code;
    int mdb_code = 0;  // the LMDB or errno code, 0 when the error did not come from LMDB
    std::string message;
};

// Maps an LMDB or errno return code to a store_error; `what` names the failed operation
// (and usually the path) and leads the message. `rc` must not be MDB_SUCCESS.
store_error translate_mdb(int rc, std::string_view what);

}  // namespace agentos::runtime
