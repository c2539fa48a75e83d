// `tinykv txn`: etcdctl's txn grammar, parsed, and run as one client
// transaction (tinykv/client/txn.h).
//
// Input: three blocks of lines, each ended by a blank line (or the end of
// the input, which also ends the blocks after it): the compares, the ops
// run when every compare holds (success), the ops run otherwise (failure).
//
//   compare := TARGET "(" QUOTED_KEY ")" OP QUOTED_VALUE
//     TARGET  := "val" | "value" | "ver" | "version" | "c" | "create" | "m" | "mod"
//              | "lease"
//     OP      := "=" | "!=" | "<" | ">"
//     value(k) compares k's value bytewise with QUOTED_VALUE; on an absent
//     key it never holds (not even with !=), as in etcd.
//     version/create/mod(k) compare k's version, create revision or mod
//     revision (protocol.h KeyMetadata) with a signed 64-bit decimal number;
//     lease(k) compares the id of k's lease (0: none) with a signed 64-bit
//     number in hex, as etcdctl parses them (strconv.ParseInt base 10, and
//     base 16 for lease). The number is quoted as etcdctl writes it ("3")
//     or bare. On an absent key each of them is 0, as in etcd, so
//     `version("k") = "0"` is "k is absent" and `create("k") > "0"` "k exists".
//   op := "put" KEY VALUE | "get" KEY | "del" KEY
//     (single keys; no flags, ranges or prefixes: a range read or delete in
//     a transaction that writes would not be guarded against keys inserted
//     into the range meanwhile).
//   QUOTED := '"' text with Go escapes (\" \\ \n \t \r \a \b \f \v \xNN) '"'
//             | '`' raw text '`'; KEY and VALUE in ops may also be bare words.
// Lines are trimmed of surrounding blanks. Errors are InvalidArgument
// "txn: line N: ..." naming the (1-based) input line.
//
// Execution (RunTxnRequest): one client transaction. The compares read
// their keys and metadata at start_ts (Txn::GetMeta), then the chosen branch's ops run in the
// same transaction: a get sees the transaction's own earlier puts and dels.
// Every key a compare or a get read, and a del of an absent key, is
// Txn::Lock()ed, so a commit that writes anything fails with Conflict if
// one of them changed after start_ts; Conflict reruns the whole request in a
// new transaction (RunTxn). The outcome is thus atomic and serializable, as
// an etcd txn: the compares held, and the reads saw, the state the writes
// applied to.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "tinykv/client/client.h"
#include "tinykv/client/txn.h"
#include "tinykv/common/result.h"

namespace tinykv::cli {

struct TxnCompare {
  enum class Target { kValue, kVersion, kCreate, kMod, kLease };
  enum class Op { kEqual, kNotEqual, kLess, kGreater };
  Target target = Target::kValue;
  std::string key;
  Op op = Op::kEqual;
  std::string value;  // kValue only
  int64_t number = 0;  // the other targets
};

struct TxnOp {
  enum class Kind { kGet, kPut, kDelete };
  Kind kind = Kind::kGet;
  std::string key;
  std::string value;  // kPut only
};

struct TxnRequest {
  std::vector<TxnCompare> compares;
  std::vector<TxnOp> success;
  std::vector<TxnOp> failure;
};

// Reads the three blocks from `in`. `prompts`: when not null, etcdctl's
// prompt of each block ("compares:", "success requests (get, put, del):",
// "failure requests (get, put, del):") is written there, a line each,
// before the block is read.
[[nodiscard]] Result<TxnRequest> ParseTxn(std::istream& in, std::ostream* prompts);

// One op's answer: a get's pairs (none when the key is absent), a del's count.
struct TxnOpResult {
  TxnOp::Kind kind = TxnOp::Kind::kGet;
  std::vector<client::KeyValue> kvs;
  uint64_t deleted = 0;
};

struct TxnOutcome {
  bool succeeded = false;
  std::vector<TxnOpResult> responses;  // of the branch that ran, in order
  uint64_t revision = 0;  // the commit_ts (start_ts when nothing was written)
};

// Runs `request` as described above; the errors of RunTxn (Conflict after
// every attempt, Timeout, ...).
[[nodiscard]] Result<TxnOutcome> RunTxnRequest(client::Client& client, const TxnRequest& request,
                                               const client::TxnOptions& options);

}  // namespace tinykv::cli
