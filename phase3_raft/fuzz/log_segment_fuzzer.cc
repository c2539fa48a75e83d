// libFuzzer target: replica_fuzz_bodies.h, FuzzLogSegmentBytes.
//   CXX=clang++-14 CC=clang-14 cmake -S . -B build/fuzz -G Ninja -DTINYKV_BUILD_FUZZ=ON \
//       -DTINYKV_BUILD_PYTHON=OFF -DTINYKV_BUILD_BENCH=OFF -DTINYKV_BUILD_TESTS=OFF
//   cmake --build build/fuzz -j2 --target tinykv_replica_log_segment_fuzzer
//   build/fuzz/phase3_raft/fuzz/tinykv_replica_log_segment_fuzzer <workdir> phase3_raft/fuzz/corpus/log_segment
#include <cstddef>
#include <cstdint>

#include "replica_fuzz_bodies.h"
#include "tinykv/common/logging.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Warnings about torn tails would cost more than the input itself.
  (void)tinykv::logging::Init({.level = "off"});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tinykv::replica::fuzz::FuzzLogSegmentBytes(data, size);
  return 0;
}
