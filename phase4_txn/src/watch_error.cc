// WatchError: see watch_error.h.
#include "tinykv/txn/watch_error.h"

#include "tinykv/common/bytes.h"
#include "tinykv/common/coding.h"

namespace tinykv::txn {
namespace {
constexpr uint8_t kVersion = 1;
}  // namespace

std::string EncodeWatchError(const WatchError& e) {
  std::string s;
  s.push_back(static_cast<char>(StatusDetailKind::kWatch));
  s.push_back(static_cast<char>(kVersion));
  s.push_back(static_cast<char>(e.kind));
  PutVarint64(&s, e.revision);
  return s;
}

std::optional<WatchError> DecodeWatchError(std::string_view detail) {
  Slice in(detail.data(), detail.size());
  if (in.size() < 3 ||
      static_cast<uint8_t>(in[0]) != static_cast<uint8_t>(StatusDetailKind::kWatch) ||
      static_cast<uint8_t>(in[1]) != kVersion) {
    return std::nullopt;
  }
  const uint8_t kind = static_cast<uint8_t>(in[2]);
  if (kind != 1 && kind != 2) return std::nullopt;
  in.remove_prefix(3);
  WatchError e;
  e.kind = static_cast<WatchError::Kind>(kind);
  if (!GetVarint64(&in, &e.revision) || !in.empty()) return std::nullopt;
  return e;
}

std::optional<WatchError> WatchErrorOf(const Status& s) {
  if (s.ok() || s.detail().empty()) return std::nullopt;
  return DecodeWatchError(s.detail());
}

Status CompactedError(uint64_t wanted, uint64_t compact_revision) {
  return Status::InvalidArgument("watch: required revision " + std::to_string(wanted) +
                                 " has been compacted (compact revision " +
                                 std::to_string(compact_revision) + "; watch from " +
                                 std::to_string(compact_revision + 1) + " or later)")
      .WithDetail(EncodeWatchError(WatchError{WatchError::Kind::kCompacted, compact_revision}));
}

Status ReadCompactedError(uint64_t wanted, uint64_t compact_revision) {
  return Status::InvalidArgument("required revision " + std::to_string(wanted) +
                                 " has been compacted (compact revision " +
                                 std::to_string(compact_revision) + "; read at " +
                                 std::to_string(compact_revision) + " or later)")
      .WithDetail(EncodeWatchError(WatchError{WatchError::Kind::kCompacted, compact_revision}));
}

Status ResumeError(std::string_view why, uint64_t resume_revision) {
  return Status::ResourceExhausted("watch: " + std::string(why) + "; resume from revision " +
                                   std::to_string(resume_revision))
      .WithDetail(EncodeWatchError(WatchError{WatchError::Kind::kResume, resume_revision}));
}

}  // namespace tinykv::txn
