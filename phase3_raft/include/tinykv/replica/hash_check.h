// The state hash check (etcd's HashKV corruption check): replicas of a group
// compare the hash of their state machines at one log index, and a member
// whose state differs from the majority's is marked CORRUPT.
//
// Why it is needed. Raft repairs logs, never state machines: a member whose
// engine was damaged or edited while it was stopped restarts with its
// applied index equal to everyone's, so nothing ever tells it apart, and as
// leader it would serve wrong answers.
//
// How (src/replica/hash_check.cc; doc/replica_protocol.md "State hash check"):
//   1. The consistent cut. The leader proposes a control entry (the proposal
//      envelope with proposal id 0, kind 1: "hash check"). Every replica that
//      applies it records the entry as a no-op and captures its state machine
//      at exactly that index (StateMachine::PrepareHash); the hash itself is
//      computed on a background thread, so the driver never stalls, and the
//      replica keeps the hashes of its last kKeptStateHashes check entries.
//   2. The comparison. The leader asks every other member of the applied
//      configuration (voters and learners) for its hash at that index over
//      raft.StateHash, retrying while a member has not applied it yet, until
//      every member answered or the check's deadline passed.
//   3. The verdict. A hash held by more than half of the members (those that
//      did not answer count against it) is the majority's; each member with
//      another hash is CORRUPT. The leader logs one line per such member
//      (index, its hash, the majority's), tells it (a verdict over the same
//      RPC) -- or, if the leader is the odd one, marks itself. Without a
//      majority hash (e.g. 2 of 3 answered and they differ) nobody is marked:
//      the check logs an error naming every hash, as nobody can tell which
//      member is damaged.
//
// A CORRUPT member refuses proposals and reads (Unavailable naming the hash
// mismatch; KvNode::Get and Scan too), hands leadership to another voter if it
// leads, and keeps acknowledging Raft appends and votes (its log is intact;
// only its state machine differs), so the other members keep their quorum.
// The alarm is in ReplicaStatus::alarm and persisted in the replica's
// directory (file "alarm"), so a restart does not forget it; it clears when
// a later check finds the member agreeing with the majority again, or when
// an operator removes the file of a stopped member (after replacing its data:
// `member remove`, wipe, `member add` is the supported repair).
//
// Startup check (ReplicaOptions::hash_check_at_start, etcd's initial corrupt
// check): a started replica asks the leader for a check (or, as leader, runs
// one); as leader it refuses proposals and linearizable reads until a check
// found its state equal to the majority's. A follower serves nothing
// linearizable before it leads, so it only asks.
//
// What is hashed is the state machine's choice (StateMachine::Hash):
// KvStateMachine hashes every user key and value, the dedup records, the
// applied (index, term) and the configuration, but not the address book.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tinykv::replica {

// How many recent check entries' hashes a replica keeps for the leader to ask.
inline constexpr size_t kKeptStateHashes = 8;

// The outcome of one check, as the leader that ran it saw it.
struct HashCheckReport {
  uint64_t index = 0;  // the check entry: every hash is of the state right after it
  std::map<uint64_t, uint64_t> hashes;      // member -> its hash (the leader's included)
  std::map<uint64_t, std::string> missing;  // member -> why it gave no hash
  std::optional<uint64_t> majority;         // the hash more than half of the members hold
  std::vector<uint64_t> corrupt;            // members whose hash differs from it
};

// ---- raft.StateHash (method id 302): the payloads (cereal binary) ----------

enum class StateHashKind : uint8_t {
  kAsk = 1,           // leader -> member: your hash at `index`?
  kVerdict = 2,       // leader -> member: what the check at `index` found about you
  kRequestCheck = 3,  // member -> leader: please run a check (a started member)
};

struct StateHashRequest {
  uint8_t kind = 0;  // StateHashKind
  uint64_t group = 0;
  uint64_t index = 0;          // kAsk, kVerdict: the check entry's index
  uint8_t corrupt = 0;         // kVerdict: 1 = your hash differs from the majority's
  uint64_t majority_hash = 0;  // kVerdict
  uint64_t member_hash = 0;    // kVerdict: your hash, as the leader got it
  template <class A>
  void serialize(A& a) {
    a(kind, group, index, corrupt, majority_hash, member_hash);
  }
};

enum class StateHashState : uint8_t {
  kHash = 0,     // `hash` is the state's hash at the index (kVerdict/kRequestCheck: accepted)
  kPending = 1,  // not applied that far yet, or still hashing: ask again
  kNone = 2,     // no hash for that index (`detail` says why); asking again will not help
};

struct StateHashResponse {
  uint8_t state = 0;  // StateHashState
  uint64_t hash = 0;
  uint64_t applied_index = 0;  // the answering replica's
  std::string detail;
  template <class A>
  void serialize(A& a) {
    a(state, hash, applied_index, detail);
  }
};

}  // namespace tinykv::replica
