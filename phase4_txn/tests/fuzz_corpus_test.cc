// Replays the transaction command fuzz corpus (phase4_txn/fuzz/corpus/txn_command)
// through the fuzzer's body in the normal build, so every input the fuzzer
// ever kept keeps passing without clang or libFuzzer.
#include "tinykv/testing/fuzz_corpus.h"

#include <gtest/gtest.h>

#include <string>

#include "txn_command_fuzz_body.h"

#ifndef TINYKV_TXN_FUZZ_CORPUS
#error "TINYKV_TXN_FUZZ_CORPUS must point at phase4_txn/fuzz/corpus"
#endif

namespace tinykv::txn {
namespace {

TEST(TxnFuzzCorpus, EveryEntryDecodesOrIsCorruption) {
  EXPECT_GE(tinykv::testing::ReplayFuzzCorpus(std::string(TINYKV_TXN_FUZZ_CORPUS) + "/txn_command",
                                              fuzz::FuzzTxnCommandBytes),
            20u)
      << "the corpus went missing";
}

}  // namespace
}  // namespace tinykv::txn
