// Result<T>: a value of type T, or the Status explaining why there is none.
// Like absl::StatusOr. Return values rather than output parameters (docs/style.md, "Errors").
//
//   Result<std::unique_ptr<DB>> r = DB::Open(options, path);
//   if (!r.ok()) return r.status();
//   std::unique_ptr<DB> db = std::move(r).value();
//
// Invariant: a Result holds a value exactly when status().ok().
#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include "tinykv/common/check.h"
#include "tinykv/common/status.h"

namespace tinykv {

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Status>, "use Status directly");

 public:
  // Implicit from a value and from an error, so `return value;` and
  // `return Status::NotFound(...)` both work.
  Result(const T& value) : value_(value) {}                 // NOLINT(runtime/explicit)
  Result(T&& value) : value_(std::move(value)) {}           // NOLINT(runtime/explicit)
  Result(Status status) : status_(std::move(status)) {      // NOLINT(runtime/explicit)
    TINYKV_CHECK(!status_.ok()) << "Result built from an OK status without a value";
  }
  template <typename U>
    requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
             !std::is_same_v<std::decay_t<U>, Status>)
  Result(U&& value) : value_(std::in_place, std::forward<U>(value)) {}  // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const& { return status_; }
  Status status() && { return std::move(status_); }

  // REQUIRES: ok(). Calling value() on an error is a programmer error and aborts.
  const T& value() const& {
    CheckHasValue();
    return *value_;
  }
  T& value() & {
    CheckHasValue();
    return *value_;
  }
  T&& value() && {
    CheckHasValue();
    return std::move(*value_);
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? *value_ : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void CheckHasValue() const {
    TINYKV_CHECK(ok()) << "Result::value() on error: " << status_.ToString();
  }

  Status status_;
  std::optional<T> value_;
};

}  // namespace tinykv

#define TINYKV_CONCAT_INNER_(a, b) a##b
#define TINYKV_CONCAT_(a, b) TINYKV_CONCAT_INNER_(a, b)

// TINYKV_ASSIGN_OR_RETURN(auto db, DB::Open(o, p));  — declares/assigns lhs from
// a Result, or returns its Status from the enclosing function.
#define TINYKV_ASSIGN_OR_RETURN(lhs, expr) \
  TINYKV_ASSIGN_OR_RETURN_IMPL_(TINYKV_CONCAT_(_tinykv_result_, __LINE__), lhs, expr)
#define TINYKV_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).status();      \
  lhs = std::move(tmp).value()
