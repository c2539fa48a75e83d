// Frame codec. See doc/frame_format.md for the format and frame.h for the contract.
#include "tinykv/net/frame.h"

#include <algorithm>
#include <cstring>

#include "tinykv/common/coding.h"
#include "tinykv/common/crc32c.h"

namespace tinykv::net {

namespace {
// The checksum covers header bytes [0, 20) and [24, header size).
constexpr size_t kChecksumOffset = 20;

uint32_t HeaderCrc(const char* h, size_t header_size) {
  uint32_t crc = crc32c::Value(h, kChecksumOffset);
  if (header_size > kFrameHeaderSize)
    crc = crc32c::Extend(crc, h + kFrameHeaderSize, header_size - kFrameHeaderSize);
  return crc;
}
}  // namespace

std::string_view FrameKindName(FrameKind kind) {
  switch (kind) {
    case FrameKind::kRequest: return "request";
    case FrameKind::kResponse: return "response";
    case FrameKind::kStreamItem: return "stream-item";
    case FrameKind::kStreamEnd: return "stream-end";
    case FrameKind::kError: return "error";
    case FrameKind::kCancel: return "cancel";
    case FrameKind::kHello: return "hello";
  }
  return "unknown";
}

void AppendFrame(std::string* dst, FrameKind kind, uint64_t request_id, uint32_t method_id,
                 Slice payload, uint64_t trace_id) {
  const size_t start = dst->size();
  const size_t header_size = trace_id != 0 ? kTracedFrameHeaderSize : kFrameHeaderSize;
  dst->resize(start + header_size);
  char* h = dst->data() + start;
  h[0] = static_cast<char>(kFrameMagic & 0xff);
  h[1] = static_cast<char>(kFrameMagic >> 8);
  h[2] = static_cast<char>(trace_id != 0 ? kFrameVersionTraced : kFrameVersion);
  h[3] = static_cast<char>(kind);
  EncodeFixed64(h + 4, request_id);
  EncodeFixed32(h + 12, method_id);
  EncodeFixed32(h + 16, static_cast<uint32_t>(payload.size()));
  if (trace_id != 0) EncodeFixed64(h + kFrameHeaderSize, trace_id);
  uint32_t crc = HeaderCrc(h, header_size);
  crc = crc32c::Extend(crc, payload.data(), payload.size());
  EncodeFixed32(h + kChecksumOffset, crc32c::Mask(crc));
  dst->append(payload.data(), payload.size());
}

Result<FrameHeader> DecodeFrameHeader(Slice header, size_t max_frame_bytes) {
  TINYKV_CHECK(header.size() >= kFrameHeaderSize &&
               header.size() >= FrameHeaderSizeOf(static_cast<uint8_t>(header[2])))
      << "short header " << header.size();
  const auto* h = header.udata();
  const uint16_t magic = static_cast<uint16_t>(h[0] | (h[1] << 8));
  if (magic != kFrameMagic) {
    return Status::Corruption("bad frame magic 0x" + Slice(header.data(), 2).ToHex());
  }
  if (h[2] != kFrameVersion && h[2] != kFrameVersionTraced) {
    return Status::Corruption("unsupported frame version " + std::to_string(h[2]));
  }
  if (h[3] == 0 || h[3] > kMaxFrameKind) {
    return Status::Corruption("unknown frame kind " + std::to_string(h[3]));
  }
  FrameHeader out;
  out.kind = static_cast<FrameKind>(h[3]);
  out.request_id = DecodeFixed64(header.data() + 4);
  out.method_id = DecodeFixed32(header.data() + 12);
  out.payload_length = DecodeFixed32(header.data() + 16);
  out.masked_checksum = DecodeFixed32(header.data() + kChecksumOffset);
  if (h[2] == kFrameVersionTraced) {
    out.trace_id = DecodeFixed64(header.data() + kFrameHeaderSize);
    // One encoding per frame: an untraced frame is version 1.
    if (out.trace_id == 0) return Status::Corruption("version 2 frame with trace id 0");
  }
  if (static_cast<uint64_t>(out.payload_length) + out.header_size() > max_frame_bytes) {
    return Status::ResourceExhausted("frame of " + std::to_string(out.payload_length) +
                                     " payload bytes exceeds the limit of " +
                                     std::to_string(max_frame_bytes) + " bytes");
  }
  return out;
}

Status VerifyFrameChecksum(Slice header_bytes, Slice payload, uint32_t masked_checksum) {
  uint32_t crc = HeaderCrc(header_bytes.data(), header_bytes.size());
  crc = crc32c::Extend(crc, payload.data(), payload.size());
  if (crc != crc32c::Unmask(masked_checksum)) {
    return Status::Corruption("frame checksum mismatch");
  }
  return Status::OK();
}

void FrameDecoder::Append(Slice bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ReadSpace space = PrepareRead(bytes.size() - done);
    const size_t n = std::min(space.size, bytes.size() - done);
    std::memcpy(space.data, bytes.data() + done, n);
    CommitRead(n);
    done += n;
  }
}

size_t FrameDecoder::LargeReadSize(size_t max_bytes) const {
  // Never ahead of the sender by more than what it already sent (at least
  // one small read), never past the frame's end.
  const size_t remaining = header_->payload_length - payload_filled_;
  const size_t earned = std::max(kMinFrameReadBytes, payload_filled_);
  return std::min({max_bytes, remaining, earned, kReadBufferFrameBytes});
}

size_t FrameDecoder::LargeCapacityFor(size_t needed) const {
  if (needed <= payload_.capacity()) return payload_.capacity();
  // Doubling keeps the copies linear; the declared length caps the buffer.
  return std::min<size_t>(header_->payload_length, std::max(needed, 2 * payload_.capacity()));
}

