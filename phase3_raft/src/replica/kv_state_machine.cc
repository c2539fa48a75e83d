// KvStateMachine: see kv_state_machine.h.
#include "tinykv/replica/kv_state_machine.h"

#include <mutex>

#include "tinykv/common/check.h"
#include "tinykv/common/coding.h"
#include "tinykv/raft/codec.h"
#include "tinykv/replica/engine_dir.h"
#include "tinykv/replica/engine_hash.h"
#include "tinykv/replica/kv_command.h"
#include "tinykv/replica/state_hash.h"
#include "tinykv/storage/iterator.h"
#include "tinykv/storage/options.h"
#include "tinykv/storage/write_batch.h"

namespace tinykv::replica {
namespace {

namespace fs = std::filesystem;

const std::string kAppliedKey = "mapplied";
const std::string kConfKey = "mconf";
const std::string kPeerPrefix = "mpeer/";

std::string PeerKey(uint64_t id) {
  std::string k = kPeerPrefix;
  for (int i = 7; i >= 0; --i) k.push_back(static_cast<char>((id >> (8 * i)) & 0xff));
  return k;
}

std::string DataKey(const std::string& k) { return "d" + k; }
std::string ClientKey(uint64_t client) {
  std::string k = "c";
  for (int i = 7; i >= 0; --i) k.push_back(static_cast<char>((client >> (8 * i)) & 0xff));
  return k;
}

std::string AppliedValue(uint64_t index, uint64_t term) {
  std::string v;
  PutFixed64(&v, index);
  PutFixed64(&v, term);
  return v;
}

}  // namespace

KvStateMachine::KvStateMachine(fs::path dir, Env* env)
    : dir_(std::move(dir)), env_(env != nullptr ? env : Env::Default()) {}
KvStateMachine::~KvStateMachine() = default;  // hash_jobs_ checks no job holds the engine

Result<std::unique_ptr<KvStateMachine>> KvStateMachine::Open(const fs::path& dir, Env* env) {
  if (env == nullptr) env = Env::Default();
  TINYKV_RETURN_IF_ERROR(OpenEngineDir(env, dir));
  std::unique_ptr<KvStateMachine> sm(new KvStateMachine(dir, env));
  TINYKV_RETURN_IF_ERROR(sm->OpenDb());
  TINYKV_RETURN_IF_ERROR(sm->LoadMeta());
  return sm;
}

Status KvStateMachine::OpenDb() {
  storage::Options o;
  o.create_if_missing = true;
  o.env = env_;
  TINYKV_ASSIGN_OR_RETURN(db_, storage::DB::Open(o, EnginePath(dir_)));
  return Status::OK();
}

Status KvStateMachine::LoadMeta() {
  applied_index_ = applied_term_ = 0;
  conf_.reset();
  TINYKV_ASSIGN_OR_RETURN(auto applied, GetRaw(kAppliedKey));
  if (applied) {
    Slice in(*applied);
    if (!GetFixed64(&in, &applied_index_) || !GetFixed64(&in, &applied_term_))
      return Status::Corruption("state machine: bad applied record");
  }
  TINYKV_ASSIGN_OR_RETURN(auto conf, GetRaw(kConfKey));
  if (conf) {
    Slice in(*conf);
    raft::ConfState cs;
    if (!raft::DecodeConfState(&in, &cs).ok()) return Status::Corruption("state machine: bad conf record");
    conf_ = cs;
  }
  members_.clear();
  auto it = db_->NewIterator(storage::ReadOptions{});
  for (it->Seek(Slice(kPeerPrefix)); it->Valid() && it->key().starts_with(Slice(kPeerPrefix));
       it->Next()) {
    Slice k = it->key();
    k.remove_prefix(kPeerPrefix.size());
    uint64_t id = 0;
    if (k.size() != 8) return Status::Corruption("state machine: bad member key");
    for (size_t i = 0; i < 8; ++i) id = (id << 8) | static_cast<uint8_t>(k[i]);
    Slice v = it->value();
    MemberAddress a;
    if (!DecodeMemberAddress(&v, &a) || !v.empty())
      return Status::Corruption("state machine: bad member record");
    members_[id] = std::move(a);
  }
  return it->status();
}

Result<std::optional<std::string>> KvStateMachine::GetRaw(const std::string& key) {
  auto r = db_->Get(storage::ReadOptions{}, Slice(key));
  if (r.ok()) return std::optional<std::string>(std::move(r).value());
  if (r.status().IsNotFound()) return std::optional<std::string>();
  return r.status();
}

// Reads a key as the pending write would leave it (its own puts and deletes
// first), so that a command sees the commands before it in the same batch.
Result<std::optional<std::string>> KvStateMachine::Read(const PendingWrite& w,
                                                         const std::string& key) {
  if (auto it = w.keys.find(key); it != w.keys.end()) return it->second;
  return GetRaw(key);
}

void KvStateMachine::PendingWrite::Put(const std::string& key, Slice value) {
  batch.Put(Slice(key), value);
  keys[key] = value.ToString();
}

void KvStateMachine::PendingWrite::Delete(const std::string& key) {
  batch.Delete(Slice(key));
  keys[key] = std::nullopt;
}

Status KvStateMachine::Execute(const KvCommand& cmd, PendingWrite* w, KvCommandResult* res) {
  std::string client_key;
  if (cmd.client_id != 0) {
    client_key = ClientKey(cmd.client_id);
    TINYKV_ASSIGN_OR_RETURN(auto rec, Read(*w, client_key));
    if (rec) {
      Slice in(*rec);
      uint64_t seq = 0;
      KvCommandResult prev;
      if (!GetVarint64(&in, &seq) || !DecodeKvCommandResult(&in, &prev))
        return Status::Corruption("state machine: bad client record");
      if (cmd.request_seq <= seq) {
        if (cmd.request_seq == seq) {
          *res = prev;  // a retry: the remembered outcome
        } else {
          res->succeeded = false;  // older than the last one seen: ignored
        }
        return Status::OK();
      }
    }
  }
  switch (cmd.op) {
    case KvCommand::Op::kPut:
      w->Put(DataKey(cmd.key), Slice(cmd.value));
      break;
    case KvCommand::Op::kDelete:
      w->Delete(DataKey(cmd.key));
      break;
    case KvCommand::Op::kCas: {
      TINYKV_ASSIGN_OR_RETURN(auto cur, Read(*w, DataKey(cmd.key)));
      if (cur == cmd.expected) {
        w->Put(DataKey(cmd.key), Slice(cmd.value));
      } else {
        res->succeeded = false;
        res->current = cur;
      }
      break;
    }
    case KvCommand::Op::kDeleteRange: {
      // Iterates the engine: REQUIRES that the pending write holds no keys
      // (ApplyBatch writes it out before a delete-range).
      TINYKV_CHECK(w->keys.empty()) << "delete-range over a pending write";
      auto it = db_->NewIterator(storage::ReadOptions{});
      const std::string start = DataKey(cmd.key);
      const std::string end = cmd.value.empty() ? std::string("e") : DataKey(cmd.value);
      for (it->Seek(Slice(start)); it->Valid(); it->Next()) {
        if (!(it->key() < Slice(end))) break;
        w->Delete(it->key().ToString());
        ++res->deleted;
      }
      TINYKV_RETURN_IF_ERROR(it->status());
      break;
    }
  }
  if (cmd.client_id != 0) {
    std::string rec;
    PutVarint64(&rec, cmd.request_seq);
    EncodeKvCommandResult(*res, &rec);
    w->Put(client_key, Slice(rec));
  }
  return Status::OK();
}

Status KvStateMachine::Commit(PendingWrite* w, uint64_t index, uint64_t term) {
  w->batch.Put(Slice(kAppliedKey), Slice(AppliedValue(index, term)));
  TINYKV_RETURN_IF_ERROR(db_->Write(storage::WriteOptions{}, w->batch));
  applied_index_ = index;
  applied_term_ = term;
  w->batch.Clear();
  w->keys.clear();
  return Status::OK();
}

Result<KvCommandResult> KvStateMachine::ApplyCommand(uint64_t index, uint64_t term,
                                                     const KvCommand& cmd) {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  KvCommandResult res;
  res.index = index;
  PendingWrite w;
  TINYKV_RETURN_IF_ERROR(Execute(cmd, &w, &res));
  TINYKV_RETURN_IF_ERROR(Commit(&w, index, term));
  return res;
}

Result<std::vector<CommandOutcome>> KvStateMachine::ApplyBatch(
    const std::vector<CommittedCommand>& cmds) {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  std::vector<CommandOutcome> outs;
  outs.reserve(cmds.size());
  PendingWrite w;
  // The last command whose effect is in `w` (written with it as applied).
  uint64_t last_index = 0, last_term = 0;
  for (const CommittedCommand& c : cmds) {
    Result<KvCommand> cmd = DecodeKvCommand(c.command);
    if (!cmd.ok()) {
      // Deterministic on every replica: consumed as a no-op (only the applied
      // position moves), the error goes back to whoever proposed it.
      outs.push_back(CommandOutcome{cmd.status().WithContext("entry " + std::to_string(c.index)), {}});
    } else {
      if (cmd->op == KvCommand::Op::kDeleteRange && !w.keys.empty()) {
        TINYKV_RETURN_IF_ERROR(Commit(&w, last_index, last_term));
      }
      KvCommandResult r;
      r.index = c.index;
      TINYKV_RETURN_IF_ERROR(Execute(*cmd, &w, &r));
      CommandOutcome out;
      EncodeKvCommandResult(r, &out.result);
      outs.push_back(std::move(out));
    }
    last_index = c.index;
    last_term = c.term;
  }
  if (last_index != 0) TINYKV_RETURN_IF_ERROR(Commit(&w, last_index, last_term));
  return outs;
}

Status KvStateMachine::ApplyNoop(uint64_t index, uint64_t term) {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  storage::WriteBatch batch;
  batch.Put(Slice(kAppliedKey), Slice(AppliedValue(index, term)));
  TINYKV_RETURN_IF_ERROR(db_->Write(storage::WriteOptions{}, batch));
  applied_index_ = index;
  applied_term_ = term;
  return Status::OK();
}

Result<CommandOutcome> KvStateMachine::Apply(uint64_t index, uint64_t term, Slice command) {
  // A run of one: the same decoding, no-op rule and write as ApplyBatch.
  TINYKV_ASSIGN_OR_RETURN(std::vector<CommandOutcome> outs,
                          ApplyBatch({CommittedCommand{index, term, command}}));
  return std::move(outs.front());
}

std::optional<Membership> KvStateMachine::membership() const {
  if (!conf_) return std::nullopt;
  return Membership{*conf_, members_};
}

Status KvStateMachine::ApplyConfChange(uint64_t index, uint64_t term, const Membership& m) {
  const raft::ConfState& conf = m.conf;
  const AddressBook& members = m.book;
  std::shared_lock<std::shared_mutex> l(db_mu_);
  storage::WriteBatch batch;
  batch.Put(Slice(kAppliedKey), Slice(AppliedValue(index, term)));
  std::string conf_value;
  raft::EncodeConfState(conf, &conf_value);
  batch.Put(Slice(kConfKey), Slice(conf_value));
  for (const auto& [id, a] : members_) {
    if (!members.count(id)) batch.Delete(Slice(PeerKey(id)));
  }
  for (const auto& [id, a] : members) {
    auto old = members_.find(id);
    if (old == members_.end() || !(old->second == a)) {
      std::string v;
      EncodeMemberAddress(a, &v);
      batch.Put(Slice(PeerKey(id)), Slice(v));
    }
  }
  TINYKV_RETURN_IF_ERROR(db_->Write(storage::WriteOptions{}, batch));
  applied_index_ = index;
  applied_term_ = term;
  conf_ = conf;
  members_ = members;
  return Status::OK();
}

Result<std::optional<std::string>> KvStateMachine::Get(const std::string& key) {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  if (!db_) return Status::Unavailable("state machine is installing a snapshot");
  return GetRaw(DataKey(key));
}

Result<std::vector<std::pair<std::string, std::string>>> KvStateMachine::Scan(
    const std::string& start, const std::string& end, size_t limit) {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  if (!db_) return Status::Unavailable("state machine is installing a snapshot");
  std::vector<std::pair<std::string, std::string>> out;
  auto it = db_->NewIterator(storage::ReadOptions{});
  const std::string e = end.empty() ? std::string("e") : DataKey(end);
  for (it->Seek(Slice(DataKey(start))); it->Valid() && out.size() < limit; it->Next()) {
    if (!(it->key() < Slice(e))) break;
    Slice k = it->key();
    k.remove_prefix(1);
    out.emplace_back(k.ToString(), it->value().ToString());
  }
  TINYKV_RETURN_IF_ERROR(it->status());
  return out;
}

Status KvStateMachine::Checkpoint(const fs::path& dir) {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  return db_->Checkpoint(dir);
}

Result<StateMachine::HashJob> KvStateMachine::PrepareHash() {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  if (!db_) return Status::Unavailable("state machine is installing a snapshot");
  return hash_jobs_.Prepare(
      db_.get(), [](Slice k) { return k.starts_with(Slice(kPeerPrefix)); }, std::nullopt);
}

Result<uint64_t> KvStateMachine::Hash() {
  TINYKV_ASSIGN_OR_RETURN(HashJob job, PrepareHash());
  const std::atomic<bool> never{false};
  return job(never);
}

Status KvStateMachine::Install(const fs::path& checkpoint_dir) {
  // Running hash jobs stop; their iterators must be gone before the engine
  // they read is closed.
  hash_jobs_.StopJobs();
  std::unique_lock<std::shared_mutex> l(db_mu_);
  db_.reset();
  TINYKV_RETURN_IF_ERROR(InstallEngineCheckpoint(env_, dir_, checkpoint_dir));
  TINYKV_RETURN_IF_ERROR(OpenDb());
  return LoadMeta();
}

Status KvStateMachine::Reopen() {
  // The engine keeps a failed write's error (its "background error") until
  // it is reopened; reopening replays its WAL, whose torn tail (the write
  // that failed) is dropped.
  hash_jobs_.StopJobs();
  std::unique_lock<std::shared_mutex> l(db_mu_);
  db_.reset();
  TINYKV_RETURN_IF_ERROR(OpenDb());
  return LoadMeta();
}

}  // namespace tinykv::replica
