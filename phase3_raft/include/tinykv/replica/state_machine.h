// StateMachine: what a Replica replicates. The replication layer knows
// nothing about keys and values: it hands the state machine opaque commands,
// in log order, each at its (index, term), and hands back to the proposer the
// opaque result the state machine returns. KvStateMachine (kv_state_machine.h)
// is the worked example; tests/replica/append_log_state_machine.h is a second,
// tiny one (an append-only log) that proves the interface is not KV-shaped.
//
// Durability contract. The state machine persists, atomically with the effect
// of each entry, the (index, term) of the last entry applied, and, for conf
// change entries, the group's Membership. It need not sync: after a crash it
// may come back at an older applied index, and the replica re-applies the
// entries after it from the Raft log (which is synced). So every method that
// takes an (index, term) may assume index == applied_index() + 1 after a
// clean run, and index > applied_index() always.
//
// Determinism. Apply must compute the same state and result on every replica
// from the same sequence of commands. A command it cannot execute
// (undecodable, invalid) is still consumed -- applied as a failed no-op,
// identically everywhere -- with the error in CommandOutcome::status. An
// error Status from Apply itself means the state machine could not do its
// job (the disk failed, it is full): nothing of that entry was applied, and
// the replica stops applying until it can retry (it never skips an entry).
//
// Snapshots. Checkpoint writes the state at applied_index() -- including the
// applied (index, term) and the membership -- as regular files directly in a
// new directory; Install replaces the whole state with such a directory
// (possibly made by another replica of the group and shipped over the
// network), after which applied_index() is the checkpoint's.
//
// Hashes (hash_check.h: replicas compare them to find a damaged member).
// Hash() is a hash of everything that must be equal on every replica after
// the same entries applied -- deterministic, stable across restarts,
// versions and platforms (StateHasher, state_hash.h) -- and of nothing that
// may legitimately differ (local bookkeeping; KvStateMachine leaves out the
// address book, whose bootstrap entries every member writes from its own
// flags). PrepareHash() captures the state as of now, cheaply, and returns a
// job computing Hash() of that capture on another thread while later entries
// apply; the default computes Hash() at once. A job must end soon after its
// `cancel` flag turns true, and the state machine must outlive it.
//
// Thread safety: the replica calls every method here from its driver thread
// only (a HashJob runs on the replica's hash thread, concurrently with later
// calls). Reads that users make (KvStateMachine::Get, ...) are the state
// machine's own business and must be safe against concurrent applies.
#pragma once

#include <cstdint>
#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tinykv/common/bytes.h"
#include "tinykv/common/result.h"
#include "tinykv/common/status.h"
#include "tinykv/replica/membership.h"

namespace tinykv::replica {

// The outcome of one command: OK with the result bytes the proposer gets, or
// the command's own (deterministic) error.
struct CommandOutcome {
  Status status;
  std::string result;
};

// One committed command of a run handed to ApplyBatch.
struct CommittedCommand {
  uint64_t index = 0;
  uint64_t term = 0;
  Slice command;
};

class StateMachine {
 public:
  virtual ~StateMachine() = default;

  // The last entry reflected in the state (0, 0 when fresh).
  virtual uint64_t applied_index() const = 0;
  virtual uint64_t applied_term() const = 0;
  // The membership persisted by the last ApplyConfChange or Install
  // (nullopt if there was none).
  virtual std::optional<Membership> membership() const = 0;

  // Applies a committed command. REQUIRES: index > applied_index().
  virtual Result<CommandOutcome> Apply(uint64_t index, uint64_t term, Slice command) = 0;
  // Applies a run of consecutive committed commands, in order, with the
  // outcomes Apply would give one by one (a later command sees the effect of
  // an earlier one), returning one outcome per command. A state machine may
  // make the whole run durable in one write, with the last (index, term) as
  // applied: that is where a busy replica saves most of its apply cost. An
  // error Status: as for Apply, for the first command not applied (those
  // before it may have been; applied_index() says). The default applies them
  // one by one.
  virtual Result<std::vector<CommandOutcome>> ApplyBatch(
      const std::vector<CommittedCommand>& cmds) {
    std::vector<CommandOutcome> out;
    out.reserve(cmds.size());
    for (const CommittedCommand& c : cmds) {
      Result<CommandOutcome> o = Apply(c.index, c.term, c.command);
      if (!o.ok()) return o.status();
      out.push_back(std::move(o).value());
    }
    return out;
  }
  // Records (index, term) as applied without a command: the leader's empty
  // entries, and entries the replica itself could not decode.
  virtual Status ApplyNoop(uint64_t index, uint64_t term) = 0;
  // Records a conf change entry as applied together with the membership it
  // produced (in one atomic write).
  virtual Status ApplyConfChange(uint64_t index, uint64_t term, const Membership& m) = 0;

  // A hash of the state as of applied_index() (see the header comment).
  // Corruption if the state cannot be read back intact.
  virtual Result<uint64_t> Hash() = 0;
  using HashJob = std::function<Result<uint64_t>(const std::atomic<bool>& cancel)>;
  virtual Result<HashJob> PrepareHash() {
    Result<uint64_t> h = Hash();
    return HashJob([h](const std::atomic<bool>&) { return h; });
  }

  // REQUIRES: `dir` does not exist. Creates it.
  virtual Status Checkpoint(const std::filesystem::path& dir) = 0;
  // Replaces the state by the checkpoint in `dir` (which it may consume:
  // move its files). Corruption if `dir` is not a checkpoint of this kind.
  virtual Status Install(const std::filesystem::path& dir) = 0;
  // After an Apply, ApplyNoop or ApplyConfChange that returned an error (the
  // disk failed or filled up): drops whatever is only in memory and reopens
  // the state from its files, as a restart would; it may come back at an
  // older applied index. The replica calls it before it resumes (replica.h,
  // "Failing safe").
  virtual Status Reopen() = 0;
};

}  // namespace tinykv::replica
