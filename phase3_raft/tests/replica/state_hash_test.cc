// StateHasher: stable (golden values), its fields framed and ordered, equal
// to its one-pass definition however the fields split the stream.
#include "tinykv/replica/state_hash.h"

#include <gtest/gtest.h>

#include "tinykv/common/coding.h"
#include "tinykv/common/random.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::replica {
namespace {

uint64_t HashOf(std::initializer_list<std::string> fields) {
  StateHasher h;
  for (const std::string& f : fields) h.AddField(Slice(f));
  return h.Finish();
}

// Replicas of different versions compare these values: a change here is a
// wire-format change (doc/replica_protocol.md "State hash check").
TEST(StateHasher, GoldenValues) {
  EXPECT_EQ(StateHasher().Finish(), 0xef46db3751d8e999ull);
  EXPECT_EQ(HashOf({""}), 0x14287f2b966c65e1ull);
  EXPECT_EQ(HashOf({"key", "value"}), 0x413534f43cba23f6ull);
  StateHasher h;
  h.AddFixed64(42);
  h.AddField(Slice(std::string(1000, 'x')));
  EXPECT_EQ(h.Finish(), 0x5b78b2deb30a7786ull);
}

// The hash of the framed byte stream in one pass, as state_hash.h specifies
// it: the hasher must give the same whatever the field sizes (its 8-byte
// buffer is crossed at every offset).
uint64_t Reference(const std::string& s) {
  constexpr uint64_t p1 = 0x9E3779B185EBCA87ull, p2 = 0xC2B2AE3D27D4EB4Full,
                     p3 = 0x165667B19E3779F9ull, p4 = 0x85EBCA77C2B2AE63ull,
                     p5 = 0x27D4EB2F165667C5ull;
  auto rotl = [](uint64_t x, int r) { return (x << r) | (x >> (64 - r)); };
  uint64_t acc = p5;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    acc ^= rotl(DecodeFixed64(s.data() + i) * p2, 31) * p1;
    acc = rotl(acc, 27) * p1 + p4;
  }
  for (; i < s.size(); ++i) {
    acc ^= static_cast<uint64_t>(static_cast<uint8_t>(s[i])) * p5;
    acc = rotl(acc, 11) * p1;
  }
  acc ^= s.size() * p1;
  acc ^= acc >> 33;
  acc *= p2;
  acc ^= acc >> 29;
  acc *= p3;
  acc ^= acc >> 32;
  return acc;
}

TEST(StateHasher, MatchesTheOnePassDefinitionForEveryFieldSplit) {
  Random rnd(TestSeed());
  for (int round = 0; round < 200; ++round) {
    StateHasher h;
    std::string stream;
    const int fields = static_cast<int>(rnd.Uniform(6));
    for (int f = 0; f < fields; ++f) {
      std::string field(rnd.Uniform(40), '\0');
      for (char& ch : field) ch = static_cast<char>(rnd.Uniform(256));
      h.AddField(Slice(field));
      PutLengthPrefixedSlice(&stream, Slice(field));
      if (rnd.OneIn(3)) {
        const uint64_t v = rnd.Next();
        h.AddFixed64(v);
        PutFixed64(&stream, v);
      }
    }
    ASSERT_EQ(h.Finish(), Reference(stream)) << "seed " << TestSeed() << " round " << round;
  }
}

TEST(StateHasher, FieldsAreFramedAndOrdered) {
  EXPECT_NE(HashOf({"ab", "c"}), HashOf({"a", "bc"}));
  EXPECT_NE(HashOf({"a", "b"}), HashOf({"b", "a"}));
  EXPECT_NE(HashOf({"a"}), HashOf({"a", ""}));
  EXPECT_EQ(HashOf({"a", "b"}), HashOf({"a", "b"}));
  // One bit anywhere changes it.
  const std::string text = "0123456789abcdefghijklmnopqrstuvwxyz";
  const uint64_t base = HashOf({text});
  for (size_t i = 0; i < text.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string t = text;
      t[i] = static_cast<char>(t[i] ^ (1 << bit));
      EXPECT_NE(HashOf({t}), base) << "byte " << i << " bit " << bit;
    }
  }
}

}  // namespace
}  // namespace tinykv::replica
