// HashKv (mvcc_hash.h): engines with the same history hash alike, whatever
// their layout; a different value, a different history or a different
// revision hashes differently; the compacted revision bounds what may be
// asked, and compaction keeps the hash of what a read at it sees.
#include "tinykv/txn/mvcc_hash.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mvcc_test_util.h"
#include "tinykv/common/coding.h"
#include "tinykv/common/crc32c.h"
#include "tinykv/txn/watch_error.h"

namespace tinykv::txn {
namespace {

using testing::MvccEngine;

KvHash Hash(MvccEngine& e, uint64_t revision) {
  MvccReader reader(e.db());
  auto h = HashKv(reader, revision);
  EXPECT_TRUE(h.ok()) << h.status().ToString();
  return h.ok() ? *h : KvHash{};
}

// The same history on two engines: a put, a transaction's put (its value in
// the data record), a rollback, a delete.
void History(MvccEngine& e, const std::string& b_value) {
  e.Run(testing::KvPut("a", "a1", 10));
  e.Run(testing::KvPut("b", b_value, 11));
  e.Run(PrewriteCmd{{Mutation{MutationKind::kPut, "a", "a2"}}, "a", 12, 3000});
  e.Run(CommitCmd{12, 13, {"a"}});
  e.Run(PrewriteCmd{{Mutation{MutationKind::kPut, "c", "never"}}, "c", 14, 3000});
  e.Run(RollbackCmd{14, {"c"}});
  e.Run(testing::KvDelete("b", 15));
}

TEST(MvccHash, SameHistorySameHashWhateverTheLayout) {
  MvccEngine x, y;
  History(x, "b1");
  History(y, "b1");
  ASSERT_TRUE(y.db()->Flush().ok());  // one in SSTables, one in the memtable
  const KvHash hx = Hash(x, 0), hy = Hash(y, 0);
  EXPECT_EQ(hx.hash, hy.hash);
  EXPECT_EQ(hx.hash_revision, 15u) << "0: the newest version hashed";
  EXPECT_EQ(hx.compact_revision, 0u);
  EXPECT_EQ(Hash(x, 13).hash, Hash(y, 13).hash);
  EXPECT_EQ(Hash(x, 13).hash_revision, 13u);
  EXPECT_NE(Hash(x, 13).hash, hx.hash) << "the delete at 15 is hashed";
  EXPECT_EQ(Hash(x, 100).hash, hx.hash) << "nothing above 15";
}

// The bytes of mvcc_hash.h, for one put: a format, not just a checksum.
TEST(MvccHash, HashesTheDocumentedBytes) {
  MvccEngine e;
  e.Run(testing::KvPut("k", "v", 7));
  std::string bytes;
  PutFixed32(&bytes, 1);
  bytes += "k";
  PutFixed64(&bytes, 7);
  bytes += 'P';
  PutFixed32(&bytes, 1);
  bytes += "v";
  EXPECT_EQ(Hash(e, 0).hash, crc32c::Value(bytes.data(), bytes.size()));
  MvccEngine empty;
  EXPECT_EQ(Hash(empty, 0).hash, 0u);
}

TEST(MvccHash, ADifferentValueOrHistoryHashesDifferently) {
  MvccEngine x, y, z;
  History(x, "b1");
  History(y, "B1");  // one value differs
  EXPECT_NE(Hash(x, 0).hash, Hash(y, 0).hash);
  EXPECT_NE(Hash(x, 11).hash, Hash(y, 11).hash);
  EXPECT_EQ(Hash(x, 10).hash, Hash(y, 10).hash) << "the difference is at 11";
  History(z, "b1");
  z.Run(testing::KvPut("d", "extra", 16));  // one more version
  EXPECT_NE(Hash(x, 0).hash, Hash(z, 0).hash);
  EXPECT_EQ(Hash(x, 15).hash, Hash(z, 15).hash);
}

TEST(MvccHash, CompactionKeepsTheHashOfWhatAReadAtItSees) {
  MvccEngine x, y;
  History(x, "b1");
  History(y, "b1");
  const uint32_t before = Hash(x, 0).hash;
  x.Run(GcCmd{14});
  y.Run(GcCmd{14});
  ASSERT_TRUE(y.db()->Flush().ok());
  ASSERT_TRUE(y.db()->CompactRange(std::nullopt, std::nullopt).ok());
  // Both compacted at 14: they agree, the history below 14 (a1 at 10) is
  // no longer part of it, the version a read at 14 sees (a2 at 13) is.
  const KvHash after = Hash(x, 0);
  EXPECT_EQ(after.compact_revision, 14u);
  EXPECT_EQ(after.hash_revision, 15u);
  EXPECT_NE(after.hash, before);
  EXPECT_EQ(after.hash, Hash(y, 0).hash);
  EXPECT_EQ(Hash(x, 14).hash, Hash(y, 14).hash);
  EXPECT_NE(Hash(x, 14).hash, 0u) << "a2 at 13 and b1 at 11 are what a read at 14 sees";
  // Below it: the compacted error, as a read's.
  MvccReader reader(x.db());
  auto low = HashKv(reader, 13);
  ASSERT_FALSE(low.ok());
  EXPECT_TRUE(low.status().IsInvalidArgument()) << low.status().ToString();
  EXPECT_NE(low.status().ToString().find("has been compacted"), std::string::npos)
      << low.status().ToString();
  ASSERT_TRUE(WatchErrorOf(low.status()).has_value());
  EXPECT_EQ(WatchErrorOf(low.status())->revision, 14u);
}

}  // namespace
}  // namespace tinykv::txn
