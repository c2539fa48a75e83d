// tinykv-bench backends: how the generator's logical clients reach a store.
//
// A backend owns a few threads (`threads`) and a few connections (`conns`)
// and runs any number of logical clients on them as coroutines, each in a
// closed loop over one Workload (workload.h) -- the way etcd's benchmark tool
// drives many clients over a few gRPC connections. So the generator's cost
// grows with the request rate, not with the client count, and both stores
// are driven by the same number of threads and connections (tinykv-blocking,
// below, is the exception: a thread per logical client).
//
//   tinykv     TinyKV's client protocol over phase 2's multiplexed RpcClient
//              (one RpcClient with one io thread per generator thread).
//              Writes and gets go to the leader: found with the Status method,
//              followed through NotLeader answers (the typed RoutingError
//              detail); NotLeader / Unavailable / ... are retried with backoff
//              until the request's deadline. Each logical client writes with
//              its own WriteId (random client_id, request_seq + 1 per write).
//   tinykv-blocking
//              The phase 5 client itself (client::Client, and client::Txn
//              for transactions), which blocks its caller: one OS thread per
//              logical client, `conns` Client objects shared round-robin.
//              The only backend that runs transactions (kTxn): Percolator's
//              client side exists once, in client::Txn. Its single-key puts
//              are the baseline the transactions are compared with.
//   etcd       etcd's v3 gRPC API (etcdserverpb.KV Range / Put), async gRPC:
//              one CompletionQueue per generator thread, `conns` channels
//              (each its own HTTP/2 connection), logical client c on channel
//              c % conns. By default every channel goes to the leader (found
//              with Maintenance.Status), as TinyKV's requests do; with
//              spread_endpoints they go round-robin over the endpoints, as
//              etcd's own benchmark tool does (followers forward to the
//              leader). Errors are counted, not retried.
//   etcd-http  etcd's v3 HTTP/JSON gateway (POST /v3/kv/put, /v3/kv/range,
//              base64 keys and values) with Boost.Beast: one HTTP/1.1
//              keep-alive connection per logical client (no multiplexing), on
//              `threads` io threads. An extra for comparison with the gRPC
//              path; it costs etcd about half its throughput.
//
// Watches and leases (tinykv-bench watch / lease), on the tinykv and etcd
// backends. Watchers get connections and threads of their own (WatchPlan),
// apart from the putters', as etcd's `benchmark watch-latency` gives them
// clients of their own; all go to the leader, as the puts do (a TinyKV
// watch is the leader's; an etcd follower could serve one too).
//   tinykv     One Watch stream per watcher (the protocol has one watch per
//              stream), the streams multiplexed over plan.conns connections
//              of plan.threads RpcClients (tinykv_watch.cc). A stream the
//              server ends (a watcher too slow for its bound) is resumed
//              from its position, as client::WatchStream does. A keep-alive
//              is the unary LeaseKeepAlive.
//   etcd       plan.streams bidirectional Watch streams over plan.conns
//              channels, the watchers multiplexed on them (watcher w on
//              stream w % streams), as etcd's watch-latency benchmark does
//              (etcd_grpc_watch.cc). A keep-alive is one request and one
//              response on a LeaseKeepAlive stream, one stream per logical
//              client (clientv3 keeps one per client, too).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tinykv/common/result.h"
#include "tinykv/common/status.h"
#include "watch_log.h"
#include "workload.h"

namespace tinykv::net {
class RpcClient;
}  // namespace tinykv::net

namespace tinykv::bench {

struct BackendOptions {
  std::vector<std::string> endpoints;  // "host:port" (an "http://" prefix is ignored)
  int threads = 1;                     // generator threads that run the clients
  int conns = 1;                       // connections the load is spread over, in total
  int timeout_ms = 10000;              // one request's deadline (all its attempts)
  bool spread_endpoints = false;       // etcd backends: round-robin over endpoints, not the leader
  // TLS (the etcd benchmark's --cacert/--cert/--key; an https:// endpoint or
  // any file turns it on): the tinykv backend's RpcClients and the etcd gRPC
  // backend's channels verify the servers with cacert and present cert/key.
  bool tls = false;
  std::string cacert, cert, key;
};

// How the watchers of a run are laid out (see the top of this file).
struct WatchPlan {
  int streams = 10;  // etcd: gRPC streams the watchers share; tinykv: one per watcher
  int conns = 2;     // connections the streams share, in total
  int threads = 2;   // generator threads that receive
};

// The watchers of one run, receiving into their WatchLog until Stop.
class WatchGroup {
 public:
  virtual ~WatchGroup() = default;
  // Ends every stream and waits until none touches the log any more.
  // Idempotent.
  virtual void Stop() = 0;
  // One line: streams, connections, threads.
  virtual std::string Describe() const = 0;
  // Streams the server ended that were opened again (tinykv), and the first
  // error of a watcher that gave up ("" when none did).
  virtual uint64_t resumes() const { return 0; }
  virtual std::string first_error() const = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // Runs w.clients() logical clients, each in a closed loop (open loop:
  // each waits for its request's intended start, then times it from there,
  // Workload::Begin), until the workload has issued all its requests and
  // every answer is recorded.
  // Blocks the calling thread (which must not be one of the backend's).
  virtual void Run(Workload& w) = 0;
  // One line: protocol, threads, connections, routing.
  virtual std::string Describe() const = 0;
  // Attempts after the first, over all requests so far (tinykv: NotLeader
  // redirects and retries; etcd backends do not retry).
  virtual uint64_t retries() const { return 0; }

