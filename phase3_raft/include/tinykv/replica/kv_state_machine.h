// KvStateMachine: the replicated KV state machine over the phase 1 engine --
// the worked example of a StateMachine (state_machine.h).
//
// What it is: applies committed KvCommands (put, delete, delete-range, CAS;
// kv_command.h) to a tinykv::storage::DB. Each entry -- or each run of
// entries, ApplyBatch -- is applied with ONE WriteBatch holding the data
// changes, the new applied index/term and (for commands with a client id)
// the client's dedup record (client_id -> last request_seq and its result),
// so after a crash the state machine is exactly
// "applied up to applied_index()": restart never applies an entry twice, and
// a retried request (same client_id, request_seq) returns the remembered
// result instead of executing again. A command that does not decode is
// applied as a no-op with a Corruption outcome (deterministic on every replica).
//
// Key layout in the DB (one byte namespace prefix):
//   'd' + user key            -> value
//   'm' "applied"             -> fixed64 index | fixed64 term
//   'm' "conf"                -> encoded ConfState (raft/codec.h)
//   'm' "peer/" + fixed64 BE id -> address book entry (one per member of the
//                                applied configuration): lp peer address | lp client address
//   'c' + fixed64 BE client   -> varint seq | encoded KvCommandResult
//
// Hash (StateMachine::Hash, hash_check.h): every key of the DB in order
// except the address book ('m' "peer/"): the user keys and values, the dedup
// records (they decide what a retried request gets, so a damaged one is a
// wrong answer too), the applied (index, term) and the ConfState. The
// address book is left out: its bootstrap entries are written by each member
// from its own --initial-cluster, so healthy members may spell an address
// differently, and a wrong address shows as an unreachable peer, never as a
// wrong answer. PrepareHash takes an engine iterator (a consistent view as
// of now) and hashes through it on the caller's thread, verifying every
// block checksum (engine_hash.h); a damaged table makes the hash
// Corruption. Install and Reopen stop running hash jobs first.
//
// Snapshots: Checkpoint() writes a DB checkpoint directory (an openable copy
// of the engine, with the applied index and membership inside); Install()
// replaces the live DB with such a directory.
//
// Thread safety: Apply*/Checkpoint/Install from one thread (the replica's
// driver); Get/Scan from any thread concurrently (during Install they return
// Unavailable).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tinykv/common/env.h"
#include "tinykv/common/result.h"
#include "tinykv/replica/engine_hash.h"
#include "tinykv/replica/kv_command.h"
#include "tinykv/replica/state_machine.h"
#include "tinykv/storage/db.h"

namespace tinykv::replica {

class KvStateMachine final : public StateMachine {
 public:
  // Opens (creating) the engine in `dir`/db; every file through `env`
  // (nullptr: Env::Default()).
  [[nodiscard]] static Result<std::unique_ptr<KvStateMachine>> Open(
      const std::filesystem::path& dir, Env* env = nullptr);
  ~KvStateMachine() override;

  // StateMachine. A command's result is EncodeKvCommandResult(...).
  uint64_t applied_index() const override { return applied_index_; }
  uint64_t applied_term() const override { return applied_term_; }
  std::optional<Membership> membership() const override;
  Result<CommandOutcome> Apply(uint64_t index, uint64_t term, Slice command) override;
  // One WriteBatch for the whole run (a delete-range starts a new one).
  Result<std::vector<CommandOutcome>> ApplyBatch(
      const std::vector<CommittedCommand>& cmds) override;
  Status ApplyNoop(uint64_t index, uint64_t term) override;
  Status ApplyConfChange(uint64_t index, uint64_t term, const Membership& m) override;
  Result<uint64_t> Hash() override;
  Result<HashJob> PrepareHash() override;
  Status Checkpoint(const std::filesystem::path& dir) override;
  Status Install(const std::filesystem::path& checkpoint_dir) override;
  Status Reopen() override;

  // The typed form of Apply. An error Status means the DB failed.
  // REQUIRES: index > applied_index().
  Result<KvCommandResult> ApplyCommand(uint64_t index, uint64_t term, const KvCommand& cmd);

  Result<std::optional<std::string>> Get(const std::string& key);
  // Pairs in [start, end) (end empty = unbounded), at most `limit`.
  Result<std::vector<std::pair<std::string, std::string>>> Scan(const std::string& start,
                                                                const std::string& end,
                                                                size_t limit);

 private:
  KvStateMachine(std::filesystem::path dir, Env* env);
  Status OpenDb();
  Status LoadMeta();
  Result<std::optional<std::string>> GetRaw(const std::string& key);
  // The writes of commands applied but not yet written to the engine, and
  // the keys they set (nullopt: deleted), which later commands read first.
  struct PendingWrite {
    storage::WriteBatch batch;
    std::unordered_map<std::string, std::optional<std::string>> keys;
    void Put(const std::string& key, Slice value);
    void Delete(const std::string& key);
  };
  Result<std::optional<std::string>> Read(const PendingWrite& w, const std::string& key);
  // Adds the effect of one command (and its client's dedup record) to `w`.
  Status Execute(const KvCommand& cmd, PendingWrite* w, KvCommandResult* res);
  // Writes `w` with (index, term) as the applied position, and empties it.
  Status Commit(PendingWrite* w, uint64_t index, uint64_t term);

  const std::filesystem::path dir_;
  Env* const env_;
  mutable std::shared_mutex db_mu_;  // exclusive only while swapping the DB
  std::unique_ptr<storage::DB> db_;
  uint64_t applied_index_ = 0;
  uint64_t applied_term_ = 0;
  std::optional<raft::ConfState> conf_;
  AddressBook members_;
  // Declared after db_: destroyed first, it checks no job holds the engine.
  EngineHashJobs hash_jobs_;
};

}  // namespace tinykv::replica
