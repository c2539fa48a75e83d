// KvNodeImpl: KvNode (kv_node.h) as a typed facade over a Replica running a
// KvStateMachine: commands are encoded into the replica's opaque commands
// and results decoded from its opaque results.
#include "tinykv/replica/kv_node.h"

#include <future>

#include "tinykv/replica/data_dir.h"
#include "tinykv/replica/kv_state_machine.h"
#include "tinykv/replica/replica.h"

namespace tinykv::replica {

Result<KvCommandResult> KvNode::ProposeSync(KvCommand cmd, std::chrono::milliseconds timeout) {
  auto p = std::make_shared<std::promise<Result<KvCommandResult>>>();
  auto f = p->get_future();
  Propose(std::move(cmd), timeout, [p](Result<KvCommandResult> r) { p->set_value(std::move(r)); });
  return f.get();
}

Status KvNode::ReadBarrierSync(std::chrono::milliseconds timeout) {
  auto p = std::make_shared<std::promise<Status>>();
  auto f = p->get_future();
  ReadBarrier(timeout, [p](Status s) { p->set_value(std::move(s)); });
  return f.get();
}

Status KvNode::DisarmNoSpaceSync() {
  auto p = std::make_shared<std::promise<Status>>();
  auto f = p->get_future();
  DisarmNoSpace([p](Status s) { p->set_value(std::move(s)); });
  return f.get();
}

Result<MemberChangeResult> KvNode::ProposeMemberChangeSync(MemberChange change,
                                                           std::chrono::milliseconds timeout) {
  auto p = std::make_shared<std::promise<Result<MemberChangeResult>>>();
  auto f = p->get_future();
  ProposeMemberChange(std::move(change), timeout,
                      [p](Result<MemberChangeResult> r) { p->set_value(std::move(r)); });
  return f.get();
}

Result<HashCheckReport> KvNode::CheckStateHashSync(std::chrono::milliseconds timeout) {
  auto p = std::make_shared<std::promise<Result<HashCheckReport>>>();
  auto f = p->get_future();
  CheckStateHash(timeout, [p](Result<HashCheckReport> r) { p->set_value(std::move(r)); });
  return f.get();
}

namespace {

class KvNodeImpl final : public ReplicaKvNode {
 public:
  explicit KvNodeImpl(ReplicaParts parts)
      : ReplicaKvNode(std::move(parts)),
        sm_(static_cast<KvStateMachine*>(&replica().state_machine())) {}

  void Propose(KvCommand cmd, std::chrono::milliseconds timeout,
               std::function<void(Result<KvCommandResult>)> done) override {
    replica().Propose(EncodeKvCommand(cmd), timeout,
                      [done = std::move(done)](Result<std::string> r) {
                        if (!r.ok()) {
                          done(r.status());
                          return;
                        }
                        KvCommandResult res;
                        Slice in(*r);
                        if (!DecodeKvCommandResult(&in, &res) || !in.empty()) {
                          done(Status::Corruption("kv node: undecodable command result"));
                          return;
                        }
                        done(std::move(res));
                      });
  }
  Result<std::optional<std::string>> Get(const std::string& key) override {
    TINYKV_RETURN_IF_ERROR(replica().Alarm());
    return sm_->Get(key);
  }
  Result<std::vector<std::pair<std::string, std::string>>> Scan(const std::string& start,
                                                                const std::string& end,
                                                                size_t limit) override {
    TINYKV_RETURN_IF_ERROR(replica().Alarm());
    return sm_->Scan(start, end, limit);
  }

