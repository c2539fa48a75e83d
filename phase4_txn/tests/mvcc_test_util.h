// MvccEngine: one engine with the MVCC families, and the commands run on it
// the way the state machine runs them (validate, execute, write the batch),
// for the command tests. Raw accessors look at the families directly.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "tinykv/storage/db.h"
#include "tinykv/testing/test_util.h"
#include "tinykv/txn/mvcc_key.h"
#include "tinykv/txn/mvcc_reader.h"
#include "tinykv/txn/timestamp.h"
#include "tinykv/txn/txn_executor.h"

namespace tinykv::txn::testing {

class MvccEngine {
 public:
  MvccEngine() {
    storage::Options o;
    o.create_if_missing = true;
    db_ = storage::DB::Open(o, dir_.path() / "db").value();
  }

  // Validates and executes `cmd`, writes its batch; the command's result.
  TxnCommandResult Run(const TxnCommand& cmd) {
    Status valid = ValidateTxnCommand(cmd);
    EXPECT_TRUE(valid.ok()) << valid.ToString();
    storage::WriteBatch batch;
    auto r = ExecuteTxnCommand(db_.get(), cmd, /*term=*/1, &batch);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(db_->Write(storage::WriteOptions{}, batch).ok());
    return r.ok() ? *r : TxnCommandResult{};
  }

  ReadResult Get(const std::string& key, uint64_t ts) {
    MvccReader reader(db_.get());
    auto r = reader.Get(Slice(key), ts);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ReadResult{};
  }
  // The visible value at ts; the test fails on a KeyError.
  std::optional<std::string> Value(const std::string& key, uint64_t ts) {
    ReadResult r = Get(key, ts);
    EXPECT_FALSE(r.error) << KeyErrorToString(*r.error);
    return r.value;
  }
  ScanResult Scan(const std::string& start, const std::string& end, uint64_t ts, size_t limit) {
    MvccReader reader(db_.get());
    auto r = reader.Scan(Slice(start), Slice(end), ts, limit);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ScanResult{};
  }

  std::optional<Lock> LockOf(const std::string& key) {
    MvccReader reader(db_.get());
    return reader.GetLock(Slice(key)).value();
  }
  // The write record at exactly key|~commit_ts.
  std::optional<Write> WriteAt(const std::string& key, uint64_t commit_ts) {
    auto raw = Raw(WriteKey(Slice(key), commit_ts));
    if (!raw) return std::nullopt;
    return DecodeWrite(Slice(*raw));
  }
  std::optional<std::string> DataAt(const std::string& key, uint64_t start_ts) {
    return Raw(DataKey(Slice(key), start_ts));
  }
  std::optional<std::string> Raw(const std::string& engine_key) {
    auto r = db_->Get(storage::ReadOptions{}, Slice(engine_key));
    if (!r.ok()) return std::nullopt;
    return *r;
  }
  // Every engine key of `family`, counted.
  size_t CountFamily(char family) {
    size_t n = 0;
    auto it = db_->NewIterator(storage::ReadOptions{});
    for (it->Seek(Slice(std::string(1, family))); it->Valid() && it->key()[0] == family; it->Next())
      ++n;
    return n;
  }
  // Every engine key and value: equal before and after a command that must
  // write nothing.
  std::map<std::string, std::string> Contents() {
    std::map<std::string, std::string> out;
    auto it = db_->NewIterator(storage::ReadOptions{});
    for (it->SeekToFirst(); it->Valid(); it->Next())
      out.emplace(it->key().ToString(), it->value().ToString());
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
    return out;
  }
  storage::DB* db() { return db_.get(); }

 private:
  ::tinykv::testing::TempDir dir_;
  std::unique_ptr<storage::DB> db_;
};

inline Mutation Put(std::string key, std::string value) {
  return Mutation{MutationKind::kPut, std::move(key), std::move(value)};
}
inline Mutation Del(std::string key) { return Mutation{MutationKind::kDelete, std::move(key), {}}; }
inline Mutation LockOnly(std::string key) {
  return Mutation{MutationKind::kLock, std::move(key), {}};
}

// KV writes (KvWriteCmd): client_id 0 = no exactly-once record.
inline KvWriteCmd KvWrite(replica::KvCommand::Op op, std::string key, std::string value,
                          std::optional<std::string> expected, uint64_t commit_ts,
                          uint64_t client_id, uint64_t request_seq) {
  KvWriteCmd c;
  c.kv.op = op;
  c.kv.key = std::move(key);
  c.kv.value = std::move(value);
  c.kv.expected = std::move(expected);
  c.kv.client_id = client_id;
  c.kv.request_seq = request_seq;
  c.commit_ts = commit_ts;
  return c;
}
inline KvWriteCmd KvPut(std::string key, std::string value, uint64_t commit_ts,
                        uint64_t client_id = 0, uint64_t request_seq = 0) {
  return KvWrite(replica::KvCommand::Op::kPut, std::move(key), std::move(value), std::nullopt,
                 commit_ts, client_id, request_seq);
}
inline KvWriteCmd KvDelete(std::string key, uint64_t commit_ts, uint64_t client_id = 0,
                           uint64_t request_seq = 0) {
  return KvWrite(replica::KvCommand::Op::kDelete, std::move(key), {}, std::nullopt, commit_ts,
                 client_id, request_seq);
}
// expected nullopt: succeeds only if the key is absent.
inline KvWriteCmd KvCas(std::string key, std::optional<std::string> expected, std::string value,
                        uint64_t commit_ts, uint64_t client_id = 0, uint64_t request_seq = 0) {
  return KvWrite(replica::KvCommand::Op::kCas, std::move(key), std::move(value),
                 std::move(expected), commit_ts, client_id, request_seq);
}
// [start, end); end empty = unbounded.
inline KvWriteCmd KvDeleteRange(std::string start, std::string end, uint64_t commit_ts,
                                uint64_t client_id = 0, uint64_t request_seq = 0) {
  return KvWrite(replica::KvCommand::Op::kDeleteRange, std::move(start), std::move(end),
                 std::nullopt, commit_ts, client_id, request_seq);
}

// A timestamp at physical ms `ms`, logical `l`.
constexpr uint64_t Ts(uint64_t ms, uint64_t l = 0) { return ComposeTs(ms, l); }

}  // namespace tinykv::txn::testing
