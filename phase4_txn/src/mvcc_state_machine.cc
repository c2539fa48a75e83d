// MvccStateMachine: see mvcc_state_machine.h.
#include "tinykv/txn/mvcc_state_machine.h"

#include <algorithm>
#include <mutex>
#include <optional>
#include <set>

#include "tinykv/common/coding.h"
#include "tinykv/common/trace_id.h"
#include "tinykv/raft/codec.h"
#include "tinykv/replica/engine_dir.h"
#include "tinykv/replica/state_hash.h"
#include "tinykv/storage/iterator.h"
#include "tinykv/storage/options.h"
#include "tinykv/storage/write_batch.h"
#include "tinykv/txn/lease.h"
#include "tinykv/txn/mvcc_key.h"
#include "tinykv/txn/timestamp.h"
#include "tinykv/txn/txn_executor.h"
#include "tinykv/txn/watch_error.h"

namespace tinykv::txn {
namespace {

namespace fs = std::filesystem;

constexpr char kAppliedKey[] = "mapplied";
constexpr char kMembershipKey[] = "mmembership";
constexpr char kWriteBoundKey[] = "mwrite_bound";

Status Unavailable() { return Status::Unavailable("state machine is installing a snapshot"); }

}  // namespace

MvccStateMachine::MvccStateMachine(fs::path dir, Env* env, size_t version_cache_bytes)
    : dir_(std::move(dir)),
      env_(env != nullptr ? env : Env::Default()),
      versions_(version_cache_bytes),
      log_(logging::Get("txn")) {}

Result<std::unique_ptr<MvccStateMachine>> MvccStateMachine::Open(const fs::path& dir, Env* env,
                                                                size_t version_cache_bytes) {
  std::unique_ptr<MvccStateMachine> sm(new MvccStateMachine(dir, env, version_cache_bytes));
  Env* e = sm->env_;
  TINYKV_RETURN_IF_ERROR(replica::OpenEngineDir(e, dir));
  TINYKV_RETURN_IF_ERROR(sm->OpenDb());
  TINYKV_RETURN_IF_ERROR(sm->LoadMeta());
  return sm;
}

Status MvccStateMachine::OpenDb() {
  storage::Options o;
  o.create_if_missing = true;
  o.env = env_;
  TINYKV_ASSIGN_OR_RETURN(db_, storage::DB::Open(o, replica::EnginePath(dir_)));
  return Status::OK();
}

Status MvccStateMachine::LoadMeta() {
  versions_.Clear();  // a new engine: nothing known of it yet
  applied_index_ = applied_term_ = 0;
  membership_.reset();
  auto applied = db_->Get(storage::ReadOptions{}, Slice(kAppliedKey));
  if (applied.ok()) {
    Slice in(*applied);
    if (!GetFixed64(&in, &applied_index_) || !GetFixed64(&in, &applied_term_) || !in.empty())
      return Status::Corruption("mvcc state machine: bad applied record");
  } else if (!applied.status().IsNotFound()) {
    return applied.status();
  }
  auto m = db_->Get(storage::ReadOptions{}, Slice(kMembershipKey));
  if (m.ok()) {
    auto decoded = replica::DecodeMembership(Slice(*m));
    if (!decoded.ok()) return decoded.status().WithContext("mvcc state machine: membership");
    membership_ = std::move(decoded).value();
  } else if (!m.status().IsNotFound()) {
    return m.status();
  }
  auto bound = db_->Get(storage::ReadOptions{}, Slice(kWriteBoundKey));
  if (bound.ok()) {
    Slice in(*bound);
    if (!GetFixed64(&in, &write_ts_bound_) || !in.empty())
      return Status::Corruption("mvcc state machine: bad write bound record");
  } else if (bound.status().IsNotFound()) {
    TINYKV_ASSIGN_OR_RETURN(write_ts_bound_, ScanWriteTsBound());
  } else {
    return bound.status();
  }
  {
    MvccReader reader(db_.get());
    TINYKV_ASSIGN_OR_RETURN(uint64_t safe_point, ReadGcSafePoint(reader));
    compacted_.store(safe_point, std::memory_order_release);
  }
  TINYKV_RETURN_IF_ERROR(RebuildLockIndex());
  return LoadLeases();
}

Status MvccStateMachine::RebuildLockIndex() {
  MvccReader reader(db_.get());
  TINYKV_ASSIGN_OR_RETURN(std::vector<LockInfo> locks, reader.AllLocks());
  lock_index_.Reset(locks);
  return Status::OK();
}

Status MvccStateMachine::LoadLeases() {
  shared_applied_term_.store(applied_term_, std::memory_order_release);
  std::map<uint64_t, uint64_t> leases;
  MvccReader reader(db_.get());
  TINYKV_ASSIGN_OR_RETURN(auto records, reader.ScanMeta(Slice(kLeasePrefix)));
  for (const auto& [k, v] : records) {
    auto id = DecodeLeaseId(Slice(k));
    auto ttl = DecodeVarintValue(Slice(v));
    if (!id || !ttl) return Status::Corruption("mvcc state machine: bad lease record " + Slice(k).ToHex());
    leases[*id] = *ttl;
  }
  std::lock_guard<std::mutex> l(lease_mu_);
  leases_ = std::move(leases);
  lease_version_.fetch_add(1, std::memory_order_acq_rel);
  return Status::OK();
}

Status MvccStateMachine::PublishChanges(const storage::WriteBatch& batch) {
  VersionObserver* observer = version_observer_.load(std::memory_order_acquire);
  const bool observed = observer != nullptr && observer->WantsVersions();
  const bool cached = versions_.capacity_bytes() > 0;
  TINYKV_ASSIGN_OR_RETURN(BatchChanges changes, DecodeBatchChanges(batch, observed || cached));
  if (cached) versions_.Note(changes.versions);
  // The versions first: a watch that sees a lock gone (or a kv-write done)
  // must find the version it committed already fed to it (watch_hub.h).
  if (observed && !changes.versions.empty()) observer->OnVersions(std::move(changes.versions));
  lock_index_.Apply(changes.locks);
  return Status::OK();
}

std::map<uint64_t, uint64_t> MvccStateMachine::Leases() const {
  std::lock_guard<std::mutex> l(lease_mu_);
  return leases_;
}

std::optional<uint64_t> MvccStateMachine::LeaseTtl(uint64_t id) const {
  std::lock_guard<std::mutex> l(lease_mu_);
  auto it = leases_.find(id);
  if (it == leases_.end()) return std::nullopt;
  return it->second;
}

Result<std::vector<std::string>> MvccStateMachine::LeaseKeys(uint64_t id) {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  if (!db_) return Unavailable();
  MvccReader reader(db_.get());
  const std::string prefix = LeaseAttachPrefix(id);
  TINYKV_ASSIGN_OR_RETURN(auto records, reader.ScanMeta(Slice(prefix)));
  std::vector<std::string> keys;
  keys.reserve(records.size());
  for (auto& [k, v] : records) keys.push_back(k.substr(prefix.size()));
  return keys;
}

Result<uint64_t> MvccStateMachine::ScanWriteTsBound() {
  uint64_t bound = 0;
  auto it = db_->NewIterator(storage::ReadOptions{});
  for (it->Seek(Slice(std::string(1, kWritePrefix))); it->Valid() && it->key()[0] == kWritePrefix;
       it->Next()) {
    auto vk = DecodeVersionedKey(it->key(), kWritePrefix);
    if (!vk) return Status::Corruption("mvcc state machine: bad write key " + it->key().ToHex());
    bound = std::max(bound, vk->ts);
  }
  TINYKV_RETURN_IF_ERROR(it->status());
  return bound;
}

Status MvccStateMachine::Commit(uint64_t index, uint64_t term, storage::WriteBatch* batch,
                                uint64_t write_ts_bound) {
  std::string v;
  PutFixed64(&v, index);
  PutFixed64(&v, term);
  batch->Put(Slice(kAppliedKey), Slice(v));
  if (write_ts_bound != write_ts_bound_) {
    std::string b;
    PutFixed64(&b, write_ts_bound);
    batch->Put(Slice(kWriteBoundKey), Slice(b));
  }
  TINYKV_RETURN_IF_ERROR(db_->Write(storage::WriteOptions{}, *batch));
  applied_index_ = index;
  applied_term_ = term;
  shared_applied_term_.store(term, std::memory_order_release);
  write_ts_bound_ = write_ts_bound;
  return Status::OK();
}

namespace {

// The engine-level keys a command reads and writes, when it may share a
// batch (and one snapshot) with others that touch none of them: the plain
// KV API's single-key writes -- the hot path -- touch their user key's
// families and their client record. nullopt: the command runs alone (it
// reads ranges, other keys' records, or the oracle's mark).
std::optional<std::vector<std::string>> BatchKeys(const TxnCommand& cmd) {
  const auto* w = std::get_if<KvWriteCmd>(&cmd);
  if (w == nullptr || w->kv.op == replica::KvCommand::Op::kDeleteRange) return std::nullopt;
  std::vector<std::string> keys{"k" + w->kv.key};
  if (w->kv.client_id != 0) keys.push_back(KvClientKey(w->kv.client_id));
  return keys;
}

}  // namespace

Result<replica::CommandOutcome> MvccStateMachine::Apply(uint64_t index, uint64_t term,
                                                        Slice command) {
  // A run of one: the same decoding, no-op rule and write as ApplyBatch.
  TINYKV_ASSIGN_OR_RETURN(std::vector<replica::CommandOutcome> outs,
                          ApplyBatch({replica::CommittedCommand{index, term, command}}));
  return std::move(outs.front());
}

Result<std::vector<replica::CommandOutcome>> MvccStateMachine::ApplyBatch(
    const std::vector<replica::CommittedCommand>& cmds) {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  std::vector<replica::CommandOutcome> outs;
  outs.reserve(cmds.size());
  // The commands executed but not yet written: their writes, the keys they
  // touched, the last (index, term) among them, the kv-writes to report.
  storage::WriteBatch batch;
  std::set<std::string> touched;
  uint64_t last_index = 0, last_term = 0;
  std::vector<uint64_t> kv_writes;
  std::optional<MvccReader> reader;  // the engine as of the last write
  uint64_t write_ts_bound = write_ts_bound_;  // with the batch's records
  auto flush = [&]() -> Status {
    if (last_index == 0) return Status::OK();
    TINYKV_RETURN_IF_ERROR(Commit(last_index, last_term, &batch, write_ts_bound));
    TINYKV_RETURN_IF_ERROR(PublishChanges(batch));
    batch.Clear();
    touched.clear();
    last_index = 0;
    reader.reset();
    // Only now can a reader see them (txn_node.h: writes in flight).
    if (const auto* observe = kv_write_observer_.load(std::memory_order_acquire))
      for (uint64_t ts : kv_writes) (*observe)(ts);
    kv_writes.clear();
    return Status::OK();
  };
  for (const replica::CommittedCommand& c : cmds) {
    Result<TxnCommand> cmd = DecodeTxnCommand(c.command);
    Status invalid = cmd.ok() ? ValidateTxnCommand(*cmd) : cmd.status();
    if (!invalid.ok()) {
      // Deterministic on every replica: consumed as a no-op (only the
      // applied position moves), the error goes back to whoever proposed it.
      outs.push_back(
          replica::CommandOutcome{invalid.WithContext("entry " + std::to_string(c.index)), {}});
      last_index = c.index;
      last_term = c.term;
      continue;
    }
    const std::optional<std::vector<std::string>> keys = BatchKeys(*cmd);
    bool overlaps = !keys.has_value();
    if (keys)
      for (const std::string& k : *keys) overlaps = overlaps || touched.count(k) > 0;
    if (overlaps) TINYKV_RETURN_IF_ERROR(flush());
    // The reader's bound is the engine's as of its snapshot (not the
    // batch's: a command of the run reads no key an earlier one wrote).
    if (!reader) reader.emplace(db_.get(), write_ts_bound_);
    // leases_ changes only on this thread (below), so it is read unlocked.
    TINYKV_ASSIGN_OR_RETURN(TxnCommandResult r,
                            ExecuteTxnCommand(*reader, db_.get(), *cmd, c.term, &batch,
                                              &write_ts_bound, !leases_.empty(), &versions_));
    last_index = c.index;
    last_term = c.term;
    // Raised before the GC's write is (compacted_revision()).
    if (const auto* gc = std::get_if<GcCmd>(&*cmd)) {
      if (gc->safe_point > compacted_) compacted_.store(gc->safe_point, std::memory_order_release);
      versions_.Clear();  // it may drop newest versions (a key's last delete)
    }
    if (const auto* w = std::get_if<KvWriteCmd>(&*cmd)) {
      kv_writes.push_back(w->commit_ts);
      if (w->trace_id != 0 && log_->should_log(spdlog::level::debug)) {
        logging::Log(log_, spdlog::level::debug, "txn: applied traced write",
                     {{"node", log_node_},
                      {"index", c.index},
                      {"term", c.term},
                      {"revision", w->commit_ts},
                      {"ok", r.errors.empty()},
                      {"trace", FormatTraceId(w->trace_id)}});
      }
    }
    // A revoke is a write at its timestamp too (its tombstones).
    if (const auto* v = std::get_if<LeaseRevokeCmd>(&*cmd)) kv_writes.push_back(v->commit_ts);
    outs.push_back(replica::CommandOutcome{Status::OK(), EncodeTxnCommandResult(r)});
    if (keys) {
      touched.insert(keys->begin(), keys->end());
    } else {
      TINYKV_RETURN_IF_ERROR(flush());  // alone: the next command must see its writes
      NoteLeaseChange(*cmd, r);
    }
  }
  TINYKV_RETURN_IF_ERROR(flush());
  return outs;
}

void MvccStateMachine::NoteLeaseChange(const TxnCommand& cmd, const TxnCommandResult& r) {
  if (r.lease_status != LeaseStatus::kOk || !r.errors.empty()) return;
  if (const auto* g = std::get_if<LeaseGrantCmd>(&cmd)) {
    std::lock_guard<std::mutex> l(lease_mu_);
    leases_[g->id] = g->ttl_s;
    lease_version_.fetch_add(1, std::memory_order_acq_rel);
  } else if (const auto* v = std::get_if<LeaseRevokeCmd>(&cmd)) {
    std::lock_guard<std::mutex> l(lease_mu_);
    leases_.erase(v->id);
    lease_version_.fetch_add(1, std::memory_order_acq_rel);
  }
}

Status MvccStateMachine::ApplyNoop(uint64_t index, uint64_t term) {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  storage::WriteBatch batch;
  return Commit(index, term, &batch, write_ts_bound_);
}

Status MvccStateMachine::ApplyConfChange(uint64_t index, uint64_t term,
                                         const replica::Membership& m) {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  storage::WriteBatch batch;
  batch.Put(Slice(kMembershipKey), Slice(replica::EncodeMembership(m)));
  TINYKV_RETURN_IF_ERROR(Commit(index, term, &batch, write_ts_bound_));
  membership_ = m;
  return Status::OK();
}

Result<replica::StateMachine::HashJob> MvccStateMachine::PrepareHash() {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  if (!db_) return Unavailable();
  std::string conf;
  if (membership_) raft::EncodeConfState(membership_->conf, &conf);
  return hash_jobs_.Prepare(
      db_.get(), [](Slice k) { return k == Slice(kMembershipKey) || k == Slice(kWriteBoundKey); },
      std::move(conf));
}

Result<uint64_t> MvccStateMachine::Hash() {
  TINYKV_ASSIGN_OR_RETURN(HashJob job, PrepareHash());
  const std::atomic<bool> never{false};
  return job(never);
}

Status MvccStateMachine::Checkpoint(const fs::path& dir) {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  return db_->Checkpoint(dir);
}

Status MvccStateMachine::Install(const fs::path& checkpoint_dir) {
  hash_jobs_.StopJobs();  // their iterators must be gone before the engine closes
  std::unique_lock<std::shared_mutex> l(db_mu_);
  db_.reset();
  TINYKV_RETURN_IF_ERROR(replica::InstallEngineCheckpoint(env_, dir_, checkpoint_dir));
  TINYKV_RETURN_IF_ERROR(OpenDb());
  return LoadMeta();
}

Status MvccStateMachine::Reopen() {
  // The engine keeps a failed write's error until it is reopened; reopening
  // replays its WAL, whose torn tail (the write that failed) is dropped.
  hash_jobs_.StopJobs();
  std::unique_lock<std::shared_mutex> l(db_mu_);
  db_.reset();
  TINYKV_RETURN_IF_ERROR(OpenDb());
  return LoadMeta();
}

Result<ReadResult> MvccStateMachine::Get(const std::string& key, uint64_t ts) {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  if (!db_) return Unavailable();
  MvccReader reader(db_.get());
  // After the snapshot is taken (compacted_revision()).
  if (const uint64_t c = compacted_revision(); ts < c) return ReadCompactedError(ts, c);
  return reader.Get(Slice(key), ts);
}

Result<ScanResult> MvccStateMachine::Scan(const std::string& start, const std::string& end,
                                          uint64_t ts, size_t limit) {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  if (!db_) return Unavailable();
  MvccReader reader(db_.get());
  if (const uint64_t c = compacted_revision(); ts < c) return ReadCompactedError(ts, c);
  return reader.Scan(Slice(start), Slice(end), ts, limit);
}

Result<MvccStateMachine::DefragmentResult> MvccStateMachine::Defragment() {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  if (!db_) return Unavailable();
  auto live_bytes = [this] { return db_->Stats()["live-sst-bytes"]; };
  DefragmentResult r;
  TINYKV_RETURN_IF_ERROR(db_->Flush());
  r.bytes_before = live_bytes();
  TINYKV_RETURN_IF_ERROR(db_->CompactRange(std::nullopt, std::nullopt));
  r.bytes_after = live_bytes();
  return r;
}

Status MvccStateMachine::Read(const std::function<Status(MvccReader&)>& fn) {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  if (!db_) return Unavailable();
  MvccReader reader(db_.get());
  return fn(reader);
}

Result<uint64_t> MvccStateMachine::reserved_ts() {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  if (!db_) return Unavailable();
  return ReadTsoReserved(db_.get());
}

replica::BackupKind MvccBackupKind() {
  replica::BackupKind k;
  k.subdir = "mvcc";
  k.open = [](Env* env, const fs::path& dir) -> Result<std::unique_ptr<replica::StateMachine>> {
    TINYKV_ASSIGN_OR_RETURN(std::unique_ptr<MvccStateMachine> sm, MvccStateMachine::Open(dir, env));
    return std::unique_ptr<replica::StateMachine>(std::move(sm));
  };
  k.count_keys = [](replica::StateMachine& sm) -> Result<uint64_t> {
    auto& mvcc = static_cast<MvccStateMachine&>(sm);
    uint64_t keys = 0;
    std::string start;
    for (;;) {  // page by page; past a lock, on from the key after it
      TINYKV_ASSIGN_OR_RETURN(ScanResult page, mvcc.Scan(start, "", kMaxTs, 10000));
      keys += page.pairs.size();
      if (page.error) {
        start = page.error->key + '\0';
        TINYKV_ASSIGN_OR_RETURN(ReadResult locked, mvcc.Get(page.error->key, page.error->lock.lock.start_ts - 1));
        if (locked.value) ++keys;
        continue;
      }
      if (page.pairs.size() < 10000) return keys;
      start = page.pairs.back().first + '\0';
    }
  };
  return k;
}

}  // namespace tinykv::txn
