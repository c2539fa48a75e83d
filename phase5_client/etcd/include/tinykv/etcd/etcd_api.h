// EtcdApiServer: etcd's v3 gRPC API on an address of its own
// (tinykv-server --listen-etcd), so that etcd's own tools -- etcdctl, the Go
// and Python clients -- talk to a TinyKV cluster unchanged.
//
//   EtcdApiOptions o;
//   o.listen = "127.0.0.1:2389";
//   o.client.endpoints = {"127.0.0.1:2379"};   // this member's client endpoint first
//   auto server = EtcdApiServer::Start(o).value();
//   ... server->port() ...
//   server->Stop();
//
// How: each gRPC call becomes one call (or a few) of the TinyKV client
// library (client.h) against the cluster, the way etcd's grpc-proxy forwards
// to etcd: leader discovery, retries and linearizable reads are the client's.
// The answer is translated back into etcd's messages. Revisions are TinyKV's
// (a write's commit timestamp; phase4_txn/README.md): they order writes as
// etcd's do, but they are not consecutive -- the next write's revision is
// larger, not larger by one. create_revision, mod_revision and version are the
// key's metadata (KeyMetadata), with etcd's meaning.
//
// Served (phase5_client/etcd/README.md has the table): KV (Range, Put,
// DeleteRange, Txn on single keys, Compact), Watch, Lease (Grant, Revoke, KeepAlive,
// TimeToLive, Leases), Cluster (MemberList, MemberAdd, MemberRemove,
// MemberUpdate, MemberPromote), Maintenance (Status, Defragment, HashKV,
// MoveLeader, Alarm). Any other method answers UNIMPLEMENTED (gRPC's default). Errors carry etcd's
// codes and messages where clients depend on them (e.g. OUT_OF_RANGE
// "etcdserver: mvcc: required revision has been compacted").
//
// Thread safety: Start, port and Stop from one thread; the handlers run on
// gRPC's threads and share one client::Client.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tinykv/client/client.h"
#include "tinykv/common/result.h"

namespace tinykv::etcd {

struct EtcdApiOptions {
  std::string listen;            // host:port; port 0 = one from the OS
  client::ClientOptions client;  // how the handlers reach the cluster (endpoints required)
  // The member whose Status Maintenance.Status answers (etcdctl endpoint
  // status asks the endpoint it dialled): client.endpoints.front() if empty.
  std::string status_endpoint;
};

class EtcdApiServer {
 public:
  // Binds and starts serving. InvalidArgument for a bad address or options,
  // IOError when the address cannot be bound.
  [[nodiscard]] static Result<std::unique_ptr<EtcdApiServer>> Start(EtcdApiOptions options);
  ~EtcdApiServer();  // Stop()
  EtcdApiServer(const EtcdApiServer&) = delete;
  EtcdApiServer& operator=(const EtcdApiServer&) = delete;

  uint16_t port() const;
  // Stops accepting calls, cancels those in flight, waits for the handlers.
  // Idempotent.
  void Stop();

  struct Impl;

 private:
  explicit EtcdApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tinykv::etcd
