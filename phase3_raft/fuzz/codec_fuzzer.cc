// libFuzzer target: every decoder of tinykv/raft/codec.h (raft_fuzz_bodies.h).
//   CXX=clang++-14 CC=clang-14 cmake -S . -B build/fuzz -G Ninja -DTINYKV_BUILD_FUZZ=ON \
//       -DTINYKV_BUILD_PYTHON=OFF -DTINYKV_BUILD_BENCH=OFF
//   cmake --build build/fuzz --target tinykv_raft_codec_fuzzer
//   build/fuzz/phase3_raft/fuzz/tinykv_raft_codec_fuzzer <workdir> phase3_raft/fuzz/corpus/codec
#include <cstddef>
#include <cstdint>

#include "raft_fuzz_bodies.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tinykv::raft::fuzz::FuzzCodecBytes(data, size);
  return 0;
}
