#include "tinykv/prod/server.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <set>

#include "http_server.h"
#include "metrics.h"
#include "monitoring_routes.h"
#include "tinykv/etcd/etcd_api.h"
#include "tinykv/client/service.h"
#include "tinykv/common/logging.h"
#include "tinykv/net/address.h"
#include "tinykv/net/server.h"
#include "tinykv/prod/admin_protocol.h"
#include "tinykv/replica/kv_node.h"
#include "tinykv/txn/auto_compactor.h"
#include "tinykv/txn/txn_node.h"

namespace tinykv::prod {

struct Server::Impl {
  ServerConfig config;
  std::unique_ptr<txn::TxnNode> node;
  std::unique_ptr<txn::AutoCompactor> compactor;  // --auto-compaction-retention; null when off
  std::unique_ptr<net::RpcServer> rpc;
  std::shared_ptr<ServerMetrics> metrics;   // shared with the service's observer
  std::unique_ptr<HttpServer> http;         // --listen-metrics; null when off
  std::unique_ptr<etcd::EtcdApiServer> etcd;  // --listen-etcd; null when off
  std::string client_address;
  std::string peer_address;
  std::mutex shutdown_mu;
  bool stopped = false;
  std::shared_ptr<spdlog::logger> log = logging::Get("server");
};

namespace {

void RegisterAdmin(net::RpcServer& rpc, Server::Impl* impl) {
  rpc.Register<AdminStatusMethod>(
      [impl](AdminStatusRequest) -> net::awaitable<Result<AdminStatusResponse>> {
        const replica::KvNodeStatus st = impl->node->GetStatus();
        AdminStatusResponse r;
        r.id = st.id;
        r.leader = st.leader;
        r.term = st.term;
        r.role = st.role;
        r.commit_index = st.commit_index;
        r.applied_index = st.applied_index;
        r.first_index = st.first_index;
        r.last_index = st.last_index;
        for (const auto& m : st.members) r.members.push_back({m.id, m.peer_address, m.learner});
        r.client_address = impl->client_address;
        r.peer_address = impl->peer_address;
        r.fault_injection = impl->config.enable_fault_injection;
        r.pid = static_cast<uint64_t>(::getpid());
        r.snapshot_index = st.snapshot_index;
        r.log_fsyncs = st.log_fsyncs;
        r.log_entries_written = st.log_entries_written;
        r.rejected_messages = st.rejected_messages;
        r.peer_messages_refused = impl->node->peer_stats().messages_refused;
        r.alarm = st.alarm;
        r.hash_verified_index = st.hash_verified_index;
        co_return r;
      });
  if (!impl->config.enable_fault_injection) return;  // not registered: NotSupported
  rpc.Register<AdminSetFaultsMethod>(
      [impl](AdminSetFaultsRequest req) -> net::awaitable<Result<AdminSetFaultsResponse>> {
        if (req.drop_probability < 0.0 || req.drop_probability > 1.0) {
          co_return Status::InvalidArgument("drop_probability must be in [0, 1]");
        }
        std::set<uint64_t> peers(req.dropped_peers.begin(), req.dropped_peers.end());
        std::string list;
        for (uint64_t p : peers) list += (list.empty() ? "" : ",") + std::to_string(p);
        logging::Log(impl->log, spdlog::level::warn, "fault-injection",
                     {{"node", impl->config.id},
                      {"dropped_peers", "[" + list + "]"},
                      {"drop_probability", req.drop_probability}});
        impl->node->SetDroppedPeers(std::move(peers));
        impl->node->SetDropProbability(req.drop_probability);
        co_return AdminSetFaultsResponse{};
      });
}

// For the startup line: off, on, or mutual (client certificates required).
const char* TlsMode(const std::string& cert_file, bool cert_auth) {
  return cert_file.empty() ? "off" : cert_auth ? "mutual" : "on";
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(const ServerConfig& config) {
  TINYKV_RETURN_IF_ERROR(ValidateServerConfig(config));
  auto impl = std::make_unique<Impl>();
  impl->config = config;

  replica::KvNodeOptions node_options;
  node_options.id = config.id;
  node_options.data_dir = config.data_dir;
  if (config.initial_cluster.empty()) {
    node_options.peers = {{config.id, AddressOf(config.listen_peer)}};
  } else {
    TINYKV_ASSIGN_OR_RETURN(node_options.peers, ParseInitialCluster(config.initial_cluster));
  }
  node_options.peer_listen = AddressOf(config.listen_peer);
  // --initial-cluster bootstraps; once the data dir has state the replicated
  // address book is the truth (etcd's rule), so a member update survives
  // restarts of members started with their original command lines.
  node_options.address_book_wins = true;
  node_options.peer_server_tls = PeerServerTls(config);
  node_options.peer_client_tls = PeerClientTls(config);
  node_options.join_existing = config.initial_cluster_state == "existing";
  // The addresses go into the cluster id too (replica::ClusterIdSeed).
  node_options.cluster_token =
      replica::ClusterIdSeed(config.initial_cluster_token, node_options.peers);
  node_options.tick_ms = config.tick_ms;
  node_options.election_ticks = config.election_ticks;
  node_options.heartbeat_ticks = config.heartbeat_ticks;
  node_options.snapshot_threshold = config.snapshot_threshold;
  node_options.sync = config.sync;
  node_options.lease_reads = config.lease_reads;
  node_options.io_threads = config.io_threads;
  node_options.hash_check_interval_ms = config.corrupt_check_interval_ms;
  node_options.hash_check_at_start = config.initial_corrupt_check;

  txn::TxnNodeOptions txn_options;
  txn_options.watch.watcher_max_events = config.watch_buffer_events;
  txn_options.watch.watcher_max_bytes = config.watch_buffer_bytes;
  auto node = txn::TxnNode::Open(node_options, txn_options);
  if (!node.ok()) return node.status();
  impl->node = std::move(node).value();
  // Validated by ValidateServerConfig: parses.
  const std::chrono::milliseconds retention = AutoCompactionRetention(config).value();
  if (retention.count() > 0) {
    txn::AutoCompactionOptions ac;
    ac.retention = retention;
    impl->compactor = std::make_unique<txn::AutoCompactor>(impl->node.get(), ac,
                                                           logging::Get("compactor"));
  }
  const net::HostPort peer_hp = net::ParseHostPort(AddressOf(config.listen_peer)).value();
  impl->peer_address = net::HostPort{peer_hp.host, impl->node->peer_port()}.ToString();

  const net::HostPort client_hp = net::ParseHostPort(AddressOf(config.listen_client)).value();
  net::ServerOptions rpc_options;
  rpc_options.host = client_hp.host;
  rpc_options.port = client_hp.port;
  rpc_options.io_threads = config.io_threads;
  rpc_options.tls = ClientPortTls(config);
  auto rpc = net::RpcServer::Create(rpc_options);
  if (!rpc.ok()) {
    impl->node->Stop();
    return rpc.status();
  }
  impl->rpc = std::move(rpc).value();
  client::ServiceOptions service_options;
  service_options.advertise_client_address = AddressOf(config.listen_client);
  service_options.default_timeout_ms = config.request_timeout_ms;
  if (!config.initial_cluster_client.empty()) {
    TINYKV_ASSIGN_OR_RETURN(
        service_options.member_client_addresses,
        ParseInitialCluster(config.initial_cluster_client, "--initial-cluster-client"));
  }
  replica::KvNode* node_ptr = impl->node.get();
  // Scrapes end (the HTTP server stops) before the compactor goes: Shutdown.
  auto mvcc_status = [txn = impl->node.get(), compactor = impl->compactor.get()] {
    const txn::WatchHubStats w = txn->watch_hub().stats();
    MvccStatus m;
    m.watchers = w.watchers;
    m.watch_queued_bytes = w.queued_bytes;
    m.slow_watchers_ended = w.slow_ended;
    m.leases = txn->applied_lease_count();
    m.compacted_revision = txn->compacted_revision();
    m.auto_compactions = compactor != nullptr ? compactor->compactions() : 0;
    return m;
  };
  impl->metrics = std::make_shared<ServerMetrics>([node_ptr] { return node_ptr->GetStatus(); },
                                                  TINYKV_VERSION, std::move(mvcc_status));
  service_options.on_request_done = [metrics = impl->metrics](std::string_view method,
                                                              const Status& s,
                                                              std::chrono::nanoseconds elapsed) {
    metrics->ObserveRequest(method, s, elapsed);
  };
  client::RegisterKvService(*impl->rpc, *impl->node, service_options);
  RegisterAdmin(*impl->rpc, impl.get());
  if (Status s = impl->rpc->Start(); !s.ok()) {
    impl->node->Stop();
    return Status::FromCode(static_cast<int>(s.code()),
                            "--listen-client " + config.listen_client + ": " +
                                std::string(s.message()));
  }
  impl->client_address = impl->rpc->address();
  if (!config.listen_metrics.empty()) {
    const net::HostPort hp = net::ParseHostPort(config.listen_metrics).value();
    HttpServerOptions http_options;
    http_options.host = hp.host;
    http_options.port = hp.port;
    MonitoringContext context;
    context.status = [node_ptr] { return node_ptr->GetStatus(); };
    context.metrics = impl->metrics.get();
    context.version = TINYKV_VERSION;
    context.cluster_id = impl->node->identity().cluster_id;
    context.start_commit_index = impl->node->GetStatus().commit_index;
    auto http = HttpServer::Start(http_options, MonitoringRoutes(std::move(context)));
    if (!http.ok()) {
      impl->rpc->Shutdown(std::chrono::milliseconds(0));
      impl->node->Stop();
      return Status::FromCode(static_cast<int>(http.status().code()),
                              "--listen-metrics " + config.listen_metrics + ": " +
                                  std::string(http.status().message()));
    }
    impl->http = std::move(http).value();
  }
  if (!config.listen_etcd.empty()) {
    etcd::EtcdApiOptions etcd_options;
    etcd_options.listen = config.listen_etcd;
    etcd_options.client.endpoints = {impl->client_address};
    auto etcd = etcd::EtcdApiServer::Start(std::move(etcd_options));
    if (!etcd.ok()) {
      if (impl->http) impl->http->Stop();
      impl->rpc->Shutdown(std::chrono::milliseconds(0));
      impl->node->Stop();
      return Status::FromCode(static_cast<int>(etcd.status().code()),
                              "--listen-etcd " + config.listen_etcd + ": " +
                                  std::string(etcd.status().message()));
    }
    impl->etcd = std::move(etcd).value();
  }
  logging::Log(impl->log, spdlog::level::info, "started",
               {{"node", config.id},
                {"cluster", fmt::format("{:016x}", impl->node->identity().cluster_id)},
                {"client", impl->client_address},
                {"peer", impl->peer_address},
                {"client_tls", std::string(TlsMode(config.cert_file, config.client_cert_auth))},
                {"peer_tls",
                 std::string(TlsMode(config.peer_cert_file, config.peer_client_cert_auth))},
                {"metrics", impl->http ? impl->http->address() : std::string("off")},
                {"etcd_api", impl->etcd ? config.listen_etcd : std::string("off")},
                {"data_dir", config.data_dir},
                {"cluster_size", node_options.peers.size()},
                {"tick_ms", config.tick_ms},
                {"election_ticks", config.election_ticks},
                {"fault_injection", config.enable_fault_injection},
                {"corrupt_check_interval_ms", config.corrupt_check_interval_ms},
                {"auto_compaction_retention_ms", retention.count()},
                {"initial_corrupt_check", config.initial_corrupt_check}});
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Shutdown(); }

std::string Server::client_address() const { return impl_->client_address; }
std::string Server::peer_address() const { return impl_->peer_address; }

void Server::Shutdown() {
  std::lock_guard<std::mutex> lock(impl_->shutdown_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  auto& log = impl_->log;
  const uint64_t id = impl_->config.id;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
  };
  const auto info = spdlog::level::info;

  // 1. Hand leadership over while the client port still answers, so clients
  // are redirected by NotLeader hints instead of meeting a dead leader.
  const replica::KvNodeStatus st = impl_->node->GetStatus();
  if (st.role == "leader" && st.members.size() > 1) {
    const auto timeout = std::chrono::milliseconds(
        std::max(1000, 4 * impl_->config.election_ticks * impl_->config.tick_ms));
    Status s = impl_->node->TransferLeadership(0, timeout);
    if (s.ok()) {
      const replica::KvNodeStatus after = impl_->node->GetStatus();
      logging::Log(log, info, "shutdown step=transfer-leadership ok",
                   {{"node", id},
                    {"new_leader", after.leader},
                    {"new_term", after.term},
                    {"took_ms", elapsed().count()}});
    } else {
      logging::Log(log, spdlog::level::warn, "shutdown step=transfer-leadership failed",
                   {{"node", id}, {"error", s.ToString()}, {"took_ms", elapsed().count()}});
    }
  } else {
    logging::Log(log, info, "shutdown step=transfer-leadership skipped",
                 {{"node", id}, {"role", st.role}});
  }

  // 2. End the watch streams (they never end by themselves; their clients
  // resume on the new leader), stop accepting and drain the calls in flight.
  impl_->node->watch_hub().Close(Status::Unavailable("server is shutting down"));
  if (impl_->etcd) impl_->etcd->Stop();  // its calls go through the client port
  impl_->rpc->Shutdown(std::chrono::milliseconds(impl_->config.shutdown_drain_ms));
  logging::Log(log, info, "shutdown step=drain done", {{"node", id}, {"took_ms", elapsed().count()}});

  // 3. Stop Raft and close the engine (acknowledged writes are already durable).
  // The monitoring port answers until here: /health shows the transfer.
  if (impl_->http) impl_->http->Stop();  // first: a scrape reads the compactor
  impl_->compactor.reset();  // its pass in progress ends first
  impl_->node->Stop();
  logging::Log(log, info, "shutdown step=stop done", {{"node", id}, {"took_ms", elapsed().count()}});
  log->flush();
}

}  // namespace tinykv::prod
