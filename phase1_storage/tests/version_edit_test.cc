// VersionEdit encoding round-trips; malformed input is Corruption.
#include <gtest/gtest.h>

#include "tinykv/testing/test_util.h"
#include "version_edit.h"

namespace tinykv::storage {
namespace {

std::string IKey(const std::string& user, uint64_t seq, ValueType t) {
  std::string k;
  AppendInternalKey(&k, user, seq, t);
  return k;
}

TEST(VersionEdit, EncodeDecodeRoundTrip) {
  VersionEdit edit;
  edit.SetComparatorName("tinykv.InternalKeyComparator");
  edit.SetLogNumber(7);
  edit.SetNextFile(100);
  edit.SetLastSequence(123456789);
  for (int i = 0; i < 4; ++i) {
    edit.AddFile(i, 10 + i, 4096 * i, IKey("a" + std::to_string(i), 5, kTypeValue),
                 IKey("z" + std::to_string(i), 9, kTypeDeletion));
    edit.RemoveFile(i + 1, 50 + i);
    edit.SetCompactPointer(i, IKey("m", 3, kTypeValue));
  }
  std::string encoded;
  edit.EncodeTo(&encoded);
  VersionEdit parsed;
  ASSERT_OK(parsed.DecodeFrom(encoded));
  std::string encoded2;
  parsed.EncodeTo(&encoded2);
  EXPECT_EQ(encoded, encoded2);
  EXPECT_EQ(edit.DebugString(), parsed.DebugString());
}

TEST(VersionEdit, TruncatedOrUnknownInputIsCorruption) {
  VersionEdit edit;
  edit.SetLogNumber(7);
  edit.AddFile(1, 10, 4096, IKey("a", 5, kTypeValue), IKey("b", 6, kTypeValue));
  std::string encoded;
  edit.EncodeTo(&encoded);
  VersionEdit parsed;
  for (size_t n = 1; n < encoded.size(); ++n) {
    Status s = parsed.DecodeFrom(Slice(encoded.data(), n));
    // Some prefixes end exactly between fields and decode fine; the rest
    // must be Corruption, never a crash.
    if (!s.ok()) {
      EXPECT_TRUE(s.IsCorruption());
    }
  }
  EXPECT_TRUE(parsed.DecodeFrom(Slice("\x63\x01", 2)).IsCorruption());  // tag 99
  // A level beyond the maximum.
  EXPECT_TRUE(parsed.DecodeFrom(Slice("\x06\x63\x01", 3)).IsCorruption());
}

}  // namespace
}  // namespace tinykv::storage
