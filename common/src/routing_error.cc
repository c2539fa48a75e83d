#include "tinykv/common/routing_error.h"

#include "tinykv/common/bytes.h"
#include "tinykv/common/coding.h"

namespace tinykv {
namespace {
constexpr uint8_t kVersion = 1;
}  // namespace

std::string EncodeRoutingError(const RoutingError& e) {
  std::string s;
  s.push_back(static_cast<char>(StatusDetailKind::kRouting));
  s.push_back(static_cast<char>(kVersion));
  PutVarint64(&s, e.group);
  PutVarint64(&s, e.leader_id);
  PutLengthPrefixedSlice(&s, Slice(e.leader_address));
  s.push_back(e.has_range ? 1 : 0);
  if (e.has_range) {
    PutVarint64(&s, e.range_id);
    PutLengthPrefixedSlice(&s, Slice(e.range_start));
    PutLengthPrefixedSlice(&s, Slice(e.range_end));
    PutVarint64(&s, e.range_epoch);
  }
  return s;
}

std::optional<RoutingError> DecodeRoutingError(std::string_view detail) {
  Slice in(detail.data(), detail.size());
  if (in.size() < 2 || static_cast<uint8_t>(in[0]) != static_cast<uint8_t>(StatusDetailKind::kRouting) ||
      static_cast<uint8_t>(in[1]) != kVersion) {
    return std::nullopt;
  }
  in.remove_prefix(2);
  RoutingError e;
  Slice addr;
  if (!GetVarint64(&in, &e.group) || !GetVarint64(&in, &e.leader_id) ||
      !GetLengthPrefixedSlice(&in, &addr) || in.empty()) {
    return std::nullopt;
  }
  e.leader_address = addr.ToString();
  const uint8_t has_range = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  if (has_range > 1) return std::nullopt;
  if (has_range == 1) {
    e.has_range = true;
    Slice start, end;
    if (!GetVarint64(&in, &e.range_id) || !GetLengthPrefixedSlice(&in, &start) ||
        !GetLengthPrefixedSlice(&in, &end) || !GetVarint64(&in, &e.range_epoch)) {
      return std::nullopt;
    }
    e.range_start = start.ToString();
    e.range_end = end.ToString();
  }
  if (!in.empty()) return std::nullopt;
  return e;
}

std::optional<RoutingError> RoutingErrorOf(const Status& s) {
  if (s.ok() || s.detail().empty()) return std::nullopt;
  return DecodeRoutingError(s.detail());
}

std::string NotLeaderMessage(const RoutingError& e) {
  std::string m = "leader=" + std::to_string(e.leader_id);
  if (!e.leader_address.empty()) m += " addr=" + e.leader_address;
  return m;
}

Status NotLeaderError(const RoutingError& e, std::string_view context) {
  std::string msg(context);
  if (!msg.empty()) msg += ": ";
  msg += NotLeaderMessage(e);
  return Status::NotLeader(msg).WithDetail(EncodeRoutingError(e));
}

}  // namespace tinykv
