// Lock and write records: see mvcc_record.h.
#include "tinykv/txn/mvcc_record.h"

#include "tinykv/common/coding.h"

namespace tinykv::txn {

std::string EncodeLock(const Lock& lock) {
  std::string s(1, static_cast<char>(lock.kind));
  PutVarint64(&s, lock.start_ts);
  PutVarint64(&s, lock.ttl_ms);
  PutLengthPrefixedSlice(&s, Slice(lock.primary));
  return s;
}

std::optional<Lock> DecodeLock(Slice in) {
  if (in.empty()) return std::nullopt;
  Lock l;
  const uint8_t kind = static_cast<uint8_t>(in[0]);
  if (kind != 'P' && kind != 'D' && kind != 'L') return std::nullopt;
  l.kind = static_cast<MutationKind>(kind);
  in.remove_prefix(1);
  Slice primary;
  if (!GetVarint64(&in, &l.start_ts) || !GetVarint64(&in, &l.ttl_ms) ||
      !GetLengthPrefixedSlice(&in, &primary) || !in.empty())
    return std::nullopt;
  l.primary = primary.ToString();
  return l;
}

std::string EncodeWrite(const Write& write) {
  std::string s(1, static_cast<char>(write.kind));
  PutVarint64(&s, write.start_ts);
  if (write.value) PutLengthPrefixedSlice(&s, Slice(*write.value));
  return s;
}

std::optional<Write> DecodeWrite(Slice in) {
  if (in.empty()) return std::nullopt;
  Write w;
  const uint8_t kind = static_cast<uint8_t>(in[0]);
  if (kind != 'P' && kind != 'D' && kind != 'R' && kind != 'L') return std::nullopt;
  w.kind = static_cast<WriteKind>(kind);
  in.remove_prefix(1);
  if (!GetVarint64(&in, &w.start_ts)) return std::nullopt;
  if (in.empty()) return w;
  Slice value;
  if (w.kind != WriteKind::kPut || !GetLengthPrefixedSlice(&in, &value) || !in.empty())
    return std::nullopt;
  w.value = value.ToString();
  return w;
}

WriteKind CommittedKind(MutationKind kind) {
  switch (kind) {
    case MutationKind::kPut:
      return WriteKind::kPut;
    case MutationKind::kDelete:
      return WriteKind::kDelete;
    case MutationKind::kLock:
      return WriteKind::kLock;
  }
  return WriteKind::kLock;  // unreachable: kind is one of the three
}

}  // namespace tinykv::txn
