// KV writes (the plain KV API on MVCC): see txn_executor.h.
#include "actions.h"
#include "tinykv/common/coding.h"
#include "tinykv/txn/timestamp.h"
#include "tinykv/txn/txn_executor.h"

namespace tinykv::txn::internal {
namespace {

using Op = replica::KvCommand::Op;

// The value a read at kMaxTs sees. REQUIRES: the caller found no lock on
// `key` (a lock would make it a KeyError, not a value).
Result<std::optional<std::string>> Visible(ActionContext& ctx, Slice key) {
  TINYKV_ASSIGN_OR_RETURN(ReadResult r, ctx.reader.Get(key, kMaxTs));
  if (r.error) return Status::Corruption("mvcc: kv write met a lock it had checked for");
  return std::move(r.value);
}

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
    TINYKV_ASSIGN_OR_RETURN(auto value, Visible(ctx, key));
    if (!value) continue;  // already a tombstone (or only rollbacks): no new revision
    WriteOneStep(ctx, key, std::nullopt, cmd.commit_ts);
    TINYKV_RETURN_IF_ERROR(SetAttachment(ctx, key, 0));
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
  replica::KvCommandResult& r = ctx.result.kv;
  switch (kv.op) {
    case Op::kPut:
      WriteOneStep(ctx, key, Slice(kv.value), cmd.commit_ts);
      TINYKV_RETURN_IF_ERROR(SetAttachment(ctx, key, cmd.lease));
      break;
    case Op::kDelete: {
      // Like etcd: deleting an absent key makes no revision.
      TINYKV_ASSIGN_OR_RETURN(auto value, Visible(ctx, key));
      if (value) {
        WriteOneStep(ctx, key, std::nullopt, cmd.commit_ts);
        TINYKV_RETURN_IF_ERROR(SetAttachment(ctx, key, 0));
        r.deleted = 1;
      }
      break;
    }
    case Op::kCas: {
      TINYKV_ASSIGN_OR_RETURN(auto value, Visible(ctx, key));
      if (value == kv.expected) {
        WriteOneStep(ctx, key, Slice(kv.value), cmd.commit_ts);
        TINYKV_RETURN_IF_ERROR(SetAttachment(ctx, key, cmd.lease));
      } else {
        r.succeeded = false;
        r.current = std::move(value);
      }
      break;
    }
    case Op::kDeleteRange:
      break;  // above
  }
  return Status::OK();
}

}  // namespace

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
