// CRC32C against the standard vectors of RFC 3720 §B.4 (iSCSI) and the
// common "123456789" check value, for both implementations.
#include "tinykv/common/crc32c.h"

#include <string>

#include <gtest/gtest.h>

#include "tinykv/common/random.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::crc32c {
namespace {

using ExtendFn = uint32_t (*)(uint32_t, const char*, size_t);

std::vector<std::pair<const char*, ExtendFn>> Implementations() {
  std::vector<std::pair<const char*, ExtendFn>> impls = {{"portable", &ExtendPortable},
                                                         {"dispatch", &Extend}};
  if (HardwareAccelerated()) impls.emplace_back("hardware", &ExtendHardware);
  return impls;
}

TEST(Crc32c, Rfc3720Vectors) {
  char buf[32];
  for (auto [name, fn] : Implementations()) {
    SCOPED_TRACE(name);
    std::memset(buf, 0, sizeof(buf));
    EXPECT_EQ(fn(0, buf, sizeof(buf)), 0x8a9136aau);
    std::memset(buf, 0xff, sizeof(buf));
    EXPECT_EQ(fn(0, buf, sizeof(buf)), 0x62a8ab43u);
    for (int i = 0; i < 32; ++i) buf[i] = static_cast<char>(i);
    EXPECT_EQ(fn(0, buf, sizeof(buf)), 0x46dd794eu);
    for (int i = 0; i < 32; ++i) buf[i] = static_cast<char>(31 - i);
    EXPECT_EQ(fn(0, buf, sizeof(buf)), 0x113fdb5cu);
    // An iSCSI SCSI Read (10) command PDU.
    const unsigned char pdu[48] = {
        0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
        0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    EXPECT_EQ(fn(0, reinterpret_cast<const char*>(pdu), sizeof(pdu)), 0xd9963a56u);
    EXPECT_EQ(fn(0, "123456789", 9), 0xe3069283u);
    EXPECT_EQ(fn(0, "", 0), 0u);
  }
}

TEST(Crc32c, ExtendEqualsWholeValue) {
  const std::string s = "hello world, this crosses an eight-byte boundary or two";
  for (size_t split = 0; split <= s.size(); ++split) {
    EXPECT_EQ(Extend(Value(s.data(), split), s.data() + split, s.size() - split),
              Value(s.data(), s.size()));
  }
}

TEST(Crc32c, ImplementationsAgreeOnRandomInputAtEveryAlignment) {
  Random rnd(testing::SeedForTest());
  for (int iter = 0; iter < 200; ++iter) {
    const std::string data = rnd.Bytes(rnd.Uniform(300));
    const size_t off = data.empty() ? 0 : rnd.Uniform(data.size());
    const uint32_t init = static_cast<uint32_t>(rnd.Next());
    const uint32_t want = ExtendPortable(init, data.data() + off, data.size() - off);
    for (auto [name, fn] : Implementations()) {
      EXPECT_EQ(fn(init, data.data() + off, data.size() - off), want) << name;
    }
  }
}

TEST(Crc32c, MaskRoundTripsAndChangesValue) {
  const uint32_t crc = Value("foo", 3);
  EXPECT_NE(crc, Mask(crc));
  EXPECT_NE(crc, Mask(Mask(crc)));
  EXPECT_EQ(crc, Unmask(Mask(crc)));
  EXPECT_EQ(crc, Unmask(Unmask(Mask(Mask(crc)))));
}

}  // namespace
}  // namespace tinykv::crc32c
