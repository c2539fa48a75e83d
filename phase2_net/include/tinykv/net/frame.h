// Frame: the unit of TinyKV's RPC wire protocol (grammar and a worked example
// in phase2_net/doc/frame_format.md; this header holds the constants and the
// sans-I/O codec).
//
//   frame  := header payload
//   header := magic:u16 version:u8 kind:u8 request_id:u64 method_id:u32
//             payload_length:u32 checksum:u32            (24 bytes, little-endian)
//   checksum = crc32c::Mask(crc32c(header[0..20) ++ payload))
//
// The checksum covers the first 20 header bytes as well as the payload, so a
// flipped bit in the request id or method id is caught, not just payload rot.
//
// FrameDecoder is pure (no sockets, no clock): the async transport, the unit
// tests and the libFuzzer target all drive the same code. It never allocates
// more than kFrameHeaderSize + the declared payload length, and it rejects a
// declared length above the configured maximum before allocating anything.
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
inline constexpr uint8_t kFrameVersion = 1;
inline constexpr size_t kFrameHeaderSize = 24;
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
};
inline constexpr uint8_t kMaxFrameKind = 6;

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
};

struct Frame {
  FrameHeader header;
  std::string payload;
};

// Appends one complete frame (header with checksum, then payload) to *dst.
void AppendFrame(std::string* dst, FrameKind kind, uint64_t request_id, uint32_t method_id,
                 Slice payload);
inline std::string EncodeFrame(FrameKind kind, uint64_t request_id, uint32_t method_id,
                               Slice payload) {
  std::string out;
  AppendFrame(&out, kind, request_id, method_id, payload);
  return out;
}

// Parses and validates the fixed header. `max_frame_bytes` bounds header +
// payload. Errors: Corruption (bad magic, unknown version, unknown kind),
// ResourceExhausted (declared length above the limit).
// REQUIRES: header.size() >= kFrameHeaderSize.
Result<FrameHeader> DecodeFrameHeader(Slice header, size_t max_frame_bytes);

// Checks the checksum of a frame whose header bytes are `header_bytes`
// (kFrameHeaderSize bytes) and whose payload is `payload`.
Status VerifyFrameChecksum(Slice header_bytes, Slice payload, uint32_t masked_checksum);

// Incremental decoder: feed bytes as they arrive, take complete frames out.
//
//   FrameDecoder d(max);
//   d.Append(bytes_from_socket);
//   for (;;) { auto f = d.Next(); if (!f.ok()) close(f.status());
//              if (!f->has_value()) break; handle(**f); }
//
// After an error the decoder is poisoned: every later Next() returns the same
// error (the stream has lost framing and cannot be resynchronised).
class FrameDecoder {
 public:
  explicit FrameDecoder(size_t max_frame_bytes = kDefaultMaxFrameBytes)
      : max_frame_bytes_(max_frame_bytes) {}

  void Append(Slice bytes);
  // A complete frame, nullopt if more bytes are needed, or the framing error.
  Result<std::optional<Frame>> Next();

  // Bytes received but not yet returned as frames.
  size_t buffered_bytes() const { return end_ - begin_; }
  // Where the next read should land, for callers that read straight into the
  // decoder (saves a copy): Prepare(n) returns room for at least n bytes;
  // Commit(k) declares k of them filled.
  char* Prepare(size_t n);
  void Commit(size_t k);
  // How many more bytes the decoder needs before Next() can make progress.
  size_t BytesWanted() const;

 private:
  size_t max_frame_bytes_;
  std::string buffer_;
  size_t begin_ = 0;  // consumed prefix of buffer_
  size_t end_ = 0;    // filled prefix of buffer_ (buffer_ may be larger: Prepare)
  std::optional<FrameHeader> header_;  // parsed header of the frame in progress
  Status error_;
};

}  // namespace tinykv::net
