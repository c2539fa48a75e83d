// The command and result codecs: see txn_command.h and doc/mvcc_format.md.
#include "tinykv/txn/txn_command.h"

#include <set>
#include <type_traits>

#include "tinykv/common/coding.h"

namespace tinykv::txn {
namespace {

constexpr uint8_t kCmdVersion = 1;
// 2: the kv-write outcome appended (kv_succeeded kv_has_current [kv_current] kv_deleted).
// 3: lease_status appended. 4: prev_kvs and prev_kvs_truncated appended.
// Results of versions 2 and 3 (client records written by older builds)
// still decode, with lease_status kOk and no prev_kvs.
constexpr uint8_t kResultVersion = 4;
constexpr uint8_t kResultVersionNoPrevKv = 3;
constexpr uint8_t kResultVersionNoLease = 2;
// The flags byte of a kv-write, after its lease: which options follow or apply.
constexpr uint8_t kKvWritePrevKv = 1;
constexpr uint8_t kKvWriteTraced = 2;  // a fixed64 trace id (nonzero) follows the flags
constexpr uint8_t kKvWriteFlags = kKvWritePrevKv | kKvWriteTraced;

// The op byte is the variant's index + 1.
static_assert(std::variant_size_v<TxnCommand> == 12);

// A kv-write carries replica::EncodeKvCommand's bytes: version, op, three
// length-prefixed fields (key, value, expected) and two varints at most.
constexpr size_t kMaxKvCommandBytes = 2 + 3 * 5 + kMaxKeyBytes + 2 * kMaxValueBytes + 1 + 2 * 10;

void PutKeys(std::string* s, const std::vector<std::string>& keys) {
  PutVarint32(s, static_cast<uint32_t>(keys.size()));
  for (const auto& k : keys) PutLengthPrefixedSlice(s, Slice(k));
}

// Reads the bytes of the command format: every read is bounded by the input
// and by the limits, so a hostile length cannot make it allocate.
class Reader {
 public:
  explicit Reader(Slice in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return ok_ && in_.empty(); }
  uint64_t U64() {
    uint64_t v = 0;
    if (ok_ && !GetVarint64(&in_, &v)) ok_ = false;
    return v;
  }
  uint64_t Fixed64() {
    uint64_t v = 0;
    if (ok_ && !GetFixed64(&in_, &v)) ok_ = false;
    return v;
  }
  uint8_t Byte() {
    if (!ok_ || in_.empty()) {
      ok_ = false;
      return 0;
    }
    const auto b = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return b;
  }
  std::string Bytes(size_t max) {
    Slice s;
    if (!ok_ || !GetLengthPrefixedSlice(&in_, &s) || s.size() > max) {
      ok_ = false;
      return {};
    }
    return s.ToString();
  }
  // A count of items that each take at least one byte, bounded.
  size_t Count() {
    uint32_t n = 0;
    if (!ok_ || !GetVarint32(&in_, &n) || n > kMaxKeysPerCommand || n > in_.size()) {
      ok_ = false;
      return 0;
    }
    return n;
  }
  std::vector<std::string> Keys() {
    std::vector<std::string> keys(Count());
    for (auto& k : keys) k = Bytes(kMaxKeyBytes);
    return keys;
  }
  // A KeyError (key_error.h has its encoding).
  KeyError Error() {
    KeyError e;
    if (ok_ && !DecodeKeyError(&in_, &e, kMaxKeyBytes)) ok_ = false;
    return e;
  }
  Mutation Mut() {
    Mutation m;
    const uint8_t kind = Byte();
    if (kind != 'P' && kind != 'D' && kind != 'L') ok_ = false;
    m.kind = static_cast<MutationKind>(kind);
    m.key = Bytes(kMaxKeyBytes);
    m.value = Bytes(kMaxValueBytes);
    return m;
  }

