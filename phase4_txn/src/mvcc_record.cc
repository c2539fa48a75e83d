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

namespace {

// The tag of a put record that carries its key's metadata.
constexpr char kPutWithMeta = 'p';

}  // namespace

std::string EncodeWrite(const Write& write) {
  const bool with_meta = write.kind == WriteKind::kPut && write.meta;
  std::string s(1, with_meta ? kPutWithMeta : static_cast<char>(write.kind));
  PutVarint64(&s, write.start_ts);
  if (with_meta) {
    PutVarint64(&s, write.meta->create_ts);
    PutVarint64(&s, write.meta->version);
    PutVarint64(&s, write.meta->lease);
  }
  if (write.value) PutLengthPrefixedSlice(&s, Slice(*write.value));
  return s;
}

std::optional<Write> DecodeWrite(Slice in) {
  if (in.empty()) return std::nullopt;
  Write w;
  uint8_t kind = static_cast<uint8_t>(in[0]);
  const bool with_meta = kind == kPutWithMeta;
  if (with_meta) kind = 'P';
  if (kind != 'P' && kind != 'D' && kind != 'R' && kind != 'L') return std::nullopt;
  w.kind = static_cast<WriteKind>(kind);
  in.remove_prefix(1);
  if (!GetVarint64(&in, &w.start_ts)) return std::nullopt;
  if (with_meta) {
    PutMeta m;
    if (!GetVarint64(&in, &m.create_ts) || !GetVarint64(&in, &m.version) ||
        !GetVarint64(&in, &m.lease))
      return std::nullopt;
    w.meta = m;
  }
  if (in.empty()) return w;
  Slice value;
  if (w.kind != WriteKind::kPut || !GetLengthPrefixedSlice(&in, &value) || !in.empty())
    return std::nullopt;
  w.value = value.ToString();
  return w;
}

KeyMeta KeyMetaOf(uint64_t commit_ts, const Write& write) {
  if (!write.meta) return KeyMeta{commit_ts, commit_ts, 1, 0};
  return KeyMeta{write.meta->create_ts, commit_ts, write.meta->version, write.meta->lease};
}

PutMeta NextPutMeta(const Write* previous, uint64_t previous_commit_ts, uint64_t commit_ts,
                    uint64_t lease) {
  if (previous == nullptr || previous->kind != WriteKind::kPut) return PutMeta{commit_ts, 1, lease};
  const KeyMeta before = KeyMetaOf(previous_commit_ts, *previous);
  return PutMeta{before.create_ts, before.version + 1, lease};
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
