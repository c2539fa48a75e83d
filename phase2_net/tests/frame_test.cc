// Frame codec and message decoding: round trips, every malformed header,
// payloads that lie about their length.
#include "tinykv/net/frame.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "test_service.h"
#include "tinykv/common/coding.h"
#include "tinykv/common/random.h"
#include "tinykv/net/serialization.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::net {
namespace {

Frame DecodeOne(const std::string& bytes, size_t max = kDefaultMaxFrameBytes) {
  FrameDecoder d(max);
  d.Append(bytes);
  auto f = d.Next();
  EXPECT_OK(f);
  EXPECT_TRUE(f.ok() && f->has_value());
  return f.ok() && f->has_value() ? **f : Frame{};
}

Status DecodeError(const std::string& bytes, size_t max = kDefaultMaxFrameBytes) {
  FrameDecoder d(max);
  d.Append(bytes);
  auto f = d.Next();
  EXPECT_FALSE(f.ok()) << "decoded a malformed frame";
  return f.ok() ? Status::OK() : f.status();
}

TEST(FrameCodec, EveryKindRoundTrips) {
  for (uint8_t k = 1; k <= kMaxFrameKind; ++k) {
    const auto kind = static_cast<FrameKind>(k);
    const std::string payload = "payload-" + std::to_string(k) + std::string("\0\xff", 2);
    Frame f = DecodeOne(EncodeFrame(kind, 0x0102030405060708ull + k, 77 + k, payload));
    EXPECT_EQ(f.header.kind, kind);
    EXPECT_EQ(f.header.request_id, 0x0102030405060708ull + k);
    EXPECT_EQ(f.header.method_id, 77u + k);
    EXPECT_EQ(f.payload, payload);
  }
}

TEST(FrameCodec, HeaderLayoutMatchesTheDoc) {
  const std::string f = EncodeFrame(FrameKind::kRequest, 1, 2, "hi");
  ASSERT_EQ(f.size(), kFrameHeaderSize + 2);
  EXPECT_EQ(Slice(f.data(), 4).ToHex(), "544b0101");  // "TK", version 1, kind request
  EXPECT_EQ(DecodeFixed64(f.data() + 4), 1u);
  EXPECT_EQ(DecodeFixed32(f.data() + 12), 2u);
  EXPECT_EQ(DecodeFixed32(f.data() + 16), 2u);
  EXPECT_EQ(f.substr(24), "hi");
}

// Version 2: the same header and a trace id after the checksum, which the
// checksum covers; trace id 0 is written as version 1, byte for byte.
TEST(FrameCodec, TracedHeaderLayoutMatchesTheDoc) {
  const std::string f = EncodeFrame(FrameKind::kRequest, 1, 2, "hi", 0x1122334455667788ull);
  ASSERT_EQ(f.size(), kTracedFrameHeaderSize + 2);
  EXPECT_EQ(Slice(f.data(), 4).ToHex(), "544b0201");  // "TK", version 2, kind request
  EXPECT_EQ(DecodeFixed64(f.data() + 4), 1u);
  EXPECT_EQ(DecodeFixed32(f.data() + 16), 2u);
  EXPECT_EQ(DecodeFixed64(f.data() + 24), 0x1122334455667788ull);
  EXPECT_EQ(f.substr(32), "hi");
  EXPECT_EQ(EncodeFrame(FrameKind::kRequest, 1, 2, "hi", 0),
            EncodeFrame(FrameKind::kRequest, 1, 2, "hi"));
  Frame d = DecodeOne(f);
  EXPECT_EQ(d.header.trace_id, 0x1122334455667788ull);
  EXPECT_EQ(d.payload, "hi");
  EXPECT_EQ(DecodeOne(EncodeFrame(FrameKind::kRequest, 1, 2, "hi")).header.trace_id, 0u);
}

TEST(FrameCodec, EmptyPayloadRoundTrips) {
  Frame f = DecodeOne(EncodeFrame(FrameKind::kStreamEnd, 9, 0, Slice()));
  EXPECT_EQ(f.header.kind, FrameKind::kStreamEnd);
  EXPECT_TRUE(f.payload.empty());
}

TEST(FrameCodec, DecoderReassemblesFramesFedOneByteAtATime) {
  std::string stream;
  for (int i = 0; i < 20; ++i) {
    AppendFrame(&stream, FrameKind::kResponse, i + 1, 0, std::string(i * 37, 'a' + i % 26));
  }
  FrameDecoder d;
  int seen = 0;
  for (char c : stream) {
    d.Append(Slice(&c, 1));
    for (;;) {
      auto f = d.Next();
      ASSERT_OK(f);
      if (!f->has_value()) break;
      EXPECT_EQ((*f)->header.request_id, static_cast<uint64_t>(seen + 1));
      EXPECT_EQ((*f)->payload, std::string(seen * 37, 'a' + seen % 26));
      ++seen;
    }
  }
  EXPECT_EQ(seen, 20);
  EXPECT_EQ(d.buffered_bytes(), 0u);
}

TEST(FrameCodec, ManyFramesInOneChunkAllDecode) {
  std::string stream;
  for (int i = 0; i < 100; ++i) AppendFrame(&stream, FrameKind::kStreamItem, 5, 0, "item");
  FrameDecoder d;
  d.Append(stream);
  int n = 0;
  for (;;) {
    auto f = d.Next();
    ASSERT_OK(f);
    if (!f->has_value()) break;
    ++n;
  }
  EXPECT_EQ(n, 100);
}

// Reads `stream` the way the transport does: into PrepareRead's space, at
// most `read` bytes at a time; returns the frames. `check` runs after every
// read. A decoding error stops it (stored in *error; a test failure if null).
template <typename Check>
std::vector<Frame> ReadLikeTheTransport(FrameDecoder& d, const std::string& stream, size_t read,
                                        Check check, Status* error = nullptr) {
  std::vector<Frame> frames;
  size_t off = 0;
  while (off < stream.size()) {
    const FrameDecoder::ReadSpace space = d.PrepareRead(read);
    const size_t n = std::min(space.size, stream.size() - off);
    std::memcpy(space.data, stream.data() + off, n);
    d.CommitRead(n);
    off += n;
    for (;;) {
      auto f = d.Next();
      if (!f.ok()) {
        if (error == nullptr) ADD_FAILURE() << f.status().ToString();
        if (error != nullptr) *error = f.status();
        return frames;
      }
      if (!f->has_value()) break;
      frames.push_back(std::move(**f));
    }
    check(off);
  }
  return frames;
}

// A frame's memory follows the bytes that arrived, not the length its header
// declares: a header claiming 4 MiB and then silence costs almost nothing.
TEST(FrameCodec, LargeFrameBufferGrowsWithTheBytesThatArrived) {
  const size_t payload_bytes = kDefaultMaxFrameBytes - kFrameHeaderSize;
  Random rnd(::tinykv::testing::SeedForTest());
  std::string payload(payload_bytes, '\0');
  for (char& c : payload) c = static_cast<char>(rnd.Uniform(256));
  const std::string frame = EncodeFrame(FrameKind::kRequest, 3, 1, payload);
  FrameDecoder d;
  size_t largest = 0;
  auto frames = ReadLikeTheTransport(d, frame, FrameDecoder::kReadBufferFrameBytes, [&](size_t off) {
    const size_t received = off - std::min(off, kFrameHeaderSize);
    EXPECT_LE(d.frame_buffer_bytes(), 2 * received + FrameDecoder::kMinFrameReadBytes)
        << "after " << off << " bytes";
    EXPECT_LE(d.frame_buffer_bytes(), payload_bytes);
    EXPECT_LE(d.read_buffer_bytes(), 2 * FrameDecoder::kReadBufferFrameBytes);
    largest = std::max(largest, d.frame_buffer_bytes());
  });
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, payload);
  EXPECT_EQ(largest, payload_bytes);  // exactly the payload at the end, never more
  EXPECT_EQ(d.frame_buffer_bytes(), 0u);
  EXPECT_EQ(d.buffered_bytes(), 0u);

