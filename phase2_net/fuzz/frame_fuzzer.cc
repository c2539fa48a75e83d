// libFuzzer target: the frame decoder and message decoding.
//   cmake -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14 \
//         -DTINYKV_BUILD_FUZZ=ON -DTINYKV_SANITIZE=address -DTINYKV_BUILD_PYTHON=OFF
//   cmake --build build/fuzz --target tinykv_net_fuzz
//   build/fuzz/phase2_net/tinykv_net_fuzz phase2_net/fuzz/corpus
#include <cstddef>
#include <cstdint>

#include "frame_fuzz_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tinykv::net::fuzz::FuzzFrameBytes(data, size);
  return 0;
}