 private:
  Slice in_;
  bool ok_ = true;
};

void PutMutation(std::string* s, const Mutation& m) {
  s->push_back(static_cast<char>(m.kind));
  PutLengthPrefixedSlice(s, Slice(m.key));
  PutLengthPrefixedSlice(s, Slice(m.value));
}

Status Invalid(std::string_view what) {
  return Status::InvalidArgument(std::string("txn command: ") + std::string(what));
}

Status CheckKey(const std::string& k) {
  if (k.empty()) return Invalid("empty key");
  if (k.size() > kMaxKeyBytes) return Invalid("key too long");
  return Status::OK();
}

Status CheckKeys(const std::vector<std::string>& keys, bool allow_none) {
  if (keys.empty() && !allow_none) return Invalid("no keys");
  if (keys.size() > kMaxKeysPerCommand) return Invalid("too many keys");
  std::set<std::string_view> seen;
  for (const auto& k : keys) {
    TINYKV_RETURN_IF_ERROR(CheckKey(k));
    if (!seen.insert(k).second) return Invalid("repeated key");
  }
  return Status::OK();
}

Status ValidateKvWrite(const KvWriteCmd& c) {
  using Op = replica::KvCommand::Op;
  const replica::KvCommand& kv = c.kv;
  if (c.commit_ts == 0) return Invalid("commit_ts 0");
  if (c.lease != 0 && kv.op != Op::kPut && kv.op != Op::kCas)
    return Invalid("a lease on a delete");
  if (kv.op == Op::kDeleteRange) {
    // [key, value): an empty start is the first key, an empty end unbounded.
    if (kv.key.size() > kMaxKeyBytes || kv.value.size() > kMaxKeyBytes)
      return Invalid("key too long");
    if (!kv.value.empty() && kv.value <= kv.key) return Invalid("delete-range end <= start");
    return Status::OK();
  }
  // The fields an op does not use are ignored, as KvStateMachine ignores them.
  TINYKV_RETURN_IF_ERROR(CheckKey(kv.key));
  if (kv.value.size() > kMaxValueBytes) return Invalid("value too long");
  if (kv.expected && kv.expected->size() > kMaxValueBytes) return Invalid("value too long");
  return Status::OK();
}

}  // namespace

std::string EncodeTxnCommand(const TxnCommand& cmd) {
  std::string s;
  s.push_back(static_cast<char>(kCmdVersion));
  s.push_back(static_cast<char>(cmd.index() + 1));
  std::visit(
      [&s](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, PrewriteCmd>) {
          PutVarint32(&s, static_cast<uint32_t>(c.mutations.size()));
          for (const auto& m : c.mutations) PutMutation(&s, m);
          PutLengthPrefixedSlice(&s, Slice(c.primary));
          PutVarint64(&s, c.start_ts);
          PutVarint64(&s, c.ttl_ms);
        } else if constexpr (std::is_same_v<T, CommitCmd>) {
          PutVarint64(&s, c.start_ts);
          PutVarint64(&s, c.commit_ts);
          PutKeys(&s, c.keys);
        } else if constexpr (std::is_same_v<T, RollbackCmd>) {
          PutVarint64(&s, c.start_ts);
          PutKeys(&s, c.keys);
        } else if constexpr (std::is_same_v<T, CheckTxnStatusCmd>) {
          PutLengthPrefixedSlice(&s, Slice(c.primary));
          PutVarint64(&s, c.lock_ts);
          PutVarint64(&s, c.current_ts);
        } else if constexpr (std::is_same_v<T, ResolveLockCmd>) {
          PutVarint64(&s, c.start_ts);
          PutVarint64(&s, c.commit_ts);
          PutKeys(&s, c.keys);
        } else if constexpr (std::is_same_v<T, GcCmd>) {
          PutVarint64(&s, c.safe_point);
        } else if constexpr (std::is_same_v<T, OnePhaseWriteCmd>) {
          PutMutation(&s, c.mutation);
          PutVarint64(&s, c.commit_ts);
        } else if constexpr (std::is_same_v<T, ReserveTsCmd>) {
          PutVarint64(&s, c.upto);
        } else if constexpr (std::is_same_v<T, HeartbeatCmd>) {
          PutLengthPrefixedSlice(&s, Slice(c.primary));
          PutVarint64(&s, c.start_ts);
          PutVarint64(&s, c.ttl_ms);
        } else if constexpr (std::is_same_v<T, KvWriteCmd>) {
          PutVarint64(&s, c.commit_ts);
          PutLengthPrefixedSlice(&s, Slice(replica::EncodeKvCommand(c.kv)));
          // Only when set: a put without a lease, prev_kv or trace id keeps
          // the bytes it had before they existed. A flags byte (nonzero)
          // follows the lease -- then written even when 0 -- when prev_kv is
          // asked for or a trace id follows.
          const uint8_t flags =
              (c.prev_kv ? kKvWritePrevKv : 0) | (c.trace_id != 0 ? kKvWriteTraced : 0);
          if (c.lease != 0 || flags != 0) PutVarint64(&s, c.lease);
          if (flags != 0) s.push_back(static_cast<char>(flags));
          if (c.trace_id != 0) PutFixed64(&s, c.trace_id);
        } else if constexpr (std::is_same_v<T, LeaseGrantCmd>) {
          PutVarint64(&s, c.id);
          PutVarint64(&s, c.ttl_s);
        } else {
          static_assert(std::is_same_v<T, LeaseRevokeCmd>);
          PutVarint64(&s, c.id);
          PutVarint64(&s, c.commit_ts);
        }
      },
      cmd);
  return s;
}

