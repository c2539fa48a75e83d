// Tso: the timestamp oracle -- hybrid timestamps (timestamp.h) handed out
// strictly increasing, across leader changes and restarts, as TiKV's PD
// does it.
//
// The high-water mark. Before handing out any timestamp the oracle reserves
// it through Raft: a ReserveTsCmd{upto} entry (txn_command.h), applied by
// the group's MvccStateMachine as reserved := max(reserved, upto) and
// persisted with the applied index. Its result carries the mark before the
// entry (prev_reserved), after it (reserved) and the entry's term. A window
// (prev_reserved, reserved] the oracle got this way is its own: entries
// apply in log order, so every later reservation, by any leader, starts at
// or above `reserved`, and a new leader -- whose first reservation applies
// after every earlier one -- starts above all of them, whatever its clock
// says. So no timestamp is handed out twice, and none below one handed out
// before it by a leader that knew it was leader.
//
// Batching. One reservation covers window_ms of clock time ahead; requests
// are served from memory inside it (GetTimestamps(n) hands out n at once).
// When less than renew_before_ms of it is left, the request that notices
// reserves the next window, ahead of use; if that fails, the current window
// still serves until it runs out.
//
// Serving: ts = max(last handed out + 1, ComposeTs(clock ms, 0)) -- the
// clock moves the physical part, the logical part orders requests within a
// millisecond, and a clock that stands still or goes back only slows the
// physical part down.
//
// Leadership. The oracle serves only while backend.leader_term() says this
// node leads, and only from a window reserved in that same term; a term
// change (a lost and regained leadership included) drops the window. Not
// built: a leader lease. A deposed leader that has not noticed yet can
// still serve from its window for a moment (distinct timestamps, but below
// the new leader's) -- PD closes this with its etcd lease.
//
// Thread safety: GetTimestamps from any thread; requests serialize on one
// mutex (a reservation blocks the requests behind it).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>

#include "tinykv/common/clock.h"
#include "tinykv/common/result.h"
#include "tinykv/replica/replica.h"
#include "tinykv/txn/txn_command.h"

namespace tinykv::txn {

// Unix time as a Clock: std::chrono::system_clock. Not monotonic (an
// operator or NTP may step it back); the oracle never hands out a smaller
// timestamp for that, it only lets the logical part carry the order.
Clock* UnixClock();

struct TsoOptions {
  // The physical part. nullptr: the wall clock (UnixClock), as PD's TSO:
  // Unix milliseconds mean the same on every member, so a new leader's
  // timestamps go on from where the old one's stopped. (A monotonic clock
  // counts from each machine's boot: a leader that booted later would keep
  // its physical part standing at the old leader's mark, and lock TTLs,
  // measured on it, would never run out.)
  Clock* clock = nullptr;
  uint64_t window_ms = 3000;        // clock time one reservation covers
  uint64_t renew_before_ms = 1000;  // reserve the next window when less is left
};

// How the oracle reaches its Raft group.
struct TsoBackend {
  // Replicates ReserveTsCmd{upto} and returns its applied result.
  std::function<Result<TxnCommandResult>(uint64_t upto)> reserve;
  // The current Raft term if this node is the leader, 0 if it is not.
  std::function<uint64_t()> leader_term;
};

// A backend over a replica of an MvccStateMachine group.
// REQUIRES: `r` outlives the backend.
TsoBackend ReplicaTsoBackend(replica::Replica* r, std::chrono::milliseconds timeout);

class Tso {
 public:
  Tso(TsoOptions options, TsoBackend backend);

  // Hands out `count` consecutive timestamps [first, first + count) and
  // returns `first`. NotLeader when this node does not lead; the
  // reservation's error (NotLeader, Timeout, ...) when one was needed and
  // failed. REQUIRES: 1 <= count <= 2^18.
  Result<uint64_t> GetTimestamps(uint32_t count);
  Result<uint64_t> GetTimestamp() { return GetTimestamps(1); }

  // Reservations made (for tests and metrics).
  uint64_t reservations() const;

 private:
  // REQUIRES: mu_ held. Reserves so that the window reaches at least `need`.
  Status Reserve(uint64_t term, uint64_t need);

  const TsoOptions options_;
  Clock* const clock_;
  const TsoBackend backend_;
  mutable std::mutex mu_;
  uint64_t last_ = 0;   // the last timestamp handed out (or the floor a window starts above)
  uint64_t limit_ = 0;  // the window's end (inclusive): the reservation
  uint64_t term_ = 0;   // the term the window was reserved in; 0 = no window
  uint64_t reservations_ = 0;
};

}  // namespace tinykv::txn
