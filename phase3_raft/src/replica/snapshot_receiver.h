// SnapshotReceiver: writes the files of a snapshot that arrive as
// SnapshotChunks (peer_protocol.h, raft.FetchSnapshot) into a new directory.
// The chunks come from a peer, so they are input: a file name is one plain
// path component (non-empty, no '/' or NUL, not "." or ".."), so nothing is
// ever written outside the directory; each file's chunks arrive in order
// (`offset` is where the previous one ended) and end with one marked last,
// after which the file is synced and closed and may not be sent again.
// Anything else is Corruption, and the caller drops the directory.
//
// Thread safety: one caller at a time (the stream's callbacks run in order).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "peer_protocol.h"
#include "tinykv/common/env.h"
#include "tinykv/common/status.h"

namespace tinykv::replica::internal {

class SnapshotReceiver {
 public:
  // `env` must outlive the receiver.
  SnapshotReceiver(Env* env, std::filesystem::path into) : env_(env), into_(std::move(into)) {}

  // Makes `into` an empty directory (removing what an earlier attempt left).
  [[nodiscard]] Status Start();
  // Appends one chunk to its file (created on its first chunk).
  [[nodiscard]] Status Accept(const SnapshotChunk& c);
  // OK once every file that was started has ended with its last chunk.
  [[nodiscard]] Status Finish() const;

  // Whether `name` may name a snapshot file: one plain path component.
  static bool IsValidFileName(const std::string& name);

 private:
  struct Incoming {
    std::unique_ptr<WritableFile> out;
    uint64_t written = 0;  // where its next chunk must start
    bool done = false;
  };

  Env* const env_;
  const std::filesystem::path into_;
  std::map<std::string, Incoming> files_;
};

}  // namespace tinykv::replica::internal
