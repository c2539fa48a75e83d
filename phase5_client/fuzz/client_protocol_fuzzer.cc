// libFuzzer target: every payload of the client protocol (client_protocol_fuzz_body.h).
//   CXX=clang++-14 CC=clang-14 cmake -S . -B build/fuzz -G Ninja -DTINYKV_BUILD_FUZZ=ON \
//       -DTINYKV_BUILD_PYTHON=OFF -DTINYKV_BUILD_BENCH=OFF -DTINYKV_BUILD_TESTS=OFF
//   cmake --build build/fuzz -j2 --target tinykv_client_protocol_fuzzer
//   build/fuzz/phase5_client/fuzz/tinykv_client_protocol_fuzzer <workdir> phase5_client/fuzz/corpus/protocol
#include <cstddef>
#include <cstdint>

#include "client_protocol_fuzz_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tinykv::client::fuzz::FuzzClientProtocolBytes(data, size);
  return 0;
}
