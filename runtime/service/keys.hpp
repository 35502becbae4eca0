// The store's key layouts (docs/store.md, "What the store keeps"), in one place for the pipeline
// that writes them and the reads and checks that look them up.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/store/kv.hpp"

namespace agentos::runtime::keys {

// Records in kv::table::meta.
inline constexpr std::string_view active_policy = "active_policy";
inline constexpr std::string_view next_task = "next_task";
inline constexpr std::string_view next_webhook = "next_webhook";

// `value \0`: the prefix of every index entry (by_state, by_assignee, by_project) for `value`,
// and of a task's artifacts and reviews.
inline std::string prefix(std::string_view value) {
  std::string k(value);
  k.push_back('\0');
  return k;
}
// `value \0 id`.
inline std::string index(std::string_view value, std::string_view id) { return prefix(value).append(id); }

// by_due: the instant big-endian with the sign bit flipped, so that key order is time order
// (negative instants first), then the task id.
inline std::string due(std::int64_t at, std::string_view id) {
  return kv::be64(static_cast<std::uint64_t>(at) ^ (std::uint64_t{1} << 63)).append(id);
}
// The instant of a by_due key (at least 8 bytes).
inline std::int64_t due_instant(std::string_view key) {
  return static_cast<std::int64_t>(*kv::read_be64(key) ^ (std::uint64_t{1} << 63));
}

// artifacts: `task \0 kind \0 be32(version)`.
inline std::string artifact(std::string_view task, std::string_view kind, std::uint32_t version) {
  return prefix(task).append(kind).append(1, '\0').append(kv::be32(version));
}

// deliveries: `subscription \0 be64(n)`, n counting from 1 per subscription.
inline std::string delivery(std::string_view subscription, std::uint64_t n) {
  return prefix(subscription).append(kv::be64(n));
}

}  // namespace agentos::runtime::keys
