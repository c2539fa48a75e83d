// Lessor: the leader's expiry deadlines of leases (lease.h), as etcd's
// lessor keeps them. Deadlines are not replicated state: only the leader
// holds them, in memory, on the node's clock (microseconds); the state
// machine holds the leases and their TTLs (MvccStateMachine::Leases).
//
//   Promote  on becoming leader (a new term): every lease's deadline :=
//            now + ttl + extend (etcd's Promote(extend), extend = an
//            election timeout): a lease never expires earlier because the
//            leader changed -- its holder gets time to find the new leader.
//   Sync     while leading: a lease the table gained that this lessor does
//            not know (granted through an entry of an earlier term) gets
//            now + ttl + extend as if promoted; one the table lost goes.
//   Grant    deadline := now + ttl (a grant this leader proposed, applied).
//   Renew    (keep-alive) deadline := now + ttl; refused for a lease that
//            is not known, is past its deadline or is being revoked.
//   Expired  the leases past their deadline not yet being revoked; each is
//            marked revoking until Revoked (gone) or RevokeFailed (retried
//            at the next Expired).
//   Demote   forget everything (a follower keeps no deadlines).
//
// Not thread-safe: the owner (TxnNode) serializes calls.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace tinykv::txn {

class Lessor {
 public:
  // `table`: id -> ttl_s, as the state machine has it.
  void Promote(uint64_t now_us, uint64_t extend_us, const std::map<uint64_t, uint64_t>& table);
  void Sync(uint64_t now_us, uint64_t extend_us, const std::map<uint64_t, uint64_t>& table);
  void Demote() { leases_.clear(); }

  void Grant(uint64_t id, uint64_t ttl_s, uint64_t now_us);
  // The lease's TTL (seconds) after the renewal; nullopt if refused.
  std::optional<uint64_t> Renew(uint64_t id, uint64_t now_us);
  // Microseconds until the deadline (0 once past it); nullopt: unknown here.
  std::optional<uint64_t> RemainingUs(uint64_t id, uint64_t now_us) const;

  std::vector<uint64_t> Expired(uint64_t now_us);
  void Revoked(uint64_t id) { leases_.erase(id); }
  void RevokeFailed(uint64_t id);

  bool Knows(uint64_t id) const { return leases_.count(id) > 0; }
  size_t size() const { return leases_.size(); }

 private:
  struct Entry {
    uint64_t ttl_s = 0;
    uint64_t deadline_us = 0;
    bool revoking = false;
  };
  static uint64_t TtlUs(uint64_t ttl_s) { return ttl_s * 1000000; }
  std::map<uint64_t, Entry> leases_;
};

}  // namespace tinykv::txn