  // Watches log->prefix() with log->watchers() watchers laid out as `plan`,
  // from now on, and returns once the server confirmed every one (Timeout
  // when that takes longer than the request deadline). The log must
  // outlive the group. NotSupported on backends without watches.
  virtual Result<std::unique_ptr<WatchGroup>> Watch(const WatchPlan& /*plan*/, WatchLog* /*log*/) {
    return Status::NotSupported("this backend has no watches (tinykv and etcd have)");
  }
  // Grants n leases of ttl_s seconds (one per logical client of a
  // kLeaseKeepAlive workload), one after the other; and revokes them.
  // NotSupported on backends without leases.
  virtual Result<std::vector<uint64_t>> GrantLeases(int /*n*/, int64_t /*ttl_s*/) {
    return Status::NotSupported("this backend has no leases (tinykv and etcd have)");
  }
  virtual Status RevokeLeases(const std::vector<uint64_t>& /*ids*/) { return Status::OK(); }
};

// Each factory connects (and finds the leader) before it returns: a store
// that cannot be reached is an error here, not a run full of errors.
Result<std::unique_ptr<Backend>> NewTinyKvBackend(const BackendOptions& options);
Result<std::unique_ptr<Backend>> NewTinyKvBlockingBackend(const BackendOptions& options);
Result<std::unique_ptr<Backend>> NewEtcdGrpcBackend(const BackendOptions& options);
Result<std::unique_ptr<Backend>> NewEtcdHttpBackend(const BackendOptions& options);

// The backends' watchers (tinykv_watch.cc, etcd_grpc_watch.cc), for their
// Watch: streams to `leader` ("host:port") with the options' TLS, started
// and every watch confirmed before they return.
Result<std::unique_ptr<WatchGroup>> NewTinyKvWatchGroup(const BackendOptions& options,
                                                        const std::string& leader,
                                                        const WatchPlan& plan, WatchLog* log);
Result<std::unique_ptr<WatchGroup>> NewEtcdWatchGroup(const BackendOptions& options,
                                                      const std::string& leader,
                                                      const WatchPlan& plan, WatchLog* log);

// The TinyKV lanes' RpcClients (tinykv_backend.cc), shared by the put path
// and the watchers: one per generator thread (`threads`), each with one io
// thread, `conns` connections spread over them, at least one each -- so
// max(conns, threads) in all -- with the options' TLS and timeout, and one
// attempt per call (the callers retry).
Result<std::vector<std::unique_ptr<net::RpcClient>>> NewTinyKvLaneClients(
    const BackendOptions& options, int threads, int conns);

// The etcd leader's endpoint among `options.endpoints` (Maintenance.Status
// of each, over gRPC with the options' TLS: the member whose id is the
// leader its peers report), retried until timeout_ms passes. Shared by both
// etcd backends.
Result<std::string> FindEtcdLeader(const BackendOptions& options);

// "host:port" without a scheme prefix such as "http://".
inline std::string StripScheme(const std::string& endpoint) {
  const auto p = endpoint.find("://");
  return p == std::string::npos ? endpoint : endpoint.substr(p + 3);
}

// What every factory does: check the endpoints, strip their schemes, then
// construct B and run its `Status Start()` (connect, find the leader).
template <typename B>
Result<std::unique_ptr<Backend>> StartBackend(const BackendOptions& options) {
  if (options.endpoints.empty()) return Status::InvalidArgument("no endpoints");
  BackendOptions o = options;
  for (std::string& e : o.endpoints) e = StripScheme(e);
  auto b = std::make_unique<B>(std::move(o));
  TINYKV_RETURN_IF_ERROR(b->Start());
  return std::unique_ptr<Backend>(std::move(b));
}

}  // namespace tinykv::bench
