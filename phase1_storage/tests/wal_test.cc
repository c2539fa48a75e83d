// WAL framing (also the MANIFEST's): round trips across blocks, trailers and
// fragments; the file ending inside a record is a torn tail; any changed
// byte -- a checksum mismatch also in the last record -- is Corruption
// naming the file and offset (wal_reader.h).
#include <gtest/gtest.h>

#include "tinykv/common/coding.h"
#include "tinykv/common/env.h"
#include "tinykv/testing/memory_files.h"
#include "tinykv/testing/test_util.h"
#include "wal_reader.h"
#include "wal_writer.h"

namespace tinykv::storage::wal {
namespace {

struct ReadResult {
  std::vector<std::string> records;
  std::vector<uint64_t> offsets;  // last_record_offset() of each
  Status status;
  bool torn = false;
  uint64_t bad_offset = 0;
};

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
  // Reads the file on disk, or `contents` in its place (many variants).
  ReadResult Read(const std::string* contents = nullptr) {
    ReadResult out;
    std::unique_ptr<SequentialFile> file;
    if (contents != nullptr) {
      file = std::make_unique<testing::MemorySequentialFile>(*contents);
    } else {
      auto f = Env::Default()->NewSequentialFile(fname_);
      EXPECT_OK(f);
      file = std::move(f).value();
    }
    Reader reader(file.get(), fname_);
    Slice record;
    std::string scratch;
    while (reader.ReadRecord(&record, &scratch)) {
      out.records.push_back(record.ToString());
      out.offsets.push_back(reader.last_record_offset());
    }
    out.status = reader.status();
    out.torn = reader.dropped_torn_tail();
    out.bad_offset = reader.first_bad_offset();
    return out;
  }
  std::vector<std::string> ReadAll(Status* status, bool* torn = nullptr) {
    ReadResult r = Read();
    *status = r.status;
    if (torn != nullptr) *torn = r.torn;
    return r.records;
  }
  std::string Contents() {
    std::string s;
    EXPECT_OK(ReadFileToString(Env::Default(), fname_, &s));
    return s;
  }
  void SetContents(const std::string& s) {
    ASSERT_OK(WriteStringToFile(Env::Default(), s, fname_, false));
  }
  // Every record the writer put into the file, with where each ends.
  struct Layout {
    std::vector<std::string> records;
    std::vector<uint64_t> ends;
  };
  Layout WriteAndMeasure(const std::vector<std::string>& records) {
    Layout l;
    auto file = Env::Default()->NewWritableFile(fname_);
    EXPECT_OK(file);
    Writer writer(file->get());
    for (const auto& r : records) {
      EXPECT_OK(writer.AddRecord(r));
      l.records.push_back(r);
      l.ends.push_back(writer.file_size());
    }
    EXPECT_OK((*file)->Close());
    return l;
  }
};

std::string BigString(const std::string& partial, size_t n) {
  std::string result;
  while (result.size() < n) result.append(partial);
  result.resize(n);
  return result;
}

bool IsPrefix(const std::vector<std::string>& got, const std::vector<std::string>& all) {
  if (got.size() > all.size()) return false;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != all[i]) return false;
  }
  return true;
}

// Records that reach every framing case: a zero-padded block trailer (3
// bytes), a block with exactly a header's room left (an empty FIRST
// fragment), FIRST/MIDDLE/LAST across blocks, empty and exactly-one-block
// payloads.
std::vector<std::string> FramingRecords() {
  std::vector<std::string> r = {"foo", ""};  // [0, 10) and [10, 17)
  r.push_back(BigString("t", kBlockSize - 17 - kHeaderSize - 3));  // ends 3 bytes short
  r.push_back("after-trailer");  // at kBlockSize, ends at kBlockSize + 20
  r.push_back(BigString("h", kBlockSize - 20 - 2 * kHeaderSize));  // leaves exactly 7 bytes
  r.push_back("y");  // an empty FIRST fragment, then LAST at 2 * kBlockSize
  r.push_back(BigString("bar", 100000));
  r.push_back("x");
  r.push_back(BigString("baz", kBlockSize - kHeaderSize));
  r.push_back(BigString("q", 3 * kBlockSize));
  return r;
}

TEST_F(WalTest, RoundTripsSmallEmptyAndMultiBlockRecords) {
  const auto records = FramingRecords();
  Write(records);
  ReadResult r = Read();
  EXPECT_EQ(records, r.records);
  EXPECT_OK(r.status);
  EXPECT_FALSE(r.torn);
  // The trailer case was reached: "after-trailer" starts the second block,
  // and the 3 bytes before it are the zero padding.
  const std::string c = Contents();
  ASSERT_EQ(records.size(), r.offsets.size());
  EXPECT_EQ(kBlockSize, r.offsets[3]);
  EXPECT_EQ(std::string(3, '\0'), c.substr(kBlockSize - 3, 3));
  // And the exactly-a-header case: "y" starts with an empty FIRST fragment
  // in the last 7 bytes of the second block.
  EXPECT_EQ(2 * kBlockSize - kHeaderSize, r.offsets[5]);
  EXPECT_EQ(kFirstType, static_cast<unsigned char>(c[2 * kBlockSize - 1]));
  EXPECT_EQ(0, c[2 * kBlockSize - 3]);  // its length
  EXPECT_EQ(0, c[2 * kBlockSize - 2]);
}

