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
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tinykv/common/result.h"
#include "tinykv/common/status.h"
#include "workload.h"

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
};

// Each factory connects (and finds the leader) before it returns: a store
// that cannot be reached is an error here, not a run full of errors.
Result<std::unique_ptr<Backend>> NewTinyKvBackend(const BackendOptions& options);
Result<std::unique_ptr<Backend>> NewTinyKvBlockingBackend(const BackendOptions& options);
Result<std::unique_ptr<Backend>> NewEtcdGrpcBackend(const BackendOptions& options);
Result<std::unique_ptr<Backend>> NewEtcdHttpBackend(const BackendOptions& options);

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
