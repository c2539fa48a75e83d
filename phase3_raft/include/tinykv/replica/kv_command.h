// KvCommand: the commands of the replicated KV state machine (KvStateMachine)
// and their results, with the byte encodings that travel inside Raft entries
// (doc/message_format.md, "KV command").
//
// Exactly-once retries: a command carries (client_id, request_seq). The state
// machine remembers, per client_id, the highest request_seq it applied and
// that command's result. A command whose request_seq equals the remembered
// one is not executed again and returns the remembered result; an OLDER
// request_seq is not executed and returns succeeded=false. So one client_id
// must issue its requests one at a time with increasing request_seq (retries
// reuse the same seq). client_id 0 = no deduplication.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tinykv/common/bytes.h"
#include "tinykv/common/result.h"

namespace tinykv::replica {

struct KvCommand {
  // kDeleteRange: deletes every key in [key, value); value empty = unbounded.
  enum class Op : uint8_t { kPut = 1, kDelete = 2, kCas = 3, kDeleteRange = 4 };
  Op op = Op::kPut;
  std::string key;                      // delete-range: start (inclusive)
  std::string value;                    // put / cas new value; delete-range: end (exclusive)
  std::optional<std::string> expected;  // cas: nullopt = succeed only if key absent
  uint64_t client_id = 0;               // 0 = no dedup
  uint64_t request_seq = 0;
};

struct KvCommandResult {
  bool succeeded = true;               // cas outcome; true for put/delete
  uint64_t index = 0;                  // raft index at which it applied
  std::optional<std::string> current;  // cas failure: the value found (nullopt if absent)
  uint64_t deleted = 0;                // delete-range: number of keys removed
  // The write's revision (its commit timestamp) when an MVCC state machine
  // (phase 4) applied it; 0 from KvStateMachine, which keeps one version.
  // Not part of the encoding below: the MVCC state machine carries it in
  // its own result.
  uint64_t revision = 0;
  friend bool operator==(const KvCommandResult&, const KvCommandResult&) = default;
};

// byte version (=1) | byte op | lp key | lp value | byte has_expected [| lp expected] |
// varint client_id | varint request_seq.   (lp = varint length-prefixed bytes)
std::string EncodeKvCommand(const KvCommand& cmd);
// Corruption on anything malformed (bad version or op, truncation, trailing bytes).
Result<KvCommand> DecodeKvCommand(Slice input);

// byte succeeded | varint index | byte has_current [| lp current] | varint deleted.
void EncodeKvCommandResult(const KvCommandResult& r, std::string* dst);
// Consumes one encoded result from the front of *in.
bool DecodeKvCommandResult(Slice* in, KvCommandResult* r);

}  // namespace tinykv::replica
