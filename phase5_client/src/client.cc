// Client: routing, leader discovery, retries and write sessions (client.h).
#include "tinykv/client/client.h"

#include <algorithm>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include "tinykv/common/logging.h"
#include "tinykv/common/trace_id.h"
#include "tinykv/net/address.h"
#include "tinykv/net/retry.h"
#include "tinykv/txn/lock_resolution.h"

namespace tinykv::client {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

bool IsRetryable(const Status& s) {
  return s.IsNotLeader() || s.IsUnavailable() || s.IsTimeout() || s.IsAborted() || s.IsBusy() ||
         s.IsResourceExhausted() || s.IsCancelled();
}

namespace {

// A response's metadata list into its pairs' KeyValue::meta (protocol.h:
// metadata travels in a list beside the pairs). An empty list (a server
// without MVCC) leaves them 0s; one of another length is the server's error.
Status AttachMetadata(std::vector<KeyValue>* kvs, const std::vector<KeyMetadata>& metas,
                      std::string_view what) {
  if (metas.empty()) return Status::OK();
  if (metas.size() != kvs->size()) {
    return Status::Corruption(std::string(what) + ": the server sent " +
                              std::to_string(metas.size()) + " metadata entries for " +
                              std::to_string(kvs->size()) + " pairs");
  }
  for (size_t i = 0; i < metas.size(); ++i) (*kvs)[i].meta = metas[i];
  return Status::OK();
}

uint64_t SeedOf(uint64_t seed) {
  if (seed != 0) return seed;
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd() ^
         static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

// Sets a request's timeout_ms for one attempt: a little less than the
// attempt's RPC deadline, so the server's own Timeout (a real answer) tends
// to arrive before the client gives up on the attempt.
template <typename Req>
void SetAttemptTimeout(Req& req, milliseconds attempt) {
  int64_t ms = attempt.count();
  int64_t margin = std::min<int64_t>(50, ms / 10);
  req.timeout_ms = static_cast<uint32_t>(std::max<int64_t>(1, ms - margin));
}
template <typename Req>
concept HasTimeout = requires(Req r) {
  r.timeout_ms;
};

// Get and Scan: reads at a revision (0 = now).
template <typename Req>
concept HasReadRevision = requires(Req r) {
  r.revision;
  r.serializable;
};

// Unavailable naming every endpoint and why it could not be reached.
Status Unreachable(const std::map<std::string, std::string>& why) {
  std::string msg = why.size() == 1
                        ? "could not reach endpoint " + why.begin()->first
                        : "could not reach any of the " + std::to_string(why.size()) + " endpoints";
  std::string sep = " (";
  for (const auto& [endpoint, reason] : why) {
    msg += sep + reason;
    sep = "; ";
  }
  return Status::Unavailable(msg + ")");
}

}  // namespace

Result<std::string> ParseEndpoint(std::string_view endpoint) {
  std::string_view hostport = endpoint;
  if (const size_t scheme = endpoint.find("://"); scheme != std::string_view::npos) {
    const std::string_view name = endpoint.substr(0, scheme);
    if (name != "http" && name != "https") {
      return Status::InvalidArgument("'" + std::string(endpoint) + "': unsupported scheme '" +
                                     std::string(name) + "://'; use host:port");
    }
    hostport = endpoint.substr(scheme + 3);
    if (!hostport.empty() && hostport.back() == '/') hostport.remove_suffix(1);
  }
  Result<net::HostPort> hp = net::ParseHostPort(hostport);
  if (!hp.ok()) return hp.status();
  return std::string(hostport);
}

bool IsTlsEndpoint(std::string_view endpoint) { return endpoint.starts_with("https://"); }

Result<std::unique_ptr<Client>> Client::Create(ClientOptions options) {
  if (options.endpoints.empty()) return Status::InvalidArgument("client: no endpoints");
  const bool tls = options.tls || !options.ca_file.empty() || !options.cert_file.empty() ||
                   !options.key_file.empty() ||
                   std::any_of(options.endpoints.begin(), options.endpoints.end(),
                               [](const std::string& e) { return IsTlsEndpoint(e); });
  for (std::string& e : options.endpoints) {
    if (tls && e.starts_with("http://")) {
      return Status::InvalidArgument("client: endpoint '" + e +
                                     "' asks for plaintext, but TLS is on (https:// endpoints "
                                     "or --cacert/--cert/--key); write https:// or host:port");
    }
    Result<std::string> hostport = ParseEndpoint(e);
    if (!hostport.ok()) {
      return Status::InvalidArgument("client: bad endpoint: " +
                                     std::string(hostport.status().message()));
    }
    e = std::move(hostport).value();
  }
  if (options.timeout.count() <= 0 || options.attempt_timeout.count() <= 0 ||
      options.dial_timeout.count() <= 0) {
    return Status::InvalidArgument("client: timeouts must be positive");
  }
  options.seed = SeedOf(options.seed);
  options.tls = tls;  // the endpoints no longer say it (https:// was dropped)
  TINYKV_ASSIGN_OR_RETURN(std::unique_ptr<net::RpcClient> rpc,
                          NewRpcClient(options, std::max(1, options.io_threads)));
  return std::unique_ptr<Client>(new Client(std::move(options), std::move(rpc)));
}

Result<std::unique_ptr<net::RpcClient>> Client::NewRpcClient(const ClientOptions& options,
                                                             int io_threads,
                                                             size_t receive_buffer_bytes) {
  net::ClientOptions rpc_options;
  rpc_options.io_threads = io_threads;
  rpc_options.receive_buffer_bytes = receive_buffer_bytes;
  rpc_options.max_connections_per_peer = std::max<size_t>(1, options.connections_per_endpoint);
  rpc_options.connect_timeout = options.dial_timeout;
  rpc_options.retry.max_attempts = 1;  // this class retries, across endpoints
  rpc_options.seed = options.seed;
  rpc_options.tls.enabled = options.tls;
  rpc_options.tls.ca_file = options.ca_file;
  rpc_options.tls.cert_file = options.cert_file;
  rpc_options.tls.key_file = options.key_file;
  auto rpc = net::RpcClient::Create(rpc_options);
  if (!rpc.ok()) return Status::InvalidArgument("client: " + std::string(rpc.status().message()));
  return std::move(rpc).value();
}

Client::Client(ClientOptions options, std::unique_ptr<net::RpcClient> rpc)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : Clock::Real()),
      distinct_endpoints_(
          std::set<std::string>(options_.endpoints.begin(), options_.endpoints.end()).size()),
      rpc_(std::move(rpc)),
      rnd_(options_.seed) {
  // Start the round robin at a random endpoint so that many clients spread out.
  next_endpoint_ = rnd_.Uniform(options_.endpoints.size());
}

Client::~Client() {
  // Jobs queued in the background (a transaction's secondary commits) run
  // first: they only speed up readers, but a client that exits cleanly
  // leaves no locks behind.
  {
    std::lock_guard<std::mutex> l(background_mu_);
    background_stop_ = true;
  }
  background_cv_.notify_all();
  if (background_.joinable()) background_.join();
  Close();
}

void Client::Close() {
  if (closed_.exchange(true)) return;
  rpc_->Shutdown();
}

std::string Client::leader_endpoint() const {
  std::lock_guard<std::mutex> l(mu_);
  return leader_;
}

ClientStats Client::stats() const {
  ClientStats s;
  s.calls = calls_.load();
  s.attempts = attempts_.load();
  s.retries = retries_.load();
  s.redirects = redirects_.load();
  s.discoveries = discoveries_.load();
  s.write_sessions = sessions_.load();
  return s;
}

Client::Deadline Client::DeadlineOf(const CallOptions& opts) const {
  const milliseconds timeout = opts.timeout.value_or(options_.timeout);
  return clock_->NowMicros() + static_cast<uint64_t>(std::max<int64_t>(0, timeout.count())) * 1000;
}

milliseconds Client::Left(Deadline deadline) const {
  const uint64_t now = clock_->NowMicros();
  return milliseconds(now >= deadline ? 0 : static_cast<int64_t>((deadline - now) / 1000));
}

std::string Client::PickTarget() {
  std::lock_guard<std::mutex> l(mu_);
  if (!leader_.empty()) return leader_;
  std::string e = options_.endpoints[next_endpoint_ % options_.endpoints.size()];
  next_endpoint_++;
  return e;
}

void Client::SetLeader(const std::string& endpoint) {
  std::lock_guard<std::mutex> l(mu_);
  leader_ = endpoint;
}

void Client::ForgetLeader(const std::string& endpoint) {
  std::lock_guard<std::mutex> l(mu_);
  if (leader_ == endpoint) {
    leader_.clear();
    // Continue the round robin after the failed node, not at it.
    auto it = std::find(options_.endpoints.begin(), options_.endpoints.end(), endpoint);
    if (it != options_.endpoints.end()) {
      next_endpoint_ = static_cast<size_t>(it - options_.endpoints.begin()) + 1;
    }
  }
}

void Client::Backoff(int retry, Deadline deadline) {
  net::RetryPolicy policy;
  policy.initial_backoff = options_.initial_backoff;
  policy.max_backoff = options_.max_backoff;
  std::chrono::microseconds delay;
  {
    std::lock_guard<std::mutex> l(mu_);
    delay = net::BackoffDelay(policy, retry, &rnd_);
  }
  const uint64_t now = clock_->NowMicros();
  if (now >= deadline) return;
  clock_->SleepForMicros(std::min<uint64_t>(static_cast<uint64_t>(delay.count()), deadline - now));
}

bool Client::Discover(Deadline deadline) {
  discoveries_++;
  // Ask every endpoint; a node that knows the leader and its address decides.
  std::map<uint64_t, std::string> addr_of;
  uint64_t leader = 0;
  for (const std::string& e : options_.endpoints) {
    const milliseconds left = Left(deadline);
    if (left.count() <= 0 || closed_) break;
    Result<StatusResponse> st =
        EndpointStatus(e, std::min(left, std::max(options_.dial_timeout, milliseconds(200))));
    if (!st.ok()) continue;
    addr_of[st->id] = e;
    if (st->leader == 0) continue;
    if (st->leader == st->id) {
      SetLeader(e);
      return true;
    }
    if (!st->leader_client_address.empty()) {
      SetLeader(st->leader_client_address);
      return true;
    }
    leader = st->leader;
  }
  auto it = addr_of.find(leader);
  if (leader != 0 && it != addr_of.end()) {
    SetLeader(it->second);
    return true;
  }
  return false;
}

template <typename M>
Result<typename M::Response> Client::Invoke(typename M::Request request, Deadline deadline,
                                            bool leader_only, bool whole_deadline,
                                            uint64_t trace_id) {
  calls_++;
  // One trace id for the call, whatever its attempts (common/trace_id.h).
  const uint64_t trace = trace_id != 0 ? trace_id : NewTraceId();
  const bool log_trace = trace_log_->should_log(spdlog::level::debug);
  Status last = Status::Unavailable("no attempt made");
  Status exhausted;  // the last ResourceExhausted answer (a full disk, a limit)
  int failures = 0;  // consecutive failed attempts that called for a backoff
  // Why each endpoint could not be reached in this call, while this client
  // has never had a connection (see client.h, "Unreachable endpoints").
  std::map<std::string, std::string> unreachable;
  for (int attempt = 0;; ++attempt) {
    if (closed_) return Status::Cancelled("client closed");
    const milliseconds left = Left(deadline);
    if (left.count() <= 0) {
      // A full disk is the cause worth naming even when the last answer was
      // another node's NotLeader (no member can lead while theirs are full).
      const std::string cause =
          exhausted.ok() || exhausted.ToString() == last.ToString()
              ? ""
              : "; an earlier attempt: " + exhausted.ToString();
      return Status::Timeout("deadline exceeded after " + std::to_string(attempt) +
                             " attempts; last error: " + last.ToString() + cause);
    }
    if (attempt > 0) retries_++;
    attempts_++;
    const std::string target = PickTarget();
    const milliseconds attempt_timeout =
        whole_deadline ? left : std::min(left, options_.attempt_timeout);
    if constexpr (HasTimeout<typename M::Request>) SetAttemptTimeout(request, attempt_timeout);
    net::CallOptions call;
    call.timeout = attempt_timeout;
    call.max_attempts = 1;
    call.trace_id = trace;
    if (log_trace) {
      logging::Log(trace_log_, spdlog::level::debug, "client: calling",
                   {{"method", M::kName},
                    {"endpoint", target},
                    {"attempt", attempt + 1},
                    {"trace", FormatTraceId(trace)}});
    }
    Result<typename M::Response> r = rpc_->CallSync<M>(target, request, call);
    if (log_trace) {
      logging::Log(trace_log_, spdlog::level::debug, "client: answered",
                   {{"method", M::kName},
                    {"endpoint", target},
                    {"code", StatusCodeName(r.status().code())},
                    {"trace", FormatTraceId(trace)}});
    }
    if (r.ok()) {
      // Only a leader answers leader-only calls: the target is the leader.
      if (leader_only) SetLeader(target);
      return r;
    }
    last = r.status();
    if (last.IsResourceExhausted()) exhausted = last;
    if (closed_) return Status::Cancelled("client closed");
    if (last.IsConflict()) {
      // A transaction's lock is in the way (client.h "Locks"): resolve it
      // and go again; the target answered, so it is still the leader.
      std::optional<txn::KeyError> e = txn::KeyErrorOf(last);
      if (!e || e->kind != txn::KeyError::Kind::kLocked) return last;
      if (leader_only) SetLeader(target);
      if constexpr (HasReadRevision<typename M::Request>) {
        if (request.revision == 0 && !request.serializable) {
          // A read at "now" goes on at one timestamp, taken here (after the
          // call began, so the read stays linearizable): retried at a fresh
          // one each time, it could meet the lock of the next transaction
          // on the key, and of the next, and never finish.
          CallOptions ts_opts;
          ts_opts.timeout = Left(deadline);
          Result<uint64_t> now = Timestamps(1, ts_opts);
          if (!now.ok()) return now.status();
          request.revision = *now;
        }
      }
      Status resolved = ResolveLockUntil(e->lock, deadline);
      if (!resolved.ok()) return resolved;
      continue;
    }
    if (!IsRetryable(last)) return last;
    if (whole_deadline && last.IsTimeout()) return last;
    if ((last.IsUnavailable() || last.IsTimeout()) && rpc_->stats().connects == 0) {
      // No connection was ever made, so this attempt failed to connect
      // (refused, or the dial timeout passed). Once every endpoint failed
      // that way, retrying until the deadline only delays the answer.
      unreachable.emplace(target, last.message());
      if (unreachable.size() == distinct_endpoints_) return Unreachable(unreachable);
    }
    if (last.IsNotLeader()) {
      redirects_++;
      // The typed routing detail (never the message): who leads, and where.
      const RoutingError hint = RoutingErrorOf(last).value_or(RoutingError{});
      ForgetLeader(target);
      if (!hint.leader_address.empty() && hint.leader_address != target) {
        SetLeader(hint.leader_address);
        // Follow a concrete hint at once; back off only if hints keep failing.
        if (++failures > 2) Backoff(failures - 2, deadline);
        continue;
      }
      if (hint.leader_id != 0 && Discover(deadline)) {
        if (++failures > 2) Backoff(failures - 2, deadline);
        continue;
      }
      // No leader known (an election is running): wait, try the next node.
      Backoff(++failures, deadline);
      continue;
    }
    ForgetLeader(target);
    Backoff(++failures, deadline);
  }
}

Client::WriteSession Client::AcquireSession() {
  std::lock_guard<std::mutex> l(mu_);
  if (!free_sessions_.empty()) {
    WriteSession s = free_sessions_.back();
    free_sessions_.pop_back();
    return s;
  }
  WriteSession s;
  do {
    s.client_id = rnd_.Next();
  } while (s.client_id == 0);
  sessions_++;
  return s;
}

void Client::ReleaseSession(WriteSession s) {
  std::lock_guard<std::mutex> l(mu_);
  free_sessions_.push_back(s);
}

// Holds one write session for the duration of one write (all its attempts).
class Client::SessionLease {
 public:
  explicit SessionLease(Client* c) : c_(c), s_(c->AcquireSession()) {}
  ~SessionLease() { c_->ReleaseSession(s_); }
  WriteId Next() { return WriteId{s_.client_id, s_.next_seq++}; }