  // The header alone (and one byte): no buffer of the declared size.
  FrameDecoder idle;
  idle.Append(Slice(frame.data(), kFrameHeaderSize + 1));
  auto f = idle.Next();
  ASSERT_OK(f);
  EXPECT_FALSE(f->has_value());
  EXPECT_LE(idle.FrameBufferGrowth(FrameDecoder::kReadBufferFrameBytes),
            FrameDecoder::kMinFrameReadBytes + 1);
  EXPECT_LE(idle.frame_buffer_bytes() + idle.read_buffer_bytes(), 2 * kFrameHeaderSize + 64);
}

// Large and small frames interleaved, read in every chunk size the
// transport uses, all come out whole and in order.
TEST(FrameCodec, LargeAndSmallFramesInterleavedDecodeInOrder) {
  std::string stream;
  std::vector<std::string> payloads;
  for (int i = 0; i < 12; ++i) {
    const size_t n = (i % 3 == 0) ? (300u << 10) + i : 10u * i;
    payloads.push_back(std::string(n, static_cast<char>('a' + i)));
    AppendFrame(&stream, FrameKind::kStreamItem, i + 1, 0, payloads.back());
  }
  for (size_t read : {size_t{1000}, size_t{4096}, FrameDecoder::kReadBufferFrameBytes}) {
    SCOPED_TRACE(read);
    FrameDecoder d;
    auto frames = ReadLikeTheTransport(d, stream, read, [](size_t) {});
    ASSERT_EQ(frames.size(), payloads.size());
    for (size_t i = 0; i < frames.size(); ++i) {
      EXPECT_EQ(frames[i].header.request_id, i + 1);
      EXPECT_EQ(frames[i].payload, payloads[i]);
    }
    EXPECT_EQ(d.buffered_bytes(), 0u);
  }
  // Append (one copy of everything) takes the same path.
  FrameDecoder d;
  d.Append(stream);
  for (size_t i = 0; i < payloads.size(); ++i) {
    auto f = d.Next();
    ASSERT_OK(f);
    ASSERT_TRUE(f->has_value());
    EXPECT_EQ((*f)->payload, payloads[i]);
  }
}

