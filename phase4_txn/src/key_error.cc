// KeyErrorToString: see key_error.h.
#include "tinykv/txn/key_error.h"

#include "tinykv/common/coding.h"

namespace tinykv::txn {

std::string KeyErrorToString(const KeyError& e) {
  const std::string key = " key=" + e.key;
  switch (e.kind) {
    case KeyError::Kind::kLocked:
      return "locked" + key + " primary=" + e.lock.lock.primary +
             " start_ts=" + std::to_string(e.lock.lock.start_ts) +
             " ttl_ms=" + std::to_string(e.lock.lock.ttl_ms);
    case KeyError::Kind::kWriteConflict:
      return "write conflict" + key + " start_ts=" + std::to_string(e.conflict_start_ts) +
             " commit_ts=" + std::to_string(e.conflict_commit_ts);
    case KeyError::Kind::kTxnLockNotFound:
      return "txn lock not found" + key + " start_ts=" + std::to_string(e.conflict_start_ts);
    case KeyError::Kind::kCommitted:
      return "committed" + key + " commit_ts=" + std::to_string(e.conflict_commit_ts);
    case KeyError::Kind::kRolledBack:
      return "rolled back" + key + " start_ts=" + std::to_string(e.conflict_start_ts);
  }
  return "unknown key error" + key;
}

void EncodeKeyError(const KeyError& e, std::string* s) {
  s->push_back(static_cast<char>(e.kind));
  PutLengthPrefixedSlice(s, Slice(e.key));
  PutLengthPrefixedSlice(s, Slice(e.lock.key));
  s->push_back(static_cast<char>(e.lock.lock.kind));
  PutVarint64(s, e.lock.lock.start_ts);
  PutVarint64(s, e.lock.lock.ttl_ms);
  PutLengthPrefixedSlice(s, Slice(e.lock.lock.primary));
  PutVarint64(s, e.conflict_start_ts);
  PutVarint64(s, e.conflict_commit_ts);
}

namespace {

bool GetByte(Slice* in, uint8_t* b) {
  if (in->empty()) return false;
  *b = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  return true;
}

bool GetBoundedBytes(Slice* in, size_t max, std::string* out) {
  Slice v;
  if (!GetLengthPrefixedSlice(in, &v) || v.size() > max) return false;
  *out = v.ToString();
  return true;
}

}  // namespace

bool DecodeKeyError(Slice* in, KeyError* e, size_t max_key_bytes) {
  uint8_t kind = 0, lock_kind = 0;
  if (!GetByte(in, &kind) || kind < 1 || kind > 5) return false;
  e->kind = static_cast<KeyError::Kind>(kind);
  if (!GetBoundedBytes(in, max_key_bytes, &e->key) ||
      !GetBoundedBytes(in, max_key_bytes, &e->lock.key) || !GetByte(in, &lock_kind))
    return false;
  if (lock_kind != 'P' && lock_kind != 'D' && lock_kind != 'L') return false;
  e->lock.lock.kind = static_cast<MutationKind>(lock_kind);
  return GetVarint64(in, &e->lock.lock.start_ts) && GetVarint64(in, &e->lock.lock.ttl_ms) &&
         GetBoundedBytes(in, max_key_bytes, &e->lock.lock.primary) &&
         GetVarint64(in, &e->conflict_start_ts) && GetVarint64(in, &e->conflict_commit_ts);
}

Status KeyErrorStatus(const KeyError& e) {
  std::string detail(1, static_cast<char>(StatusDetailKind::kKeyError));
  EncodeKeyError(e, &detail);
  return Status::Conflict(KeyErrorToString(e)).WithDetail(std::move(detail));
}

std::optional<KeyError> KeyErrorOf(const Status& s) {
  std::string_view d = s.detail();
  if (d.empty() || static_cast<uint8_t>(d[0]) != static_cast<uint8_t>(StatusDetailKind::kKeyError))
    return std::nullopt;
  Slice in(d.data() + 1, d.size() - 1);
  KeyError e;
  // Keys of a detail are bounded like a command's (txn_command.h kMaxKeyBytes).
  if (!DecodeKeyError(&in, &e, 8 << 10) || !in.empty()) return std::nullopt;
  return e;
}

}  // namespace tinykv::txn