size_t FrameDecoder::FrameBufferGrowth(size_t max_bytes) const {
  if (!large_ || payload_filled_ == header_->payload_length) return 0;
  const size_t needed = payload_filled_ + LargeReadSize(std::max<size_t>(1, max_bytes));
  return LargeCapacityFor(needed) - payload_.capacity();
}

size_t FrameDecoder::FrameBufferGrowthToEnd() const {
  if (!large_ || payload_.capacity() >= header_->payload_length) return 0;
  return header_->payload_length - payload_.capacity();
}

void FrameDecoder::ReserveWholeFrame() {
  if (large_) GrowFrameBuffer(header_->payload_length);
}

void FrameDecoder::GrowFrameBuffer(size_t capacity) {
  if (capacity <= payload_.capacity()) return;
  // A fresh string reserves exactly what it is asked for (growing one in
  // place may round up to twice its old capacity, past the frame's end).
  std::string bigger;
  bigger.reserve(capacity);
  bigger.assign(payload_.data(), payload_filled_);
  payload_.swap(bigger);
}

FrameDecoder::ReadSpace FrameDecoder::PrepareRead(size_t max_bytes) {
  max_bytes = std::max<size_t>(1, max_bytes);
  if (large_ && payload_filled_ < header_->payload_length) {
    const size_t n = LargeReadSize(max_bytes);
    GrowFrameBuffer(LargeCapacityFor(payload_filled_ + n));
    payload_.resize(payload_filled_ + n);
    prepared_large_ = true;
    return {payload_.data() + payload_filled_, n};
  }
  prepared_large_ = false;
  if (begin_ == end_) {
    begin_ = end_ = 0;
    // Idle again after a burst: give the memory back rather than keep the
    // largest buffer this connection ever needed.
    if (buffer_.capacity() > 2 * std::max(max_bytes, kReadBufferFrameBytes)) {
      std::string().swap(buffer_);
    }
  }
  if (buffer_.size() - end_ < max_bytes) {
    // Slide unconsumed bytes to the front before growing.
    if (begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (buffer_.size() - end_ < max_bytes) buffer_.resize(end_ + max_bytes);
  }
  return {buffer_.data() + end_, max_bytes};
}

void FrameDecoder::CommitRead(size_t k) {
  if (prepared_large_) {
    TINYKV_CHECK_LE(payload_filled_ + k, payload_.size());
    payload_filled_ += k;
    payload_.resize(payload_filled_);
    prepared_large_ = false;
    return;
  }
  TINYKV_CHECK_LE(end_ + k, buffer_.size());
  end_ += k;
}

size_t FrameDecoder::buffered_bytes() const {
  return (end_ - begin_) + (large_ ? header_->header_size() + payload_filled_ : 0);
}

size_t FrameDecoder::BytesWanted() const {
  if (large_) return header_->payload_length - payload_filled_;
  const size_t have = end_ - begin_;
  size_t need = kFrameHeaderSize;
  if (header_.has_value()) {
    need = header_->header_size() + header_->payload_length;
  } else if (have > 2) {
    need = FrameHeaderSizeOf(static_cast<uint8_t>(buffer_[begin_ + 2]));
  }
  return have >= need ? 0 : need - have;
}

Result<std::optional<Frame>> FrameDecoder::Next() {
  if (!error_.ok()) return error_;
  if (large_) {
    if (payload_filled_ < header_->payload_length) return std::optional<Frame>();
    Status s = VerifyFrameChecksum(Slice(header_bytes_, header_->header_size()), payload_,
                                   header_->masked_checksum);
    if (!s.ok()) {
      error_ = s;
      return error_;
    }
    std::optional<Frame> frame(Frame{*header_, std::move(payload_)});
    payload_ = std::string();
    payload_filled_ = 0;
    large_ = false;
    header_.reset();
    return frame;
  }
  const size_t have = end_ - begin_;
  if (!header_.has_value()) {
    if (have < kFrameHeaderSize) return std::optional<Frame>();
    const size_t header_size = FrameHeaderSizeOf(static_cast<uint8_t>(buffer_[begin_ + 2]));
    if (have < header_size) return std::optional<Frame>();
    auto h = DecodeFrameHeader(Slice(buffer_.data() + begin_, header_size), max_frame_bytes_);
    if (!h.ok()) {
      error_ = h.status();
      return error_;
    }
    header_ = *h;
  }
  const size_t header_size = header_->header_size();
  const size_t frame_size = header_size + header_->payload_length;
  if (have < frame_size) {
    if (frame_size <= kReadBufferFrameBytes) return std::optional<Frame>();
    // A large frame: its header and the payload bytes received so far (all
    // that is buffered: nothing follows an incomplete frame) move to the
    // frame's own buffer, sized by what arrived, not by what the header says.
    std::memcpy(header_bytes_, buffer_.data() + begin_, header_size);
    const size_t received = have - header_size;
    payload_.reserve(received);
    payload_.assign(buffer_.data() + begin_ + header_size, received);
    payload_filled_ = received;
    large_ = true;
    begin_ = end_ = 0;
    return std::optional<Frame>();
  }
  const Slice header_bytes(buffer_.data() + begin_, header_size);
  const Slice payload(buffer_.data() + begin_ + header_size, header_->payload_length);
  Status s = VerifyFrameChecksum(header_bytes, payload, header_->masked_checksum);
  if (!s.ok()) {
    error_ = s;
    return error_;
  }
  std::optional<Frame> frame(Frame{*header_, payload.ToString()});
  header_.reset();
  begin_ += frame_size;
  if (begin_ == end_) begin_ = end_ = 0;
  return frame;
}

}  // namespace tinykv::net
