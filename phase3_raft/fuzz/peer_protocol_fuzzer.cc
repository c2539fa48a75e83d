// libFuzzer target: replica_fuzz_bodies.h, FuzzPeerProtocolBytes.
//   CXX=clang++-14 CC=clang-14 cmake -S . -B build/fuzz -G Ninja -DTINYKV_BUILD_FUZZ=ON \
//       -DTINYKV_BUILD_PYTHON=OFF -DTINYKV_BUILD_BENCH=OFF -DTINYKV_BUILD_TESTS=OFF
//   cmake --build build/fuzz -j2 --target tinykv_replica_peer_protocol_fuzzer
//   build/fuzz/phase3_raft/fuzz/tinykv_replica_peer_protocol_fuzzer <workdir> phase3_raft/fuzz/corpus/peer_protocol
#include <cstddef>
#include <cstdint>

#include "replica_fuzz_bodies.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tinykv::replica::fuzz::FuzzPeerProtocolBytes(data, size);
  return 0;
}
