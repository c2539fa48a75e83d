// Frame: the unit of TinyKV's RPC wire protocol (grammar and a worked example
// in phase2_net/doc/frame_format.md; this header holds the constants and the
// sans-I/O codec).
//
//   frame  := header payload
//   header := magic:u16 version:u8 kind:u8 request_id:u64 method_id:u32
//             payload_length:u32 checksum:u32            (24 bytes, little-endian)
//             [trace_id:u64]                             (version 2 only: 32 bytes)
//   checksum = crc32c::Mask(crc32c(header[0..20) ++ header[24..) ++ payload))
//
// The checksum covers every header byte but its own as well as the payload,
// so a flipped bit in the request id, method id or trace id is caught, not
// just payload rot. Version 2 differs from 1 only by the trace id: a frame
// without one (trace id 0) is written as version 1, so untraced traffic is
// byte for byte what it was, and both versions are read.
//
// FrameDecoder is pure (no sockets, no clock): the async transport, the unit
// tests and the libFuzzer target all drive the same code. It rejects a
// declared length above the configured maximum before allocating anything,
// and it never allocates on a header's word: a frame's buffer grows as its
// bytes arrive (see FrameDecoder), so a header claiming 4 MiB followed by
// nothing costs one small read buffer, not 4 MiB.
//
// Thread safety: a FrameDecoder is a plain value; one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tinykv/common/bytes.h"
#include "tinykv/common/result.h"
#include "tinykv/common/status.h"

namespace tinykv::net {

inline constexpr uint16_t kFrameMagic = 0x4b54;  // bytes "TK" on the wire
inline constexpr uint8_t kFrameVersion = 1;        // no trace id
inline constexpr uint8_t kFrameVersionTraced = 2;  // a trace id follows the checksum
inline constexpr size_t kFrameHeaderSize = 24;     // version 1; the least a header takes
inline constexpr size_t kTracedFrameHeaderSize = 32;
// The header size a frame of `version` has (kFrameHeaderSize for versions
// DecodeFrameHeader refuses).
constexpr size_t FrameHeaderSizeOf(uint8_t version) {
  return version == kFrameVersionTraced ? kTracedFrameHeaderSize : kFrameHeaderSize;
}
// Default hard limit on one frame (header + payload). Raft snapshots are sent
// in chunks below it.
inline constexpr size_t kDefaultMaxFrameBytes = 4u << 20;

enum class FrameKind : uint8_t {
  kRequest = 1,     // client -> server: call method_id with this payload
  kResponse = 2,    // server -> client: the unary response
  kStreamItem = 3,  // server -> client: one item of a server-streaming response
  kStreamEnd = 4,   // server -> client: the stream finished successfully (empty payload)
  kError = 5,       // server -> client: the call (or, with request_id 0, the connection) failed
  kCancel = 6,      // client -> server: stop working on request_id (empty payload)
  kHello = 7,       // client -> server: the connection's first frame, an identity the
                    // server's hello handler accepts or refuses (request id 0, method id 0)
};
inline constexpr uint8_t kMaxFrameKind = 7;

// In an error frame, method_id is 0, or this marker: "the request was refused
// before any handler ran" (server draining, too busy, unknown method). The
// client may then retry even a non-idempotent call.
inline constexpr uint32_t kErrorNotExecuted = 0xffff0001u;

std::string_view FrameKindName(FrameKind kind);

struct FrameHeader {
  FrameKind kind = FrameKind::kRequest;
  uint64_t request_id = 0;
  uint32_t method_id = 0;
  uint32_t payload_length = 0;
  uint32_t masked_checksum = 0;
  // A request's trace id (chosen by the client, carried into the log lines
  // of every node the request reaches); 0 = none (a version 1 frame).
  uint64_t trace_id = 0;
  size_t header_size() const { return trace_id != 0 ? kTracedFrameHeaderSize : kFrameHeaderSize; }
};

struct Frame {
  FrameHeader header;
  std::string payload;
};

// Appends one complete frame (header with checksum, then payload) to *dst:
// version 1, or version 2 when trace_id is not 0.
void AppendFrame(std::string* dst, FrameKind kind, uint64_t request_id, uint32_t method_id,
                 Slice payload, uint64_t trace_id = 0);
inline std::string EncodeFrame(FrameKind kind, uint64_t request_id, uint32_t method_id,
                               Slice payload, uint64_t trace_id = 0) {
  std::string out;
  AppendFrame(&out, kind, request_id, method_id, payload, trace_id);
  return out;
}

// Parses and validates the header. `max_frame_bytes` bounds header +
// payload. Errors: Corruption (bad magic, unknown version, unknown kind, a
// version 2 header with trace id 0), ResourceExhausted (declared length
// above the limit).
// REQUIRES: header.size() >= FrameHeaderSizeOf(header[2]) (the version byte).
Result<FrameHeader> DecodeFrameHeader(Slice header, size_t max_frame_bytes);

// Checks the checksum of a frame whose header bytes are `header_bytes`
// (its whole header: 24 or 32 bytes) and whose payload is `payload`.
Status VerifyFrameChecksum(Slice header_bytes, Slice payload, uint32_t masked_checksum);

// Incremental decoder: feed bytes as they arrive, take complete frames out.
//
//   FrameDecoder d(max);
//   d.Append(bytes_from_socket);
//   for (;;) { auto f = d.Next(); if (!f.ok()) close(f.status());
//              if (!f->has_value()) break; handle(**f); }
//
// Memory. A frame of at most kReadBufferFrameBytes (header included) is
// assembled in the read buffer, which many small frames share. A larger
// frame's payload moves to a buffer of its own that grows with the bytes
// received (a read into it takes at most max(4 KiB, bytes received so far),
// the buffer at most doubles and never exceeds the declared length), and is
// handed out as the frame's payload without a copy. So the memory a frame in
// progress holds is at most about twice what its sender actually sent.
//
// After an error the decoder is poisoned: every later Next() returns the same
// error (the stream has lost framing and cannot be resynchronised).
class FrameDecoder {
 public:
  // Frames up to this size (header + payload) are assembled in the read
  // buffer; it is also the largest read PrepareRead offers for a large frame.
  static constexpr size_t kReadBufferFrameBytes = 64u << 10;
  // The first read into a large frame's own buffer takes at most this much.
  static constexpr size_t kMinFrameReadBytes = 4u << 10;

