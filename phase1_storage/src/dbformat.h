// Internal keys: how user keys are versioned inside the engine.
//
// An internal key is  user_key | fixed64(sequence << 8 | type).
// Internal keys order by user key ascending (bytewise), then by sequence
// descending, then by type descending, so the newest version of a key comes
// first and a lookup for (key, snapshot_seq) lands on the newest visible one.
#pragma once

#include <cstdint>
#include <string>

#include "tinykv/common/bytes.h"
#include "tinykv/common/coding.h"

namespace tinykv::storage {

enum ValueType : unsigned char {
  kTypeDeletion = 0x0,
  kTypeValue = 0x1,
};
// Seek targets use the highest type so that they sort before every entry with
// the same user key and sequence.
inline constexpr ValueType kValueTypeForSeek = kTypeValue;

// Sequence numbers use 56 bits so that they pack with the type into 8 bytes.
inline constexpr uint64_t kMaxSequenceNumber = (uint64_t{1} << 56) - 1;

inline uint64_t PackSequenceAndType(uint64_t seq, ValueType t) { return (seq << 8) | t; }

struct ParsedInternalKey {
  Slice user_key;
  uint64_t sequence = 0;
  ValueType type = kTypeValue;
};

inline size_t InternalKeyEncodingLength(const ParsedInternalKey& k) {
  return k.user_key.size() + 8;
}
inline void AppendInternalKey(std::string* dst, Slice user_key, uint64_t seq, ValueType t) {
  dst->append(user_key.data(), user_key.size());
  PutFixed64(dst, PackSequenceAndType(seq, t));
}
// false if the key is malformed (shorter than 8 bytes or an unknown type).
inline bool ParseInternalKey(Slice internal_key, ParsedInternalKey* result) {
  const size_t n = internal_key.size();
  if (n < 8) return false;
  const uint64_t num = DecodeFixed64(internal_key.data() + n - 8);
  const unsigned char c = num & 0xff;
  result->sequence = num >> 8;
  result->type = static_cast<ValueType>(c);
  result->user_key = Slice(internal_key.data(), n - 8);
  return c <= static_cast<unsigned char>(kTypeValue);
}
// REQUIRES: internal_key.size() >= 8.
inline Slice ExtractUserKey(Slice internal_key) {
  return Slice(internal_key.data(), internal_key.size() - 8);
}
inline uint64_t ExtractTag(Slice internal_key) {
  return DecodeFixed64(internal_key.data() + internal_key.size() - 8);
}

// Orders keys. Implementations are stateless and thread-safe.
class Comparator {
 public:
  virtual ~Comparator() = default;
  virtual int Compare(Slice a, Slice b) const = 0;
  virtual const char* Name() const = 0;
  // Shortens *start to a key in [*start, limit) (index separators).
  virtual void FindShortestSeparator(std::string* start, Slice limit) const = 0;
  // Shortens *key to a key >= *key.
  virtual void FindShortSuccessor(std::string* key) const = 0;
};

// Unsigned bytewise order of user keys.
const Comparator* BytewiseComparator();

// Orders internal keys as described at the top of this file.
class InternalKeyComparator final : public Comparator {
 public:
  int Compare(Slice a, Slice b) const override {
    int r = ExtractUserKey(a).compare(ExtractUserKey(b));
    if (r == 0) {
      const uint64_t anum = ExtractTag(a);
      const uint64_t bnum = ExtractTag(b);
      if (anum > bnum) {
        r = -1;
      } else if (anum < bnum) {
        r = +1;
      }
    }
    return r;
  }
  const char* Name() const override { return "tinykv.InternalKeyComparator"; }
  void FindShortestSeparator(std::string* start, Slice limit) const override;
  void FindShortSuccessor(std::string* key) const override;
};

const InternalKeyComparator* DefaultInternalComparator();

// A key to look up in a memtable or table: internal key for (user_key, seq)
// with kValueTypeForSeek, prefixed with its varint32 length for the memtable.
class LookupKey {
 public:
  LookupKey(Slice user_key, uint64_t sequence);
  LookupKey(const LookupKey&) = delete;
  LookupKey& operator=(const LookupKey&) = delete;
  ~LookupKey() {
    if (start_ != space_) delete[] start_;
  }
  Slice memtable_key() const { return Slice(start_, static_cast<size_t>(end_ - start_)); }
  Slice internal_key() const { return Slice(kstart_, static_cast<size_t>(end_ - kstart_)); }
  Slice user_key() const { return Slice(kstart_, static_cast<size_t>(end_ - kstart_ - 8)); }

 private:
  const char* start_;
  const char* kstart_;
  const char* end_;
  char space_[200];
};

}  // namespace tinykv::storage
