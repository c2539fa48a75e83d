// The MVCC key layout: see mvcc_key.h.
#include "tinykv/txn/mvcc_key.h"

#include <algorithm>

namespace tinykv::txn {
namespace {

constexpr size_t kGroup = 8;
constexpr uint8_t kMarkerFull = 0xFF;  // a full group, more follow

uint64_t GetBigEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

std::string Versioned(char family, Slice user_key, uint64_t ts) {
  std::string k(1, family);
  EncodeMemcomparable(user_key, &k);
  PutBigEndian64(&k, ~ts);
  return k;
}

}  // namespace

void PutBigEndian64(std::string* dst, uint64_t v) {
  for (int i = 7; i >= 0; --i) dst->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void EncodeMemcomparable(Slice key, std::string* dst) {
  dst->reserve(dst->size() + (key.size() / kGroup + 1) * (kGroup + 1));
  size_t i = 0;
  while (true) {
    const size_t n = std::min(kGroup, key.size() - i);
    dst->append(key.data() + i, n);
    dst->append(kGroup - n, '\0');
    dst->push_back(static_cast<char>(kMarkerFull - (kGroup - n)));
    i += n;
    if (n < kGroup) break;
  }
}

bool DecodeMemcomparable(Slice* in, std::string* key) {
  key->clear();
  while (true) {
    if (in->size() < kGroup + 1) return false;
    const uint8_t marker = static_cast<uint8_t>((*in)[kGroup]);
    const size_t pad = kMarkerFull - marker;
    if (pad > kGroup) return false;
    for (size_t j = kGroup - pad; j < kGroup; ++j)
      if ((*in)[j] != '\0') return false;  // padding must be zeros: one encoding per key
    key->append(in->data(), kGroup - pad);
    in->remove_prefix(kGroup + 1);
    if (pad != 0) return true;
  }
}

std::string LockKey(Slice user_key) {
  std::string k(1, kLockPrefix);
  EncodeMemcomparable(user_key, &k);
  return k;
}

std::string WriteKey(Slice user_key, uint64_t commit_ts) {
  return Versioned(kWritePrefix, user_key, commit_ts);
}

std::string DataKey(Slice user_key, uint64_t start_ts) {
  return Versioned(kDataPrefix, user_key, start_ts);
}

std::string FamilyStart(char family, Slice user_key) {
  std::string k(1, family);
  EncodeMemcomparable(user_key, &k);
  return k;
}

std::optional<VersionedKey> DecodeVersionedKey(Slice engine_key, char family) {
  if (engine_key.empty() || engine_key[0] != family) return std::nullopt;
  engine_key.remove_prefix(1);
  VersionedKey out;
  if (!DecodeMemcomparable(&engine_key, &out.user_key) || engine_key.size() != 8)
    return std::nullopt;
  out.ts = ~GetBigEndian64(engine_key.data());
  return out;
}

std::optional<std::string> DecodeLockKey(Slice engine_key) {
  if (engine_key.empty() || engine_key[0] != kLockPrefix) return std::nullopt;
  engine_key.remove_prefix(1);
  std::string key;
  if (!DecodeMemcomparable(&engine_key, &key) || !engine_key.empty()) return std::nullopt;
  return key;
}

}  // namespace tinykv::txn
