// The RPC methods Raft peers use to talk to each other (phase 2 transport).
//
//   raft.Batch (unary, id 300): a batch of encoded raft Messages (codec.h) from one node to
//     another. The receiver queues them for its driver and answers at once.
//   raft.FetchSnapshot (server streaming, id 301): the files of a state machine
//     checkpoint, in chunks of at most kSnapshotChunkBytes (well below the
//     frame limit). A follower that receives MsgSnap fetches the checkpoint
//     named by the snapshot (index, term) from the sender before stepping it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tinykv::raft::internal {

inline constexpr size_t kSnapshotChunkBytes = 1u << 20;
inline constexpr size_t kMaxBatchBytes = 2u << 20;

struct RaftBatchRequest {
  uint64_t from = 0;
  uint64_t to = 0;
  std::vector<std::string> messages;
  template <class A>
  void serialize(A& a) {
    a(from, to, messages);
  }
};

struct RaftBatchResponse {
  uint8_t accepted = 1;
  template <class A>
  void serialize(A& a) {
    a(accepted);
  }
};

struct RaftBatchMethod {
  static constexpr uint32_t kId = 300;
  static constexpr std::string_view kName = "raft.Batch";
  static constexpr bool kIdempotent = false;
  static constexpr bool kServerStreaming = false;
  using Request = RaftBatchRequest;
  using Response = RaftBatchResponse;
};

struct FetchSnapshotRequest {
  uint64_t index = 0;
  uint64_t term = 0;
  template <class A>
  void serialize(A& a) {
    a(index, term);
  }
};

struct SnapshotChunk {
  std::string file;     // relative name inside the checkpoint directory
  uint64_t offset = 0;  // of data within the file
  std::string data;
  uint8_t last = 0;     // 1: the final chunk of this file
  template <class A>
  void serialize(A& a) {
    a(file, offset, data, last);
  }
};

struct FetchSnapshotMethod {
  static constexpr uint32_t kId = 301;
  static constexpr std::string_view kName = "raft.FetchSnapshot";
  static constexpr bool kIdempotent = true;
  static constexpr bool kServerStreaming = true;
  using Request = FetchSnapshotRequest;
  using Response = SnapshotChunk;
};

}  // namespace tinykv::raft::internal
