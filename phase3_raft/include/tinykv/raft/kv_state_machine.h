// KvStateMachine: the replicated KV state machine over the phase 1 engine.
//
// What it is: applies committed KvCommands (put, delete, delete-range, CAS)
// to a tinykv::storage::DB. Each entry is applied with ONE WriteBatch holding
// the data change, the new applied index/term and (for commands with a
// client id) the client's dedup record (client_id -> last request_seq and its
// result), so after a crash the state machine is exactly "applied up to
// applied_index()": restart never applies an entry twice, and a retried
// request (same client_id, request_seq) returns the remembered result
// instead of executing again.
//
// Key layout in the DB (one byte namespace prefix):
//   'd' + user key            -> value
//   'm' "applied"             -> fixed64 index | fixed64 term
//   'm' "conf"                -> encoded ConfState (codec.h)
//   'm' "peer/" + fixed64 BE id -> member address book entry (one per member of
//                                the applied configuration): length-prefixed
//                                peer address | length-prefixed client address
//   'c' + fixed64 BE client   -> varint seq | encoded result
//
// Snapshots: Checkpoint() writes a DB checkpoint directory (an openable copy
// of the engine, with the applied index inside); Install() replaces the live
// DB with such a directory.
//
// Thread safety: Apply/Install from one thread (the node driver); Get/Scan
// from any thread concurrently (reads during Install return Unavailable).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "tinykv/common/bytes.h"
#include "tinykv/common/result.h"
#include "tinykv/raft/kv_node.h"
#include "tinykv/raft/message.h"
#include "tinykv/storage/db.h"

namespace tinykv::raft {

// Entry payload = fixed64 proposal id | encoded KvCommand. Proposal ids let
// the proposing node recognise its own entries when they apply.
std::string EncodeKvCommand(const KvCommand& cmd);
Result<KvCommand> DecodeKvCommand(Slice input);
std::string EncodeKvEntry(uint64_t proposal_id, const KvCommand& cmd);
// proposal id and command of a normal entry's data.
Result<std::pair<uint64_t, KvCommand>> DecodeKvEntry(Slice data);

// A member's addresses, as carried by a conf change entry's context and kept
// in the state machine's address book. Either may be empty (unknown).
struct MemberAddress {
  std::string peer;    // raft peer RPC "host:port"
  std::string client;  // client protocol "host:port"
  friend bool operator==(const MemberAddress&, const MemberAddress&) = default;
};

// Context of the ConfChangeV2 entries KvNode proposes (ConfChangeV2::context;
// doc/message_format.md "Member change context"):
//   byte version (=1) | fixed64 proposal id | length-prefixed peer address |
//   length-prefixed client address
// proposal id 0 = nobody waits for the entry (bootstrap entries).
struct MemberContext {
  uint64_t proposal_id = 0;
  MemberAddress address;
};
std::string EncodeMemberContext(const MemberContext& c);
// Corruption on a malformed context; an EMPTY context decodes to nullopt
// (conf changes proposed by someone else, e.g. the leave of a joint config).
Result<std::optional<MemberContext>> DecodeMemberContext(Slice context);

class KvStateMachine {
 public:
  // Opens (creating) the engine in `dir`.
  [[nodiscard]] static Result<std::unique_ptr<KvStateMachine>> Open(
      const std::filesystem::path& dir);
  ~KvStateMachine();

  uint64_t applied_index() const { return applied_index_; }
  uint64_t applied_term() const { return applied_term_; }
  // The persisted conf state (nullopt if never set).
  std::optional<ConfState> conf_state() const { return conf_; }

  // Applies a committed command at (index, term). The command's own outcome
  // (e.g. a failed CAS) is in the result; an error Status means the DB failed.
  // REQUIRES: index > applied_index().
  Result<KvCommandResult> Apply(uint64_t index, uint64_t term, const KvCommand& cmd);
  // Marks (index, term) applied without a command (no-op or conf entry);
  // `conf` is persisted in the same batch if given.
  Status ApplyNoop(uint64_t index, uint64_t term, const std::optional<ConfState>& conf);
  // Marks a conf change entry (index, term) applied: persists `conf` and the
  // new address book `members` (replacing the old one: ids missing from it
  // are deleted) in ONE WriteBatch with the applied index, so a restart or a
  // snapshot carries exactly the configuration of applied_index().
  Status ApplyConfChange(uint64_t index, uint64_t term, const ConfState& conf,
                         const std::map<uint64_t, MemberAddress>& members);
  // The persisted address book (driver thread only, like Apply).
  const std::map<uint64_t, MemberAddress>& members() const { return members_; }

  Result<std::optional<std::string>> Get(const std::string& key);
  Result<std::vector<std::pair<std::string, std::string>>> Scan(const std::string& start,
                                                                const std::string& end,
                                                                size_t limit);

  // Writes a checkpoint of the current state into `dir` (must not exist).
  Status Checkpoint(const std::filesystem::path& dir);
  // Replaces the live DB by the checkpoint in `checkpoint_dir` (moved into
  // place); afterwards applied_index() is the checkpoint's.
  Status Install(const std::filesystem::path& checkpoint_dir);

 private:
  explicit KvStateMachine(std::filesystem::path dir);
  Status OpenDb();
  Status LoadMeta();
  Result<std::optional<std::string>> GetRaw(const std::string& key);

  const std::filesystem::path dir_;
  mutable std::shared_mutex db_mu_;  // exclusive only while swapping the DB
  std::unique_ptr<storage::DB> db_;
  uint64_t applied_index_ = 0;
  uint64_t applied_term_ = 0;
  std::optional<ConfState> conf_;
  std::map<uint64_t, MemberAddress> members_;
};

}  // namespace tinykv::raft