Result<TxnCommand> DecodeTxnCommand(Slice in) {
  if (in.size() < 2 || static_cast<uint8_t>(in[0]) != kCmdVersion)
    return Status::Corruption("txn command: bad version");
  const uint8_t op = static_cast<uint8_t>(in[1]);
  in.remove_prefix(2);
  Reader r(in);
  TxnCommand cmd;
  switch (op) {
    case 1: {
      PrewriteCmd c;
      c.mutations.resize(r.Count());
      for (auto& m : c.mutations) m = r.Mut();
      c.primary = r.Bytes(kMaxKeyBytes);
      c.start_ts = r.U64();
      c.ttl_ms = r.U64();
      cmd = std::move(c);
      break;
    }
    case 2: {
      CommitCmd c;
      c.start_ts = r.U64();
      c.commit_ts = r.U64();
      c.keys = r.Keys();
      cmd = std::move(c);
      break;
    }
    case 3: {
      RollbackCmd c;
      c.start_ts = r.U64();
      c.keys = r.Keys();
      cmd = std::move(c);
      break;
    }
    case 4: {
      CheckTxnStatusCmd c;
      c.primary = r.Bytes(kMaxKeyBytes);
      c.lock_ts = r.U64();
      c.current_ts = r.U64();
      cmd = std::move(c);
      break;
    }
    case 5: {
      ResolveLockCmd c;
      c.start_ts = r.U64();
      c.commit_ts = r.U64();
      c.keys = r.Keys();
      cmd = std::move(c);
      break;
    }
    case 6:
      cmd = GcCmd{r.U64()};
      break;
    case 7: {
      OnePhaseWriteCmd c;
      c.mutation = r.Mut();
      c.commit_ts = r.U64();
      cmd = std::move(c);
      break;
    }
    case 8:
      cmd = ReserveTsCmd{r.U64()};
      break;
    case 9: {
      HeartbeatCmd c;
      c.primary = r.Bytes(kMaxKeyBytes);
      c.start_ts = r.U64();
      c.ttl_ms = r.U64();
      cmd = std::move(c);
      break;
    }
    case 10: {
      KvWriteCmd c;
      c.commit_ts = r.U64();
      const std::string kv = r.Bytes(kMaxKvCommandBytes);
      if (!r.ok()) break;
      auto decoded = replica::DecodeKvCommand(Slice(kv));
      if (!decoded.ok()) return decoded.status().WithContext("txn command: kv write");
      c.kv = std::move(decoded).value();
      // The limits of every other command: no key over kMaxKeyBytes, no
      // value over kMaxValueBytes (a delete-range's end is a key).
      const size_t value_max =
          c.kv.op == replica::KvCommand::Op::kDeleteRange ? kMaxKeyBytes : kMaxValueBytes;
      if (c.kv.key.size() > kMaxKeyBytes || c.kv.value.size() > value_max ||
          (c.kv.expected && c.kv.expected->size() > kMaxValueBytes))
        return Status::Corruption("txn command: kv write: oversized key or value");
      if (!r.done()) {
        // The optional trailing lease, then the optional flags: the lease
        // is present only when nonzero or flags follow, the flags only when
        // nonzero, so each command has one encoding.
        c.lease = r.U64();
        if (r.done()) {
          if (c.lease == 0) return Status::Corruption("txn command: kv write: lease 0");
        } else {
          const uint8_t flags = r.Byte();
          if (r.ok() && (flags == 0 || (flags & ~kKvWriteFlags) != 0))
            return Status::Corruption("txn command: kv write: bad flags");
          c.prev_kv = (flags & kKvWritePrevKv) != 0;
          if ((flags & kKvWriteTraced) != 0) {
            c.trace_id = r.Fixed64();
            if (r.ok() && c.trace_id == 0)
              return Status::Corruption("txn command: kv write: trace id 0");
          }
        }
      }
      cmd = std::move(c);
      break;
    }
    case 11: {
      LeaseGrantCmd c;
      c.id = r.U64();
      c.ttl_s = r.U64();
      cmd = c;
      break;
    }
    case 12: {
      LeaseRevokeCmd c;
      c.id = r.U64();
      c.commit_ts = r.U64();
      cmd = c;
      break;
    }
    default:
      return Status::Corruption("txn command: bad op " + std::to_string(op));
  }
  if (!r.done()) return Status::Corruption("txn command: truncated, oversized or trailing bytes");
  return cmd;
}

