#include "tinykv/common/routing_error.h"

#include <gtest/gtest.h>

#include <string>

namespace tinykv {
namespace {

TEST(RoutingError, NotLeaderCarriesTypedFieldsAndAReadableMessage) {
  RoutingError e;
  e.group = 7;
  e.leader_id = 2;
  e.leader_address = "127.0.0.1:22379";
  Status s = NotLeaderError(e);
  EXPECT_TRUE(s.IsNotLeader());
  EXPECT_EQ(s.ToString(), "NotLeader: leader=2 addr=127.0.0.1:22379");
  auto r = RoutingErrorOf(s);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, e);
}

TEST(RoutingError, ContextIsPrependedAndDetailSurvivesWithContext) {
  RoutingError e;
  e.leader_id = 0;
  Status s = NotLeaderError(e, "raft: no leader").WithContext("put");
  EXPECT_EQ(s.ToString(), "NotLeader: put: raft: no leader: leader=0");
  ASSERT_TRUE(RoutingErrorOf(s).has_value());
  EXPECT_EQ(RoutingErrorOf(s)->leader_id, 0u);
}

TEST(RoutingError, RangeFieldsRoundTripIncludingBinaryKeys) {
  RoutingError e;
  e.group = 3;
  e.has_range = true;
  e.range_id = 3;
  e.range_start = std::string("a\0b", 3);
  e.range_end = "";
  e.range_epoch = 9;
  auto d = DecodeRoutingError(EncodeRoutingError(e));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(*d, e);
}

TEST(RoutingError, EveryTruncationAndTrailingGarbageIsRejected) {
  RoutingError e;
  e.group = 300;
  e.leader_id = 1ull << 40;
  e.leader_address = "h:1";
  e.has_range = true;
  e.range_start = "k";
  e.range_end = "z";
  e.range_epoch = 5;
  const std::string enc = EncodeRoutingError(e);
  for (size_t n = 0; n < enc.size(); ++n) {
    EXPECT_FALSE(DecodeRoutingError(enc.substr(0, n)).has_value()) << "prefix " << n;
  }
  EXPECT_FALSE(DecodeRoutingError(enc + "x").has_value());
  std::string wrong_kind = enc;
  wrong_kind[0] = 99;
  EXPECT_FALSE(DecodeRoutingError(wrong_kind).has_value());
}

TEST(RoutingError, StatusWithoutDetailHasNone) {
  EXPECT_FALSE(RoutingErrorOf(Status::NotLeader("leader=3")).has_value());
  EXPECT_FALSE(RoutingErrorOf(Status::OK()).has_value());
  EXPECT_TRUE(Status::OK().WithDetail("x").detail().empty());
}

}  // namespace
}  // namespace tinykv
