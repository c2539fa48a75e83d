#include "tinykv/net/address.h"

#include <gtest/gtest.h>

namespace tinykv::net {
namespace {

TEST(ParseHostPort, AcceptsNamesIPv4AndBracketedIPv6) {
  auto a = ParseHostPort("127.0.0.1:2379");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 2379);
  auto b = ParseHostPort("node-1.example:0");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "node-1.example");
  EXPECT_EQ(b->port, 0);
  auto c = ParseHostPort("[::1]:65535");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, 65535);
  EXPECT_EQ(c->ToString(), "[::1]:65535");
  EXPECT_EQ(a->ToString(), "127.0.0.1:2379");
}

TEST(ParseHostPort, RejectsEverythingElseWithTheAddressInTheMessage) {
  for (const char* bad : {"", "h", "h:", ":80", "h:12abc", "h:1 ", "h: 1", "h:-1", "h:65536",
                          "h:999999", "h:+1", "::1:80", "http://h:1", "h/x:1", "[]:1"}) {
    auto r = ParseHostPort(bad);
    EXPECT_FALSE(r.ok()) << "'" << bad << "' parsed";
    if (!r.ok()) {
      EXPECT_TRUE(r.status().IsInvalidArgument()) << bad;
      EXPECT_NE(r.status().ToString().find(std::string("'") + bad + "'"), std::string::npos)
          << r.status().ToString();
    }
  }
}

}  // namespace
}  // namespace tinykv::net
