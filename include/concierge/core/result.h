// Result<T>: a value or an Error, shaped like C++23 std::expected (which GCC 12
// and clang 14 do not ship in C++20 mode). When the toolchain gains
// std::expected this type can become an alias with few call-site changes.
//
// Contract: accessing value() on an error (or error() on a value) is a
// programming error and aborts; check has_value() / operator bool first.
// Thread safety: a value type; no shared state.
#pragma once

#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

#include "concierge/core/error.h"

namespace concierge {

// Wraps an Error so that `return Unexpected(err);` converts to any Result<T>.
class Unexpected {
 public:
  explicit Unexpected(Error e) : error_(std::move(e)) {}
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_;
};

// Shorthands for the common error returns.
inline Unexpected fail(Errc code, std::string message) {
  return Unexpected(make_error(code, std::move(message)));
}
inline Unexpected fail_at(Errc code, std::string field, std::size_t offset, std::string message) {
  return Unexpected(make_error_at(code, std::move(field), offset, std::move(message)));
}

namespace detail {
[[noreturn]] void bad_result_access(const char* what);
}

template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  Result(const T& v) : state_(std::in_place_index<0>, v) {}        // NOLINT: implicit like expected
  Result(T&& v) : state_(std::in_place_index<0>, std::move(v)) {}  // NOLINT
  template <typename U, typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                                    !std::is_same_v<std::decay_t<U>, Result> &&
                                                    !std::is_same_v<std::decay_t<U>, Unexpected> &&
                                                    !std::is_same_v<std::decay_t<U>, T>>>
  Result(U&& v) : state_(std::in_place_index<0>, std::forward<U>(v)) {}           // NOLINT
  Result(Unexpected u) : state_(std::in_place_index<1>, std::move(u).error()) {}  // NOLINT

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    check_value();
    return std::get<0>(state_);
  }
  const T& value() const& {
    check_value();
    return std::get<0>(state_);
  }
  T&& value() && {
    check_value();
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(state_) : static_cast<T>(std::forward<U>(fallback));
  }

  const Error& error() const& {
    check_error();
    return std::get<1>(state_);
  }
  Error&& error() && {
    check_error();
    return std::get<1>(std::move(state_));
  }

 private:
  void check_value() const {
    if (!has_value()) detail::bad_result_access("value() on an error Result");
  }
  void check_error() const {
    if (has_value()) detail::bad_result_access("error() on a value Result");
  }
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected u) : error_(std::move(u).error()), ok_(false) {}  // NOLINT

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  void value() const {
    if (!ok_) detail::bad_result_access("value() on an error Result<void>");
  }
  const Error& error() const& {
    if (ok_) detail::bad_result_access("error() on a value Result<void>");
    return error_;
  }
  Error&& error() && {
    if (ok_) detail::bad_result_access("error() on a value Result<void>");
    return std::move(error_);
  }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace concierge

#define CONCIERGE_CONCAT_INNER(a, b) a##b
#define CONCIERGE_CONCAT(a, b) CONCIERGE_CONCAT_INNER(a, b)

// Evaluates `expr` (a Result<void> or Result<T>); on error returns it from the
// enclosing function, which must itself return some Result<U>.
#define CONCIERGE_RETURN_IF_ERROR(expr)                                                           \
  do {                                                                                            \
    auto&& concierge_status_ = (expr);                                                            \
    if (!concierge_status_) return ::concierge::Unexpected(std::move(concierge_status_).error()); \
  } while (0)

// `CONCIERGE_ASSIGN_OR_RETURN(auto x, f());` declares x from a Result<T> value,
// or returns the error from the enclosing function.
#define CONCIERGE_ASSIGN_OR_RETURN(lhs, expr) \
  CONCIERGE_ASSIGN_OR_RETURN_IMPL(CONCIERGE_CONCAT(concierge_result_, __LINE__), lhs, expr)
#define CONCIERGE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)             \
  auto tmp = (expr);                                                \
  if (!tmp) return ::concierge::Unexpected(std::move(tmp).error()); \
  lhs = std::move(tmp).value()
