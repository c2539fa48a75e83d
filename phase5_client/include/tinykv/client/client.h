// tinykv::client::Client — the C++ client of a TinyKV cluster.
//
// What it is: a list of endpoints (client addresses of cluster members), one
// phase 2 RpcClient (pooled, multiplexed connections, one per endpoint by
// default), a cached leader, and a retry loop around every call:
//
//   auto client = Client::Create({.endpoints = {"127.0.0.1:2379", "127.0.0.1:22379"}}).value();
//   TINYKV_RETURN_IF_ERROR(client->Put("k", "v"));
//   Result<std::optional<std::string>> v = client->Get("k");        // linearizable
//   Result<CasResult> c = client->Cas("k", std::string("v"), "w");   // compare-and-swap
//
// Routing and leader discovery. Writes and linearizable reads go to the
// cached leader; with none cached, to the endpoints in turn. A NotLeader
// answer carries the leader's id and, when the server knows it, its client
// address ("leader=2 addr=127.0.0.1:22379"): the client switches to it at
// once. When the hint has no address, the client asks every endpoint's
// Status (which reports each node's id, its client address and the leader's
// id) and routes to the leader found. Serializable reads use the same route
// (any node may answer them).
//
// Retries. NotLeader (without a usable hint), Unavailable (cannot connect,
// connection lost, server shutting down), an attempt's Timeout, Aborted
// (leadership lost before commit), Busy and ResourceExhausted are retried
// on the next endpoint after an exponential backoff with full jitter
// (initial_backoff * 2^(n-1) capped at max_backoff, uniform in [0, that]),
// until the call's deadline. Each attempt gets at most attempt_timeout of
// the remaining time, so a node cut off from its peers costs one attempt,
// not the whole deadline. Other errors (InvalidArgument, Corruption, ...)
// are returned at once.
//
// Exactly-once writes. Every write carries a WriteId (client_id,
// request_seq) that stays the same across all retries of that write; the
// state machine applies it at most once and answers a retry with the
// original result. The state machine remembers only the highest request_seq
// per client_id, so one client_id must not have two writes in flight: the
// client keeps a pool of write sessions (a random 64-bit client_id each plus
// its next sequence number) and each write holds one session for all its
// attempts. Concurrent writers use different sessions; the pool grows to the
// peak write concurrency.
//
// Unreachable endpoints. While this client has never connected to any
// endpoint, a failure to connect (refused, or no answer within
// dial_timeout) is not a transient failure of a running cluster but most
// likely a wrong address or a cluster that is down: once every endpoint
// failed to connect in one call, the call returns Unavailable("could not
// reach ...") naming each endpoint and why, at once rather than at the
// deadline. A client that has been connected before retries refused
// connections until the deadline, as during a leader's restart.
//
// Input. Keys must not be empty and one request carries at most
// kMaxRequestBytes (1.5 MiB) of keys and values (protocol.h); otherwise
// the call returns InvalidArgument before sending anything.
//
// Deadlines. Every call has one deadline (CallOptions::timeout, else
// ClientOptions::timeout) covering discovery, all attempts and backoff
// sleeps. When it passes the call returns Timeout naming the last error. A
// write that returns Timeout (or Unavailable after it may have reached the
// server) has an UNKNOWN outcome: it may have applied.
//
// Locks. A read or write that meets a transaction's lock (protocol.h
// "Revisions") is not an error to the caller: the client resolves the lock
// -- asks the lock's primary for the transaction's fate (check-txn-status
// at a fresh timestamp, which rolls an expired transaction back), then
// commits or rolls back the lock met -- and retries; a live lock is waited
// out, polling with backoff, until the call's deadline. A linearizable read
// at "now" that met a lock is retried at a timestamp taken then (not at a
// fresh one per attempt, which a stream of transactions writing the key
// could keep locked for ever). Transactions: txn.h.
//
// Thread safety: every method is thread-safe; many threads may share one
// Client (its connections are multiplexed). Calls block the calling thread;
// they must not be made from an Asio io thread of this client.
// Cost: one RPC per attempt plus, on a hint without address, one Status RPC
// per endpoint.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tinykv/client/maintenance_protocol.h"
#include "tinykv/client/protocol.h"
#include "tinykv/client/watch.h"
#include "tinykv/common/clock.h"
#include "tinykv/common/logging.h"
#include "tinykv/common/random.h"
#include "tinykv/common/result.h"
#include "tinykv/common/status.h"
#include "tinykv/net/client.h"
#include "tinykv/txn/key_error.h"
#include "tinykv/txn/txn_command.h"

