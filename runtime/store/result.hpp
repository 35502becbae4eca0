// A value or a store_error: the return type of every store operation (C++20 has no
// std::expected). Accessing the wrong alternative is a broken invariant and asserts.
#pragma once

#include <cassert>
#include <optional>
#include <utility>
#include <variant>

#include "runtime/store/error.hpp"

namespace agentos::runtime {

template <class T>
class [[nodiscard]] result {
public:
    result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}
    result(store_error error) : m_v(std::in_place_index<1>, std::move(error)) {}

    bool has_value() const noexcept { return m_v.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & { assert(has_value()); return std::get<0>(m_v); }
    const T& value() const& { assert(has_value()); return std::get<0>(m_v); }
    T&& value() && { assert(has_value()); return std::get<0>(std::move(m_v)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const store_error& error() const& { assert(!has_value()); return std::get<1>(m_v); }
    store_error&& error() && { assert(!has_value()); return std::get<1>(std::move(m_v)); }

private:
    std::variant<T, store_error> m_v;
};

template <>
class [[nodiscard]] result<void> {
public:
    result() = default;
    result(store_error error) : m_error(std::move(error)) {}

    bool has_value() const noexcept { return !m_error; }
    explicit operator bool() const noexcept { return has_value(); }

    const store_error& error() const& { assert(m_error); return *m_error; }
    store_error&& error() && { assert(m_error); return std::move(*m_error); }

private:
    std::optional<store_error> m_error;
};

}  // namespace agentos::runtime
