// Message codec: round trips and malformed input (Corruption, never a crash).
#include "tinykv/raft/codec.h"

#include <gtest/gtest.h>

#include "tinykv/common/random.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::raft {
namespace {

Message FullMessage() {
  Message m;
  m.type = MessageType::kMsgSnap;
  m.to = 3;
  m.from = 1;
  m.term = 1ull << 40;
  m.log_term = 7;
  m.index = 123456789;
  m.commit = 99;
  m.reject = true;
  m.reject_hint = 77;
  m.context = std::string("ctx\0\xff", 5);
  m.entries.push_back(Entry{5, 10, EntryType::kNormal, "hello"});
  m.entries.push_back(Entry{5, 11, EntryType::kConfChangeV2, std::string(1000, 'z')});
  m.entries.push_back(Entry{6, 12, EntryType::kNormal, ""});
  m.snapshot.metadata.index = 9;
  m.snapshot.metadata.term = 4;
  m.snapshot.metadata.conf_state.voters = {1, 2, 3};
  m.snapshot.metadata.conf_state.learners = {4};
  m.snapshot.metadata.conf_state.voters_outgoing = {1, 2, 5};
  m.snapshot.metadata.conf_state.learners_next = {5};
  m.snapshot.metadata.conf_state.auto_leave = true;
  m.snapshot.data = "state";
  return m;
}

TEST(RaftCodec, MessageRoundTrip) {
  const Message m = FullMessage();
  std::string buf;
  EncodeMessage(m, &buf);
  EXPECT_EQ(buf.size(), EncodedMessageSize(m));
  auto got = DecodeMessage(buf);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, m);
}

TEST(RaftCodec, EveryMessageTypeRoundTrips) {
  for (int t = 0; t < kNumMessageTypes; ++t) {
    Message m;
    m.type = static_cast<MessageType>(t);
    m.term = 3;
    std::string buf;
    EncodeMessage(m, &buf);
    auto got = DecodeMessage(buf);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->type, m.type);
    EXPECT_NE(MessageTypeName(m.type), "MsgUnknown");
  }
  EXPECT_EQ(MessageTypeName(MessageType::kMsgApp), "MsgApp");
  EXPECT_EQ(MessageTypeName(MessageType::kMsgPreVoteResp), "MsgPreVoteResp");
}

TEST(RaftCodec, ConfChangeAndHardStateRoundTrip) {
  ConfChangeV2 cc;
  cc.transition = ConfChangeTransition::kJointExplicit;
  cc.changes = {{ConfChangeType::kAddNode, 4},
                {ConfChangeType::kRemoveNode, 2},
                {ConfChangeType::kAddLearnerNode, 9}};
  cc.context = "why";
  std::string buf;
  EncodeConfChange(cc, &buf);
  auto got = DecodeConfChange(buf);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, cc);
  HardState hs{5, 2, 100};
  std::string hb;
  EncodeHardState(hs, &hb);
  Slice in(hb);
  HardState out;
  ASSERT_TRUE(DecodeHardState(&in, &out).ok());
  EXPECT_EQ(out, hs);
  EXPECT_TRUE(in.empty());
}

TEST(RaftCodec, EveryTruncationIsCorruption) {
  std::string buf;
  EncodeMessage(FullMessage(), &buf);
  for (size_t n = 0; n < buf.size(); ++n) {
    auto got = DecodeMessage(Slice(buf.data(), n));
    ASSERT_FALSE(got.ok()) << "prefix " << n;
    EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
  }
}

TEST(RaftCodec, RejectsTrailingBytesUnknownTypesAndFlags) {
  std::string buf;
  EncodeMessage(FullMessage(), &buf);
  EXPECT_TRUE(DecodeMessage(buf + "x").status().IsCorruption());
  std::string bad = buf;
  bad[0] = 9;  // version
  EXPECT_TRUE(DecodeMessage(bad).status().IsCorruption());
  bad = buf;
  bad[1] = static_cast<char>(kNumMessageTypes);
  EXPECT_TRUE(DecodeMessage(bad).status().IsCorruption());
  Message small;
  small.type = MessageType::kMsgApp;
  std::string sb;
  EncodeMessage(small, &sb);
  // Layout: version, type, 6 varints of 1 byte each, then flags.
  sb[8] = 0x40;
  EXPECT_TRUE(DecodeMessage(sb).status().IsCorruption());
  EXPECT_TRUE(DecodeConfChange(std::string("\x07", 1)).status().IsCorruption());
}

TEST(RaftCodec, HugeCountsAreRejectedWithoutAllocating) {
  Message m;
  m.type = MessageType::kMsgApp;
  std::string buf;
  EncodeMessage(m, &buf);
  // Replace the entry count (last byte) with a varint claiming 2^60 entries.
  buf.pop_back();
  std::string huge = "\x80\x80\x80\x80\x80\x80\x80\x80\x10";
  EXPECT_TRUE(DecodeMessage(buf + huge).status().IsCorruption());
}

TEST(RaftCodec, RandomBytesNeverCrash) {
  Random rnd(tinykv::testing::SeedForTest());
  std::string good;
  EncodeMessage(FullMessage(), &good);
  for (int i = 0; i < 20000; ++i) {
    std::string s = good;
    const int flips = 1 + static_cast<int>(rnd.Uniform(4));
    for (int f = 0; f < flips; ++f) s[rnd.Uniform(s.size())] = static_cast<char>(rnd.Uniform(256));
    auto got = DecodeMessage(s);
    if (!got.ok()) {
      EXPECT_TRUE(got.status().IsCorruption());
    }
    auto junk = DecodeMessage(rnd.Bytes(rnd.Uniform(64)));
    if (!junk.ok()) {
      EXPECT_TRUE(junk.status().IsCorruption());
    }
  }
}

}  // namespace
}  // namespace tinykv::raft