// Traced and untraced frames, small and large, mixed in one stream and read
// in every chunk size the transport uses (one byte at a time included).
TEST(FrameCodec, TracedAndUntracedFramesInterleavedDecodeInOrder) {
  std::string stream;
  std::vector<std::string> payloads;
  std::vector<uint64_t> traces;
  for (int i = 0; i < 12; ++i) {
    const size_t n = (i % 4 == 0) ? (200u << 10) + i : 7u * i;
    payloads.push_back(std::string(n, static_cast<char>('a' + i)));
    traces.push_back(i % 2 == 0 ? 0 : 0xabc0000000000000ull + i);
    AppendFrame(&stream, FrameKind::kRequest, i + 1, 5, payloads.back(), traces.back());
  }
  for (size_t read : {size_t{1}, size_t{29}, size_t{4096}, FrameDecoder::kReadBufferFrameBytes}) {
    SCOPED_TRACE(read);
    FrameDecoder d;
    auto frames = ReadLikeTheTransport(d, stream, read, [](size_t) {});
    ASSERT_EQ(frames.size(), payloads.size());
    for (size_t i = 0; i < frames.size(); ++i) {
      EXPECT_EQ(frames[i].header.request_id, i + 1);
      EXPECT_EQ(frames[i].header.trace_id, traces[i]);
      EXPECT_EQ(frames[i].payload, payloads[i]);
    }
    EXPECT_EQ(d.buffered_bytes(), 0u);
    EXPECT_EQ(d.BytesWanted(), kFrameHeaderSize);
  }
}

TEST(FrameCodecMalformed, LargeFrameWithABadChecksumIsCorruption) {
  std::string f = EncodeFrame(FrameKind::kRequest, 1, 1, std::string(200u << 10, 'q'));
  f[kFrameHeaderSize + 150000] ^= 0x10;
  FrameDecoder d;
  Status error;
  auto frames = ReadLikeTheTransport(d, f, 4096, [](size_t) {}, &error);
  EXPECT_TRUE(frames.empty());
  EXPECT_TRUE(error.IsCorruption()) << error.ToString();
  EXPECT_FALSE(d.Next().ok());  // poisoned
}

TEST(FrameCodecMalformed, BadMagicIsCorruption) {
  std::string f = EncodeFrame(FrameKind::kRequest, 1, 1, "x");
  f[0] = 'X';
  Status s = DecodeError(f);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.ToString().find("magic"), std::string::npos);
}