namespace tinykv::client {

// An endpoint (or a member's peer or client address) as a user writes it,
// reduced to "host:port" and checked with net::ParseHostPort. Accepted:
// "host:port", "[::1]:port", "http://host:port" and "https://host:port"
// (etcdctl users write endpoints as URLs; the scheme and one trailing '/'
// are dropped: Client::Create reads the scheme first, IsTlsEndpoint).
// InvalidArgument for any other scheme, and for what ParseHostPort refuses.
[[nodiscard]] Result<std::string> ParseEndpoint(std::string_view endpoint);
// True for "https://..." (the endpoint asks for TLS).
bool IsTlsEndpoint(std::string_view endpoint);

struct ClientOptions {
  // Client addresses of cluster members, at least one, each as ParseEndpoint
  // takes it (Create reduces them to "host:port").
  std::vector<std::string> endpoints;
  std::chrono::milliseconds timeout{5000};          // default deadline of one call
  std::chrono::milliseconds dial_timeout{2000};     // TCP connect timeout
  std::chrono::milliseconds attempt_timeout{2000};  // cap on one attempt
  std::chrono::milliseconds initial_backoff{20};
  std::chrono::milliseconds max_backoff{500};
  int io_threads = 1;
  size_t connections_per_endpoint = 1;
  uint64_t seed = 0;  // jitter and client ids; 0 = random
  // TLS (net/tls.h; etcdctl's --cacert, --cert, --key). On when `tls` is
  // set, when any of the files is set, or when an endpoint is https://; an
  // http:// endpoint is then refused (never a silent downgrade, nor a mix).
  // The server's certificate is verified against ca_file (empty: the
  // system's CAs) and must name the endpoint's host; cert_file and key_file
  // are this client's certificate, for servers that require one. A
  // refusal (unknown CA, expired, no client certificate, a plaintext
  // server) fails the call with IOError naming TLS, without retrying.
  bool tls = false;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // Deadlines and the waits between attempts (common/clock.h; a ManualClock
  // in tests: a wait advances it). null: Clock::Real(). Each attempt's RPC
  // still has a real-time bound (attempt_timeout, dial_timeout).
  Clock* clock = nullptr;
};

// Per-call options.
struct CallOptions {
  std::optional<std::chrono::milliseconds> timeout;  // default: ClientOptions::timeout
  bool serializable = false;  // reads only: any node answers from its own state, maybe stale
  // Reads only: at this revision (a commit timestamp: what writes answer
  // with); 0 = now. A server without MVCC answers NotSupported.
  uint64_t revision = 0;
  // The request's trace id (common/trace_id.h): in its frame header, and
  // for a write in its Raft entry, so that every member's debug log names
  // it; 0 = a fresh one per call (every call has one).
  uint64_t trace_id = 0;
};

// What ScanWithRevision returns: the pairs and the revision they were read
// at (0: a serializable read of the newest state, or a server without MVCC).
struct ScanAtRevision {
  std::vector<KeyValue> kvs;
  uint64_t revision = 0;
  ResponseHeader header;  // the first page's: the member that fixed the revision
};

// etcd's options of a put or delete: the lease a put attaches its key to
// (0: none; the put detaches it from any), and prev_kv -- answer the keys
// as they were before (WriteResponse / DeleteRangeResponse prev_kvs, each
// with its metadata in KeyValue::meta).
struct WriteOptions {
  uint64_t lease = 0;
  bool prev_kv = false;
};

struct CasResult {
  bool succeeded = false;
  std::optional<std::string> current;  // on failure: the value found (nullopt: key absent)
  uint64_t revision = 0;               // the write's revision
};

struct HealthReport {
  std::string endpoint;
  bool healthy = false;
  std::chrono::microseconds took{0};
  std::string error;  // why unhealthy
};

struct ClientStats {
  uint64_t calls = 0;
  uint64_t attempts = 0;
  uint64_t retries = 0;         // attempts after the first
  uint64_t redirects = 0;       // NotLeader answers followed
  uint64_t discoveries = 0;     // Status sweeps over all endpoints
  uint64_t write_sessions = 0;  // client ids created
};

class Client {
 public:
  // InvalidArgument when there are no endpoints or one is refused by
  // ParseEndpoint (e.g. an https:// URL). Does not connect yet (connections
  // open on first use).
  [[nodiscard]] static Result<std::unique_ptr<Client>> Create(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // nullopt when the key does not exist.
  Result<std::optional<std::string>> Get(const std::string& key, const CallOptions& opts = {});
  // The same, with the revision the read was made at.
  Result<GetResponse> GetWithRevision(const std::string& key, const CallOptions& opts = {});
  Status Put(const std::string& key, const std::string& value, const CallOptions& opts = {});
  // The same, with the Raft index it applied at and its revision.
  Result<WriteResponse> PutWithRevision(const std::string& key, const std::string& value,
                                        const CallOptions& opts = {});
  // A put with etcd's options (WriteOptions); the answer's prev_kvs hold the
  // key as it was (with prev_kv, when it had a value).
  Result<WriteResponse> PutWith(const std::string& key, const std::string& value,
                                const WriteOptions& options, const CallOptions& opts = {});
  // Succeeds whether or not the key existed.
  Status Delete(const std::string& key, const CallOptions& opts = {});
  // The same with prev_kv: the deleted key and value, when there was one.
  Result<WriteResponse> DeleteWith(const std::string& key, const WriteOptions& options,
                                   const CallOptions& opts = {});
  // Deletes [start, end) (end empty: to the end); returns how many keys went.
  Result<uint64_t> DeleteRange(const std::string& start, const std::string& end,
                               const CallOptions& opts = {});
  // The same with prev_kv: the deleted pairs (at most 2 MiB of them:
  // prev_kvs_truncated when more went).
  Result<DeleteRangeResponse> DeleteRangeWith(const std::string& start, const std::string& end,
                                              const WriteOptions& options,
                                              const CallOptions& opts = {});
  // Pairs in [start, end) (end empty: to the end) in key order, at most
  // `limit` (0: all). Fetched in pages, all at the revision of the first
  // (opts.revision, or the first page's linearizable read point): one
  // snapshot, whatever writes run meanwhile.
  Result<std::vector<KeyValue>> Scan(const std::string& start, const std::string& end,
                                     uint64_t limit = 0, const CallOptions& opts = {},
                                     bool keys_only = false);
  // The same, with the revision every page was read at and the first page's
  // response header.
  Result<ScanAtRevision> ScanWithRevision(const std::string& start, const std::string& end,
                                          uint64_t limit = 0, const CallOptions& opts = {},
                                          bool keys_only = false);
  // Sets key to `value` iff its current value equals `expected`
  // (expected nullopt: iff the key is absent).
  Result<CasResult> Cas(const std::string& key, const std::optional<std::string>& expected,
                        const std::string& value, const CallOptions& opts = {});
  // The same with a put's options: the lease the key is attached to when the
  // swap happens (WriteOptions::prev_kv is not served here: InvalidArgument).
  Result<CasResult> CasWith(const std::string& key, const std::optional<std::string>& expected,
                            const std::string& value, const WriteOptions& options,
                            const CallOptions& opts = {});

  // ---- leases (lease_protocol.h; lease_client.cc) ----
  // Grants a lease of ttl_s seconds (id 0: the leader picks one).
  Result<LeaseGrantResponse> LeaseGrant(uint64_t ttl_s, uint64_t id = 0,
                                        const CallOptions& opts = {});
  // Revokes it: every attached key deleted at one revision (answered).
  Result<LeaseRevokeResponse> LeaseRevoke(uint64_t id, const CallOptions& opts = {});
  // One renewal; LeaseKeepAlive (lease_keep_alive.h) renews in the background.
  Result<LeaseKeepAliveResponse> LeaseKeepAliveOnce(uint64_t id, const CallOptions& opts = {});
  Result<LeaseTimeToLiveResponse> LeaseTimeToLive(uint64_t id, bool keys = false,
                                                  const CallOptions& opts = {});
  // Every lease's id.
  Result<std::vector<uint64_t>> Leases(const CallOptions& opts = {});
  // A put attaching `key` to `lease` (0: a plain put). A lease that does
  // not exist: NotFound("etcdserver: requested lease not found").
  Result<WriteResponse> PutWithLease(const std::string& key, const std::string& value,
                                     uint64_t lease, const CallOptions& opts = {});

  // ---- compaction and defragmentation (maintenance_protocol.h) ----
  // Compacts the history below `revision` on every member (sent to the
  // leader, retried like a write). A retry whose first attempt applied but
  // whose answer was lost answers "has been compacted already" (the
  // kCompacted detail, watch_error.h): the compaction is in force then.
  Result<CompactResponse> Compact(uint64_t revision, bool physical = false,
                                  const CallOptions& opts = {});
  // Defragments one endpoint's engine (no routing; one attempt); `timeout`
  // bounds the whole defragmentation.
  Result<DefragmentResponse> EndpointDefragment(
      const std::string& endpoint, std::optional<std::chrono::milliseconds> timeout = {});

  // Hands leadership to the voter `target` (sent to the leader;
  // maintenance_protocol.h MoveLeader): the leader before and after.
  // NotFound for an unknown member, InvalidArgument for a learner, OK at
  // once when the target leads already. The leader is given the whole
  // deadline for the transfer, and its Timeout (the target did not take
  // over) is the answer, not retried; NotLeader and the like are, as a
  // write's.
  Result<MoveLeaderResponse> MoveLeader(uint64_t target, const CallOptions& opts = {});
  // One endpoint's hash of its key space as of `revision` (0: all it
  // applied; maintenance_protocol.h HashKv). No routing; one attempt;
  // `timeout` bounds the whole hash.
  Result<HashKvResponse> EndpointHashKv(const std::string& endpoint, uint64_t revision,
                                        std::optional<std::chrono::milliseconds> timeout = {});

  // `count` consecutive timestamps from the leader's oracle; the first.
  Result<uint64_t> Timestamps(uint32_t count = 1, const CallOptions& opts = {});
  // One transaction command (phase4_txn txn_command.h), sent to the leader
  // and retried like a write; KeyErrors are in the result. For txn.h.
  Result<txn::TxnCommandResult> RunTxnCommand(const txn::TxnCommand& cmd,
                                              const CallOptions& opts = {});
  // Resolves a lock met by a read or write (see "Locks"): OK once it is
  // committed or rolled back; while its transaction lives, waits a little
  // (at most its TTL left, capped) and returns OK for the caller to retry.
  Status ResolveLock(const txn::LockInfo& lock, const CallOptions& opts = {});

  // Watches a key, a prefix or a range from a revision on (watch.h): returns
  // once the leader created the stream, which then runs on its own
  // connection and resumes across leader changes. InvalidArgument for a bad
  // range, the compacted error (watch_error.h) for a start revision whose
  // history is gone, Timeout when no leader created it within
  // options.create_timeout. The stream must not outlive this Client.
  Result<std::unique_ptr<WatchStream>> Watch(const WatchOptions& options);

  // Runs `job` on this client's background thread (in order, one at a
  // time): a transaction's secondary commits. The destructor runs the jobs
  // still queued before it closes; WaitForBackground waits for them.
  void RunInBackground(std::function<void()> job);
  void WaitForBackground();

  // One endpoint's own view (no routing, no retry beyond connecting).
  Result<StatusResponse> EndpointStatus(const std::string& endpoint,
                                        std::optional<std::chrono::milliseconds> timeout = {});
  // One endpoint's alarms (protocol.h Alarm), listed or, with disarm, the
  // NOSPACE alarm disarmed first (no routing; one attempt).
  Result<AlarmResponse> EndpointAlarm(const std::string& endpoint, bool disarm,
                                      std::optional<std::chrono::milliseconds> timeout = {});
  // A backup of one endpoint's state (protocol.h SnapshotSave): the bytes
  // of the backup file (replica/backup.h), whole, or the error. No retry
  // beyond connecting; `timeout` bounds the whole transfer.
  Result<std::string> SnapshotSave(const std::string& endpoint,
                                   std::optional<std::chrono::milliseconds> timeout = {});
  // The members, asked of the leader (or any endpoint that answers).
  Result<MemberListResponse> MemberList(const CallOptions& opts = {});
  // Membership changes, sent to the leader; each answers with the
  // configuration right after the change applied. One change at a time:
  // while one is pending the leader answers Busy, which is retried until the
  // deadline like NotLeader (so is Unavailable, the answer to promoting a
  // learner that has not caught up yet). Not idempotent: if an attempt timed
  // out but applied, its retry fails with AlreadyExists (add) or NotFound
  // (remove); MemberList tells the outcome.
  //
  // MemberAdd of a voter is refused (InvalidArgument, "re-configuration
  // failed due to not enough started members ...") when the voters the
  // leader has heard from recently would be fewer than a quorum of the
  // configuration with the new, not yet started, member (etcd's strict
  // reconfiguration check); `force` skips that check. Learners are exempt.
  // The addresses go through ParseEndpoint first; https:// is refused there
  // (whether members speak TLS is the servers' --peer-cert-file, not the
  // address's).
  Result<MemberChangeResponse> MemberAdd(uint64_t id, const std::string& peer_address,
                                         const std::string& client_address = "",
                                         bool learner = false, bool force = false,
                                         const CallOptions& opts = {});
  // etcd's member update: new addresses for a member in the configuration
  // (replica::MemberChange::kUpdate); every member adopts them when the
  // change applies. "" client_address keeps the recorded one. The member's
  // own process must listen there (restart it with the new peer address).
  Result<MemberChangeResponse> MemberUpdate(uint64_t id, const std::string& peer_address,
                                            const std::string& client_address = "",
                                            const CallOptions& opts = {});
  Result<MemberChangeResponse> MemberPromote(uint64_t id, const CallOptions& opts = {});
  Result<MemberChangeResponse> MemberRemove(uint64_t id, const CallOptions& opts = {});
  // Healthy: the endpoint answers Status within the timeout, knows a
  // leader, and a linearizable read (of the key "health", as etcdctl does)
  // through the cluster completes within the timeout -- so a quorum is
  // reachable, not just the endpoint. The read goes to the leader (followers
  // do not serve linearizable reads), so a follower cut off from its peers
  // but reachable by this client still reports healthy until its election
  // timeout makes it forget the leader. Never fails: errors are in the report.
  HealthReport Health(const std::string& endpoint,
                      std::optional<std::chrono::milliseconds> timeout = {});

  const std::vector<std::string>& endpoints() const { return options_.endpoints; }
  // The deadline of a call without its own (ClientOptions::timeout).
  std::chrono::milliseconds default_timeout() const { return options_.timeout; }
  // The cached leader endpoint ("" when none).
  std::string leader_endpoint() const;
  ClientStats stats() const;
  // Fails calls in flight with Cancelled and later calls too. Idempotent.
  void Close();

 private:
  struct WriteSession {
    uint64_t client_id = 0;
    uint64_t next_seq = 1;
  };
  class SessionLease;
  using Deadline = uint64_t;  // micros on clock_

  friend class WatchStream;  // routes its streams through the leader cache below
  Client(ClientOptions options, std::unique_ptr<net::RpcClient> rpc);
  // An RpcClient with these options' TLS, timeouts and seed.
  static Result<std::unique_ptr<net::RpcClient>> NewRpcClient(const ClientOptions& options,
                                                             int io_threads,
                                                             size_t receive_buffer_bytes = 0);

  // The retry loop. leader_only: only the leader answers this call, so a
  // success confirms the target as leader. whole_deadline: each attempt may
  // take what is left of the deadline (not attempt_timeout), and a Timeout
  // ends the call -- for a call whose server waits for an outcome the whole
  // budget may be needed for (MoveLeader), which a retry with less of it
  // would only wait for again.
  // Locks met are resolved (ResolveLockUntil) and the call retried.
  template <typename M>
  // trace_id 0: a fresh one (CallOptions::trace_id).
  Result<typename M::Response> Invoke(typename M::Request request, Deadline deadline,
                                      bool leader_only = true, bool whole_deadline = false,
                                      uint64_t trace_id = 0);
  Status ResolveLockUntil(const txn::LockInfo& lock, Deadline deadline);
  Deadline DeadlineOf(const CallOptions& opts) const;
  std::chrono::milliseconds Left(Deadline deadline) const;  // 0 once it passed
  std::string PickTarget();
  void SetLeader(const std::string& endpoint);
  void ForgetLeader(const std::string& endpoint);
  // Returns true when a leader was found (and cached).
  bool Discover(Deadline deadline);
  void Backoff(int retry, Deadline deadline);
  WriteSession AcquireSession();
  void ReleaseSession(WriteSession s);

  const ClientOptions options_;
  Clock* const clock_;
  const size_t distinct_endpoints_;  // options_.endpoints without repeats
  std::unique_ptr<net::RpcClient> rpc_;
  std::atomic<bool> closed_{false};

  mutable std::mutex mu_;
  std::string leader_;                       // guarded by mu_
  size_t next_endpoint_ = 0;                 // guarded by mu_
  Random rnd_;                               // guarded by mu_
  std::vector<WriteSession> free_sessions_;  // guarded by mu_

  std::atomic<uint64_t> calls_{0}, attempts_{0}, retries_{0}, redirects_{0}, discoveries_{0},
      sessions_{0};
  // "client": each attempt of a call, with its trace id, at debug level.
  std::shared_ptr<spdlog::logger> trace_log_ = logging::Get("client");

  std::mutex background_mu_;
  std::condition_variable background_cv_;
  std::deque<std::function<void()>> background_jobs_;  // guarded by background_mu_
  bool background_stop_ = false;                       // guarded by background_mu_
  bool background_running_ = false;                    // guarded by background_mu_
  std::thread background_;                             // started by the first job
};

// Whether a failed attempt may be tried again (on another endpoint, after a
// backoff): NotLeader, Unavailable, Timeout, Aborted, Busy,
// ResourceExhausted, Cancelled (the server's drain). Exposed for tests.
bool IsRetryable(const Status& s);

}  // namespace tinykv::client
