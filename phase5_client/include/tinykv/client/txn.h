// tinykv::client::Txn — a multi-key transaction at snapshot isolation, run
// by the client with Percolator's protocol over the server's MVCC
// (phase4_txn), as TiKV's clients run it:
//
//   auto t = Txn::Begin(*client).value();          // start_ts from the oracle
//   auto a = t->Get("alice");                      // a snapshot read at start_ts
//   t->Put("alice", "90"); t->Put("bob", "110");   // buffered here
//   Result<uint64_t> commit_ts = t->Commit();      // Conflict: someone else wrote first
//
// Reads. Get and Scan read at start_ts, every key and page from one
// snapshot, after the transaction's own buffered writes (read-your-writes).
// GetMeta reads a key's value with its metadata (create and mod revision,
// version, lease: protocol.h KeyMetadata) from the same snapshot.
// A lock met on the way is resolved by the client (client.h "Locks").
//
// Commit. Writes are buffered until Commit, which then
//   1. prewrites the primary (the smallest key written or Lock()ed) and
//      then the other keys (the secondaries): a lock on each, holding the
//      value (none for a Lock()ed key), at start_ts. Another transaction's commit at or after start_ts on any
//      key is a write conflict: the locks taken are rolled back and Commit
//      returns Conflict ("write conflict ..."), the first committer having
//      won. Another transaction's lock is resolved and the prewrite tried
//      again.
//   2. takes commit_ts from the oracle and commits the primary: this one
//      step decides the whole transaction. If the primary's lock is gone
//      (a reader rolled the transaction back because its TTL ran out),
//      Commit returns Conflict ("... rolled back ...").
//   3. commits the secondaries in the background (Client::RunInBackground)
//      and returns commit_ts. A reader that meets a secondary's lock before
//      that finds the primary committed and rolls the lock forward.
// A client that dies anywhere in between leaves locks that readers resolve:
// before step 2 they roll back once the TTL has passed, after it they roll
// forward at once.
//
// Lock TTL. Each lock carries ttl_ms counted from the physical part of
// start_ts (phase4_txn check-txn-status), so Commit sets it to the
// transaction's age plus TxnOptions::lock_ttl; a prewrite that runs longer
// than half of lock_ttl renews the primary's lock (a heartbeat) as it goes.
//
// Snapshot isolation, not serializability: two transactions that read an
// overlapping set and write disjoint keys both commit (write skew).
//
// Errors: Conflict for a write conflict or a transaction rolled back by
// others (a retry with a new transaction may succeed: RunTxn does it);
// Timeout when the deadline passed -- during Commit's step 2 the outcome is
// then unknown; InvalidArgument for bad input or a finished transaction.
//
// Thread safety: one transaction is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tinykv/client/client.h"

namespace tinykv::client {

struct TxnOptions {
  // The deadline of each step: a read, the whole Commit, a Rollback.
  std::optional<std::chrono::milliseconds> timeout;  // default: the client's
  std::chrono::milliseconds lock_ttl{3000};
  // Test-only: stop for this long after the prewrites, and after the
  // primary's commit, before going on (a test kills the process there).
  std::chrono::milliseconds TEST_pause_after_prewrite{0};
  std::chrono::milliseconds TEST_pause_after_primary{0};
};

// A key as GetMeta reads it: its value (nullopt: absent at start_ts) and its
// metadata then (all zero when absent, as etcd compares an absent key).
struct TxnRead {
  std::optional<std::string> value;
  KeyMetadata meta;
};

class Txn {
 public:
  // Takes start_ts from the oracle.
  [[nodiscard]] static Result<std::unique_ptr<Txn>> Begin(Client& client, TxnOptions options = {});
  ~Txn();  // rolls back the locks of a Commit that failed part-way

  uint64_t start_ts() const { return start_ts_; }

  Result<std::optional<std::string>> Get(const std::string& key);
  // The key's value and metadata at start_ts (the snapshot Get reads).
  // InvalidArgument for a key this transaction wrote: its metadata is
  // decided only by the commit (commit_ts becomes its mod revision).
  Result<TxnRead> GetMeta(const std::string& key);
  // Pairs in [start, end) (end empty: to the end) at start_ts, merged with
  // this transaction's writes; at most `limit` (0: all).
  Result<std::vector<KeyValue>> Scan(const std::string& start, const std::string& end,
                                     uint64_t limit = 0);
  Status Put(const std::string& key, const std::string& value);
  Status Delete(const std::string& key);
  // Makes `key` part of the commit without writing it (a lock-only
  // mutation, Percolator's and TiKV's LockKeys): Commit then fails with
  // Conflict if another transaction wrote `key` at or after start_ts, as for
  // a key written here. For reads whose outcome the writes depend on (a
  // compare-and-set over several keys): with every such key locked, the
  // reads and writes take effect as of commit_ts, serializably. A
  // transaction that writes nothing ignores its locks (its reads are one
  // snapshot anyway).
  Status Lock(const std::string& key);

  // See the header comment. A transaction that wrote nothing commits at
  // once at start_ts.
  Result<uint64_t> Commit();
  // Discards the buffered writes (and any lock a failed Commit left).
  Status Rollback();

 private:
  Txn(Client& client, TxnOptions options, uint64_t start_ts);
  CallOptions Call() const;
  // Prewrites `mutations` (all of one command) until done: resolves locks
  // met, OK or the Conflict to return.
  Status PrewriteAll(const std::vector<txn::Mutation>& mutations, const std::string& primary,
                     uint64_t ttl_ms, std::chrono::steady_clock::time_point deadline);
  Status RollbackPrewritten();
  Status Finished() const;

  Client& client_;
  const TxnOptions options_;
  const uint64_t start_ts_;
  const std::chrono::steady_clock::time_point began_;  // when start_ts was taken
  // Buffered writes: key -> value (nullopt: a delete).
  std::map<std::string, std::optional<std::string>> writes_;
  std::set<std::string> locked_;  // Lock()ed keys, minus those in writes_ at Commit
  std::vector<std::string> prewritten_;  // keys this transaction may hold locks on
  bool finished_ = false;
};

// Runs `body` in a new transaction and commits it; on Conflict, runs it
// again in a fresh one, up to `attempts` times in all (with a short
// randomized backoff). Returns the commit_ts, or the last error (body's
// own errors are returned at once, after a rollback).
Result<uint64_t> RunTxn(Client& client, const std::function<Status(Txn&)>& body,
                        int attempts = 10, TxnOptions options = {});

}  // namespace tinykv::client
