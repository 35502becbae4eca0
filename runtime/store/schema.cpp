#include "runtime/store/schema.hpp"

#include <string>

#include "runtime/store/lmdb.hpp"

namespace agentos::runtime {

namespace {

// Four bytes, little-endian, so the record reads the same on any host.
std::string encode(std::uint32_t v) {
    std::string out(4, '\0');
    for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xffu);
    return out;
}

std::optional<std::uint32_t> decode(std::string_view s) {
    if (s.size() != 4) return std::nullopt;
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= std::uint32_t{static_cast<unsigned char>(s[i])} << (8 * i);
    return v;
}

store_error schema_error(store_errc code, std::string message) {
    return store_error{code, 0, std::move(message)};
}

}  // namespace

result<std::optional<std::uint32_t>> read_schema_version(txn& t) {
    auto meta = t.open_db(meta_db_name);
    if (!meta) {
        if (meta.error().code == store_errc::not_found) return std::optional<std::uint32_t>{};
        return std::move(meta).error();
    }
    auto raw = t.get(*meta, schema_version_key);
    if (!raw) return std::move(raw).error();
    if (!*raw) return std::optional<std::uint32_t>{};
    auto v = decode(**raw);
    if (!v) return schema_error(store_errc::corrupt, "meta: schema_version record is malformed");
    return std::optional<std::uint32_t>{*v};
}

namespace detail {

result<std::uint32_t> apply_schema(env& e, const schema_spec& spec) {
    auto t = e.begin_write();
    if (!t) return std::move(t).error();
    auto found = read_schema_version(*t);
    if (!found) return std::move(found).error();
    const std::uint32_t before = found->value_or(0);

    if (*found && before > spec.current)
        return schema_error(store_errc::version_mismatch,
                            "store schema version " + std::to_string(before) +
                                " is newer than this build's " + std::to_string(spec.current));
    if (*found && before == spec.current) return before;  // the txn aborts: nothing to write

    if (*found) {
        // Step through every version in one txn: a failed step leaves the store as it was.
        for (std::uint32_t v = before; v < spec.current; ++v) {
            const migration* step = nullptr;
            for (const auto& m : spec.migrations)
                if (m.from == v) step = &m;
            if (step == nullptr || !step->apply)
                return schema_error(store_errc::version_mismatch,
                                    "no migration from schema version " + std::to_string(v));
            if (auto r = step->apply(*t); !r) return std::move(r).error();
        }
    }
    auto meta = t->open_db(meta_db_name);
    if (!meta) return std::move(meta).error();
    if (auto r = t->put(*meta, schema_version_key, encode(spec.current)); !r)
        return std::move(r).error();
    if (auto r = t->commit(); !r) return std::move(r).error();
    return before;
}

}  // namespace detail

}  // namespace agentos::runtime
