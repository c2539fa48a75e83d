// LocalCluster: KvNodes plus client services in one process (local_cluster.h).
#include "tinykv/client/local_cluster.h"

#include <algorithm>
#include <future>
#include <thread>

#include "tinykv/client/service.h"

namespace tinykv::client {

using namespace std::chrono_literals;

Result<std::unique_ptr<LocalCluster>> LocalCluster::Start(LocalClusterOptions options) {
  if (options.n < 1) return Status::InvalidArgument("local cluster: n must be >= 1");
  if (options.data_dir.empty()) return Status::InvalidArgument("local cluster: data_dir needed");
  std::unique_ptr<LocalCluster> c(new LocalCluster(std::move(options)));
  std::lock_guard<std::mutex> l(c->mu_);
  for (int i = 1; i <= c->options_.n; ++i) c->members_[static_cast<uint64_t>(i)];
  for (int i = 1; i <= c->options_.n; ++i) {
    Status s = c->StartLocked(static_cast<uint64_t>(i));
    if (!s.ok()) {
      for (auto& [id, m] : c->members_) c->StopLocked(id);
      return s;
    }
  }
  return c;
}

LocalCluster::~LocalCluster() { Close(); }

void LocalCluster::Close() {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [id, m] : members_) StopLocked(id);
}

std::string LocalCluster::ResolveClientAddress(uint64_t id) const {
  std::lock_guard<std::mutex> l(addr_mu_);
  auto it = client_ports_.find(id);
  return it == client_ports_.end() ? "" : "127.0.0.1:" + std::to_string(it->second);
}

Status LocalCluster::StartLocked(uint64_t id) {
  Member& m = members_.at(id);
  if (m.node) return Status::OK();
  replica::KvNodeOptions no;
  no.id = id;
  no.data_dir = options_.data_dir / ("n" + std::to_string(id));
  for (auto& [pid, pm] : members_) no.peers[pid] = pm.peer_address;  // "" until known
  no.tick_ms = options_.tick_ms;
  no.election_ticks = options_.election_ticks;
  no.snapshot_threshold = options_.snapshot_threshold;
  no.sync = options_.sync;
  no.io_threads = options_.io_threads;
  no.join_existing = m.join;  // ignored once its data dir holds state
  txn::TxnNodeOptions to;
  to.watch = options_.watch;
  TINYKV_ASSIGN_OR_RETURN(m.node, txn::TxnNode::Open(no, to));
  m.peer_address = "127.0.0.1:" + std::to_string(m.node->peer_port());
  for (auto& [pid, pm] : members_) {
    if (pid != id && pm.node) pm.node->SetPeerAddress(id, m.peer_address);
  }

  net::ServerOptions so;
  so.host = "127.0.0.1";
  so.port = m.client_port;  // 0 the first time; the same port on restart
  so.io_threads = options_.io_threads;
  auto server = net::RpcServer::Create(so);
  Status s = server.status();
  if (s.ok()) {
    ServiceOptions svc;
    svc.resolve_client_address = [this](uint64_t member) { return ResolveClientAddress(member); };
    RegisterKvService(**server, *m.node, svc);
    s = (*server)->Start();
    // A restart may race the old socket's release: retry the same port briefly.
    for (int i = 0; !s.ok() && m.client_port != 0 && i < 50; ++i) {
      std::this_thread::sleep_for(20ms);
      server = net::RpcServer::Create(so);
      if (!server.ok()) break;
      RegisterKvService(**server, *m.node, svc);
      s = (*server)->Start();
    }
  }
  if (!s.ok()) {
    m.node->Stop();
    m.node.reset();
    return s.WithContext("local cluster: client server of member " + std::to_string(id));
  }
  m.server = std::move(server).value();
  m.client_port = m.server->port();
  {
    std::lock_guard<std::mutex> l(addr_mu_);
    client_ports_[id] = m.client_port;
  }
  ApplyPartitionLocked();
  return Status::OK();
}

void LocalCluster::StopLocked(uint64_t id) {
  Member& m = members_.at(id);
  // Order (service.h): end the watch streams (their clients resume on
  // another member), stop accepting and drain, stop the node (in-flight
  // proposals answer Cancelled into the stopped io contexts), then destroy.
  if (m.node) m.node->watch_hub().Close(Status::Unavailable("server is shutting down"));
  if (m.server) m.server->Shutdown(1s);
  if (m.node) m.node->Stop();
  m.server.reset();
  m.node.reset();
}

