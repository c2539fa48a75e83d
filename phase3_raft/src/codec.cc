// Binary codec for Raft types; see doc/message_format.md for the grammar.
#include "tinykv/raft/codec.h"

#include <algorithm>

#include "tinykv/common/coding.h"

namespace tinykv::raft {
namespace {

// Upper bound on list lengths accepted from the wire; a count larger than the
// remaining bytes is rejected before anything is allocated.
constexpr uint64_t kMaxIds = 1 << 16;

Status Truncated(const char* what) {
  return Status::Corruption(std::string("raft codec: truncated ") + what);
}

void PutIds(std::string* dst, const std::vector<uint64_t>& ids) {
  PutVarint64(dst, ids.size());
  for (uint64_t id : ids) PutVarint64(dst, id);
}

Status GetIds(Slice* in, std::vector<uint64_t>* ids) {
  uint64_t n;
  if (!GetVarint64(in, &n)) return Truncated("id count");
  if (n > kMaxIds || n > in->size()) return Status::Corruption("raft codec: bad id count");
  ids->clear();
  ids->reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t id;
    if (!GetVarint64(in, &id)) return Truncated("id");
    ids->push_back(id);
  }
  return Status::OK();
}

Status GetByte(Slice* in, uint8_t* b, const char* what) {
  if (in->empty()) return Truncated(what);
  *b = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  return Status::OK();
}

Status GetString(Slice* in, std::string* s, const char* what) {
  Slice v;
  if (!GetLengthPrefixedSlice(in, &v)) return Truncated(what);
  s->assign(v.data(), v.size());
  return Status::OK();
}

Status GetU64(Slice* in, uint64_t* v, const char* what) {
  if (!GetVarint64(in, v)) return Truncated(what);
  return Status::OK();
}

size_t LenPrefixed(size_t n) { return VarintLength(n) + n; }

size_t IdsSize(const std::vector<uint64_t>& ids) {
  size_t s = VarintLength(ids.size());
  for (uint64_t id : ids) s += VarintLength(id);
  return s;
}

size_t ConfStateSize(const ConfState& cs) {
  return IdsSize(cs.voters) + IdsSize(cs.learners) + IdsSize(cs.voters_outgoing) +
         IdsSize(cs.learners_next) + 1;
}

constexpr uint8_t kFlagReject = 1;
constexpr uint8_t kFlagSnapshot = 2;

}  // namespace

bool ConfChangeV2::EnterJoint(bool* auto_leave) const {
  // Like etcd: a change enters a joint configuration if it asks to explicitly,
  // or if it carries more than one change.
  if (transition != ConfChangeTransition::kAuto || changes.size() > 1) {
    *auto_leave = transition != ConfChangeTransition::kJointExplicit;
    return true;
  }
  *auto_leave = false;
  return false;
}

std::string_view MessageTypeName(MessageType t) {
  static constexpr std::string_view kNames[kNumMessageTypes] = {
      "MsgHup",           "MsgBeat",           "MsgProp",        "MsgApp",
      "MsgAppResp",       "MsgVote",           "MsgVoteResp",    "MsgSnap",
      "MsgHeartbeat",     "MsgHeartbeatResp",  "MsgUnreachable", "MsgSnapStatus",
      "MsgCheckQuorum",   "MsgTransferLeader", "MsgTimeoutNow",  "MsgReadIndex",
      "MsgReadIndexResp", "MsgPreVote",        "MsgPreVoteResp"};
  const auto i = static_cast<size_t>(t);
  return i < static_cast<size_t>(kNumMessageTypes) ? kNames[i] : "MsgUnknown";
}

bool IsLocalMessage(MessageType t) {
  return t == MessageType::kMsgHup || t == MessageType::kMsgBeat ||
         t == MessageType::kMsgUnreachable || t == MessageType::kMsgSnapStatus ||
         t == MessageType::kMsgCheckQuorum;
}

bool IsResponseMessage(MessageType t) {
  return t == MessageType::kMsgAppResp || t == MessageType::kMsgVoteResp ||
         t == MessageType::kMsgHeartbeatResp || t == MessageType::kMsgUnreachable ||
         t == MessageType::kMsgReadIndexResp || t == MessageType::kMsgPreVoteResp;
}

void EncodeEntry(const Entry& e, std::string* dst) {
  dst->push_back(static_cast<char>(e.type));
  PutVarint64(dst, e.term);
  PutVarint64(dst, e.index);
  PutLengthPrefixedSlice(dst, e.data);
}

size_t EncodedEntrySize(const Entry& e) {
  return 1 + VarintLength(e.term) + VarintLength(e.index) + LenPrefixed(e.data.size());
}

