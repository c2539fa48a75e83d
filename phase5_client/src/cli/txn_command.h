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
// Execution: client::RunCompareTxn (tinykv/client/compare_txn.h), one
// client transaction, atomic and serializable as an etcd txn.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "tinykv/client/client.h"
#include "tinykv/client/compare_txn.h"
#include "tinykv/common/result.h"

namespace tinykv::cli {

// The CLI's names for the client library's (compare_txn.h).
using client::TxnCompare;
using client::TxnOp;
using client::TxnOpResult;
using client::TxnOutcome;
using TxnRequest = client::CompareTxn;

// Reads the three blocks from `in`. `prompts`: when not null, etcdctl's
// prompt of each block ("compares:", "success requests (get, put, del):",
// "failure requests (get, put, del):") is written there, a line each,
// before the block is read.
[[nodiscard]] Result<TxnRequest> ParseTxn(std::istream& in, std::ostream* prompts);

}  // namespace tinykv::cli
