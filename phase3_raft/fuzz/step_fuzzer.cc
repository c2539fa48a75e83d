// libFuzzer target: decoded messages fed to RawNode::Step (raft_fuzz_bodies.h).
// Built like codec_fuzzer.cc; corpus phase3_raft/fuzz/corpus/step.
#include <cstddef>
#include <cstdint>

#include "raft_fuzz_bodies.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tinykv::raft::fuzz::FuzzStepBytes(data, size);
  return 0;
}
