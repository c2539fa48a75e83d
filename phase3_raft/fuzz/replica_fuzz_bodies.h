// The bodies of the replication layer's fuzz targets, shared by the libFuzzer
// binaries (log_segment_fuzzer.cc, peer_protocol_fuzzer.cc; clang,
// TINYKV_BUILD_FUZZ) and the corpus replay test in the normal build
// (tests/replica/fuzz_corpus_test.cc, ReplicaFuzzCorpus.*). Each crashes
// (TINYKV_CHECK) on a broken invariant; any other abort is a bug in the code
// under test. Both write files, into a scratch directory of their own
// (/dev/shm when there is one), removed at exit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tinykv::replica::fuzz {

// Writes one to three Raft log segments (doc/log_format.md) built from
// `data` into an empty log directory and opens it with DiskStorage, as a
// node does at start. Input grammar, after a flags byte f:
//   * f & 4 == 0 (raw): the segments' bytes as they are; each but the last
//     is preceded by its length (u16, little-endian).
//   * f & 4 (framed): records (type:u8, length:varint, payload) that the
//     harness frames with valid checksums, so inputs reach the record
//     decoders and the replay rules; a type byte 0 starts the next segment.
//     f & 8: the older v1 record format (no segment magic); f >> 4, if
//     non-zero, cuts that many bytes off the last segment (a torn tail).
// Segments: 1 + f % 3. Open must succeed or fail with Corruption. What opens
// must be consistent (indexes, terms, entries readable); RawNode::Create on
// it must succeed or fail with a Status; if it succeeds, the node
// campaigns, its Readies are saved, and the log reopens to the same state.
void FuzzLogSegmentBytes(const uint8_t* data, size_t size);

// One raw log input (the grammar above): `segments` as raw bytes.
std::string RawLogInput(const std::vector<std::string>& segments);

// Decodes `data` as every peer RPC payload (peer_protocol.h: PeerHello,
// RaftBatchRequest and the Raft messages and entry payloads inside it,
// RaftBatchResponse, FetchSnapshotRequest, SnapshotChunk) and with the
// decoders of what Raft entries carry (kv_command.h, membership.h). Whatever
// decodes must re-encode to the same bytes (cereal payloads) or to a
// canonical form that decodes to the same value. Then reads `data` as a
// stream of SnapshotChunks, one after the other, and feeds them to the
// SnapshotReceiver of raft.FetchSnapshot: what it accepts must end up on
// disk exactly, inside its directory and nowhere else.
void FuzzPeerProtocolBytes(const uint8_t* data, size_t size);

}  // namespace tinykv::replica::fuzz