  explicit FrameDecoder(size_t max_frame_bytes = kDefaultMaxFrameBytes)
      : max_frame_bytes_(max_frame_bytes) {}

  // Copies `bytes` in (through PrepareRead/CommitRead).
  void Append(Slice bytes);
  // A complete frame, nullopt if more bytes are needed, or the framing error.
  Result<std::optional<Frame>> Next();

  // Zero-copy reads. PrepareRead returns where the next read should land and
  // how many bytes it may take (1 <= size <= max_bytes): the tail of a large
  // frame in progress (never past its end), else the read buffer. CommitRead(k)
  // declares k <= size of them filled. One PrepareRead per CommitRead.
  struct ReadSpace {
    char* data;
    size_t size;
  };
  ReadSpace PrepareRead(size_t max_bytes);
  void CommitRead(size_t k);
  // How many bytes of memory the next PrepareRead(max_bytes) allocates for a
  // large frame's buffer (0 if none): callers that budget memory ask first.
  size_t FrameBufferGrowth(size_t max_bytes) const;
  // The memory a large frame in progress still lacks to hold its whole
  // payload, and a way to allocate it at once (for a caller that budgets
  // memory and grants the whole rest: see the transport's ReadBudget).
  size_t FrameBufferGrowthToEnd() const;
  void ReserveWholeFrame();

  // Bytes received but not yet returned as frames (the frame in progress).
  size_t buffered_bytes() const;
  // How many more bytes the decoder needs before Next() can make progress.
  size_t BytesWanted() const;
  // Memory held by a large frame in progress (its own buffer), and by the
  // read buffer.
  size_t frame_buffer_bytes() const { return large_ ? payload_.capacity() : 0; }
  size_t read_buffer_bytes() const { return buffer_.capacity(); }

 private:
  size_t LargeReadSize(size_t max_bytes) const;
  size_t LargeCapacityFor(size_t needed) const;
  void GrowFrameBuffer(size_t capacity);

  size_t max_frame_bytes_;
  std::string buffer_;  // the read buffer
  size_t begin_ = 0;    // consumed prefix of buffer_
  size_t end_ = 0;      // filled prefix of buffer_ (buffer_ may be larger: PrepareRead)
  std::optional<FrameHeader> header_;  // parsed header of the frame in progress
  // A large frame in progress: its header bytes (for the checksum) and its
  // own payload buffer, of which payload_filled_ bytes are received.
  bool large_ = false;
  char header_bytes_[kTracedFrameHeaderSize] = {};
  std::string payload_;
  size_t payload_filled_ = 0;
  bool prepared_large_ = false;  // the last PrepareRead pointed into payload_
  Status error_;
};

}  // namespace tinykv::net
