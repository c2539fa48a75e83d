// MvccReader: reads of the MVCC families (mvcc_key.h) through one engine
// view -- the point lookups the transaction commands make and the snapshot
// reads users make (get and scan at a timestamp).
//
// A read at ts sees, for each key, the newest Put or Delete whose commit_ts
// <= ts (rollback and lock records carry no value and are skipped). A lock
// whose start_ts <= ts, of kind put or delete, makes the read a KeyError
// kLocked: that transaction may commit below ts, so the value is not known
// until the lock is resolved (check-txn-status on its primary, then
// resolve-lock). A lock-kind lock ('L') writes nothing and does not block
// reads, nor does a lock with start_ts > ts.
//
// The reader holds an engine snapshot from construction, so all its reads
// see one state. It may be told a write_ts_bound: no write record in that
// state has a ts above it (the MVCC state machine keeps one). Then a check
// for records at or above a newer ts -- every put's conflict check, since
// the oracle's timestamps only grow -- is answered without a seek. Thread safety: one reader per thread; the DB must outlive
// it. Errors: Status for engine failures, Corruption for a record that does
// not decode (naming the engine key).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "tinykv/common/result.h"
#include "tinykv/storage/db.h"
#include "tinykv/storage/iterator.h"
#include "tinykv/txn/key_error.h"
#include "tinykv/txn/mvcc_record.h"
#include "tinykv/txn/timestamp.h"

namespace tinykv::txn {

// A write record with the commit_ts from its key.
struct CommitRecord {
  uint64_t commit_ts = 0;
  Write write;
};

// A snapshot read: the value (nullopt: no visible value) and its key's
// metadata (mvcc_record.h; meaningful with a value), or the lock met.
struct ReadResult {
  std::optional<KeyError> error;
  std::optional<std::string> value;
  KeyMeta meta;
};

struct ScanResult {
  // At most `limit` pairs in key order; when a lock is met, the pairs before
  // it and the error (the scan stops there, like TiKV's with its first lock).
  std::vector<std::pair<std::string, std::string>> pairs;
  std::vector<KeyMeta> metas;  // one per pair: its key's metadata
  std::optional<KeyError> error;
};

class MvccReader {
 public:
  // write_ts_bound: see above (kMaxTs: none known).
  explicit MvccReader(storage::DB* db, uint64_t write_ts_bound = kMaxTs);
  ~MvccReader();
  MvccReader(const MvccReader&) = delete;
  MvccReader& operator=(const MvccReader&) = delete;

  Result<std::optional<Lock>> GetLock(Slice key);
  // The newest record with commit_ts <= ts (of any kind).
  Result<std::optional<CommitRecord>> SeekWrite(Slice key, uint64_t ts);
  // The key's version as of ts: the newest put or delete with commit_ts <=
  // ts (rollback and lock records looked through); nullopt: none.
  Result<std::optional<CommitRecord>> VersionAt(Slice key, uint64_t ts);
  // The newest record of `key` (of any kind) if its commit_ts >= ts, else
  // nullopt: the write-conflict check.
  Result<std::optional<CommitRecord>> NewestWriteAtOrAbove(Slice key, uint64_t ts);
  // The record this transaction left on `key` (its commit, or its
  // rollback): the one with write.start_ts == start_ts among commit_ts >=
  // start_ts, newest first.
  Result<std::optional<CommitRecord>> GetTxnRecord(Slice key, uint64_t start_ts);
  Result<std::optional<std::string>> GetValue(Slice key, uint64_t start_ts);
  // A metadata record ('m' family) by its whole engine key.
  Result<std::optional<std::string>> GetMeta(Slice engine_key);
  // Every metadata record whose engine key starts with `prefix`, in key
  // order (the records of a lease: lease.h).
  Result<std::vector<std::pair<std::string, std::string>>> ScanMeta(Slice prefix);

  Result<ReadResult> Get(Slice key, uint64_t ts);
  // The committed value of `key` as of ts, locks not consulted: the newest
  // put or delete at or below ts decides (nullopt: none, or a delete). For
  // ts below every lock on the key (a watch's revisions, which wait for the
  // locks below them), this is what Get answers.
  Result<std::optional<std::string>> CommittedValue(Slice key, uint64_t ts);
  // The value a put record holds, in the record or in its data record.
  // REQUIRES: record.write.kind == WriteKind::kPut.
  Result<std::string> ValueOf(Slice key, const CommitRecord& record);
  // The versions (put and delete records) of the keys in [start, end) (end
  // empty = unbounded) with after_ts < commit_ts <= upto_ts: visit(key,
  // version, older) per version, keys in order, newest first per key;
  // `older` is the key's next older version, whatever its ts (nullopt:
  // none). A visit that returns an error stops the walk with it.
  Status ForEachVersion(Slice start, Slice end, uint64_t after_ts, uint64_t upto_ts,
                        const std::function<Status(Slice key, const CommitRecord& version,
                                                   const std::optional<CommitRecord>& older)>&
                            visit);
  // Keys in [start, end) (end empty = unbounded) as of ts.
  Result<ScanResult> Scan(Slice start, Slice end, uint64_t ts, size_t limit);

  // Every write record of `key`, newest first (GC).
  Result<std::vector<CommitRecord>> AllWrites(Slice key);
  // Every lock in the engine, in key order, with its user key.
  Result<std::vector<LockInfo>> AllLocks();
  // The first lock on a key in [start, end) (end empty = unbounded).
  Result<std::optional<LockInfo>> FirstLock(Slice start, Slice end);
  // Every user key in [start, end) (end empty = unbounded; both empty:
  // every key) that has write records, in order (GC, delete-range).
  Result<std::vector<std::string>> KeysWithWrites(Slice start = Slice(), Slice end = Slice());

 private:
  // The visible value of `key` at ts through the write family, and its
  // metadata into *meta (when not null and there is a value), given the
  // lock check was made.
  Result<std::optional<std::string>> ValueAt(Slice key, uint64_t ts, KeyMeta* meta = nullptr);
  // Calls visit(record) for the write records of `key` with commit_ts <=
  // from_ts, newest first, while it returns true.
  Status ForEachWrite(Slice key, uint64_t from_ts,
                      const std::function<bool(const CommitRecord&)>& visit);
  // Calls visit(key) for every user key in [start, end) with write records,
  // in order, through `it` (at the key's first record when visit is called;
  // visit may move it among the key's records), then moves past the key.
  Status ForEachWriteKey(storage::Iterator* it, Slice start, Slice end,
                         const std::function<Status(const std::string& key)>& visit);
  // A read at ts blocked by this lock?
  static bool Blocks(const Lock& lock, uint64_t ts);

  storage::DB* db_;
  const uint64_t write_ts_bound_;
  const storage::Snapshot* snapshot_;
  storage::ReadOptions ro_;
  std::unique_ptr<storage::Iterator> writes_;  // ForEachWrite's, made on first use
};

}  // namespace tinykv::txn
