// Test helpers shared by all phases (docs/style.md, "Tests").
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tinykv/common/random.h"
#include "tinykv/common/result.h"
#include "tinykv/common/status.h"

namespace tinykv::testing {

inline ::testing::AssertionResult IsOk(const Status& s) {
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << s.ToString();
}
template <typename T>
::testing::AssertionResult IsOk(const Result<T>& r) {
  return IsOk(r.status());
}

// A fresh, empty directory under the system temp dir, removed on destruction
// unless TINYKV_KEEP_TEST_DIRS is set (for post-mortems).
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    const auto base = std::filesystem::temp_directory_path();
    Random rnd(TestSeed());
    for (;;) {
      path_ = base / ("tinykv-test-" + std::to_string(::getpid()) + "-" +
                      std::to_string(counter++) + "-" + std::to_string(rnd.Uniform(1000000)));
      if (std::filesystem::create_directory(path_)) break;
    }
  }
  ~TempDir() {
    if (std::getenv("TINYKV_KEEP_TEST_DIRS") == nullptr) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// A key of 1..max_len random bytes, biased towards the bytes that break naive
// code: '\0', '\xff' and shared prefixes.
inline std::string RandomKey(Random* rnd, size_t max_len) {
  const size_t len = 1 + rnd->Uniform(max_len);
  std::string key;
  key.reserve(len);
  static constexpr char kAlphabet[] = {'\0', '\x01', 'a', 'b', 'c', '\x7f', '\x80', '\xfe', '\xff'};
  for (size_t i = 0; i < len; ++i) {
    key.push_back(rnd->OneIn(4) ? static_cast<char>(rnd->Uniform(256))
                                : kAlphabet[rnd->Uniform(sizeof(kAlphabet))]);
  }
  return key;
}

// Polls pred() every few milliseconds until it returns true or `timeout`
// passes; returns whether it did. For tests that wait on an observable event
// of real threads (never a fixed sleep as a precondition).
template <typename Pred>
bool WaitUntil(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// Logs the seed once per test so a failure can be replayed: TINYKV_SEED=<seed>.
inline uint64_t SeedForTest() {
  const uint64_t seed = TestSeed();
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  std::fprintf(stderr, "[ seed     ] TINYKV_SEED=%llu\n", static_cast<unsigned long long>(seed));
  return seed;
}

}  // namespace tinykv::testing

#define EXPECT_OK(expr) EXPECT_TRUE(::tinykv::testing::IsOk((expr)))
#define ASSERT_OK(expr) ASSERT_TRUE(::tinykv::testing::IsOk((expr)))
