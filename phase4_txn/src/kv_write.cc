// KV writes (the plain KV API on MVCC): see txn_executor.h.
#include "actions.h"
#include "tinykv/common/coding.h"
#include "tinykv/txn/timestamp.h"
#include "tinykv/txn/txn_executor.h"

namespace tinykv::txn::internal {
namespace {

using Op = replica::KvCommand::Op;

Status DeleteRange(ActionContext& ctx, const KvWriteCmd& cmd) {
  const Slice start(cmd.kv.key), end(cmd.kv.value);
  TxnCommandResult& r = ctx.result;
  TINYKV_ASSIGN_OR_RETURN(auto lock, ctx.reader.FirstLock(start, end));
  if (lock) {
    r.errors.push_back(KeyError{KeyError::Kind::kLocked, lock->key, *lock});
    return Status::OK();
  }
  TINYKV_ASSIGN_OR_RETURN(auto keys, ctx.reader.KeysWithWrites(start, end));
  for (const std::string& k : keys) {
    const Slice key(k);
    // Every key of the range, not only those with a value now: the range
    // is empty as of commit_ts only if no key changed at or above it.
    TINYKV_ASSIGN_OR_RETURN(const bool ok, CheckNoWriteAtOrAbove(ctx, key, cmd.commit_ts));
    if (!ok) return Status::OK();
    TINYKV_ASSIGN_OR_RETURN(
        auto previous,
        PreviousVersion(ctx, key, cmd.commit_ts, cmd.prev_kv ? Need::kValue : Need::kMetaOnly));
    if (!HasValue(previous)) continue;  // already a tombstone (or only rollbacks): no new revision
    WriteOneStep(ctx, key, std::nullopt, cmd.commit_ts, 0, previous);
    TINYKV_RETURN_IF_ERROR(SetAttachment(ctx, key, 0));
    TINYKV_RETURN_IF_ERROR(AddPrevKv(ctx, cmd, key, previous));
    ++r.kv.deleted;
  }
  return Status::OK();
}

// The command itself, after the exactly-once check.
Status Execute(ActionContext& ctx, const KvWriteCmd& cmd) {
  const replica::KvCommand& kv = cmd.kv;
  if (kv.op == Op::kDeleteRange) return DeleteRange(ctx, cmd);
  const Slice key(kv.key);
  TINYKV_ASSIGN_OR_RETURN(const bool ok, CheckOneStepWrite(ctx, key, cmd.commit_ts));
  if (!ok) return Status::OK();
  // The key's state before the write: what a cas compares, what a delete
  // of an absent key finds, where a put's metadata continues from.
  // A cas compares the value and prev_kv returns it; the rest need only the
  // record (its kind and metadata).
  const Need need = kv.op == Op::kCas || cmd.prev_kv ? Need::kValue : Need::kMetaOnly;
  TINYKV_ASSIGN_OR_RETURN(auto previous, PreviousVersion(ctx, key, cmd.commit_ts, need));
  replica::KvCommandResult& r = ctx.result.kv;
  switch (kv.op) {
    case Op::kPut:
      WriteOneStep(ctx, key, Slice(kv.value), cmd.commit_ts, cmd.lease, previous);
      TINYKV_RETURN_IF_ERROR(SetAttachment(ctx, key, cmd.lease));
      return AddPrevKv(ctx, cmd, key, previous);
    case Op::kDelete:
      // Like etcd: deleting an absent key makes no revision.
      if (HasValue(previous)) {
        WriteOneStep(ctx, key, std::nullopt, cmd.commit_ts, 0, previous);
        TINYKV_RETURN_IF_ERROR(SetAttachment(ctx, key, 0));
        r.deleted = 1;
        return AddPrevKv(ctx, cmd, key, previous);
      }
      return Status::OK();
    case Op::kCas: {
      std::optional<std::string> value;
      if (HasValue(previous)) {
        TINYKV_ASSIGN_OR_RETURN(value, ctx.reader.ValueOf(key, *previous));
      }
      if (value == kv.expected) {
        WriteOneStep(ctx, key, Slice(kv.value), cmd.commit_ts, cmd.lease, previous);
        TINYKV_RETURN_IF_ERROR(SetAttachment(ctx, key, cmd.lease));
        return AddPrevKv(ctx, cmd, key, previous);
      }
      r.succeeded = false;
      r.current = std::move(value);
      return Status::OK();
    }
    case Op::kDeleteRange:
      break;  // above
  }
  return Status::OK();
}

}  // namespace

Status AddPrevKv(ActionContext& ctx, const KvWriteCmd& cmd, Slice key,
                 const std::optional<CommitRecord>& previous) {
  if (!cmd.prev_kv || !HasValue(previous)) return Status::OK();
  TxnCommandResult& r = ctx.result;
  if (r.prev_kvs_truncated) return Status::OK();
  TINYKV_ASSIGN_OR_RETURN(std::string value, ctx.reader.ValueOf(key, *previous));
  const size_t bytes = ctx.prev_kv_bytes + key.size() + value.size();
  if (bytes > kMaxPrevKvBytes || r.prev_kvs.size() >= kMaxKeysPerCommand) {
    r.prev_kvs_truncated = true;
    return Status::OK();
  }
  ctx.prev_kv_bytes = bytes;
  r.prev_kvs.push_back(
      PrevKv{key.ToString(), std::move(value), KeyMetaOf(previous->commit_ts, previous->write)});
  return Status::OK();
}

Status KvWrite(ActionContext& ctx, const KvWriteCmd& cmd) {
  const replica::KvCommand& kv = cmd.kv;
  TxnCommandResult& r = ctx.result;
  r.commit_ts = cmd.commit_ts;
  std::string client_key;
  if (kv.client_id != 0) {
    // Exactly-once, as KvStateMachine does it (kv_command.h): the same
    // request_seq again -> the remembered result; an older one -> refused.
    client_key = KvClientKey(kv.client_id);
    TINYKV_ASSIGN_OR_RETURN(auto rec, ctx.reader.GetMeta(Slice(client_key)));
    if (rec) {
      Slice in(*rec);
      uint64_t seq = 0;
      if (!GetVarint64(&in, &seq)) return Status::Corruption("mvcc: bad client record");
      if (kv.request_seq <= seq) {
        if (kv.request_seq == seq) {
          auto prev = DecodeTxnCommandResult(in);
          if (!prev.ok()) return prev.status().WithContext("mvcc: bad client record");
          r = std::move(prev).value();
        } else {
          r.kv.succeeded = false;
        }
        return Status::OK();
      }
    }
  }
  // etcd's order: a put naming a lease that does not exist is refused
  // before anything else about it is looked at.
  TINYKV_ASSIGN_OR_RETURN(const bool lease_ok, CheckLeaseExists(ctx, cmd.lease));
  if (!lease_ok) {
    r.lease_status = LeaseStatus::kLeaseNotFound;
    r.kv.succeeded = false;
  } else {
    TINYKV_RETURN_IF_ERROR(Execute(ctx, cmd));
  }
  // A KeyError is no outcome (the proposer retries with a newer
  // timestamp), so it is not remembered; a failed cas is one, and so is a
  // refusal for a missing lease.
  if (kv.client_id != 0 && r.errors.empty()) {
    std::string v;
    PutVarint64(&v, kv.request_seq);
    v += EncodeTxnCommandResult(r);
    ctx.batch.Put(Slice(client_key), Slice(v));
  }
  return Status::OK();
}

}  // namespace tinykv::txn::internal
