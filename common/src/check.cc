#include "tinykv/common/check.h"

#include <cstdio>
#include <cstdlib>

#include <spdlog/spdlog.h>

namespace tinykv::internal {

CheckFailure::CheckFailure(const char* file, int line, const char* condition)
    : file_(file), line_(line), condition_(condition) {}

CheckFailure::~CheckFailure() {
  const std::string msg = stream_.str();
  // stderr first: the logger may be the thing that is broken.
  std::fprintf(stderr, "%s:%d: CHECK failed: %s %s\n", file_, line_, condition_, msg.c_str());
  std::fflush(stderr);
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->flush(); });
  std::abort();
}

}  // namespace tinykv::internal