TEST(FrameCodecMalformed, UnknownVersionIsCorruption) {
  std::string f = EncodeFrame(FrameKind::kRequest, 1, 1, "x");
  f[2] = 3;
  Status s = DecodeError(f);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.ToString().find("version"), std::string::npos);
}

TEST(FrameCodecMalformed, UnknownKindsAreCorruption) {
  for (int kind : {0, kMaxFrameKind + 1, 255}) {
    std::string f = EncodeFrame(FrameKind::kRequest, 1, 1, "x");
    f[3] = static_cast<char>(kind);
    Status s = DecodeError(f);
    EXPECT_TRUE(s.IsCorruption()) << kind;
    EXPECT_NE(s.ToString().find("kind"), std::string::npos);
  }
}

TEST(FrameCodecMalformed, OversizedLengthIsRejectedBeforeAllocating) {
  std::string header = EncodeFrame(FrameKind::kRequest, 1, 1, Slice()).substr(0, kFrameHeaderSize);
  EncodeFixed32(header.data() + 16, 0xffffffffu);  // 4 GiB declared, nothing sent
  FrameDecoder d(1 << 20);
  d.Append(header);
  auto f = d.Next();
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(f.status().IsResourceExhausted()) << f.status().ToString();
  EXPECT_LE(d.BytesWanted(), 0u + kFrameHeaderSize);  // no 4 GiB buffer was requested
}

TEST(FrameCodecMalformed, FrameExactlyAtTheLimitIsAccepted) {
  const size_t max = 1024;
  Frame f = DecodeOne(EncodeFrame(FrameKind::kRequest, 1, 1, std::string(max - kFrameHeaderSize, 'z')),
                      max);
  EXPECT_EQ(f.payload.size(), max - kFrameHeaderSize);
  Status s = DecodeError(EncodeFrame(FrameKind::kRequest, 1, 1,
                                     std::string(max - kFrameHeaderSize + 1, 'z')),
                         max);
  EXPECT_TRUE(s.IsResourceExhausted());
}

TEST(FrameCodecMalformed, FlippedPayloadBitFailsTheChecksum) {
  std::string f = EncodeFrame(FrameKind::kRequest, 1, 1, "hello");
  f[kFrameHeaderSize + 1] ^= 0x01;
  Status s = DecodeError(f);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.ToString().find("checksum"), std::string::npos);
}

TEST(FrameCodecMalformed, FlippedRequestIdBitFailsTheChecksum) {
  std::string f = EncodeFrame(FrameKind::kRequest, 1, 1, "hello");
  f[4] ^= 0x02;  // request id
  EXPECT_TRUE(DecodeError(f).IsCorruption());
  std::string g = EncodeFrame(FrameKind::kRequest, 1, 1, "hello");
  g[12] ^= 0x80;  // method id
  EXPECT_TRUE(DecodeError(g).IsCorruption());
}

TEST(FrameCodecMalformed, FlippedTraceIdBitFailsTheChecksum) {
  for (size_t payload : {size_t{3}, size_t{100u << 10}}) {
    std::string f = EncodeFrame(FrameKind::kRequest, 1, 1, std::string(payload, 'p'), 77);
    f[kFrameHeaderSize + 1] ^= 0x04;
    FrameDecoder d;
    Status error;
    auto frames = ReadLikeTheTransport(d, f, 4096, [](size_t) {}, &error);
    EXPECT_TRUE(frames.empty());
    EXPECT_TRUE(error.IsCorruption()) << error.ToString();
    EXPECT_NE(error.ToString().find("checksum"), std::string::npos) << error.ToString();
  }
}

// One encoding per frame: an untraced frame is version 1, so a version 2
// header naming trace id 0 is refused (before its checksum is looked at).
TEST(FrameCodecMalformed, TracedFrameWithTraceIdZeroIsCorruption) {
  std::string f = EncodeFrame(FrameKind::kRequest, 1, 1, "x", 1);
  EncodeFixed64(f.data() + kFrameHeaderSize, 0);
  Status s = DecodeError(f);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.ToString().find("trace id 0"), std::string::npos) << s.ToString();
}