TEST_F(WalTest, TruncatedLastRecordIsATornTailNotCorruption) {
  Write({"one", "two", BigString("three", 50000)});
  const std::string full = Contents();
  for (size_t cut : {size_t{1}, size_t{5}, size_t{100}, size_t{20000}}) {
    SetContents(full.substr(0, full.size() - cut));
    ReadResult r = Read();
    EXPECT_EQ((std::vector<std::string>{"one", "two"}), r.records) << cut;
    EXPECT_OK(r.status);
    EXPECT_TRUE(r.torn);
    EXPECT_EQ(2 * kHeaderSize + 6, r.bad_offset);  // where "three" starts
  }
  // A cut inside a header.
  SetContents(full.substr(0, kHeaderSize + 3 + 3));
  Status s;
  bool torn = false;
  EXPECT_EQ(std::vector<std::string>{"one"}, ReadAll(&s, &torn));
  EXPECT_OK(s);
  EXPECT_TRUE(torn);
}

// Truncation at every offset of a file with every framing case (trailer,
// empty FIRST fragment, multi-block records) gives exactly the records that
// end before the cut -- never Corruption, never fewer.
TEST_F(WalTest, TruncationAtEveryOffsetNearBlockBoundariesKeepsEveryCompleteRecord) {
  const Layout l = WriteAndMeasure(FramingRecords());
  const std::string full = Contents();
  std::vector<size_t> cuts;
  for (uint64_t boundary : {uint64_t{0}, uint64_t{kBlockSize}, uint64_t{2 * kBlockSize},
                            uint64_t{3 * kBlockSize}}) {
    for (uint64_t c = boundary >= 40 ? boundary - 40 : 0; c <= boundary + 40; ++c) cuts.push_back(c);
  }
  for (uint64_t end : l.ends) {
    for (uint64_t c = end - std::min<uint64_t>(end, 9); c <= end + 9 && c <= full.size(); ++c) {
      cuts.push_back(c);
    }
  }
  for (size_t cut : cuts) {
    const std::string c = full.substr(0, cut);
    ReadResult r = Read(&c);
    size_t complete = 0;
    while (complete < l.ends.size() && l.ends[complete] <= cut) ++complete;
    const std::vector<std::string> expect(l.records.begin(), l.records.begin() + complete);
    ASSERT_OK(r.status) << "cut at " << cut;
    ASSERT_EQ(expect.size(), r.records.size()) << "cut at " << cut;
    ASSERT_TRUE(expect == r.records) << "cut at " << cut;
  }
}

