// The MVCC key layout: memcomparable keys keep order and are prefix-free,
// versions of a key sort newest first, and the worked example of
// doc/mvcc_format.md holds byte for byte.
#include "tinykv/txn/mvcc_key.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "tinykv/common/random.h"
#include "tinykv/testing/test_util.h"
#include "tinykv/txn/mvcc_record.h"
#include "tinykv/txn/timestamp.h"

namespace tinykv::txn {
namespace {

using namespace std::string_literals;

std::string Mem(const std::string& k) {
  std::string s;
  EncodeMemcomparable(Slice(k), &s);
  return s;
}

std::string Hex(const std::string& s) { return Slice(s).ToHex(); }

TEST(MvccKey, MemcomparableGroupsOfEightWithPadMarkers) {
  EXPECT_EQ(Hex(Mem("")), "0000000000000000f7");
  EXPECT_EQ(Hex(Mem("a")), "6100000000000000f8");
  EXPECT_EQ(Hex(Mem("12345678")), "3132333435363738ff0000000000000000f7");
  EXPECT_EQ(Hex(Mem("123456789")), "3132333435363738ff3900000000000000f8");
}

TEST(MvccKey, MemcomparableKeepsOrderAndIsPrefixFree) {
  Random rnd(::tinykv::testing::SeedForTest());
  std::vector<std::string> keys = {"",
                                   "\0"s,
                                   "\0\0"s,
                                   "a",
                                   "a\0"s,
                                   "aa",
                                   "b",
                                   std::string(8, 'a'),
                                   std::string(8, 'a') + "\0"s,
                                   std::string(9, 'a'),
                                   "\xff",
                                   "\xff\xff"};
  for (int i = 0; i < 300; ++i) keys.push_back(::tinykv::testing::RandomKey(&rnd, 20));
  for (const auto& a : keys) {
    const std::string ma = Mem(a);
    Slice in(ma);
    std::string back;
    ASSERT_TRUE(DecodeMemcomparable(&in, &back));
    EXPECT_TRUE(in.empty());
    EXPECT_EQ(back, a);
    for (const auto& b : keys) {
      const std::string mb = Mem(b);
      EXPECT_EQ(a < b, ma < mb) << Hex(a) << " vs " << Hex(b);
      if (a != b) {
        EXPECT_FALSE(Slice(mb).starts_with(Slice(ma))) << Hex(a) << " prefixes " << Hex(b);
      }
      // Any suffix after mem() keeps the key order (what versions rely on).
      if (a < b) {
        EXPECT_LT(ma + "\xff\xff", mb + "\x00"s);
      }
    }
  }
}

TEST(MvccKey, VersionsOfAKeySortNewestFirstAndBeforeTheNextKey) {
  const std::vector<std::string> ordered = {
      WriteKey(Slice("a"), 30), WriteKey(Slice("a"), 20), WriteKey(Slice("a"), 1),
      WriteKey(Slice("a\0"s), kMaxTs), WriteKey(Slice("ab"), 5)};
  EXPECT_TRUE(std::is_sorted(ordered.begin(), ordered.end()));
  auto vk = DecodeVersionedKey(Slice(WriteKey(Slice("a\0b"s), 77)), kWritePrefix);
  ASSERT_TRUE(vk);
  EXPECT_EQ(vk->user_key, "a\0b"s);
  EXPECT_EQ(vk->ts, 77u);
  EXPECT_FALSE(DecodeVersionedKey(Slice(DataKey(Slice("a"), 1)), kWritePrefix));
  EXPECT_EQ(DecodeLockKey(Slice(LockKey(Slice("xyz")))), "xyz");
}

TEST(MvccKey, DecodersRefuseMalformedKeys) {
  std::string k = LockKey(Slice("a"));
  EXPECT_FALSE(DecodeLockKey(Slice(k.substr(0, k.size() - 1))));
  EXPECT_FALSE(DecodeLockKey(Slice(k + "x")));
  std::string bad_marker = k;
  bad_marker.back() = '\xf6';  // 9 bytes of padding
  EXPECT_FALSE(DecodeLockKey(Slice(bad_marker)));
  std::string bad_pad = k;
  bad_pad[3] = 'z';  // a padding byte that is not zero
  EXPECT_FALSE(DecodeLockKey(Slice(bad_pad)));
  EXPECT_FALSE(DecodeVersionedKey(Slice(WriteKey(Slice("a"), 1) + "x"), kWritePrefix));
}

TEST(MvccRecord, LockAndWriteRoundTripAndRefuseGarbage) {
  const Lock l{MutationKind::kDelete, ComposeTs(5, 1), 3000, "primary"};
  EXPECT_EQ(DecodeLock(Slice(EncodeLock(l))), l);
  const Write w{WriteKind::kRollback, 42};
  EXPECT_EQ(DecodeWrite(Slice(EncodeWrite(w))), w);
  const Write held{WriteKind::kPut, 42, std::string("v\0w", 3)};
  EXPECT_EQ(DecodeWrite(Slice(EncodeWrite(held))), held);
  const Write empty_value{WriteKind::kPut, 42, ""};  // a value, empty: not a pointer
  EXPECT_EQ(DecodeWrite(Slice(EncodeWrite(empty_value))), empty_value);
  // Only a put holds a value; a held value is exactly its length.
  EXPECT_FALSE(DecodeWrite(Slice(EncodeWrite(Write{WriteKind::kRollback, 42}) + "\x01v")));
  EXPECT_FALSE(DecodeWrite(Slice(EncodeWrite(held) + "x")));
  // With the key's metadata ('p'): with and without a held value; only a
  // put carries it, and a record cut inside it is refused.
  const Write meta{WriteKind::kPut, 42, std::string("v"), PutMeta{40, 3, 0x694d5765fc71500bULL}};
  EXPECT_EQ(DecodeWrite(Slice(EncodeWrite(meta))), meta);
  const Write meta_pointer{WriteKind::kPut, 42, std::nullopt, PutMeta{41, 1, 0}};
  EXPECT_EQ(DecodeWrite(Slice(EncodeWrite(meta_pointer))), meta_pointer);
  EXPECT_EQ(EncodeWrite(Write{WriteKind::kDelete, 42, std::nullopt, PutMeta{1, 1, 1}}),
            EncodeWrite(Write{WriteKind::kDelete, 42}));
  const std::string with_meta = EncodeWrite(meta);
  for (size_t n = 1; n + 2 < with_meta.size(); ++n)
    EXPECT_FALSE(DecodeWrite(Slice(with_meta.substr(0, n)))) << n;
  const std::string cut = EncodeWrite(held);
  EXPECT_FALSE(DecodeWrite(Slice(cut.substr(0, cut.size() - 1))));
  EXPECT_FALSE(DecodeLock(Slice("X")));
  EXPECT_FALSE(DecodeLock(Slice(EncodeLock(l) + "x")));
  EXPECT_FALSE(DecodeWrite(Slice("P")));
  EXPECT_FALSE(DecodeWrite(Slice("Q\x01")));
}

// doc/mvcc_format.md, "Worked example": the exact bytes listed there.
TEST(MvccFormatDoc, WorkedExampleBytes) {
  const uint64_t t1 = ComposeTs(1000, 0), t2 = ComposeTs(1000, 1), t5 = ComposeTs(1002, 0),
                 t7 = ComposeTs(1003, 0);
  EXPECT_EQ(t1, 0xFA00000u);
  EXPECT_EQ(t7, 0xFAC0000u);
  EXPECT_EQ(Hex(LockKey(Slice("key"))), "6c6b65790000000000fa");
  EXPECT_EQ(Hex(EncodeLock(Lock{MutationKind::kPut, t1, 3000, "key"})), "508080807db817036b6579");
  EXPECT_EQ(Hex(EncodeLock(Lock{MutationKind::kDelete, t5, 3000, "key"})),
            "448080a07db817036b6579");
  EXPECT_EQ(Hex(DataKey(Slice("key"), t1)), "646b65790000000000fafffffffff05fffff");
  EXPECT_EQ(Hex(WriteKey(Slice("key"), t2)), "776b65790000000000fafffffffff05ffffe");
  EXPECT_EQ(Hex(EncodeWrite(Write{WriteKind::kPut, t1})), "508080807d");
  EXPECT_EQ(Hex(EncodeWrite(Write{WriteKind::kDelete, t5})), "448080a07d");
  EXPECT_EQ(Hex(WriteKey(Slice("key"), t7)), "776b65790000000000fafffffffff053ffff");
  EXPECT_EQ(Hex(EncodeWrite(Write{WriteKind::kRollback, t7})), "528080b07d");
  const uint64_t t8 = ComposeTs(1003, 1);
  EXPECT_EQ(t8, 0xFAC0001u);
  EXPECT_EQ(Hex(WriteKey(Slice("key"), t8)), "776b65790000000000fafffffffff053fffe");
  EXPECT_EQ(Hex(EncodeWrite(Write{WriteKind::kPut, t8, "v4", PutMeta{t8, 1, 0}})),
            "708180b07d8180b07d0100027634");
  EXPECT_EQ(Hex(EncodeWrite(Write{WriteKind::kPut, t8, "v4"})), "508180b07d027634");  // before meta
}

}  // namespace
}  // namespace tinykv::txn
