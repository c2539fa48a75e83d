#include "frame_fuzz_body.h"

#include <string>

#include "kv_protocol.h"
#include "tinykv/common/check.h"
#include "tinykv/net/frame.h"
#include "tinykv/net/method.h"
#include "tinykv/net/serialization.h"

namespace tinykv::net::fuzz {

namespace {

template <typename T>
void TryDecode(const std::string& payload) {
  auto m = DecodeMessage<T>(payload);
  if (m.ok()) {
    // Whatever decodes re-encodes to exactly the same bytes (the format has
    // one encoding per value), so nothing was silently dropped.
    TINYKV_CHECK(EncodeMessage(*m) == payload) << "message round trip changed the bytes";
  }
}

void DecodeAsEveryMessage(const Frame& f) {
  const std::string& p = f.payload;
  TryDecode<ErrorPayload>(p);
  TryDecode<demo::GetRequest>(p);
  TryDecode<demo::GetResponse>(p);
  TryDecode<demo::PutRequest>(p);
  TryDecode<demo::DeleteRequest>(p);
  TryDecode<demo::ScanRequest>(p);
  TryDecode<demo::KeyValue>(p);
  TryDecode<demo::EchoRequest>(p);
  TryDecode<demo::Empty>(p);
}

}  // namespace

void FuzzFrameBytes(const uint8_t* data, size_t size) {
  if (size == 0) return;
  // First byte: the max frame size class; second: the chunk size for feeding.
  const size_t max_frame = size_t{64} << (data[0] % 12);  // 64 B .. 128 KiB
  const size_t chunk = size > 1 ? 1 + data[1] % 64 : 1;
  const char* bytes = reinterpret_cast<const char*>(data);
  FrameDecoder decoder(max_frame);
  size_t offset = 2 < size ? 2 : size;
  bool failed = false;
  while (offset < size && !failed) {
    const size_t n = std::min(chunk, size - offset);
    decoder.Append(Slice(bytes + offset, n));
    offset += n;
    for (;;) {
      auto f = decoder.Next();
      if (!f.ok()) {
        failed = true;
        TINYKV_CHECK(f.status().IsCorruption() || f.status().IsResourceExhausted())
            << f.status().ToString();
        break;
      }
      if (!f->has_value()) break;
      const Frame& frame = **f;
      TINYKV_CHECK_LE(frame.payload.size() + frame.header.header_size(), max_frame);
      const std::string again = EncodeFrame(frame.header.kind, frame.header.request_id,
                                            frame.header.method_id, frame.payload,
                                            frame.header.trace_id);
      FrameDecoder check(max_frame);
      check.Append(again);
      auto g = check.Next();
      TINYKV_CHECK(g.ok() && g->has_value()) << "re-encoded frame does not decode";
      TINYKV_CHECK((*g)->payload == frame.payload);
      TINYKV_CHECK_EQ((*g)->header.masked_checksum, frame.header.masked_checksum);
      TINYKV_CHECK_EQ((*g)->header.trace_id, frame.header.trace_id);
      DecodeAsEveryMessage(frame);
    }
  }
  // A decoder never buffers more than one maximal frame plus one read chunk.
  TINYKV_CHECK_LE(decoder.buffered_bytes(), max_frame + size);
}

}  // namespace tinykv::net::fuzz
