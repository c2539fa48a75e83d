#include "dbformat.h"

#include <cstring>

namespace tinykv::storage {

namespace {
class BytewiseComparatorImpl final : public Comparator {
 public:
  int Compare(Slice a, Slice b) const override { return a.compare(b); }
  const char* Name() const override { return "tinykv.BytewiseComparator"; }
  void FindShortestSeparator(std::string* start, Slice limit) const override {
    const size_t min_length = std::min(start->size(), limit.size());
    size_t diff_index = 0;
    while (diff_index < min_length && (*start)[diff_index] == limit[diff_index]) ++diff_index;
    if (diff_index >= min_length) return;  // one is a prefix of the other
    const auto diff_byte = static_cast<uint8_t>((*start)[diff_index]);
    if (diff_byte < 0xff && diff_byte + 1 < static_cast<uint8_t>(limit[diff_index])) {
      (*start)[diff_index]++;
      start->resize(diff_index + 1);
    }
  }
  void FindShortSuccessor(std::string* key) const override {
    for (size_t i = 0; i < key->size(); ++i) {
      const auto byte = static_cast<uint8_t>((*key)[i]);
      if (byte != 0xff) {
        (*key)[i] = static_cast<char>(byte + 1);
        key->resize(i + 1);
        return;
      }
    }
  }
};
}  // namespace

const Comparator* BytewiseComparator() {
  static const BytewiseComparatorImpl kImpl;
  return &kImpl;
}

const InternalKeyComparator* DefaultInternalComparator() {
  static const InternalKeyComparator kImpl;
  return &kImpl;
}

void InternalKeyComparator::FindShortestSeparator(std::string* start, Slice limit) const {
  Slice user_start = ExtractUserKey(*start);
  Slice user_limit = ExtractUserKey(limit);
  std::string tmp(user_start.data(), user_start.size());
  BytewiseComparator()->FindShortestSeparator(&tmp, user_limit);
  if (tmp.size() < user_start.size() && user_start.compare(tmp) < 0) {
    // The user key became shorter but larger: give it the largest tag so it
    // sorts before every real entry with that user key.
    PutFixed64(&tmp, PackSequenceAndType(kMaxSequenceNumber, kValueTypeForSeek));
    start->swap(tmp);
  }
}

void InternalKeyComparator::FindShortSuccessor(std::string* key) const {
  Slice user_key = ExtractUserKey(*key);
  std::string tmp(user_key.data(), user_key.size());
  BytewiseComparator()->FindShortSuccessor(&tmp);
  if (tmp.size() < user_key.size() && user_key.compare(tmp) < 0) {
    PutFixed64(&tmp, PackSequenceAndType(kMaxSequenceNumber, kValueTypeForSeek));
    key->swap(tmp);
  }
}

LookupKey::LookupKey(Slice user_key, uint64_t sequence) {
  const size_t usize = user_key.size();
  const size_t needed = usize + 13;  // conservative: varint32 + key + tag
  char* dst = needed <= sizeof(space_) ? space_ : new char[needed];
  start_ = dst;
  dst = EncodeVarint32(dst, static_cast<uint32_t>(usize + 8));
  kstart_ = dst;
  if (usize > 0) std::memcpy(dst, user_key.data(), usize);
  dst += usize;
  EncodeFixed64(dst, PackSequenceAndType(sequence, kValueTypeForSeek));
  dst += 8;
  end_ = dst;
}

}  // namespace tinykv::storage
