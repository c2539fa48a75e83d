// RoutingError: where a request should have gone instead, as typed fields.
//
// A TinyKV member that cannot serve a request because it is not the leader of
// the Raft group (and, once the key space is split into ranges, because the
// key is outside its range or the client's view of the range is stale)
// answers with a Status whose detail (status.h) is an encoded RoutingError.
// Clients read the fields -- never the message, which is for humans:
//
//   Status s = NotLeaderError({.group = 1, .leader_id = 2, .leader_address = "10.0.0.2:2379"});
//   // s.ToString() == "NotLeader: leader=2 addr=10.0.0.2:2379"
//   std::optional<RoutingError> r = RoutingErrorOf(s);   // r->leader_id == 2
//
// Which address `leader_address` holds depends on who answers: inside the
// replication layer it is the leader's peer (Raft) address; the client
// service rewrites it to the leader's client address before the error leaves
// the server.
//
// Detail grammar (after the StatusDetailKind::kRouting byte):
//   byte version (=1) | varint64 group | varint64 leader_id |
//   length-prefixed leader_address | byte has_range |
//   [varint64 range_id | length-prefixed start | length-prefixed end | varint64 epoch]
// Decoders reject anything else (a peer cannot make a client misroute by
// sending garbage: the detail is then ignored).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tinykv/common/status.h"

namespace tinykv {

struct RoutingError {
  uint64_t group = 0;          // the Raft group that answered (0 = unknown)
  uint64_t leader_id = 0;      // the member believed to lead it (0 = unknown)
  std::string leader_address;  // how to reach that leader ("" = unknown)
  // The key range this member holds for the group and its epoch, when the
  // error is about ranges rather than leadership.
  bool has_range = false;
  uint64_t range_id = 0;
  std::string range_start;
  std::string range_end;  // "" = unbounded
  uint64_t range_epoch = 0;
  friend bool operator==(const RoutingError&, const RoutingError&) = default;
};

// The detail bytes (including the kind byte).
std::string EncodeRoutingError(const RoutingError& e);
// nullopt when `detail` is not a well-formed routing detail.
std::optional<RoutingError> DecodeRoutingError(std::string_view detail);

// The routing payload of `s`, if it has one.
std::optional<RoutingError> RoutingErrorOf(const Status& s);

// "leader=N" or "leader=N addr=HOST:PORT": the human-readable message that
// goes with a NotLeader error.
std::string NotLeaderMessage(const RoutingError& e);
// Status::NotLeader with NotLeaderMessage(e) and `e` as its detail. `context`,
// if given, is prepended ("raft: no leader: leader=0").
Status NotLeaderError(const RoutingError& e, std::string_view context = {});

}  // namespace tinykv
