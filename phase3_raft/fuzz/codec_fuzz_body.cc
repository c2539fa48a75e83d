// FuzzCodecBytes; see raft_fuzz_bodies.h.
#include <string>

#include "raft_fuzz_bodies.h"
#include "tinykv/common/check.h"
#include "tinykv/raft/codec.h"
#include "tinykv/raft/message_check.h"

namespace tinykv::raft::fuzz {
namespace {

// Decoding again what a value encodes to gives the value back. (Bytes may
// differ: a varint with redundant 0x80 groups decodes but is re-encoded
// minimally.)
void CheckMessageRoundTrip(const Message& m) {
  std::string enc;
  EncodeMessage(m, &enc);
  TINYKV_CHECK(enc.size() == EncodedMessageSize(m)) << "EncodedMessageSize is wrong";
  auto again = DecodeMessage(enc);
  TINYKV_CHECK(again.ok()) << "re-encoded message does not decode: " << again.status().ToString();
  TINYKV_CHECK(*again == m) << "message round trip changed the value";
  RejectReason reason;
  (void)CheckMessageShape(m, &reason);
  for (const Entry& e : m.entries) {
    std::string ee;
    EncodeEntry(e, &ee);
    TINYKV_CHECK(ee.size() == EncodedEntrySize(e)) << "EncodedEntrySize is wrong";
    if (e.type == EntryType::kConfChangeV2) (void)DecodeConfChange(e.data).status();
  }
  if (m.type == MessageType::kMsgSnap) (void)CheckConfState(m.snapshot.metadata.conf_state);
}

template <typename T, typename Encode, typename Decode>
void CheckPrefixDecoder(Slice in, Encode encode, Decode decode) {
  T v;
  Status s = decode(&in, &v);
  if (!s.ok()) {
    TINYKV_CHECK(s.IsCorruption()) << s.ToString();
    return;
  }
  std::string enc;
  encode(v, &enc);
  Slice e(enc);
  T again;
  TINYKV_CHECK(decode(&e, &again).ok() && e.empty()) << "re-encoded value does not decode";
  TINYKV_CHECK(again == v) << "round trip changed the value";
}

}  // namespace

void FuzzCodecBytes(const uint8_t* data, size_t size) {
  const Slice in(reinterpret_cast<const char*>(data), size);
  auto m = DecodeMessage(in);
  if (m.ok()) {
    CheckMessageRoundTrip(*m);
  } else {
    TINYKV_CHECK(m.status().IsCorruption()) << m.status().ToString();
  }
  auto cc = DecodeConfChange(in);
  if (cc.ok()) {
    std::string enc;
    EncodeConfChange(*cc, &enc);
    auto again = DecodeConfChange(enc);
    TINYKV_CHECK(again.ok() && *again == *cc) << "conf change round trip changed the value";
  } else {
    TINYKV_CHECK(cc.status().IsCorruption()) << cc.status().ToString();
  }
  CheckPrefixDecoder<Entry>(in, EncodeEntry, DecodeEntry);
  CheckPrefixDecoder<HardState>(in, EncodeHardState, DecodeHardState);
  CheckPrefixDecoder<SnapshotMetadata>(in, EncodeSnapshotMetadata, DecodeSnapshotMetadata);
  Slice cs_in = in;
  ConfState cs;
  if (DecodeConfState(&cs_in, &cs).ok()) (void)CheckConfState(cs);
  CheckPrefixDecoder<ConfState>(in, EncodeConfState, DecodeConfState);
}

}  // namespace tinykv::raft::fuzz
