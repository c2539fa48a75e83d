// Replays the fuzz corpora (phase3_raft/fuzz/corpus/{codec,step}) through the
// fuzzers' bodies in the normal build, so every input a fuzzer ever kept
// keeps passing without clang or libFuzzer.
#include "tinykv/testing/fuzz_corpus.h"

#include <gtest/gtest.h>

#include "raft_fuzz_bodies.h"

#ifndef TINYKV_RAFT_FUZZ_CORPUS
#error "TINYKV_RAFT_FUZZ_CORPUS must point at phase3_raft/fuzz/corpus"
#endif

namespace tinykv::raft {
namespace {

size_t Replay(const std::string& sub, void (*body)(const uint8_t*, size_t)) {
  return tinykv::testing::ReplayFuzzCorpus(std::string(TINYKV_RAFT_FUZZ_CORPUS) + "/" + sub, body);
}

TEST(RaftFuzzCorpus, CodecInputsDecodeWithoutCrashing) {
  EXPECT_GE(Replay("codec", fuzz::FuzzCodecBytes), 20u) << "the corpus went missing";
}

TEST(RaftFuzzCorpus, StepInputsNeverAbortANode) {
  EXPECT_GE(Replay("step", fuzz::FuzzStepBytes), 5u) << "the corpus went missing";
}

}  // namespace
}  // namespace tinykv::raft
