// CompareTxn: etcd's transaction -- compares, then the ops of the branch they
// choose -- run as one client transaction (txn.h). `tinykv txn` parses
// etcdctl's grammar into one (cli/txn_command.h); the etcd API serves KV.Txn
// with it (etcd/etcd_api.h).
//
//   compare: TARGET(key) OP operand
//     value(k) compares k's value bytewise; on an absent key it never holds
//     (not even with !=), as in etcd. version/create/mod(k) compare k's
//     version, create revision or mod revision (protocol.h KeyMetadata);
//     lease(k) the id of k's lease (0: none). On an absent key each of them
//     is 0, as in etcd, so version(k) = 0 is "k is absent".
//   op: get KEY | put KEY VALUE | del KEY (single keys: a range read or
//     delete in a transaction that writes would not be guarded against keys
//     inserted into the range meanwhile).
//
// Execution (RunCompareTxn): one client transaction. The compares read
// their keys and metadata at start_ts (Txn::GetMeta), then the chosen
// branch's ops run in the same transaction: a get sees the transaction's own
// earlier puts and dels. Every key a compare or a get read, and a del of an
// absent key, is Txn::Lock()ed, so a commit that writes anything fails with
// Conflict if one of them changed after start_ts; Conflict reruns the whole
// request in a new transaction (RunTxn). The outcome is thus atomic and
// serializable, as an etcd txn: the compares held, and the reads saw, the
// state the writes applied to.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tinykv/client/client.h"
#include "tinykv/client/txn.h"
#include "tinykv/common/result.h"

namespace tinykv::client {

struct TxnCompare {
  enum class Target { kValue, kVersion, kCreate, kMod, kLease };
  enum class Op { kEqual, kNotEqual, kLess, kGreater };
  Target target = Target::kValue;
  std::string key;
  Op op = Op::kEqual;
  std::string value;   // kValue only
  int64_t number = 0;  // the other targets
};

struct TxnOp {
  enum class Kind { kGet, kPut, kDelete };
  Kind kind = Kind::kGet;
  std::string key;
  std::string value;  // kPut only
};

struct CompareTxn {
  std::vector<TxnCompare> compares;
  std::vector<TxnOp> success;
  std::vector<TxnOp> failure;
};

// One op's answer: a get's pair (none when the key is absent; with its
// metadata at start_ts unless this transaction wrote the key before), a
// del's count.
struct TxnOpResult {
  TxnOp::Kind kind = TxnOp::Kind::kGet;
  std::vector<KeyValue> kvs;
  uint64_t deleted = 0;
};

struct TxnOutcome {
  bool succeeded = false;
  std::vector<TxnOpResult> responses;  // of the branch that ran, in order
  uint64_t revision = 0;  // the commit_ts (start_ts when nothing was written)
};

// Whether `c` holds for the key as read at start_ts.
bool CompareHolds(const TxnCompare& c, const TxnRead& r);

// Runs `request` as described above; the errors of RunTxn (Conflict after
// every attempt, Timeout, ...).
[[nodiscard]] Result<TxnOutcome> RunCompareTxn(Client& client, const CompareTxn& request,
                                               const TxnOptions& options);

}  // namespace tinykv::client
