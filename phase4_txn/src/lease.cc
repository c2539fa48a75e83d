// Leases at apply time: the records and the lease-grant / lease-revoke
// actions, and the attachment step of kv writes (lease.h, actions.h).
#include "tinykv/txn/lease.h"

#include "actions.h"
#include "tinykv/common/coding.h"
#include "tinykv/txn/mvcc_key.h"
#include "tinykv/txn/timestamp.h"

namespace tinykv::txn {

std::string LeaseKey(uint64_t id) {
  std::string k = kLeasePrefix;
  PutBigEndian64(&k, id);
  return k;
}

std::string LeaseAttachPrefix(uint64_t id) {
  std::string k = kLeaseAttachPrefix;
  PutBigEndian64(&k, id);
  return k;
}

std::string LeaseAttachKey(uint64_t id, Slice key) {
  std::string k = LeaseAttachPrefix(id);
  k.append(key.data(), key.size());
  return k;
}

std::string LeaseOfKey(Slice key) {
  std::string k = kLeaseOfPrefix;
  k.append(key.data(), key.size());
  return k;
}

std::optional<uint64_t> DecodeLeaseId(Slice lease_key) {
  const Slice prefix(kLeasePrefix);
  if (lease_key.size() != prefix.size() + 8 || !lease_key.starts_with(prefix)) return std::nullopt;
  uint64_t id = 0;
  for (size_t i = prefix.size(); i < lease_key.size(); ++i)
    id = (id << 8) | static_cast<uint8_t>(lease_key[i]);
  return id;
}

std::optional<uint64_t> DecodeVarintValue(Slice value) {
  uint64_t v = 0;
  if (!GetVarint64(&value, &v) || !value.empty()) return std::nullopt;
  return v;
}

namespace internal {

Status LeaseGrant(ActionContext& ctx, const LeaseGrantCmd& cmd) {
  const std::string key = LeaseKey(cmd.id);
  TINYKV_ASSIGN_OR_RETURN(auto existing, ctx.reader.GetMeta(Slice(key)));
  if (existing) {
    ctx.result.lease_status = LeaseStatus::kLeaseExists;
    return Status::OK();
  }
  std::string v;
  PutVarint64(&v, cmd.ttl_s);
  ctx.batch.Put(Slice(key), Slice(v));
  return Status::OK();
}

Status LeaseRevoke(ActionContext& ctx, const LeaseRevokeCmd& cmd) {
  TxnCommandResult& r = ctx.result;
  r.commit_ts = cmd.commit_ts;
  const std::string lease_key = LeaseKey(cmd.id);
  TINYKV_ASSIGN_OR_RETURN(auto lease, ctx.reader.GetMeta(Slice(lease_key)));
  if (!lease) {
    r.lease_status = LeaseStatus::kLeaseNotFound;
    return Status::OK();
  }
  const std::string prefix = LeaseAttachPrefix(cmd.id);
  TINYKV_ASSIGN_OR_RETURN(auto attached, ctx.reader.ScanMeta(Slice(prefix)));
  for (const auto& [forward, unused] : attached) {
    const Slice key(forward.data() + prefix.size(), forward.size() - prefix.size());
    TINYKV_ASSIGN_OR_RETURN(const bool ok, CheckOneStepWrite(ctx, key, cmd.commit_ts));
    if (!ok) return Status::OK();  // the KeyError drops the batch: nothing revoked
    TINYKV_ASSIGN_OR_RETURN(auto previous,
                            PreviousVersion(ctx, key, cmd.commit_ts, Need::kMetaOnly));
    if (HasValue(previous)) {
      WriteOneStep(ctx, key, std::nullopt, cmd.commit_ts, 0, previous);
      ++r.count;
    }
    ctx.batch.Delete(Slice(forward));
    ctx.batch.Delete(Slice(LeaseOfKey(key)));
  }
  ctx.batch.Delete(Slice(lease_key));
  return Status::OK();
}

Result<bool> CheckLeaseExists(ActionContext& ctx, uint64_t lease) {
  if (lease == 0) return true;
  // No lease exists anywhere: the answer without a lookup.
  if (!ctx.leases_may_exist) return false;
  TINYKV_ASSIGN_OR_RETURN(auto rec, ctx.reader.GetMeta(Slice(LeaseKey(lease))));
  return rec.has_value();
}

Status SetAttachment(ActionContext& ctx, Slice key, uint64_t lease) {
  // The put hot path: no lease exists, so no key is attached to one.
  if (!ctx.leases_may_exist) return Status::OK();
  const std::string reverse = LeaseOfKey(key);
  TINYKV_ASSIGN_OR_RETURN(auto rec, ctx.reader.GetMeta(Slice(reverse)));
  uint64_t old = 0;
  if (rec) {
    auto id = DecodeVarintValue(Slice(*rec));
    if (!id || *id == 0) return Status::Corruption("mvcc: bad lease attachment of " + key.ToHex());
    old = *id;
  }
  if (old == lease) return Status::OK();
  if (old != 0) ctx.batch.Delete(Slice(LeaseAttachKey(old, key)));
  if (lease == 0) {
    ctx.batch.Delete(Slice(reverse));
    return Status::OK();
  }
  std::string v;
  PutVarint64(&v, lease);
  ctx.batch.Put(Slice(reverse), Slice(v));
  ctx.batch.Put(Slice(LeaseAttachKey(lease, key)), Slice());
  return Status::OK();
}

}  // namespace internal
}  // namespace tinykv::txn
