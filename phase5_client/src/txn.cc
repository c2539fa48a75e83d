// Txn: Percolator's client side (txn.h).
#include "tinykv/client/txn.h"

#include <algorithm>
#include <random>
#include <thread>
#include <utility>

#include "tinykv/txn/key_error.h"

namespace tinykv::client {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

// One prewrite or commit command carries at most this much (well inside a
// request frame and a Raft entry).
constexpr size_t kChunkKeys = 1024;
constexpr size_t kChunkBytes = 1 << 20;

milliseconds LeftOf(SteadyClock::time_point deadline) {
  return std::max(milliseconds(0), duration_cast<milliseconds>(deadline - SteadyClock::now()));
}

Status Conflict(const txn::KeyError& e, std::string_view what) {
  return Status::Conflict("txn: " + std::string(what) + ": " + txn::KeyErrorToString(e));
}

// Splits a sequence into chunks of at most kChunkKeys items / kChunkBytes.
template <typename T, typename Size>
std::vector<std::vector<T>> Chunks(const std::vector<T>& items, Size size_of) {
  std::vector<std::vector<T>> out;
  size_t bytes = 0;
  for (const T& t : items) {
    const size_t b = size_of(t);
    if (out.empty() || out.back().size() == kChunkKeys || bytes + b > kChunkBytes) {
      out.emplace_back();
      bytes = 0;
    }
    out.back().push_back(t);
    bytes += b;
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Txn>> Txn::Begin(Client& client, TxnOptions options) {
  CallOptions call;
  call.timeout = options.timeout;
  TINYKV_ASSIGN_OR_RETURN(uint64_t start_ts, client.Timestamps(1, call));
  return std::unique_ptr<Txn>(new Txn(client, options, start_ts));
}

Txn::Txn(Client& client, TxnOptions options, uint64_t start_ts)
    : client_(client), options_(options), start_ts_(start_ts), began_(SteadyClock::now()) {}

Txn::~Txn() {
  if (!prewritten_.empty()) RollbackPrewritten().IgnoreError();  // best effort; TTLs cover the rest
}

CallOptions Txn::Call() const {
  CallOptions c;
  c.timeout = options_.timeout;
  c.revision = start_ts_;
  return c;
}

Status Txn::Finished() const {
  if (finished_) return Status::InvalidArgument("txn: the transaction is already committed or rolled back");
  return Status::OK();
}

Result<std::optional<std::string>> Txn::Get(const std::string& key) {
  TINYKV_RETURN_IF_ERROR(Finished());
  TINYKV_RETURN_IF_ERROR(CheckKey(key));
  if (auto it = writes_.find(key); it != writes_.end()) return it->second;
  return client_.Get(key, Call());
}

Result<TxnRead> Txn::GetMeta(const std::string& key) {
  TINYKV_RETURN_IF_ERROR(Finished());
  TINYKV_RETURN_IF_ERROR(CheckKey(key));
  if (writes_.contains(key)) {
    return Status::InvalidArgument("txn: the metadata of a key written in this transaction is "
                                   "not known before its commit");
  }
  TINYKV_ASSIGN_OR_RETURN(GetResponse r, client_.GetWithRevision(key, Call()));
  TxnRead out;
  if (r.found) {
    out.value = std::move(r.value);
    out.meta = r.meta;
  }
  return out;
}

Result<std::vector<KeyValue>> Txn::Scan(const std::string& start, const std::string& end,
                                        uint64_t limit) {
  TINYKV_RETURN_IF_ERROR(Finished());
  // The snapshot's pairs (all of them when this transaction wrote in the
  // range: a buffered delete may hide some), merged with the writes.
  auto lo = writes_.lower_bound(start);
  auto hi = end.empty() ? writes_.end() : writes_.lower_bound(end);
  const bool touched = lo != hi;
  TINYKV_ASSIGN_OR_RETURN(std::vector<KeyValue> snap,
                          client_.Scan(start, end, touched ? 0 : limit, Call()));
  if (!touched) return snap;
  std::map<std::string, std::string> merged;
  for (KeyValue& kv : snap) merged.emplace(std::move(kv.key), std::move(kv.value));
  for (auto it = lo; it != hi; ++it) {
    if (it->second) {
      merged[it->first] = *it->second;
    } else {
      merged.erase(it->first);
    }
  }
  std::vector<KeyValue> out;
  for (auto& [k, v] : merged) {
    if (limit != 0 && out.size() == limit) break;
    out.push_back(KeyValue{k, std::move(v)});
  }
  return out;
}

Status Txn::Put(const std::string& key, const std::string& value) {
  TINYKV_RETURN_IF_ERROR(Finished());
  TINYKV_RETURN_IF_ERROR(CheckKey(key));
  TINYKV_RETURN_IF_ERROR(CheckRequestSize(key.size() + value.size(), "txn put"));
  writes_[key] = value;
  return Status::OK();
}

Status Txn::Delete(const std::string& key) {
  TINYKV_RETURN_IF_ERROR(Finished());
  TINYKV_RETURN_IF_ERROR(CheckKey(key));
  writes_[key] = std::nullopt;
  return Status::OK();
}

Status Txn::Lock(const std::string& key) {
  TINYKV_RETURN_IF_ERROR(Finished());
  TINYKV_RETURN_IF_ERROR(CheckKey(key));
  TINYKV_RETURN_IF_ERROR(CheckRequestSize(key.size(), "txn lock"));
  locked_.insert(key);
  return Status::OK();
}

Status Txn::PrewriteAll(const std::vector<txn::Mutation>& mutations, const std::string& primary,
                        uint64_t ttl_ms, SteadyClock::time_point deadline) {
  for (;;) {
    CallOptions call;
    call.timeout = LeftOf(deadline);
    if (call.timeout->count() <= 0) return Status::Timeout("txn: deadline exceeded in prewrite");
    for (const txn::Mutation& m : mutations) prewritten_.push_back(m.key);
    TINYKV_ASSIGN_OR_RETURN(
        txn::TxnCommandResult r,
        client_.RunTxnCommand(txn::PrewriteCmd{mutations, primary, start_ts_, ttl_ms}, call));
    if (r.errors.empty()) return Status::OK();
    const txn::KeyError* locked = nullptr;
    for (const txn::KeyError& e : r.errors) {
      switch (e.kind) {
        case txn::KeyError::Kind::kLocked:
          locked = &e;
          break;
        case txn::KeyError::Kind::kWriteConflict:
          return Conflict(e, "write conflict (another transaction committed first)");
        case txn::KeyError::Kind::kRolledBack:
          return Conflict(e, "rolled back by another client (its lock's TTL ran out)");
        default:
          return txn::KeyErrorStatus(e);
      }
    }
    // Only locks of others: resolve (or wait one out), then try again.
    call.timeout = LeftOf(deadline);
    TINYKV_RETURN_IF_ERROR(client_.ResolveLock(locked->lock, call));
  }
}

Result<uint64_t> Txn::Commit() {
  TINYKV_RETURN_IF_ERROR(Finished());
  finished_ = true;
  if (writes_.empty()) return start_ts_;
  const auto deadline =
      SteadyClock::now() + options_.timeout.value_or(client_.default_timeout());
  // TTLs count from start_ts's physical part (txn.h "Lock TTL").
  auto ttl_now = [this] {
    return static_cast<uint64_t>(
        (duration_cast<milliseconds>(SteadyClock::now() - began_) + options_.lock_ttl).count());
  };
  // Every key in order, a written one as its write, a Lock()ed one as a
  // lock-only mutation; the first is the primary.
  std::map<std::string, txn::Mutation> by_key;
  for (const std::string& k : locked_) by_key[k] = txn::Mutation{txn::MutationKind::kLock, k, ""};
  for (const auto& [k, v] : writes_) {
    txn::Mutation& m = by_key[k];
    m.kind = v ? txn::MutationKind::kPut : txn::MutationKind::kDelete;
    m.key = k;
    m.value = v.value_or("");
  }
  std::vector<txn::Mutation> secondaries;
  txn::Mutation primary;
  for (auto& [k, m] : by_key) {
    if (primary.key.empty()) {
      primary = std::move(m);
    } else {
      secondaries.push_back(std::move(m));
    }
  }
  Status s = PrewriteAll({primary}, primary.key, ttl_now(), deadline);
  auto renewed = SteadyClock::now();
  const auto size_of = [](const txn::Mutation& m) { return m.key.size() + m.value.size() + 16; };
  for (const auto& chunk : Chunks(secondaries, size_of)) {
    if (!s.ok()) break;
    if (SteadyClock::now() - renewed > options_.lock_ttl / 2) {
      // A long prewrite: keep the primary's lock alive (a heartbeat).
      CallOptions call;
      call.timeout = LeftOf(deadline);
      Result<txn::TxnCommandResult> hb = client_.RunTxnCommand(
          txn::HeartbeatCmd{primary.key, start_ts_, ttl_now()}, call);
      if (!hb.ok()) {
        s = hb.status();
      } else if (!hb->errors.empty()) {
        s = Conflict(hb->errors.front(), "rolled back by another client (its lock's TTL ran out)");
      }
      renewed = SteadyClock::now();
      if (!s.ok()) break;
    }
    s = PrewriteAll(chunk, primary.key, ttl_now(), deadline);
  }
  if (!s.ok()) {
    RollbackPrewritten().IgnoreError();  // what it cannot undo, the TTL does
    return s;
  }
  if (options_.TEST_pause_after_prewrite.count() > 0)
    std::this_thread::sleep_for(options_.TEST_pause_after_prewrite);

  CallOptions call;
  call.timeout = LeftOf(deadline);
  TINYKV_ASSIGN_OR_RETURN(uint64_t commit_ts, client_.Timestamps(1, call));
  call.timeout = LeftOf(deadline);
  Result<txn::TxnCommandResult> r =
      client_.RunTxnCommand(txn::CommitCmd{start_ts_, commit_ts, {primary.key}}, call);
  if (!r.ok()) {
    // Timeout and friends: the commit may or may not have applied. The
    // locks stay for readers to resolve from the primary.
    prewritten_.clear();
    return r.status().WithContext("txn: committing the primary (outcome unknown)");
  }
  if (!r->errors.empty()) {
    RollbackPrewritten().IgnoreError();
    return Conflict(r->errors.front(), "rolled back by another client (its lock's TTL ran out)");
  }
  prewritten_.clear();  // decided: committed
  if (options_.TEST_pause_after_primary.count() > 0)
    std::this_thread::sleep_for(options_.TEST_pause_after_primary);
  if (!secondaries.empty()) {
    std::vector<std::string> keys;
    for (const txn::Mutation& m : secondaries) keys.push_back(m.key);
    Client* c = &client_;
    const uint64_t start_ts = start_ts_;
    const milliseconds timeout = options_.timeout.value_or(client_.default_timeout());
    client_.RunInBackground([c, start_ts, commit_ts, keys = std::move(keys), timeout] {
      const auto key_size = [](const std::string& k) { return k.size() + 8; };
      for (const auto& chunk : Chunks(keys, key_size)) {
        CallOptions each;
        each.timeout = timeout;
        // A failure leaves locks that readers roll forward from the primary.
        c->RunTxnCommand(txn::CommitCmd{start_ts, commit_ts, chunk}, each).status().IgnoreError();
      }
    });
  }
  return commit_ts;
}

Status Txn::RollbackPrewritten() {
  if (prewritten_.empty()) return Status::OK();
  std::vector<std::string> keys = std::move(prewritten_);
  prewritten_.clear();
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  const auto size_of = [](const std::string& k) { return k.size() + 8; };
  Status first;
  for (const auto& chunk : Chunks(keys, size_of)) {
    CallOptions call;
    call.timeout = options_.timeout;
    Result<txn::TxnCommandResult> r = client_.RunTxnCommand(txn::RollbackCmd{start_ts_, chunk}, call);
    if (first.ok() && !r.ok()) first = r.status();
  }
  return first;
}

Status Txn::Rollback() {
  TINYKV_RETURN_IF_ERROR(Finished());
  finished_ = true;
  writes_.clear();
  locked_.clear();
  return RollbackPrewritten();
}

Result<uint64_t> RunTxn(Client& client, const std::function<Status(Txn&)>& body, int attempts,
                        TxnOptions options) {
  std::minstd_rand rnd(std::random_device{}());
  Status last = Status::InvalidArgument("txn: attempts must be >= 1");
  for (int i = 0; i < attempts; ++i) {
    if (i > 0) {
      // Full jitter over a doubling window: conflicting retriers spread out.
      const int cap_ms = std::min(200, 5 << std::min(i, 5));
      std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(0, cap_ms)(rnd)));
    }
    TINYKV_ASSIGN_OR_RETURN(std::unique_ptr<Txn> t, Txn::Begin(client, options));
    Status s = body(*t);
    if (!s.ok()) {
      t->Rollback().IgnoreError();
      if (s.IsConflict()) {
        last = s;
        continue;
      }
      return s;
    }
    Result<uint64_t> c = t->Commit();
    if (c.ok() || !c.status().IsConflict()) return c;
    last = c.status();
  }
  return last;
}

}  // namespace tinykv::client