Status DecodeEntry(Slice* in, Entry* e) {
  uint8_t type = 0;
  TINYKV_RETURN_IF_ERROR(GetByte(in, &type, "entry type"));
  if (type > static_cast<uint8_t>(EntryType::kConfChangeV2)) {
    return Status::Corruption("raft codec: unknown entry type " + std::to_string(type));
  }
  e->type = static_cast<EntryType>(type);
  TINYKV_RETURN_IF_ERROR(GetU64(in, &e->term, "entry term"));
  TINYKV_RETURN_IF_ERROR(GetU64(in, &e->index, "entry index"));
  return GetString(in, &e->data, "entry data");
}

void EncodeHardState(const HardState& hs, std::string* dst) {
  PutVarint64(dst, hs.term);
  PutVarint64(dst, hs.vote);
  PutVarint64(dst, hs.commit);
}

Status DecodeHardState(Slice* in, HardState* hs) {
  TINYKV_RETURN_IF_ERROR(GetU64(in, &hs->term, "hard state term"));
  TINYKV_RETURN_IF_ERROR(GetU64(in, &hs->vote, "hard state vote"));
  return GetU64(in, &hs->commit, "hard state commit");
}

void EncodeConfState(const ConfState& cs, std::string* dst) {
  PutIds(dst, cs.voters);
  PutIds(dst, cs.learners);
  PutIds(dst, cs.voters_outgoing);
  PutIds(dst, cs.learners_next);
  dst->push_back(cs.auto_leave ? 1 : 0);
}

Status DecodeConfState(Slice* in, ConfState* cs) {
  TINYKV_RETURN_IF_ERROR(GetIds(in, &cs->voters));
  TINYKV_RETURN_IF_ERROR(GetIds(in, &cs->learners));
  TINYKV_RETURN_IF_ERROR(GetIds(in, &cs->voters_outgoing));
  TINYKV_RETURN_IF_ERROR(GetIds(in, &cs->learners_next));
  uint8_t b = 0;
  TINYKV_RETURN_IF_ERROR(GetByte(in, &b, "auto_leave"));
  if (b > 1) return Status::Corruption("raft codec: bad auto_leave flag");
  cs->auto_leave = b == 1;
  return Status::OK();
}

void EncodeSnapshotMetadata(const SnapshotMetadata& m, std::string* dst) {
  PutVarint64(dst, m.index);
  PutVarint64(dst, m.term);
  EncodeConfState(m.conf_state, dst);
}

Status DecodeSnapshotMetadata(Slice* in, SnapshotMetadata* m) {
  TINYKV_RETURN_IF_ERROR(GetU64(in, &m->index, "snapshot index"));
  TINYKV_RETURN_IF_ERROR(GetU64(in, &m->term, "snapshot term"));
  return DecodeConfState(in, &m->conf_state);
}

void EncodeConfChange(const ConfChangeV2& cc, std::string* dst) {
  dst->push_back(static_cast<char>(cc.transition));
  PutVarint64(dst, cc.changes.size());
  for (const auto& c : cc.changes) {
    dst->push_back(static_cast<char>(c.type));
    PutVarint64(dst, c.node_id);
  }
  PutLengthPrefixedSlice(dst, cc.context);
}

Result<ConfChangeV2> DecodeConfChange(Slice in) {
  ConfChangeV2 cc;
  uint8_t t = 0;
  TINYKV_RETURN_IF_ERROR(GetByte(&in, &t, "conf change transition"));
  if (t > static_cast<uint8_t>(ConfChangeTransition::kJointExplicit)) {
    return Status::Corruption("raft codec: unknown conf change transition");
  }
  cc.transition = static_cast<ConfChangeTransition>(t);
  uint64_t n;
  TINYKV_RETURN_IF_ERROR(GetU64(&in, &n, "conf change count"));
  if (n > kMaxIds || n > in.size()) return Status::Corruption("raft codec: bad change count");
  for (uint64_t i = 0; i < n; ++i) {
    ConfChangeSingle c;
    uint8_t ct = 0;
    TINYKV_RETURN_IF_ERROR(GetByte(&in, &ct, "conf change type"));
    if (ct > static_cast<uint8_t>(ConfChangeType::kAddLearnerNode)) {
      return Status::Corruption("raft codec: unknown conf change type");
    }
    c.type = static_cast<ConfChangeType>(ct);
    TINYKV_RETURN_IF_ERROR(GetU64(&in, &c.node_id, "conf change node"));
    cc.changes.push_back(c);
  }
  TINYKV_RETURN_IF_ERROR(GetString(&in, &cc.context, "conf change context"));
  if (!in.empty()) return Status::Corruption("raft codec: trailing bytes after conf change");
  return cc;
}

