// The store's schema version, kept in the "meta" named database and checked at open: a new
// store is stamped with the current version, an older one is migrated step by step inside one
// write txn (all or nothing), a newer one is refused with version_mismatch.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "runtime/store/result.hpp"

namespace agentos::runtime {

class txn;
class env;

// Moves the store from schema version `from` to `from + 1`.
struct migration {
    std::uint32_t from = 0;
    std::function<result<void>(txn&)> apply;
};

struct schema_spec {
    std::uint32_t current = 1;
    std::vector<migration> migrations;
};

inline constexpr std::string_view meta_db_name = "meta";
inline constexpr std::string_view schema_version_key = "schema_version";

// Reads the recorded schema version; nullopt for a store never stamped.
result<std::optional<std::uint32_t>> read_schema_version(txn& t);

namespace detail {
// Called by env::open. Returns the version found before any migration (0 for a new store).
result<std::uint32_t> apply_schema(env& e, const schema_spec& spec);
}  // namespace detail

}  // namespace agentos::runtime