TEST(FrameCodecMalformed, DecoderStaysPoisonedAfterAnError) {
  std::string bad = EncodeFrame(FrameKind::kRequest, 1, 1, "x");
  bad[0] = 0;
  FrameDecoder d;
  d.Append(bad);
  ASSERT_FALSE(d.Next().ok());
  d.Append(EncodeFrame(FrameKind::kRequest, 2, 1, "fine"));
  EXPECT_FALSE(d.Next().ok());
}

TEST(FrameCodecMalformed, PayloadShorterThanDeclaredWaitsForMoreBytes) {
  std::string f = EncodeFrame(FrameKind::kRequest, 1, 1, std::string(100, 'p'));
  FrameDecoder d;
  d.Append(Slice(f.data(), kFrameHeaderSize + 10));
  auto r = d.Next();
  ASSERT_OK(r);
  EXPECT_FALSE(r->has_value());
  EXPECT_EQ(d.BytesWanted(), 90u);
}

TEST(FrameCodecMalformed, PayloadLongerThanDeclaredBreaksTheNextFrame) {
  // The header claims 3 bytes but 8 follow: the checksum (computed over the
  // real 8) fails, and if it did not, the 5 extra bytes would be a bad header.
  std::string f = EncodeFrame(FrameKind::kRequest, 1, 1, "12345678");
  EncodeFixed32(f.data() + 16, 3);
  EXPECT_TRUE(DecodeError(f).IsCorruption());
}

TEST(MessageDecoding, RoundTripsAStruct) {
  testing::EchoRequest in{std::string("a\0b\xff", 4), 17, 3};
  auto out = DecodeMessage<testing::EchoRequest>(EncodeMessage(in));
  ASSERT_OK(out);
  EXPECT_EQ(out->data, in.data);
  EXPECT_EQ(out->delay_ms, 17u);
  EXPECT_EQ(out->fail_code, 3);
}

TEST(MessageDecoding, StringLengthLargerThanPayloadIsCorruptionWithoutAllocating) {
  std::string p;
  const uint64_t huge = uint64_t{1} << 60;  // would be an exabyte-sized resize
  p.append(reinterpret_cast<const char*>(&huge), sizeof(huge));
  p.append("abc");
  auto r = DecodeMessage<testing::EchoResponse>(p);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().ToString().find("exceeds"), std::string::npos) << r.status().ToString();
}

TEST(MessageDecoding, TruncatedPayloadIsCorruption) {
  std::string p = EncodeMessage(testing::EchoRequest{"hello", 5, 0});
  for (size_t cut = 0; cut < p.size(); ++cut) {
    auto r = DecodeMessage<testing::EchoRequest>(Slice(p.data(), cut));
    EXPECT_TRUE(r.status().IsCorruption()) << "cut at " << cut;
  }
}

TEST(MessageDecoding, TrailingBytesAreCorruption) {
  std::string p = EncodeMessage(testing::EchoResponse{"x"}) + "junk";
  auto r = DecodeMessage<testing::EchoResponse>(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("trailing"), std::string::npos);
}

struct WithBool {
  bool b = false;
  template <class A>
  void serialize(A& a) {
    a(b);
  }
};

TEST(MessageDecoding, BoolBytesOtherThanZeroOrOneAreCorruption) {
  EXPECT_TRUE(DecodeMessage<WithBool>(std::string("\x01", 1))->b);
  EXPECT_FALSE(DecodeMessage<WithBool>(std::string("\x00", 1))->b);
  auto bad = DecodeMessage<WithBool>(std::string("\x02", 1));
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsCorruption());
  EXPECT_NE(bad.status().ToString().find("invalid bool"), std::string::npos);
}

TEST(MessageDecoding, RandomBytesNeverCrash) {
  Random rnd(::tinykv::testing::SeedForTest());
  for (int i = 0; i < 2000; ++i) {
    const std::string p = rnd.Bytes(rnd.Uniform(64));
    (void)DecodeMessage<testing::EchoRequest>(p).ok();
    (void)DecodeMessage<testing::CountItem>(p).ok();
    (void)DecodeMessage<ErrorPayload>(p).ok();
  }
}

}  // namespace
}  // namespace tinykv::net