Status ValidateTxnCommand(const TxnCommand& cmd) {
  return std::visit(
      [](const auto& c) -> Status {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, PrewriteCmd>) {
          if (c.start_ts == 0) return Invalid("start_ts 0");
          if (c.mutations.empty()) return Invalid("no mutations");
          std::vector<std::string> keys;
          for (const auto& m : c.mutations) {
            if (m.kind != MutationKind::kPut && !m.value.empty())
              return Invalid("a value on a delete or lock mutation");
            keys.push_back(m.key);
          }
          TINYKV_RETURN_IF_ERROR(CheckKeys(keys, false));
          // The primary need not be among the mutations: a prewrite of
          // secondaries (another range's keys) names it all the same.
          return CheckKey(c.primary);
        } else if constexpr (std::is_same_v<T, CommitCmd>) {
          if (c.start_ts == 0) return Invalid("start_ts 0");
          if (c.commit_ts <= c.start_ts) return Invalid("commit_ts <= start_ts");
          return CheckKeys(c.keys, false);
        } else if constexpr (std::is_same_v<T, RollbackCmd>) {
          if (c.start_ts == 0) return Invalid("start_ts 0");
          return CheckKeys(c.keys, false);
        } else if constexpr (std::is_same_v<T, CheckTxnStatusCmd>) {
          if (c.lock_ts == 0) return Invalid("lock_ts 0");
          return CheckKey(c.primary);
        } else if constexpr (std::is_same_v<T, ResolveLockCmd>) {
          if (c.start_ts == 0) return Invalid("start_ts 0");
          if (c.commit_ts != 0 && c.commit_ts <= c.start_ts)
            return Invalid("commit_ts <= start_ts");
          return CheckKeys(c.keys, true);
        } else if constexpr (std::is_same_v<T, GcCmd>) {
          return Status::OK();
        } else if constexpr (std::is_same_v<T, OnePhaseWriteCmd>) {
          if (c.commit_ts == 0) return Invalid("commit_ts 0");
          if (c.mutation.kind == MutationKind::kLock) return Invalid("one-phase lock");
          if (c.mutation.kind == MutationKind::kDelete && !c.mutation.value.empty())
            return Invalid("a value on a delete");
          return CheckKey(c.mutation.key);
        } else if constexpr (std::is_same_v<T, ReserveTsCmd>) {
          return Status::OK();
        } else if constexpr (std::is_same_v<T, HeartbeatCmd>) {
          if (c.start_ts == 0) return Invalid("start_ts 0");
          return CheckKey(c.primary);
        } else if constexpr (std::is_same_v<T, KvWriteCmd>) {
          return ValidateKvWrite(c);
        } else if constexpr (std::is_same_v<T, LeaseGrantCmd>) {
          if (c.id == 0) return Invalid("lease id 0");
          if (c.ttl_s == 0 || c.ttl_s > kMaxLeaseTtlS) return Invalid("lease ttl out of range");
          return Status::OK();
        } else {
          static_assert(std::is_same_v<T, LeaseRevokeCmd>);
          if (c.id == 0) return Invalid("lease id 0");
          if (c.commit_ts == 0) return Invalid("commit_ts 0");
          return Status::OK();
        }
      },
      cmd);
}

