// expected.hpp: a minimal std::expected stand-in for C++20 (std::expected is C++23).
// Parsers return expected<T, E>: a value or an error, never an exception on bad input.
// Used by every pure parser in registry/, milter/, policy/ and watch/.
#pragma once

#include <utility>
#include <variant>

namespace relaygate {

template <class E>
struct unexpected {
    // A constructor, not an aggregate: clang 14 (the fuzz build) has no parenthesised aggregate init.
    explicit unexpected(E e) : error(std::move(e)) {}
    E error;
};
template <class E>
unexpected(E) -> unexpected<E>;

template <class T, class E>
class expected {
public:
    expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
    template <class G>
    expected(unexpected<G> e) : v_(std::in_place_index<1>, E(std::move(e.error))) {}  // NOLINT

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    const E& error() const& { return std::get<1>(v_); }

private:
    std::variant<T, E> v_;
};

}  // namespace relaygate
