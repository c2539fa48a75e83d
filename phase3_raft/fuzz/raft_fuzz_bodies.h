// The bodies of the two Raft fuzz targets, shared by the libFuzzer binaries
// (codec_fuzzer.cc, step_fuzzer.cc; clang, TINYKV_BUILD_FUZZ) and the corpus
// replay test in the normal build (tests/fuzz_corpus_test.cc,
// RaftFuzzCorpus.*). Each crashes (TINYKV_CHECK) on a broken invariant;
// any other abort is a bug in the code under test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tinykv/raft/message.h"

namespace tinykv::raft::fuzz {

// Decodes `data` with every decoder of codec.h (DecodeMessage,
// DecodeConfChange, and the prefix decoders for Entry, HardState,
// ConfState and SnapshotMetadata). A failure must be Corruption; whatever
// decodes must re-encode to an encoding of size EncodedMessageSize/
// EncodedEntrySize that decodes to the same value. Decoded messages and
// configurations also go through CheckMessageShape / CheckConfState.
void FuzzCodecBytes(const uint8_t* data, size_t size);

// Builds node 1 of a 3-node group (optionally with learner 4) with a short
// log, brings it into the role the first byte selects (follower, candidate,
// leader), then runs the rest of `data` as a script of ticks, proposals,
// reads, transfers, transport reports and encoded messages (decoded with
// DecodeMessage, optionally re-addressed to a member so the fuzzer reaches
// the state machine quickly) fed to RawNode::Step, persisting every Ready.
// RawNode must never abort, whatever the messages say.
void FuzzStepBytes(const uint8_t* data, size_t size);

// A message of type t from `from` in `term` to the fuzzed node (node 1).
Message MsgToNode1(MessageType t, uint64_t from, uint64_t term);

// Input for FuzzStepBytes: the `setup` byte, then each message as a
// "message" command that re-addresses it to node 1. Used to build the corpus.
std::string StepScript(uint8_t setup, const std::vector<Message>& msgs);

}  // namespace tinykv::raft::fuzz
