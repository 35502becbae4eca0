// The values the engine computes with: a small tagged value that never owns memory. Scalars
// (int, decimal in millionths, duration and timestamp in milliseconds, bool, enum member, role,
// state, event, mode, actor kind) are one int64; strings are a view plus the id the text has in
// the rule graph's string table; sets are views of sorted arrays. Whoever builds a value (the
// graph for constants, a request for its fields) owns what it points to.
//
// Equality of strings is by id when both sides are interned against the same table (a request is
// bound to its graph, see request.hpp), by content otherwise. A missing attribute reads as its
// default or zero value (docs/language.md, "Missing values"); only fields with no zero value can
// be absent: a task's assignee role when it has none, the actor's role and kind when there is no
// actor, the event of an intake request. Absent equals nothing, is in nothing and is ordered with
// nothing: every comparison that reads it is false, and `!=` / `not in` are the negations of
// `==` / `in`.
#pragma once

#include <cstdint>
#include <string_view>

namespace agentos::engine {

// A string the engine can compare cheaply. `id` is its index in the graph's string table, or -1
// when the text is not a string literal of the policy (it can then equal no literal).
struct text {
  std::string_view view;
  std::int32_t id = -1;
};

// The canonical order of string set elements: by id, so strings unknown to the policy (id -1)
// come first, ordered among themselves by content. It is a total order consistent with
// text_equal, so sorted sets can be searched and compared element by element.
[[nodiscard]] inline int compare_text(const text& a, const text& b) {
  if (a.id != b.id) return a.id < b.id ? -1 : 1;
  if (a.id >= 0) return 0;
  const int c = a.view.compare(b.view);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

[[nodiscard]] inline bool text_equal(const text& a, const text& b) {
  return a.id == b.id && (a.id >= 0 || a.view == b.view);
}

enum class value_kind : std::uint8_t {
  absent,
  scalar,      // i
  string,      // chars, size, id
  string_set,  // texts, size; sorted by compare_text, no duplicates
  scalar_set,  // scalars, size; ascending, no duplicates
};

struct value {
  value_kind kind = value_kind::absent;
  std::int32_t id = -1;    // string: interned id
  std::uint32_t size = 0;  // string: length in bytes; sets: element count
  union {
    std::int64_t i = 0;
    const char* chars;
    const text* texts;
    const std::int64_t* scalars;
  };

  [[nodiscard]] static value absent() { return {}; }
  [[nodiscard]] static value of_scalar(std::int64_t v) {
    value r;
    r.kind = value_kind::scalar;
    r.i = v;
    return r;
  }
  [[nodiscard]] static value of_bool(bool b) { return of_scalar(b ? 1 : 0); }
  [[nodiscard]] static value of_text(text t) {
    value r;
    r.kind = value_kind::string;
    r.id = t.id;
    r.size = static_cast<std::uint32_t>(t.view.size());
    r.chars = t.view.data();
    return r;
  }
  // `elements` must be sorted by compare_text without duplicates (see sort_unique in request.hpp).
  [[nodiscard]] static value of_texts(const text* elements, std::uint32_t count) {
    value r;
    r.kind = value_kind::string_set;
    r.size = count;
    r.texts = elements;
    return r;
  }
  [[nodiscard]] static value of_scalars(const std::int64_t* elements, std::uint32_t count) {
    value r;
    r.kind = value_kind::scalar_set;
    r.size = count;
    r.scalars = elements;
    return r;
  }

  [[nodiscard]] bool is_absent() const { return kind == value_kind::absent; }
  [[nodiscard]] bool is_set() const { return kind == value_kind::string_set || kind == value_kind::scalar_set; }
  [[nodiscard]] text as_text() const { return {std::string_view(chars, size), id}; }
  // Truth of a condition: a true bool. Absent is false.
  [[nodiscard]] bool truthy() const { return kind == value_kind::scalar && i != 0; }
};

}  // namespace agentos::engine