 private:
  KvStateMachine* sm_;  // owned by the replica
};

}  // namespace

Result<ReplicaParts> OpenReplicaParts(const KvNodeOptions& options,
                                      const OpenStateMachineFn& open_sm) {
  if (options.id == 0) return Status::InvalidArgument("node id must be >= 1");
  if (options.data_dir.empty()) return Status::InvalidArgument("data_dir is required");
  if (!options.peers.count(options.id))
    return Status::InvalidArgument("peers must include this node's id");
  // Whose data dir this is (data_dir.h "Identity"). Only a brand-new data
  // dir of a new cluster learns its cluster id here; later starts check the
  // member id (the flags that named the initial cluster may have changed
  // since, as etcd ignores them once a member is bootstrapped).
  std::error_code ec;
  const bool fresh = !std::filesystem::exists(options.data_dir / "identity", ec) &&
                     !IsSingleGroupLayout(options.data_dir) &&
                     !std::filesystem::exists(options.data_dir / "groups", ec);
  uint64_t cluster_id = options.cluster_id;
  if (cluster_id == 0 && fresh && !options.join_existing) {
    std::vector<uint64_t> ids;
    for (const auto& [id, addr] : options.peers) ids.push_back(id);
    cluster_id = ComputeClusterId(std::move(ids), options.cluster_token);
  }
  ReplicaParts parts;
  TINYKV_ASSIGN_OR_RETURN(parts.identity,
                          CheckIdentity(options.data_dir, options.id, cluster_id, options.env));
  parts.host = options.host;
  if (parts.host == nullptr) {
    PeerHostOptions ho;
    ho.node_id = options.id;
    ho.listen = options.peer_listen;
    ho.io_threads = options.io_threads;
    ho.cluster_id = parts.identity.cluster_id;  // 0 (a joined member): hellos not checked
    ho.server_tls = options.peer_server_tls;
    ho.client_tls = options.peer_client_tls;
    TINYKV_ASSIGN_OR_RETURN(parts.own_host, PeerHost::Start(ho));
    parts.host = parts.own_host.get();
  } else if (parts.host->node_id() != options.id) {
    return Status::InvalidArgument("the shared peer host is node " +
                                   std::to_string(parts.host->node_id()) + ", not " +
                                   std::to_string(options.id));
  }
  const std::filesystem::path dir = GroupDir(options.data_dir, options.group);
  auto sm = open_sm(dir);
  if (!sm.ok()) {
    if (parts.own_host) parts.own_host->Stop();
    return sm.status();
  }
  ReplicaOptions ro;
  ro.group = options.group;
  ro.dir = dir;
  ro.peers = options.peers;
  ro.address_book_wins = options.address_book_wins;
  ro.join_existing = options.join_existing;
  ro.tick_ms = options.tick_ms;
  ro.election_ticks = options.election_ticks;
  ro.heartbeat_ticks = options.heartbeat_ticks;
  ro.snapshot_threshold = options.snapshot_threshold;
  ro.sync = options.sync;
  ro.lease_reads = options.lease_reads;
  ro.hash_check_interval_ms = options.hash_check_interval_ms;
  ro.hash_check_at_start = options.hash_check_at_start;
  ro.hash_check_timeout_ms = options.hash_check_timeout_ms;
  ro.clock = options.clock;
  ro.env = options.env;
  ro.TEST_on_send = options.TEST_on_send;
  auto replica = Replica::Open(ro, parts.host, std::move(sm).value());
  if (!replica.ok()) {
    if (parts.own_host) parts.own_host->Stop();
    return replica.status();
  }
  parts.replica = std::move(replica).value();
  return parts;
}

Result<std::unique_ptr<KvNode>> KvNode::Open(const KvNodeOptions& options) {
  TINYKV_ASSIGN_OR_RETURN(
      ReplicaParts parts,
      OpenReplicaParts(options, [&](const std::filesystem::path& dir)
                                    -> Result<std::unique_ptr<StateMachine>> {
        TINYKV_ASSIGN_OR_RETURN(auto sm, KvStateMachine::Open(dir / "kv", options.env));
        return std::unique_ptr<StateMachine>(std::move(sm));
      }));
  return std::unique_ptr<KvNode>(new KvNodeImpl(std::move(parts)));
}

}  // namespace tinykv::replica
