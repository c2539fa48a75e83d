#include "tinykv/common/status.h"

#include <gtest/gtest.h>

namespace tinykv {
namespace {

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kOk);
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_TRUE(s.message().empty());
}

TEST(Status, FactoriesSetCodePredicateAndMessage) {
  struct Case {
    Status s;
    bool (Status::*pred)() const;
    const char* name;
  };
  const Case cases[] = {
      {Status::NotFound("m"), &Status::IsNotFound, "NotFound"},
      {Status::Corruption("m"), &Status::IsCorruption, "Corruption"},
      {Status::NotSupported("m"), &Status::IsNotSupported, "NotSupported"},
      {Status::InvalidArgument("m"), &Status::IsInvalidArgument, "InvalidArgument"},
      {Status::IOError("m"), &Status::IsIOError, "IOError"},
      {Status::NotLeader("m"), &Status::IsNotLeader, "NotLeader"},
      {Status::Timeout("m"), &Status::IsTimeout, "Timeout"},
      {Status::Aborted("m"), &Status::IsAborted, "Aborted"},
      {Status::Unavailable("m"), &Status::IsUnavailable, "Unavailable"},
      {Status::Cancelled("m"), &Status::IsCancelled, "Cancelled"},
      {Status::Busy("m"), &Status::IsBusy, "Busy"},
      {Status::AlreadyExists("m"), &Status::IsAlreadyExists, "AlreadyExists"},
      {Status::Conflict("m"), &Status::IsConflict, "Conflict"},
      {Status::ResourceExhausted("m"), &Status::IsResourceExhausted, "ResourceExhausted"},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(c.s.ok()) << c.name;
    EXPECT_TRUE((c.s.*c.pred)()) << c.name;
    EXPECT_EQ(c.s.message(), "m");
    EXPECT_EQ(c.s.ToString(), std::string(c.name) + ": m");
    // Exactly one predicate holds.
    int holds = 0;
    for (const auto& other : cases) holds += (c.s.*other.pred)() ? 1 : 0;
    EXPECT_EQ(holds, 1) << c.name;
  }
}

TEST(Status, CopiesShareTheMessageAndCompareEqual) {
  Status a = Status::Corruption("000005.log offset 4096: bad crc");
  Status b = a;
  EXPECT_EQ(a, b);
  EXPECT_EQ(b.ToString(), "Corruption: 000005.log offset 4096: bad crc");
  Status c = std::move(a);
  EXPECT_TRUE(c.IsCorruption());
  EXPECT_FALSE(Status::NotFound("x") == Status::NotFound("y"));
  EXPECT_FALSE(Status::NotFound("x") == Status::IOError("x"));
}

TEST(Status, WithContextPrependsAndKeepsCode) {
  EXPECT_TRUE(Status::OK().WithContext("ctx").ok());
  Status s = Status::IOError("disk full").WithContext("writing 000007.sst");
  EXPECT_TRUE(s.IsIOError());
  EXPECT_EQ(s.message(), "writing 000007.sst: disk full");
}

TEST(Status, FromCodeRoundTripsAndRejectsUnknownCodes) {
  for (int code = 0; code <= static_cast<int>(Status::Code::kResourceExhausted); ++code) {
    Status s = Status::FromCode(code, "msg");
    EXPECT_EQ(static_cast<int>(s.code()), code);
  }
  EXPECT_TRUE(Status::FromCode(200, "x").IsCorruption());
  EXPECT_TRUE(Status::FromCode(-1, "x").IsCorruption());
}

Status FailsThenPropagates(bool fail) {
  TINYKV_RETURN_IF_ERROR(fail ? Status::Busy("stall") : Status::OK());
  return Status::NotFound("reached end");
}

TEST(Status, ReturnIfErrorPropagatesOnlyErrors) {
  EXPECT_TRUE(FailsThenPropagates(true).IsBusy());
  EXPECT_TRUE(FailsThenPropagates(false).IsNotFound());
}

}  // namespace
}  // namespace tinykv