void EncodeMessage(const Message& m, std::string* dst) {
  dst->push_back(static_cast<char>(kMessageFormatVersion));
  dst->push_back(static_cast<char>(m.type));
  PutVarint64(dst, m.to);
  PutVarint64(dst, m.from);
  PutVarint64(dst, m.term);
  PutVarint64(dst, m.log_term);
  PutVarint64(dst, m.index);
  PutVarint64(dst, m.commit);
  const bool has_snap = !m.snapshot.empty();
  dst->push_back(static_cast<char>((m.reject ? kFlagReject : 0) | (has_snap ? kFlagSnapshot : 0)));
  PutVarint64(dst, m.reject_hint);
  PutLengthPrefixedSlice(dst, m.context);
  PutVarint64(dst, m.entries.size());
  for (const Entry& e : m.entries) EncodeEntry(e, dst);
  if (has_snap) {
    EncodeSnapshotMetadata(m.snapshot.metadata, dst);
    PutLengthPrefixedSlice(dst, m.snapshot.data);
  }
}

size_t EncodedMessageSize(const Message& m) {
  size_t s = 2 + VarintLength(m.to) + VarintLength(m.from) + VarintLength(m.term) +
             VarintLength(m.log_term) + VarintLength(m.index) + VarintLength(m.commit) + 1 +
             VarintLength(m.reject_hint) + LenPrefixed(m.context.size()) +
             VarintLength(m.entries.size());
  for (const Entry& e : m.entries) s += EncodedEntrySize(e);
  if (!m.snapshot.empty()) {
    s += VarintLength(m.snapshot.metadata.index) + VarintLength(m.snapshot.metadata.term) +
         ConfStateSize(m.snapshot.metadata.conf_state) + LenPrefixed(m.snapshot.data.size());
  }
  return s;
}

Result<Message> DecodeMessage(Slice in) {
  Message m;
  uint8_t version = 0, type = 0, flags = 0;
  TINYKV_RETURN_IF_ERROR(GetByte(&in, &version, "version"));
  if (version != kMessageFormatVersion) {
    return Status::Corruption("raft codec: unknown message format version " +
                              std::to_string(version));
  }
  TINYKV_RETURN_IF_ERROR(GetByte(&in, &type, "message type"));
  if (type >= kNumMessageTypes) {
    return Status::Corruption("raft codec: unknown message type " + std::to_string(type));
  }
  m.type = static_cast<MessageType>(type);
  TINYKV_RETURN_IF_ERROR(GetU64(&in, &m.to, "to"));
  TINYKV_RETURN_IF_ERROR(GetU64(&in, &m.from, "from"));
  TINYKV_RETURN_IF_ERROR(GetU64(&in, &m.term, "term"));
  TINYKV_RETURN_IF_ERROR(GetU64(&in, &m.log_term, "log_term"));
  TINYKV_RETURN_IF_ERROR(GetU64(&in, &m.index, "index"));
  TINYKV_RETURN_IF_ERROR(GetU64(&in, &m.commit, "commit"));
  TINYKV_RETURN_IF_ERROR(GetByte(&in, &flags, "flags"));
  if ((flags & ~(kFlagReject | kFlagSnapshot)) != 0) {
    return Status::Corruption("raft codec: unknown message flags");
  }
  m.reject = (flags & kFlagReject) != 0;
  TINYKV_RETURN_IF_ERROR(GetU64(&in, &m.reject_hint, "reject_hint"));
  TINYKV_RETURN_IF_ERROR(GetString(&in, &m.context, "context"));
  uint64_t n;
  TINYKV_RETURN_IF_ERROR(GetU64(&in, &n, "entry count"));
  // Every entry takes at least 4 bytes, so a larger count is a lie.
  if (n > in.size() / 4) return Status::Corruption("raft codec: bad entry count");
  m.entries.resize(n);
  for (uint64_t i = 0; i < n; ++i) TINYKV_RETURN_IF_ERROR(DecodeEntry(&in, &m.entries[i]));
  if ((flags & kFlagSnapshot) != 0) {
    TINYKV_RETURN_IF_ERROR(DecodeSnapshotMetadata(&in, &m.snapshot.metadata));
    TINYKV_RETURN_IF_ERROR(GetString(&in, &m.snapshot.data, "snapshot data"));
    if (m.snapshot.empty()) return Status::Corruption("raft codec: snapshot at index 0");
  }
  if (!in.empty()) return Status::Corruption("raft codec: trailing bytes after message");
  return m;
}

}  // namespace tinykv::raft
