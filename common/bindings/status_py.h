// The one place where a C++ Status becomes a Python exception (docs/style.md, "Errors").
//
// Binding code calls ThrowIfError / ValueOrThrow; they throw a C++
// StatusException, which the translator registered by RegisterErrors turns
// into the matching class of python/tinykv/errors.py (CorruptionError,
// NotLeaderError, TimeoutError, ...). Throwing a C++ exception, rather than
// setting the Python error directly, is safe while the GIL is released.
#pragma once

#include <stdexcept>

#include <pybind11/pybind11.h>

#include "tinykv/common/result.h"
#include "tinykv/common/status.h"

namespace tinykv::python {

class StatusException : public std::runtime_error {
 public:
  explicit StatusException(Status s) : std::runtime_error(s.ToString()), status_(std::move(s)) {}
  const Status& status() const { return status_; }

 private:
  Status status_;
};

// REQUIRES: !s.ok().
[[noreturn]] inline void ThrowStatus(const Status& s) { throw StatusException(s); }
inline void ThrowIfError(const Status& s) {
  if (!s.ok()) ThrowStatus(s);
}
template <typename T>
T ValueOrThrow(Result<T> r) {
  if (!r.ok()) ThrowStatus(r.status());
  return std::move(r).value();
}

// Registers the translator. Called once, from the _core module initializer.
void RegisterErrors(pybind11::module_& m);

}  // namespace tinykv::python
