// TINYKV_CHECK: an always-on assertion for programmer errors (broken
// invariants), as etcd's Panicf or TigerBeetle's assert. Operating errors
// (a failed fsync, a corrupt file) are Status values instead — see docs/style.md, "Errors".
//
//   TINYKV_CHECK(commit_index_ <= last_index) << "commit " << commit_index_;
//
// On failure it logs file:line, the condition and the streamed message at
// critical level, flushes the logs, and aborts. It is never compiled out.
#pragma once

#include <sstream>

namespace tinykv::internal {

// Collects the streamed message; its destructor reports and aborts.
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  CheckFailure(const CheckFailure&) = delete;
  CheckFailure& operator=(const CheckFailure&) = delete;
  [[noreturn]] ~CheckFailure();

  template <typename T>
  CheckFailure& operator<<(const T& v) {
    stream_ << v;
    return *this;
  }

 private:
  const char* file_;
  int line_;
  const char* condition_;
  std::ostringstream stream_;
};

// Lets `cond ? (void)0 : Voidify() & CheckFailure(...) << ...` type-check.
struct Voidify {
  void operator&(const CheckFailure&) {}
};

}  // namespace tinykv::internal

#define TINYKV_CHECK(cond)                     \
  (cond) ? (void)0                             \
         : ::tinykv::internal::Voidify() &     \
               ::tinykv::internal::CheckFailure(__FILE__, __LINE__, #cond)

#define TINYKV_CHECK_EQ(a, b) TINYKV_CHECK((a) == (b)) << #a "=" << (a) << " " #b "=" << (b) << " "
#define TINYKV_CHECK_LE(a, b) TINYKV_CHECK((a) <= (b)) << #a "=" << (a) << " " #b "=" << (b) << " "
#define TINYKV_CHECK_LT(a, b) TINYKV_CHECK((a) < (b)) << #a "=" << (a) << " " #b "=" << (b) << " "
#define TINYKV_UNREACHABLE() TINYKV_CHECK(false) << "unreachable "