 private:
  Client* c_;
  WriteSession s_;
};

Result<GetResponse> Client::GetWithRevision(const std::string& key, const CallOptions& opts) {
  TINYKV_RETURN_IF_ERROR(CheckKey(key));
  TINYKV_RETURN_IF_ERROR(CheckRequestSize(key.size(), "get"));
  GetRequest req;
  req.key = key;
  req.serializable = opts.serializable;
  req.revision = opts.revision;
  return Invoke<GetMethod>(std::move(req), DeadlineOf(opts), !opts.serializable);
}

Result<std::optional<std::string>> Client::Get(const std::string& key, const CallOptions& opts) {
  TINYKV_ASSIGN_OR_RETURN(GetResponse resp, GetWithRevision(key, opts));
  if (!resp.found) return std::optional<std::string>();
  return std::optional<std::string>(std::move(resp.value));
}

Status Client::Put(const std::string& key, const std::string& value, const CallOptions& opts) {
  return PutWithRevision(key, value, opts).status();
}

Result<WriteResponse> Client::PutWithRevision(const std::string& key, const std::string& value,
                                              const CallOptions& opts) {
  return PutWithLease(key, value, 0, opts);
}

Result<WriteResponse> Client::PutWithLease(const std::string& key, const std::string& value,
                                           uint64_t lease_id, const CallOptions& opts) {
  return PutWith(key, value, WriteOptions{lease_id, false}, opts);
}

Result<WriteResponse> Client::PutWith(const std::string& key, const std::string& value,
                                      const WriteOptions& options, const CallOptions& opts) {
  TINYKV_RETURN_IF_ERROR(CheckKey(key));
  TINYKV_RETURN_IF_ERROR(CheckRequestSize(key.size() + value.size(), "put"));
  SessionLease lease(this);
  PutRequest req;
  req.key = key;
  req.value = value;
  req.id = lease.Next();
  req.lease = options.lease;
  req.prev_kv = options.prev_kv;
  TINYKV_ASSIGN_OR_RETURN(WriteResponse resp, Invoke<PutMethod>(std::move(req), DeadlineOf(opts),
                                                                      true, false, opts.trace_id));
  TINYKV_RETURN_IF_ERROR(AttachMetadata(&resp.prev_kvs, resp.prev_metas, "put"));
  return resp;
}

Status Client::Delete(const std::string& key, const CallOptions& opts) {
  return DeleteWith(key, WriteOptions{}, opts).status();
}

Result<WriteResponse> Client::DeleteWith(const std::string& key, const WriteOptions& options,
                                         const CallOptions& opts) {
  TINYKV_RETURN_IF_ERROR(CheckKey(key));
  TINYKV_RETURN_IF_ERROR(CheckRequestSize(key.size(), "delete"));
  if (options.lease != 0) return Status::InvalidArgument("delete: a lease names a put's key");
  SessionLease lease(this);
  DeleteRequest req;
  req.key = key;
  req.id = lease.Next();
  req.prev_kv = options.prev_kv;
  TINYKV_ASSIGN_OR_RETURN(WriteResponse resp,
                          Invoke<DeleteMethod>(std::move(req), DeadlineOf(opts), true, false,
                                               opts.trace_id));
  TINYKV_RETURN_IF_ERROR(AttachMetadata(&resp.prev_kvs, resp.prev_metas, "delete"));
  return resp;
}

Result<uint64_t> Client::DeleteRange(const std::string& start, const std::string& end,
                                     const CallOptions& opts) {
  TINYKV_ASSIGN_OR_RETURN(DeleteRangeResponse resp,
                          DeleteRangeWith(start, end, WriteOptions{}, opts));
  return resp.deleted;
}

Result<DeleteRangeResponse> Client::DeleteRangeWith(const std::string& start,
                                                    const std::string& end,
                                                    const WriteOptions& options,
                                                    const CallOptions& opts) {
  TINYKV_RETURN_IF_ERROR(CheckRequestSize(start.size() + end.size(), "delete range"));
  if (options.lease != 0) return Status::InvalidArgument("delete range: a lease names a put's key");
  if (!end.empty() && end <= start) return DeleteRangeResponse{};
  SessionLease lease(this);
  DeleteRangeRequest req;
  req.start = start;
  req.end = end;
  req.id = lease.Next();
  req.prev_kv = options.prev_kv;
  TINYKV_ASSIGN_OR_RETURN(DeleteRangeResponse resp,
                          Invoke<DeleteRangeMethod>(std::move(req), DeadlineOf(opts), true, false,
                                                    opts.trace_id));
  TINYKV_RETURN_IF_ERROR(AttachMetadata(&resp.prev_kvs, resp.prev_metas, "delete range"));
  return resp;
}

Result<std::vector<KeyValue>> Client::Scan(const std::string& start, const std::string& end,
                                           uint64_t limit, const CallOptions& opts,
                                           bool keys_only) {
  TINYKV_ASSIGN_OR_RETURN(ScanAtRevision r, ScanWithRevision(start, end, limit, opts, keys_only));
  return std::move(r.kvs);
}

Result<ScanAtRevision> Client::ScanWithRevision(const std::string& start, const std::string& end,
                                                uint64_t limit, const CallOptions& opts,
                                                bool keys_only) {
  TINYKV_RETURN_IF_ERROR(CheckRequestSize(start.size() + end.size(), "scan"));
  const Deadline deadline = DeadlineOf(opts);
  std::vector<KeyValue> out;
  std::string from = start;
  uint64_t revision = opts.revision;  // the first page's, for every later one
  std::optional<ResponseHeader> header;  // the first page's
  while (true) {
    if (!end.empty() && from >= end) break;
    ScanRequest req;
    req.start = from;
    req.end = end;
    req.limit = limit == 0 ? 0 : limit - out.size();
    req.keys_only = keys_only;
    req.serializable = opts.serializable;
    req.revision = revision;
    TINYKV_ASSIGN_OR_RETURN(ScanResponse page,
                            Invoke<ScanMethod>(std::move(req), deadline, !opts.serializable));
    if (revision == 0) revision = page.revision;
    if (!header) header = page.header;
    TINYKV_RETURN_IF_ERROR(AttachMetadata(&page.kvs, page.metas, "scan"));
    for (KeyValue& kv : page.kvs) out.push_back(std::move(kv));
    if (!page.more || (limit != 0 && out.size() >= limit)) break;
    if (page.next_key <= from) {
      return Status::Corruption("scan: server's continuation key does not advance");
    }
    from = std::move(page.next_key);
  }
  return ScanAtRevision{std::move(out), revision, header.value_or(ResponseHeader{})};
}

Result<CasResult> Client::Cas(const std::string& key, const std::optional<std::string>& expected,
                              const std::string& value, const CallOptions& opts) {
  return CasWith(key, expected, value, WriteOptions{}, opts);
}

Result<CasResult> Client::CasWith(const std::string& key,
                                  const std::optional<std::string>& expected,
                                  const std::string& value, const WriteOptions& options,
                                  const CallOptions& opts) {
  if (options.prev_kv) return Status::InvalidArgument("cas: prev_kv is not served");
  TINYKV_RETURN_IF_ERROR(CheckKey(key));
  TINYKV_RETURN_IF_ERROR(
      CheckRequestSize(key.size() + (expected ? expected->size() : 0) + value.size(), "cas"));
  SessionLease lease(this);
  CasRequest req;
  req.key = key;
  req.has_expected = expected.has_value();
  if (expected) req.expected = *expected;
  req.value = value;
  req.id = lease.Next();
  req.lease = options.lease;
  TINYKV_ASSIGN_OR_RETURN(CasResponse resp, Invoke<CasMethod>(std::move(req), DeadlineOf(opts),
                                                                    true, false, opts.trace_id));
  CasResult out;
  out.succeeded = resp.succeeded;
  out.revision = resp.revision;
  if (resp.has_current) out.current = std::move(resp.current);
  return out;
}

Result<uint64_t> Client::Timestamps(uint32_t count, const CallOptions& opts) {
  TINYKV_ASSIGN_OR_RETURN(TsoResponse r, Invoke<TsoMethod>(TsoRequest{count}, DeadlineOf(opts)));
  return r.ts;
}

Result<txn::TxnCommandResult> Client::RunTxnCommand(const txn::TxnCommand& cmd,
                                                    const CallOptions& opts) {
  TINYKV_RETURN_IF_ERROR(txn::ValidateTxnCommand(cmd));
  TxnRequest req;
  req.command = txn::EncodeTxnCommand(cmd);
  TINYKV_ASSIGN_OR_RETURN(TxnResponse r, Invoke<TxnMethod>(std::move(req), DeadlineOf(opts)));
  Result<txn::TxnCommandResult> out = txn::DecodeTxnCommandResult(Slice(r.result));
  if (!out.ok()) return out.status().WithContext("txn: the server's answer");
  return out;
}

Status Client::ResolveLock(const txn::LockInfo& lock, const CallOptions& opts) {
  return ResolveLockUntil(lock, DeadlineOf(opts));
}

Status Client::ResolveLockUntil(const txn::LockInfo& lock, Deadline deadline) {
  CallOptions opts;
  opts.timeout = Left(deadline);
  if (opts.timeout->count() <= 0)
    return Status::Timeout("deadline exceeded resolving the lock on " + lock.key);
  TINYKV_ASSIGN_OR_RETURN(uint64_t now, Timestamps(1, opts));
  // The transaction's fate is decided on its primary; a lock there past its
  // TTL is rolled back by this very check.
  opts.timeout = Left(deadline);
  TINYKV_ASSIGN_OR_RETURN(txn::TxnCommandResult st,
                          RunTxnCommand(txn::CheckStatusOf(lock, now), opts));
  if (!st.errors.empty()) return txn::KeyErrorStatus(st.errors.front());
  const std::optional<txn::ResolveLockCmd> resolve = txn::ResolutionOf(lock, st);
  if (!resolve) {
    // Alive: wait a little for it to finish (never past its TTL: then the
    // next check rolls it back), and let the caller try again.
    const uint64_t wait_ms = std::clamp<uint64_t>(st.ttl_left_ms, 1, 50);
    const uint64_t left_ms = static_cast<uint64_t>(Left(deadline).count());
    clock_->SleepForMicros(std::min(wait_ms, left_ms) * 1000);
    return Status::OK();
  }
  opts.timeout = Left(deadline);
  TINYKV_ASSIGN_OR_RETURN(txn::TxnCommandResult r, RunTxnCommand(*resolve, opts));
  if (!r.errors.empty()) return txn::KeyErrorStatus(r.errors.front());
  return Status::OK();
}

void Client::RunInBackground(std::function<void()> job) {
  std::lock_guard<std::mutex> l(background_mu_);
  if (!background_.joinable()) {
    background_ = std::thread([this] {
      std::unique_lock<std::mutex> g(background_mu_);
      while (true) {
        background_cv_.wait(g, [this] { return !background_jobs_.empty() || background_stop_; });
        if (background_jobs_.empty()) return;  // stopping, and nothing left
        std::function<void()> j = std::move(background_jobs_.front());
        background_jobs_.pop_front();
        background_running_ = true;
        g.unlock();
        j();
        g.lock();
        background_running_ = false;
        background_cv_.notify_all();
      }
    });
  }
  background_jobs_.push_back(std::move(job));
  background_cv_.notify_all();
}

void Client::WaitForBackground() {
  std::unique_lock<std::mutex> g(background_mu_);
  background_cv_.wait(g, [this] { return background_jobs_.empty() && !background_running_; });
}

Result<StatusResponse> Client::EndpointStatus(const std::string& endpoint,
                                              std::optional<milliseconds> timeout) {
  if (closed_) return Status::Cancelled("client closed");
  net::CallOptions call;
  call.timeout = timeout.value_or(options_.timeout);
  call.max_attempts = 1;
  return rpc_->CallSync<StatusMethod>(endpoint, StatusRequest{}, call);
}

Result<AlarmResponse> Client::EndpointAlarm(const std::string& endpoint, bool disarm,
                                            std::optional<milliseconds> timeout) {
  if (closed_) return Status::Cancelled("client closed");
  net::CallOptions call;
  call.timeout = timeout.value_or(options_.timeout);
  call.max_attempts = 1;
  AlarmRequest req;
  req.action = disarm ? AlarmRequest::kDisarm : AlarmRequest::kList;
  return rpc_->CallSync<AlarmMethod>(endpoint, req, call);
}

Result<CompactResponse> Client::Compact(uint64_t revision, bool physical,
                                        const CallOptions& opts) {
  if (revision == 0) return Status::InvalidArgument("compaction: revision must be above 0");
  CompactRequest req;
  req.revision = revision;
  req.physical = physical;
  return Invoke<CompactMethod>(req, DeadlineOf(opts));
}

Result<DefragmentResponse> Client::EndpointDefragment(const std::string& endpoint,
                                                      std::optional<milliseconds> timeout) {
  if (closed_) return Status::Cancelled("client closed");
  net::CallOptions call;
  call.timeout = timeout.value_or(options_.timeout);
  call.max_attempts = 1;
  return rpc_->CallSync<DefragmentMethod>(endpoint, DefragmentRequest{}, call);
}

Result<MoveLeaderResponse> Client::MoveLeader(uint64_t target, const CallOptions& opts) {
  if (target == 0) return Status::InvalidArgument("move-leader: member id must be >= 1");
  MoveLeaderRequest req;
  req.target = target;
  return Invoke<MoveLeaderMethod>(req, DeadlineOf(opts), true, /*whole_deadline=*/true);
}

Result<HashKvResponse> Client::EndpointHashKv(const std::string& endpoint, uint64_t revision,
                                              std::optional<milliseconds> timeout) {
  if (closed_) return Status::Cancelled("client closed");
  net::CallOptions call;
  call.timeout = timeout.value_or(options_.timeout);
  call.max_attempts = 1;
  HashKvRequest req;
  req.revision = revision;
  return rpc_->CallSync<HashKvMethod>(endpoint, req, call);
}

Result<std::string> Client::SnapshotSave(const std::string& endpoint,
                                         std::optional<milliseconds> timeout) {
  if (closed_) return Status::Cancelled("client closed");
  net::CallOptions call;
  call.timeout = timeout.value_or(options_.timeout);
  call.max_attempts = 1;
  std::string file;
  Status s = rpc_->CallStreamSync<SnapshotSaveMethod>(
      endpoint, SnapshotSaveRequest{},
      [&file](SnapshotSaveChunk c) {
        file += c.data;
        return Status::OK();
      },
      call);
  if (!s.ok()) return s;
  return file;
}

Result<MemberListResponse> Client::MemberList(const CallOptions& opts) {
  return Invoke<MemberListMethod>(MemberListRequest{}, DeadlineOf(opts), false);
}

namespace {

// A member's addresses as `member add` and `member update` take them: the
// peer address required, the client one optional, each host:port (or a URL
// ParseEndpoint reduces to one); https:// refused.
Status ParseMemberAddresses(const char* what, const std::string& peer_address,
                            const std::string& client_address, std::string* peer_out,
                            std::string* client_out) {
  for (const std::string* a : {&peer_address, &client_address}) {
    if (IsTlsEndpoint(*a)) {
      return Status::InvalidArgument(
          std::string(what) + ": '" + *a +
          "': write host:port; whether members speak TLS is set by "
          "the servers' --peer-cert-file/--cert-file, not by the address");
    }
  }
  Result<std::string> peer = ParseEndpoint(peer_address);
  if (!peer.ok())
    return Status::InvalidArgument("bad peer address: " + std::string(peer.status().message()));
  *peer_out = std::move(peer).value();
  if (!client_address.empty()) {
    Result<std::string> client = ParseEndpoint(client_address);
    if (!client.ok()) {
      return Status::InvalidArgument("bad client address: " +
                                     std::string(client.status().message()));
    }
    *client_out = std::move(client).value();
  }
  return Status::OK();
}

}  // namespace

Result<MemberChangeResponse> Client::MemberAdd(uint64_t id, const std::string& peer_address,
                                               const std::string& client_address, bool learner,
                                               bool force, const CallOptions& opts) {
  MemberAddRequest req;
  req.id = id;
  TINYKV_RETURN_IF_ERROR(ParseMemberAddresses("member add", peer_address, client_address,
                                              &req.peer_address, &req.client_address));
  req.learner = learner;
  req.force = force;
  return Invoke<MemberAddMethod>(std::move(req), DeadlineOf(opts));
}

Result<MemberChangeResponse> Client::MemberUpdate(uint64_t id, const std::string& peer_address,
                                                  const std::string& client_address,
                                                  const CallOptions& opts) {
  MemberUpdateRequest req;
  req.id = id;
  TINYKV_RETURN_IF_ERROR(ParseMemberAddresses("member update", peer_address, client_address,
                                              &req.peer_address, &req.client_address));
  return Invoke<MemberUpdateMethod>(std::move(req), DeadlineOf(opts));
}

Result<MemberChangeResponse> Client::MemberPromote(uint64_t id, const CallOptions& opts) {
  MemberPromoteRequest req;
  req.id = id;
  return Invoke<MemberPromoteMethod>(std::move(req), DeadlineOf(opts));
}

Result<MemberChangeResponse> Client::MemberRemove(uint64_t id, const CallOptions& opts) {
  MemberRemoveRequest req;
  req.id = id;
  return Invoke<MemberRemoveMethod>(std::move(req), DeadlineOf(opts));
}

HealthReport Client::Health(const std::string& endpoint, std::optional<milliseconds> timeout) {
  HealthReport report;
  report.endpoint = endpoint;
  const uint64_t start = clock_->NowMicros();
  Result<StatusResponse> st = EndpointStatus(endpoint, timeout);
  if (!st.ok()) {
    report.error = st.status().ToString();
  } else if (!st->alarm.empty()) {
    report.error = "alarm: CORRUPT: " + st->alarm;
  } else if (st->leader == 0) {
    report.error = "no leader (node " + std::to_string(st->id) + " term " +
                   std::to_string(st->term) + " is " + st->role + ")";
  } else {
    CallOptions read;
    read.timeout = timeout.value_or(options_.timeout);
    Result<std::optional<std::string>> r = Get("health", read);
    if (r.ok()) {
      report.healthy = true;
    } else {
      report.error = "leader " + std::to_string(st->leader) +
                     " known, but a linearizable read failed: " + r.status().ToString();
    }
  }
  report.took = std::chrono::microseconds(clock_->NowMicros() - start);
  return report;
}

// The lease calls (lease_client.cc) go through the same retry loop.
template Result<LeaseGrantResponse> Client::Invoke<LeaseGrantMethod>(LeaseGrantRequest, Deadline,
                                                                     bool, bool, uint64_t);
template Result<LeaseRevokeResponse> Client::Invoke<LeaseRevokeMethod>(LeaseRevokeRequest,
                                                                       Deadline, bool, bool, uint64_t);
template Result<LeaseKeepAliveResponse> Client::Invoke<LeaseKeepAliveMethod>(
    LeaseKeepAliveRequest, Deadline, bool, bool, uint64_t);
template Result<LeaseTimeToLiveResponse> Client::Invoke<LeaseTimeToLiveMethod>(
    LeaseTimeToLiveRequest, Deadline, bool, bool, uint64_t);
template Result<LeaseLeasesResponse> Client::Invoke<LeaseLeasesMethod>(LeaseLeasesRequest,
                                                                       Deadline, bool, bool, uint64_t);

}  // namespace tinykv::client
