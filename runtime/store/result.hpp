// A value or an error: the return type of every store operation (result<T>, with store_error)
// and of the Paperclip client's calls (pc_result<T>, with client_error). C++20 has no
// std::expected. Accessing the wrong alternative is a broken invariant and asserts.
#pragma once

#include <cassert>
#include <optional>
#include <utility>
#include <variant>

#include "runtime/store/error.hpp"

namespace agentos::runtime {

template <class T, class E>
class [[nodiscard]] basic_result {
public:
    basic_result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}
    basic_result(E error) : m_v(std::in_place_index<1>, std::move(error)) {}

    bool has_value() const noexcept { return m_v.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & { assert(has_value()); return std::get<0>(m_v); }
    const T& value() const& { assert(has_value()); return std::get<0>(m_v); }
    T&& value() && { assert(has_value()); return std::get<0>(std::move(m_v)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    // By value on a temporary, so that `for (auto& x : *call())` does not dangle.
    T operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const E& error() const& { assert(!has_value()); return std::get<1>(m_v); }
    E&& error() && { assert(!has_value()); return std::get<1>(std::move(m_v)); }

private:
    std::variant<T, E> m_v;
};

template <class E>
class [[nodiscard]] basic_result<void, E> {
public:
    basic_result() = default;
    basic_result(E error) : m_error(std::move(error)) {}

    bool has_value() const noexcept { return !m_error; }
    explicit operator bool() const noexcept { return has_value(); }

    const E& error() const& { assert(m_error); return *m_error; }
    E&& error() && { assert(m_error); return std::move(*m_error); }

private:
    std::optional<E> m_error;
};

template <class T>
using result = basic_result<T, store_error>;

}  // namespace agentos::runtime
