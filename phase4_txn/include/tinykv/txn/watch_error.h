// WatchError: why a watch stream ended, as typed fields a client reads
// (the message is for humans), carried as a Status detail (status.h
// StatusDetailKind::kWatch).
//
//   kCompacted  the watch asked for history that GC removed: every event at
//               or below `revision` (the GC safe point, etcd's compact
//               revision) may be gone, so a watch can start at revision + 1
//               at the earliest. InvalidArgument: retrying cannot help.
//   kResume     the server dropped the stream but the watch can go on from
//               `revision` (a watcher that fell behind its buffer limit,
//               watch_hub.h). ResourceExhausted: the client watches again
//               from there, on the same or another member.
//
// A stream that ends with NotLeader (a leader change), Unavailable or
// Cancelled (a server shutting down) carries no WatchError: the client
// resumes from the revision after the last one it received.
//
// Detail grammar: byte kind (=3) | byte version (=1) | byte error kind
// (1 compacted, 2 resume) | varint64 revision. Decoders reject anything
// else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tinykv/common/status.h"

namespace tinykv::txn {

struct WatchError {
  enum class Kind : uint8_t { kCompacted = 1, kResume = 2 };
  Kind kind = Kind::kCompacted;
  uint64_t revision = 0;
  friend bool operator==(const WatchError&, const WatchError&) = default;
};

std::string EncodeWatchError(const WatchError& e);
std::optional<WatchError> DecodeWatchError(std::string_view detail);
// The WatchError a Status carries, if its detail is a well-formed one.
std::optional<WatchError> WatchErrorOf(const Status& s);

// InvalidArgument("watch: required revision W has been compacted (compact
// revision C) ...") with kCompacted{C}.
Status CompactedError(uint64_t wanted, uint64_t compact_revision);
// A read (get, scan, a transaction's snapshot) at revision W below the
// compact revision C: InvalidArgument("required revision W has been
// compacted (compact revision C; read at C or later)"), kCompacted{C}. A read
// at C itself is whole: compaction keeps, per key, the version a read at C
// sees.
Status ReadCompactedError(uint64_t wanted, uint64_t compact_revision);
// ResourceExhausted("watch: ... resume from revision R") with kResume{R}.
Status ResumeError(std::string_view why, uint64_t resume_revision);

}  // namespace tinykv::txn
