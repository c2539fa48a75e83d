// Replays the client protocol fuzz corpus (phase5_client/fuzz/corpus/protocol)
// through the fuzzer's body in the normal build, so every input the fuzzer
// ever kept keeps passing without clang or libFuzzer.
#include "tinykv/testing/fuzz_corpus.h"

#include <gtest/gtest.h>

#include <string>

#include "client_protocol_fuzz_body.h"

#ifndef TINYKV_CLIENT_FUZZ_CORPUS
#error "TINYKV_CLIENT_FUZZ_CORPUS must point at phase5_client/fuzz/corpus"
#endif

namespace tinykv::client {
namespace {

TEST(ClientFuzzCorpus, EveryPayloadDecodesOrIsCorruption) {
  EXPECT_GE(tinykv::testing::ReplayFuzzCorpus(std::string(TINYKV_CLIENT_FUZZ_CORPUS) + "/protocol",
                                              fuzz::FuzzClientProtocolBytes),
            20u)
      << "the corpus went missing";
}

}  // namespace
}  // namespace tinykv::client
