// Replays the replication layer's fuzz corpora
// (phase3_raft/fuzz/corpus/{log_segment,peer_protocol}) through the fuzzers'
// bodies in the normal build, so every input a fuzzer ever kept keeps
// passing without clang or libFuzzer.
#include "tinykv/testing/fuzz_corpus.h"

#include <gtest/gtest.h>

#include "replica_fuzz_bodies.h"

#ifndef TINYKV_REPLICA_FUZZ_CORPUS
#error "TINYKV_REPLICA_FUZZ_CORPUS must point at phase3_raft/fuzz/corpus"
#endif

namespace tinykv::replica {
namespace {

size_t Replay(const std::string& sub, void (*body)(const uint8_t*, size_t)) {
  return tinykv::testing::ReplayFuzzCorpus(std::string(TINYKV_REPLICA_FUZZ_CORPUS) + "/" + sub,
                                           body);
}

TEST(ReplicaFuzzCorpus, LogSegmentsOpenOrFailWithCorruption) {
  EXPECT_GE(Replay("log_segment", fuzz::FuzzLogSegmentBytes), 10u) << "the corpus went missing";
}

TEST(ReplicaFuzzCorpus, PeerPayloadsDecodeAndSnapshotChunksStayInTheirDirectory) {
  EXPECT_GE(Replay("peer_protocol", fuzz::FuzzPeerProtocolBytes), 10u) << "the corpus went missing";
}

}  // namespace
}  // namespace tinykv::replica
