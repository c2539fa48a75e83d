// Membership of one Raft group as the replication layer sees it: who the
// members are (the core's ConfState) and how to reach them (the address
// book), plus the requests that change it.
//
// The address book is replicated: a conf change entry proposed by a Replica
// carries the added member's addresses in its context (MemberContext), and
// when the entry applies every member records them. A state machine persists
// the ConfState and the address book with its applied index (StateMachine::
// ApplyConfChange), so restarts and snapshots carry exactly the membership of
// applied_index().
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tinykv/common/bytes.h"
#include "tinykv/common/result.h"
#include "tinykv/raft/message.h"

namespace tinykv::replica {

// A member's addresses. Either may be empty (unknown).
struct MemberAddress {
  std::string peer;    // raft peer RPC "host:port"
  std::string client;  // client protocol "host:port"
  friend bool operator==(const MemberAddress&, const MemberAddress&) = default;
};
using AddressBook = std::map<uint64_t, MemberAddress>;

// What a state machine persists for the replica: the configuration and the
// address book at its applied index.
struct Membership {
  raft::ConfState conf;
  AddressBook book;
  friend bool operator==(const Membership&, const Membership&) = default;
};
// byte version (=1) | lp encoded ConfState | varint count | count x
// (fixed64 id | lp peer | lp client). For state machines that keep the
// membership as one opaque value.
std::string EncodeMembership(const Membership& m);
Result<Membership> DecodeMembership(Slice in);

// Context of the ConfChangeV2 entries a Replica proposes (ConfChangeV2::context;
// doc/message_format.md "Member change context"):
//   byte version (=1) | fixed64 proposal id | lp peer address | lp client address
// proposal id 0 = nobody waits for the entry (bootstrap entries).
struct MemberContext {
  uint64_t proposal_id = 0;
  MemberAddress address;
};
std::string EncodeMemberContext(const MemberContext& c);
// Corruption on a malformed context; an EMPTY context decodes to nullopt
// (conf changes proposed by someone else, e.g. the leave of a joint config).
Result<std::optional<MemberContext>> DecodeMemberContext(Slice context);

// Addresses in an address book entry: lp peer | lp client.
void EncodeMemberAddress(const MemberAddress& a, std::string* dst);
bool DecodeMemberAddress(Slice* in, MemberAddress* a);

// One member as reported by status calls.
struct MemberInfo {
  uint64_t id = 0;
  std::string peer_address;
  bool learner = false;
  std::string client_address;  // as given to the member add ("" = unknown)
};

// One membership change (a simple ConfChangeV2 with one change; joint
// consensus is not exposed here).
//
// Strict reconfiguration check (etcd's): adding a VOTER is refused with
// InvalidArgument("re-configuration failed due to not enough started
// members ...") when the voters the leader has heard from within the last
// election timeout (the core's Progress::recent_active, the leader counting
// itself) are fewer than a quorum of the configuration after the add,
// (voters + 1) / 2 + 1 -- the new member has not started yet, so the cluster
// would stop committing until it does or a down voter returns. As in etcd,
// growing a one-voter cluster to two is allowed. `force` skips the check;
// learners are exempt (they are not part of any quorum). A voter that went
// down in the last one or two election timeouts may still count as started:
// the leader has not missed it yet.
//
// kUpdate (etcd's member update) changes the addresses of a member already in
// the configuration: it is a conf change that re-adds the member in the role
// it has (voter as voter, learner as learner), which leaves the configuration
// and the member's progress as they are, and whose context carries the new
// addresses; every member adopts them when the entry applies, in log order
// with every other change, and the address book persists them. An empty
// client address keeps the recorded one. The member itself keeps listening
// where its process listens: restart it on the new address (before or after
// the update; until both agree it is unreachable to the others).
struct MemberChange {
  enum class Type : uint8_t {
    kAddVoter = 1,
    kAddLearner = 2,
    kPromote = 3,
    kRemove = 4,
    kUpdate = 5,
  };
  Type type = Type::kAddLearner;
  uint64_t id = 0;
  std::string peer_address;    // add, update: required, "host:port"
  std::string client_address;  // add, update: optional, recorded in the address book
  bool force = false;          // kAddVoter: skip the strict reconfiguration check
};

struct MemberChangeResult {
  uint64_t index = 0;               // raft index of the conf change entry
  std::vector<MemberInfo> members;  // the configuration right after it applied
};

}  // namespace tinykv::replica
