// The body of the transaction command fuzz target, shared by the libFuzzer
// binary (txn_command_fuzzer.cc; clang, TINYKV_BUILD_FUZZ) and the corpus
// replay test in the normal build (tests/fuzz_corpus_test.cc,
// TxnFuzzCorpus.*). Crashes (TINYKV_CHECK) on a broken invariant.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tinykv::txn::fuzz {

// Decodes `data` as a Raft entry of the MVCC state machine (DecodeTxnCommand:
// what every replica applies, whoever proposed it) and as a command result
// (DecodeTxnCommandResult: what a proposer reads back). A failure must be
// Corruption; ValidateTxnCommand of a decoded command must be OK or
// InvalidArgument; whatever decodes must survive its own round trip
// (encode, decode again: the same value).
void FuzzTxnCommandBytes(const uint8_t* data, size_t size);

}  // namespace tinykv::txn::fuzz