std::string EncodeTxnCommandResult(const TxnCommandResult& r) {
  std::string s;
  s.push_back(static_cast<char>(kResultVersion));
  PutVarint32(&s, static_cast<uint32_t>(r.errors.size()));
  for (const auto& e : r.errors) EncodeKeyError(e, &s);
  s.push_back(static_cast<char>(r.txn_status));
  PutVarint64(&s, r.commit_ts);
  PutVarint64(&s, r.ttl_left_ms);
  s.push_back(r.rolled_back_now ? 1 : 0);
  PutVarint64(&s, r.count);
  PutVarint64(&s, r.prev_reserved);
  PutVarint64(&s, r.reserved);
  PutVarint64(&s, r.term);
  s.push_back(r.kv.succeeded ? 1 : 0);
  s.push_back(r.kv.current ? 1 : 0);
  if (r.kv.current) PutLengthPrefixedSlice(&s, Slice(*r.kv.current));
  PutVarint64(&s, r.kv.deleted);
  s.push_back(static_cast<char>(r.lease_status));
  PutVarint32(&s, static_cast<uint32_t>(r.prev_kvs.size()));
  for (const PrevKv& p : r.prev_kvs) {
    PutLengthPrefixedSlice(&s, Slice(p.key));
    PutLengthPrefixedSlice(&s, Slice(p.value));
    PutVarint64(&s, p.meta.create_ts);
    PutVarint64(&s, p.meta.mod_ts);
    PutVarint64(&s, p.meta.version);
    PutVarint64(&s, p.meta.lease);
  }
  s.push_back(r.prev_kvs_truncated ? 1 : 0);
  return s;
}

Result<TxnCommandResult> DecodeTxnCommandResult(Slice in) {
  const uint8_t version = in.empty() ? 0 : static_cast<uint8_t>(in[0]);
  if (version != kResultVersion && version != kResultVersionNoPrevKv &&
      version != kResultVersionNoLease)
    return Status::Corruption("txn result: bad version");
  in.remove_prefix(1);
  Reader r(in);
  TxnCommandResult out;
  out.errors.resize(r.Count());
  for (auto& e : out.errors) {
    e = r.Error();
    if (!r.ok()) return Status::Corruption("txn result: bad key error");
  }
  const uint8_t status = r.Byte();
  if (status > 3) return Status::Corruption("txn result: bad txn status");
  out.txn_status = static_cast<TxnStatus>(status);
  out.commit_ts = r.U64();
  out.ttl_left_ms = r.U64();
  const uint8_t now = r.Byte();
  if (now > 1) return Status::Corruption("txn result: bad flag");
  out.rolled_back_now = now == 1;
  out.count = r.U64();
  out.prev_reserved = r.U64();
  out.reserved = r.U64();
  out.term = r.U64();
  const uint8_t succeeded = r.Byte();
  const uint8_t has_current = r.Byte();
  if (succeeded > 1 || has_current > 1) return Status::Corruption("txn result: bad flag");
  out.kv.succeeded = succeeded == 1;
  if (has_current == 1) out.kv.current = r.Bytes(kMaxValueBytes);
  out.kv.deleted = r.U64();
  if (version >= kResultVersionNoPrevKv) {
    const uint8_t lease = r.Byte();
    if (lease > 2) return Status::Corruption("txn result: bad lease status");
    out.lease_status = static_cast<LeaseStatus>(lease);
  }
  if (version >= kResultVersion) {
    out.prev_kvs.resize(r.Count());
    for (PrevKv& p : out.prev_kvs) {
      p.key = r.Bytes(kMaxKeyBytes);
      p.value = r.Bytes(kMaxValueBytes);
      p.meta.create_ts = r.U64();
      p.meta.mod_ts = r.U64();
      p.meta.version = r.U64();
      p.meta.lease = r.U64();
      if (!r.ok()) return Status::Corruption("txn result: bad prev kv");
    }
    const uint8_t truncated = r.Byte();
    if (truncated > 1) return Status::Corruption("txn result: bad flag");
    out.prev_kvs_truncated = truncated == 1;
  }
  if (!r.done()) return Status::Corruption("txn result: truncated or trailing bytes");
  return out;
}

}  // namespace tinykv::txn
