// WAL framing: round trips across blocks; torn tails end cleanly; a bad
// record followed by valid ones is Corruption naming the file and offset.
#include <gtest/gtest.h>

#include <fstream>

#include "tinykv/common/coding.h"
#include "tinykv/common/env.h"
#include "tinykv/testing/test_util.h"
#include "wal_reader.h"
#include "wal_writer.h"

namespace tinykv::storage::wal {
namespace {

class WalTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  std::string fname_ = (dir_.path() / "000001.log").string();

  void Write(const std::vector<std::string>& records) {
    auto file = Env::Default()->NewWritableFile(fname_);
    ASSERT_OK(file);
    Writer writer(file->get());
    for (const auto& r : records) ASSERT_OK(writer.AddRecord(r));
    ASSERT_OK((*file)->Close());
  }
  // Reads every record; returns them and leaves the reader's state.
  std::vector<std::string> ReadAll(Status* status, bool* torn = nullptr) {
    auto file = Env::Default()->NewSequentialFile(fname_);
    EXPECT_OK(file);
    Reader reader(file->get(), fname_);
    std::vector<std::string> out;
    Slice record;
    std::string scratch;
    while (reader.ReadRecord(&record, &scratch)) out.push_back(record.ToString());
    *status = reader.status();
    if (torn != nullptr) *torn = reader.dropped_torn_tail();
    return out;
  }
  std::string Contents() {
    std::string s;
    EXPECT_OK(ReadFileToString(Env::Default(), fname_, &s));
    return s;
  }
  void SetContents(const std::string& s) {
    ASSERT_OK(WriteStringToFile(Env::Default(), s, fname_, false));
  }
};

std::string BigString(const std::string& partial, size_t n) {
  std::string result;
  while (result.size() < n) result.append(partial);
  result.resize(n);
  return result;
}

TEST_F(WalTest, RoundTripsSmallEmptyAndMultiBlockRecords) {
  std::vector<std::string> records = {"foo", "", BigString("bar", 100000), "x",
                                      BigString("baz", kBlockSize - kHeaderSize),
                                      BigString("q", 3 * kBlockSize)};
  // A record that leaves fewer than kHeaderSize bytes in its block forces
  // a zero-padded trailer.
  records.push_back(BigString("p", kBlockSize - 2 * kHeaderSize - 3));
  records.push_back("after-trailer");
  Write(records);
  Status s;
  bool torn = true;
  EXPECT_EQ(records, ReadAll(&s, &torn));
  EXPECT_OK(s);
  EXPECT_FALSE(torn);
}

TEST_F(WalTest, TruncatedLastRecordIsATornTailNotCorruption) {
  Write({"one", "two", BigString("three", 50000)});
  const std::string full = Contents();
  for (size_t cut : {size_t{1}, size_t{5}, size_t{100}, size_t{20000}}) {
    SetContents(full.substr(0, full.size() - cut));
    Status s;
    bool torn = false;
    EXPECT_EQ((std::vector<std::string>{"one", "two"}), ReadAll(&s, &torn)) << cut;
    EXPECT_OK(s);
    EXPECT_TRUE(torn);
  }
  // A cut inside a header.
  SetContents(full.substr(0, kHeaderSize + 3 + 3));
  Status s;
  EXPECT_EQ(std::vector<std::string>{"one"}, ReadAll(&s));
  EXPECT_OK(s);
}

TEST_F(WalTest, BadChecksumAtTheEndIsATornTail) {
  Write({"one", "two", "three"});
  std::string c = Contents();
  c[c.size() - 1] ^= 0x1;  // payload of the last record
  SetContents(c);
  Status s;
  bool torn = false;
  EXPECT_EQ((std::vector<std::string>{"one", "two"}), ReadAll(&s, &torn));
  EXPECT_OK(s);
  EXPECT_TRUE(torn);
}

TEST_F(WalTest, BadChecksumFollowedByValidRecordsIsCorruptionNamingFileAndOffset) {
  Write({"one", "two", "three", "four"});
  std::string c = Contents();
  const size_t second_record = kHeaderSize + 3;
  c[second_record + kHeaderSize] ^= 0x40;  // first payload byte of "two"
  SetContents(c);
  Status s;
  EXPECT_EQ(std::vector<std::string>{"one"}, ReadAll(&s));
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("000001.log")) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("offset " + std::to_string(second_record)))
      << s.ToString();
}

TEST_F(WalTest, CorruptLengthInTheMiddleIsCorruption) {
  Write({"one", "two", BigString("z", 40000), "four"});
  std::string c = Contents();
  c[4] = static_cast<char>(0xff);  // length of the first record: far too long
  c[5] = static_cast<char>(0x7f);
  SetContents(c);
  Status s;
  EXPECT_TRUE(ReadAll(&s).empty());
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

// In the last (partial) block there is no later block boundary to resume
// at: a damaged length must not hide the valid records after it.
TEST_F(WalTest, CorruptLengthInTheLastBlockIsCorruptionNotATornTail) {
  std::vector<std::string> records;
  for (int i = 0; i < 100; ++i) records.push_back("record-" + std::to_string(i) + std::string(50, 'x'));
  Write(records);
  std::string c = Contents();
  ASSERT_LT(c.size(), kBlockSize);
  const size_t rec_size = kHeaderSize + records[0].size();  // all records 7 + 59 bytes... mostly
  const size_t tenth = 10 * rec_size;
  c[tenth + 5] = static_cast<char>(0x7f);  // high byte of the length: runs past EOF
  SetContents(c);
  Status s;
  auto got = ReadAll(&s);
  EXPECT_EQ(10u, got.size());
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("offset " + std::to_string(tenth)));
  // A zero-filled hole in the middle of the last block, too.
  c = Contents();
  Write(records);
  c = Contents();
  for (size_t i = tenth; i < tenth + rec_size; ++i) c[i] = 0;
  SetContents(c);
  got = ReadAll(&s);
  EXPECT_EQ(10u, got.size());
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

TEST_F(WalTest, ZeroFilledTailIsTorn) {
  Write({"one", "two"});
  SetContents(Contents() + std::string(100, '\0'));
  Status s;
  bool torn = false;
  EXPECT_EQ((std::vector<std::string>{"one", "two"}), ReadAll(&s, &torn));
  EXPECT_OK(s);
  EXPECT_TRUE(torn);
}

TEST_F(WalTest, RandomByteFlipsNeverReturnAlteredRecords) {
  std::vector<std::string> records;
  Random rnd(testing::SeedForTest());
  for (int i = 0; i < 50; ++i) records.push_back(rnd.Bytes(rnd.Uniform(3000)));
  Write(records);
  const std::string full = Contents();
  for (int trial = 0; trial < 200; ++trial) {
    std::string c = full;
    c[rnd.Uniform(c.size())] ^= static_cast<char>(1 + rnd.Uniform(255));
    SetContents(c);
    Status s;
    auto got = ReadAll(&s);
    // Whatever is returned must be an exact prefix of what was written.
    ASSERT_LE(got.size(), records.size());
    for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(records[i], got[i]) << trial;
    if (got.size() < records.size() - 1) {
      EXPECT_TRUE(s.IsCorruption()) << "lost records silently, trial " << trial;
    }
  }
}

}  // namespace
}  // namespace tinykv::storage::wal