Status LocalCluster::Compact(uint64_t revision, std::chrono::milliseconds timeout) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [id, m] : members_) {
    if (!m.node || m.node->GetStatus().role != "leader") continue;
    std::promise<Status> p;
    m.node->Compact(revision, timeout,
                    [&p](Result<txn::CompactResult> r) { p.set_value(r.status()); });
    return p.get_future().get();
  }
  return Status::Unavailable("local cluster: no leader to compact");
}

Status LocalCluster::StopNode(uint64_t id) {
  std::lock_guard<std::mutex> l(mu_);
  if (!members_.count(id)) return Status::InvalidArgument("no member " + std::to_string(id));
  StopLocked(id);
  return Status::OK();
}

Status LocalCluster::StartNode(uint64_t id) {
  std::lock_guard<std::mutex> l(mu_);
  if (!members_.count(id)) return Status::InvalidArgument("no member " + std::to_string(id));
  return StartLocked(id);
}

Status LocalCluster::AddNode(uint64_t id) {
  std::lock_guard<std::mutex> l(mu_);
  if (id == 0) return Status::InvalidArgument("member id must be >= 1");
  if (members_.count(id)) return Status::AlreadyExists("member " + std::to_string(id) + " exists");
  members_[id].join = true;
  Status s = StartLocked(id);
  if (!s.ok()) members_.erase(id);
  return s;
}

std::string LocalCluster::PeerAddress(uint64_t id) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = members_.find(id);
  return it == members_.end() ? "" : it->second.peer_address;
}

std::vector<std::string> LocalCluster::endpoints() const {
  std::vector<std::string> out;
  std::lock_guard<std::mutex> l(addr_mu_);
  for (auto& [id, port] : client_ports_) out.push_back("127.0.0.1:" + std::to_string(port));
  return out;
}

std::string LocalCluster::endpoint(uint64_t id) const { return ResolveClientAddress(id); }

std::vector<uint64_t> LocalCluster::Running() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<uint64_t> out;
  for (auto& [id, m] : members_) {
    if (m.node) out.push_back(id);
  }
  return out;
}

uint64_t LocalCluster::Leader() {
  std::lock_guard<std::mutex> l(mu_);
  uint64_t best = 0, best_term = 0;
  for (auto& [id, m] : members_) {
    if (!m.node) continue;
    replica::KvNodeStatus st = m.node->GetStatus();
    if (st.role == "leader" && st.term >= best_term) {
      best = id;
      best_term = st.term;
    }
  }
  return best;
}

Result<uint64_t> LocalCluster::WaitForLeader(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    uint64_t leader = Leader();
    if (leader != 0) return leader;
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Timeout("local cluster: no leader elected");
    }
    std::this_thread::sleep_for(10ms);
  }
}

void LocalCluster::Partition(const std::vector<std::vector<uint64_t>>& groups) {
  std::lock_guard<std::mutex> l(mu_);
  groups_ = groups;
  ApplyPartitionLocked();
}

void LocalCluster::Heal() {
  std::lock_guard<std::mutex> l(mu_);
  groups_.clear();
  ApplyPartitionLocked();
}

void LocalCluster::SetDropProbability(double p) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [id, m] : members_) {
    if (m.node) m.node->SetDropProbability(p);
  }
}

void LocalCluster::ApplyPartitionLocked() {
  for (auto& [id, m] : members_) {
    if (!m.node) continue;
    std::set<uint64_t> dropped;
    if (!groups_.empty()) {
      const std::vector<uint64_t>* mine = nullptr;
      for (const auto& g : groups_) {
        if (std::find(g.begin(), g.end(), id) != g.end()) mine = &g;
      }
      for (auto& [other, om] : members_) {
        if (other == id) continue;
        if (!mine || std::find(mine->begin(), mine->end(), other) == mine->end()) {
          dropped.insert(other);
        }
      }
    }
    m.node->SetDroppedPeers(std::move(dropped));
  }
}

}  // namespace tinykv::client