TEST_F(WalTest, BadChecksumInTheLastRecordIsCorruptionNotATornTail) {
  Write({"one", "two", "three"});
  std::string c = Contents();
  c[c.size() - 1] ^= 0x1;  // payload of the last record
  SetContents(c);
  ReadResult r = Read();
  EXPECT_EQ((std::vector<std::string>{"one", "two"}), r.records);
  ASSERT_TRUE(r.status.IsCorruption()) << r.status.ToString();
  EXPECT_FALSE(r.torn);
  const size_t third = 2 * kHeaderSize + 6;
  EXPECT_EQ("Corruption: " + fname_ + ": offset " + std::to_string(third) + ": checksum mismatch",
            r.status.ToString());
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

// In the last (partial) block a damaged length can run past the end of the
// file, like a torn record: it must not hide the valid records after it.
TEST_F(WalTest, CorruptLengthInTheLastBlockIsCorruptionNotATornTail) {
  std::vector<std::string> records;
  for (int i = 0; i < 100; ++i) records.push_back("record-" + std::to_string(i) + std::string(50, 'x'));
  Write(records);
  const std::string full = Contents();
  ASSERT_LT(full.size(), kBlockSize);
  const size_t rec_size = kHeaderSize + records[10].size();  // records 10..99 are 7 + 60 bytes
  const size_t tenth = 10 * kHeaderSize + 10 * records[0].size();
  std::string c = full;
  c[tenth + 5] = static_cast<char>(0x7f);  // high byte of the length: runs past its block
  SetContents(c);
  ReadResult r = Read();
  EXPECT_EQ(10u, r.records.size());
  ASSERT_TRUE(r.status.IsCorruption()) << r.status.ToString();
  EXPECT_NE(std::string::npos, r.status.ToString().find("offset " + std::to_string(tenth)));
  // A length just long enough to run past EOF, but inside the block.
  c = full;
  const size_t past_eof = full.size() - tenth;  // > remaining payload bytes
  c[tenth + 4] = static_cast<char>(past_eof & 0xff);
  c[tenth + 5] = static_cast<char>(past_eof >> 8);
  SetContents(c);
  r = Read();
  EXPECT_EQ(10u, r.records.size());
  ASSERT_TRUE(r.status.IsCorruption()) << r.status.ToString();
  EXPECT_NE(std::string::npos, r.status.ToString().find("damaged record length"));
  // The same for the very last record: nothing follows it, but its payload
  // is whole and its checksum matches a shorter length.
  c = full;
  const size_t last = full.size() - rec_size;
  c[last + 4] = static_cast<char>(c[last + 4] + 1);
  SetContents(c);
  r = Read();
  EXPECT_EQ(99u, r.records.size());
  ASSERT_TRUE(r.status.IsCorruption()) << r.status.ToString();
  // A zero-filled hole in the middle of the last block, too.
  c = full;
  for (size_t i = tenth; i < tenth + rec_size; ++i) c[i] = 0;
  SetContents(c);
  r = Read();
  EXPECT_EQ(10u, r.records.size());
  ASSERT_TRUE(r.status.IsCorruption()) << r.status.ToString();
  EXPECT_NE(std::string::npos, r.status.ToString().find("zero-filled record followed by data"));
}

TEST_F(WalTest, ZeroFilledTailIsTorn) {
  Write({"one", "two"});
  const std::string full = Contents();
  for (size_t zeros : {size_t{1}, size_t{7}, size_t{100}, size_t{2 * kBlockSize + 5}}) {
    SetContents(full + std::string(zeros, '\0'));
    ReadResult r = Read();
    EXPECT_EQ((std::vector<std::string>{"one", "two"}), r.records) << zeros;
    EXPECT_OK(r.status) << zeros;
    EXPECT_TRUE(r.torn) << zeros;
    EXPECT_EQ(full.size(), r.bad_offset) << zeros;
  }
  // Zeros, then anything else, are not the end of an append.
  SetContents(full + std::string(kBlockSize + 10, '\0') + "x");
  ReadResult r = Read();
  EXPECT_EQ(2u, r.records.size());
  EXPECT_TRUE(r.status.IsCorruption()) << r.status.ToString();
}

TEST_F(WalTest, NonZeroBlockTrailerIsCorruption) {
  Write(FramingRecords());
  std::string c = Contents();
  c[kBlockSize - 2] = 'x';  // inside the 3-byte trailer
  SetContents(c);
  ReadResult r = Read();
  EXPECT_EQ(3u, r.records.size());
  ASSERT_TRUE(r.status.IsCorruption()) << r.status.ToString();
  EXPECT_NE(std::string::npos, r.status.ToString().find("offset " + std::to_string(kBlockSize - 3)))
      << r.status.ToString();
}

// Every single-bit flip in the bytes around the block boundaries of the
// framing file (trailer, fragment headers, payload edges) is detected, and
// only records before the damage are returned.
TEST_F(WalTest, EveryBitFlipNearBlockBoundariesIsCorruption) {
  const auto records = FramingRecords();
  Write(records);
  const std::string full = Contents();
  for (uint64_t boundary : {uint64_t{kBlockSize}, uint64_t{2 * kBlockSize}}) {
    for (uint64_t pos = boundary - 64; pos < boundary + 64; ++pos) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string c = full;
        c[pos] = static_cast<char>(c[pos] ^ (1 << bit));
        ReadResult r = Read(&c);
        ASSERT_TRUE(r.status.IsCorruption()) << "byte " << pos << " bit " << bit << ": "
                                             << r.status.ToString();
        ASSERT_TRUE(IsPrefix(r.records, records)) << "byte " << pos << " bit " << bit;
        ASSERT_LT(r.records.size(), records.size()) << "byte " << pos << " bit " << bit;
      }
    }
  }
}

TEST_F(WalTest, RandomByteChangesAreCorruptionAndNeverReturnAlteredRecords) {
  std::vector<std::string> records;
  Random rnd(testing::SeedForTest());
  for (int i = 0; i < 50; ++i) records.push_back(rnd.Bytes(rnd.Uniform(3000)));
  Write(records);
  const std::string full = Contents();
  for (int trial = 0; trial < 1000; ++trial) {
    std::string c = full;
    const size_t pos = rnd.Uniform(c.size());
    c[pos] = static_cast<char>(c[pos] ^ static_cast<char>(1 + rnd.Uniform(255)));
    ReadResult r = Read(&c);
    ASSERT_TRUE(IsPrefix(r.records, records)) << "trial " << trial << " byte " << pos;
    ASSERT_TRUE(r.status.IsCorruption())
        << "trial " << trial << " byte " << pos << ": " << r.status.ToString();
  }
}

}  // namespace
}  // namespace tinykv::storage::wal
