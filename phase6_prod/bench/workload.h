// Workload: what tinykv-bench's logical clients send, and what came back.
//
// A closed loop, as etcd's benchmark tool runs it: each of `clients` logical
// clients has one request in flight and sends the next when the answer
// arrives, until `total` requests have been issued across all of them. Keys
// are random in [0, key_space) (per-client seeded streams), written as
// zero-padded decimals of key_size bytes; every put carries the same
// val_size-byte value. A Preload workload instead puts every key of the key
// space once (the clients share one counter), so that gets find their keys.
//
// Transactions (kTxn): a request is one transaction over txn_keys distinct
// random keys of the key space (Request::keys); the backend writes each of
// them (after reading it, with read_modify_write) and commits. A Conflict
// answer is an abort, counted apart from errors (Outcome::aborts): the
// client then goes on with the next request, a new transaction, so `total`
// counts attempts, committed or not. The key space sets the contention.
//
// Watched puts (`watched`, tinykv-bench watch): request n puts the key
// key_prefix + MakeKey(n, key_size) -- every put a key of its own, so a
// watcher's event names the put it reports -- and the time each put was
// sent and acknowledged is kept by n (Outcome::sent_ns, acked_ns), for the
// watchers' delivery latencies (watch_log.h).
//
// Lease keep-alives (kLeaseKeepAlive, tinykv-bench lease): client c renews
// its own lease, set_leases()[c], once per request (Request::lease).
//
// Open loop (rate > 0, open_loop.h): request n of the run is intended to
// start at Start() + n / rate; a client waits for that time before it sends
// (the backend's timer) and its latency counts from it (Begin), so
// `clients` then only bounds the requests in flight.
//
// Thread safety: Next and Record for client c are called by that client's
// coroutine only (one thread at a time); different clients run on different
// threads concurrently. Finish is called once every client has stopped.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "open_loop.h"
#include "tinykv/common/random.h"
#include "tinykv/common/status.h"

namespace tinykv::bench {

enum class OpKind { kPut, kGet, kMixed, kTxn, kLeaseKeepAlive };

struct WorkloadOptions {
  OpKind op = OpKind::kPut;
  int clients = 1;
  uint64_t total = 10000;
  uint64_t key_space = 10000;
  int key_size = 8;
  int val_size = 256;
  double read_ratio = 0.5;  // kMixed: the fraction of gets
  bool linearizable = true;  // gets: linearizable (true) or serializable
  uint64_t seed = 1;
  double rate = 0;  // open loop: requests per second in total; 0 = closed loop
  int txn_keys = 2;  // kTxn: distinct keys per transaction, REQUIRES: <= key_space
  bool read_modify_write = false;  // kTxn: read each key, write IncrementedValue of it
  bool watched = false;    // kPut: sequential keys under key_prefix, send/ack times kept
  std::string key_prefix;  // watched: the prefix every key starts with
};

struct Request {
  std::string key;                // put, get, mixed
  std::vector<std::string> keys;  // kTxn: txn_keys distinct keys, in no particular order
  bool read = false;
  uint64_t index = 0;  // the request's number in the run, 0 .. total-1
  uint64_t lease = 0;  // kLeaseKeepAlive: the lease to renew (the client's own)
  // Open loop: when the request is meant to start (the client waits until
  // then before it sends). Unset in a closed loop.
  std::chrono::steady_clock::time_point intended{};
};

// What a run measured, latencies sorted.
struct Outcome {
  std::vector<uint64_t> latency_ns;  // one per successful request, ascending
  uint64_t errors = 0;
  uint64_t aborts = 0;  // requests answered Conflict (kTxn: write conflicts), not errors
  std::string first_error;
  Lateness lateness;  // open loop: requests sent after their intended start
  // Watched puts, by request index: when each was sent and when its answer
  // came (ns on the steady clock; acked 0: it failed, or was never sent).
  std::vector<int64_t> sent_ns, acked_ns;
  // Aborts over every request answered (committed, aborted or failed); 0
  // when none was.
  double AbortRate() const;
  // The latency at quantile q in [0, 1], in ms (0 when nothing succeeded).
  double QuantileMs(double q) const;
  double MeanMs() const;
};

class Workload {
 public:
  // The measured run: `total` requests of kind `op`.
  static std::unique_ptr<Workload> Measured(const WorkloadOptions& options);
  // Puts every key of the key space once (not measured).
  static std::unique_ptr<Workload> Preload(const WorkloadOptions& options);

  int clients() const { return options_.clients; }
  OpKind op() const { return preload_ ? OpKind::kPut : options_.op; }
  bool linearizable() const { return options_.linearizable; }
  bool read_modify_write() const { return options_.read_modify_write; }
  const std::string& value() const { return value_; }
  bool open_loop() const { return options_.rate > 0 && !preload_; }

  // kLeaseKeepAlive: client c's lease is leases[c]. REQUIRES: one per
  // client, set before the first Next.
  void set_leases(std::vector<uint64_t> leases) { leases_ = std::move(leases); }

  // Open loop: the intended start of request 0. Call once, before the first
  // Next (no effect in a closed loop).
  void Start(std::chrono::steady_clock::time_point t0);

  // The next request of logical client c; false once the run's requests are
  // all issued (the client then stops).
  bool Next(int c, Request* r);
  // Client c sends r at `now`: returns the time its latency counts from --
  // r.intended in an open loop (recording how late it is), `now` otherwise.
  std::chrono::steady_clock::time_point Begin(int c, const Request& r,
                                              std::chrono::steady_clock::time_point now);
  // The answer to client c's last request and how long it took (Conflict:
  // an abort, not an error).
  void Record(int c, std::chrono::nanoseconds latency, const Status& s);
  // Merges the clients' records. Call once, after every client stopped.
  Outcome Finish();

 private:
  struct alignas(64) PerClient {
    explicit PerClient(uint64_t seed) : rnd(seed) {}
    Random rnd;
    std::vector<uint64_t> latency_ns;
    uint64_t errors = 0;
    uint64_t aborts = 0;
    std::string first_error;
    Lateness lateness;
    uint64_t index = 0;  // of the request in flight (watched: for its ack time)
    std::chrono::steady_clock::time_point begin{};
  };
  Workload(const WorkloadOptions& options, bool preload);

  const WorkloadOptions options_;
  const bool preload_;
  const std::string value_;
  OpenLoopSchedule schedule_;  // open loop only
  alignas(64) std::atomic<uint64_t> issued_{0};
  std::vector<PerClient> per_client_;
  std::vector<uint64_t> leases_;             // kLeaseKeepAlive: one per client
  std::vector<int64_t> sent_ns_, acked_ns_;  // watched: by request index
};

// A time point of the steady clock as ns since its epoch (the form the
// watched puts' tables and the watchers' logs keep times in).
inline int64_t SteadyNs(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// The key of index i: i in decimal, zero-padded on the left to `size` bytes.
std::string MakeKey(uint64_t i, int size);

// read_modify_write: the value a transaction writes over the value it read
// -- a counter: the decimal number `read` starts with (0 when the key is
// absent or its value starts with no digit) plus one, padded on the right
// with 'v' to `size` bytes (longer when the number needs more).
std::string IncrementedValue(const std::optional<std::string>& read, int size);

}  // namespace tinykv::bench
