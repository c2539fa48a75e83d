// Encodings of membership.h.
#include "tinykv/replica/membership.h"

#include "tinykv/common/coding.h"
#include "tinykv/raft/codec.h"

namespace tinykv::replica {
namespace {
constexpr uint8_t kMembershipVersion = 1;
constexpr uint8_t kMemberContextVersion = 1;
}  // namespace

void EncodeMemberAddress(const MemberAddress& a, std::string* dst) {
  PutLengthPrefixedSlice(dst, Slice(a.peer));
  PutLengthPrefixedSlice(dst, Slice(a.client));
}

bool DecodeMemberAddress(Slice* in, MemberAddress* a) {
  Slice peer, client;
  if (!GetLengthPrefixedSlice(in, &peer) || !GetLengthPrefixedSlice(in, &client)) return false;
  a->peer = peer.ToString();
  a->client = client.ToString();
  return true;
}

std::string EncodeMembership(const Membership& m) {
  std::string s;
  s.push_back(static_cast<char>(kMembershipVersion));
  std::string cs;
  raft::EncodeConfState(m.conf, &cs);
  PutLengthPrefixedSlice(&s, Slice(cs));
  PutVarint64(&s, m.book.size());
  for (const auto& [id, a] : m.book) {
    PutFixed64(&s, id);
    EncodeMemberAddress(a, &s);
  }
  return s;
}

Result<Membership> DecodeMembership(Slice in) {
  if (in.empty() || static_cast<uint8_t>(in[0]) != kMembershipVersion)
    return Status::Corruption("membership: bad version");
  in.remove_prefix(1);
  Membership m;
  Slice cs;
  if (!GetLengthPrefixedSlice(&in, &cs)) return Status::Corruption("membership: truncated");
  TINYKV_RETURN_IF_ERROR(raft::DecodeConfState(&cs, &m.conf));
  uint64_t n = 0;
  if (!GetVarint64(&in, &n) || n > in.size()) return Status::Corruption("membership: bad count");
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t id = 0;
    MemberAddress a;
    if (!GetFixed64(&in, &id) || !DecodeMemberAddress(&in, &a))
      return Status::Corruption("membership: truncated address book");
    m.book[id] = std::move(a);
  }
  if (!in.empty()) return Status::Corruption("membership: trailing bytes");
  return m;
}

std::string EncodeMemberContext(const MemberContext& c) {
  std::string s;
  s.push_back(static_cast<char>(kMemberContextVersion));
  PutFixed64(&s, c.proposal_id);
  EncodeMemberAddress(c.address, &s);
  return s;
}

Result<std::optional<MemberContext>> DecodeMemberContext(Slice in) {
  if (in.empty()) return std::optional<MemberContext>();
  if (static_cast<uint8_t>(in[0]) != kMemberContextVersion)
    return Status::Corruption("member context: bad version");
  in.remove_prefix(1);
  MemberContext c;
  if (!GetFixed64(&in, &c.proposal_id) || !DecodeMemberAddress(&in, &c.address) || !in.empty())
    return Status::Corruption("member context: truncated or trailing bytes");
  return std::optional<MemberContext>(std::move(c));
}

}  // namespace tinykv::replica
