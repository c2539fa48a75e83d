// A compact binary encoding of Raft's wire and disk types. The real transport
// ships these bytes; SimCluster.stats()["bytes"] counts their sizes. Grammar
// and a worked example: phase3_raft/doc/message_format.md.
//
// Decoders never trust their input: truncated or trailing bytes, unknown enum
// values, impossible counts and unknown flag bits give Status::Corruption.
// Every Encode* appends to *dst.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>

#include "tinykv/common/bytes.h"
#include "tinykv/common/result.h"
#include "tinykv/raft/message.h"

namespace tinykv::raft {

inline constexpr uint8_t kMessageFormatVersion = 1;

void EncodeEntry(const Entry& e, std::string* dst);
void EncodeHardState(const HardState& hs, std::string* dst);
void EncodeConfState(const ConfState& cs, std::string* dst);
void EncodeSnapshotMetadata(const SnapshotMetadata& m, std::string* dst);
void EncodeConfChange(const ConfChangeV2& cc, std::string* dst);
void EncodeMessage(const Message& m, std::string* dst);

// Encoded size of a message without building it.
size_t EncodedMessageSize(const Message& m);
size_t EncodedEntrySize(const Entry& e);

// Each consumes its encoding from the front of *input (advancing it).
Status DecodeEntry(Slice* input, Entry* e);
Status DecodeHardState(Slice* input, HardState* hs);
Status DecodeConfState(Slice* input, ConfState* cs);
Status DecodeSnapshotMetadata(Slice* input, SnapshotMetadata* m);

// Whole-buffer decoders: trailing bytes are Corruption.
Result<ConfChangeV2> DecodeConfChange(Slice input);
Result<Message> DecodeMessage(Slice input);

}  // namespace tinykv::raft
