// KvNodeImpl: the node driver. One io_context run by one thread is the
// "strand" that owns the RawNode, the DiskStorage writes and the state
// machine writes; the peer server and the peer client run on their own io
// threads and only post into it.
//
// Per Ready (ready.h contract): persist (snapshot, entries + hard state with
// ONE fdatasync) -> send messages -> apply snapshot and committed entries ->
// serve read states -> Advance. Proposals are matched to their entries by a
// proposal id carried in the entry (see kv_state_machine.h), so a proposal
// whose index was overwritten by another leader's entry fails with Aborted.
#include <random>
#include <utility>  // before Asio

#include "tinykv/raft/kv_node.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "peer_protocol.h"
#include "tinykv/common/check.h"
#include "tinykv/common/logging.h"
#include "tinykv/common/random.h"
#include "tinykv/net/client.h"
#include "tinykv/net/server.h"
#include "tinykv/raft/codec.h"
#include "tinykv/raft/disk_storage.h"
#include "tinykv/raft/kv_state_machine.h"
#include "tinykv/raft/raw_node.h"

namespace tinykv::raft {

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

Result<MemberChangeResult> KvNode::ProposeMemberChangeSync(MemberChange change,
                                                           std::chrono::milliseconds timeout) {
  auto p = std::make_shared<std::promise<Result<MemberChangeResult>>>();
  auto f = p->get_future();
  ProposeMemberChange(std::move(change), timeout,
                      [p](Result<MemberChangeResult> r) { p->set_value(std::move(r)); });
  return f.get();
}

namespace {

namespace fs = std::filesystem;
namespace asio = net::asio;
using net::awaitable;
using Clock = std::chrono::steady_clock;
using namespace internal;  // NOLINT: peer protocol types

Result<std::pair<std::string, uint16_t>> SplitHostPort(const std::string& addr) {
  auto pos = addr.rfind(':');
  if (pos == std::string::npos) return Status::InvalidArgument("bad address " + addr);
  int port = 0;
  try {
    port = std::stoi(addr.substr(pos + 1));
  } catch (...) {
    return Status::InvalidArgument("bad port in " + addr);
  }
  if (port < 0 || port > 65535) return Status::InvalidArgument("bad port in " + addr);
  return std::make_pair(addr.substr(0, pos), static_cast<uint16_t>(port));
}

std::string SnapDirName(uint64_t index, uint64_t term) {
  return std::to_string(index) + "-" + std::to_string(term);
}

Status SyncPath(const fs::path& p, bool dir) {
  int fd = ::open(p.c_str(), dir ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) return Status::IOError("open " + p.string());
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::OK() : Status::IOError("fsync " + p.string());
}

class KvNodeImpl final : public KvNode {
 public:
  explicit KvNodeImpl(KvNodeOptions o)
      : opts_(std::move(o)),
        log_(logging::Get("raft.node")),
        work_(asio::make_work_guard(io_)),
        timer_(io_),
        rng_(opts_.id * 0x9e3779b97f4a7c15ull ^
             static_cast<uint64_t>(Clock::now().time_since_epoch().count())) {
    epoch_ = (rng_.Next() & 0xffffffffull) << 32;
  }
  ~KvNodeImpl() override { Stop(); }

  Status Init();

  void Propose(KvCommand cmd, std::chrono::milliseconds timeout,
               std::function<void(Result<KvCommandResult>)> done) override;
  void ProposeMemberChange(MemberChange change, std::chrono::milliseconds timeout,
                           std::function<void(Result<MemberChangeResult>)> done) override;
  void ReadBarrier(std::chrono::milliseconds timeout, std::function<void(Status)> done) override;
  Result<std::optional<std::string>> Get(const std::string& key) override { return sm_->Get(key); }
  Result<std::vector<std::pair<std::string, std::string>>> Scan(const std::string& start,
                                                                const std::string& end,
                                                                size_t limit) override {
    return sm_->Scan(start, end, limit);
  }
  KvNodeStatus GetStatus() override;
  uint16_t peer_port() const override { return port_; }
  void SetPeerAddress(uint64_t id, std::string address) override {
    std::lock_guard<std::mutex> l(peers_mu_);
    peers_[id].addr = std::move(address);
  }
  Status TransferLeadership(uint64_t to, std::chrono::milliseconds timeout) override;
  void SetDroppedPeers(std::set<uint64_t> peers) override {
    std::lock_guard<std::mutex> l(peers_mu_);
    dropped_ = std::move(peers);
  }
  void SetDropProbability(double p) override {
    std::lock_guard<std::mutex> l(peers_mu_);
    drop_p_ = p;
  }
  void Stop() override;

 private:
  struct PendingProposal {
    std::function<void(Result<KvCommandResult>)> done;
    Clock::time_point deadline;
    uint64_t index = 0;  // 0 until its entry is appended locally
  };
  struct PendingRead {
    std::function<void(Status)> done;
    Clock::time_point deadline;
    uint64_t index = 0;
    bool confirmed = false;
  };
  struct Peer {
    std::string addr;
    std::deque<std::string> queue;  // encoded messages
    size_t bytes = 0;
    bool sending = false;
    bool has_snap = false;  // a MsgSnap is queued (report its outcome)
  };

  // All of these run on the driver thread.
  void ArmTimer();
  void OnTick();
  void ScheduleReady();
  void HandleReady();
  void ApplyEntries(const std::vector<Entry>& ents);
  void InstallSnapshot(const Snapshot& snap);
  // Takes a snapshot when snapshot_threshold entries applied since the last
  // one, or at once with force.
  void MaybeSnapshot(bool force = false);
  void CompleteReads();
  void SweepTimeouts();
  void CancelAll();
  std::string LeaderHint() const;
  // Runs body(done) on the driver thread if the node is running and leader
  // there; otherwise completes `done` with Cancelled or NotLeader. The
  // preamble of every call that only a leader serves.
  template <typename Done, typename Body>
  void OnDriverAsLeader(Done done, Body body) {
    std::unique_lock<std::mutex> guard(post_mu_);
    if (stopped_) {
      guard.unlock();
      done(Status::Cancelled("node stopped"));
      return;
    }
    asio::post(io_, [this, done = std::move(done), body = std::move(body)]() mutable {
      if (stopping_) {
        done(Status::Cancelled("node stopped"));
        return;
      }
      if (role_ != static_cast<int>(StateRole::kLeader)) {
        done(Status::NotLeader(LeaderHint()));
        return;
      }
      body(std::move(done));
    });
  }
  Status BootstrapLog();
  Result<ConfChangeV2> CheckMemberChange(const MemberChange& ch);
  // Adopts the replicated address book: fills unknown peer addresses (and
  // `fresh_id`'s, the member a conf change just added, unconditionally).
  void AdoptAddressBook(const std::map<uint64_t, MemberAddress>& book, uint64_t fresh_id);
  std::vector<MemberInfo> Members();

  // Transport.
  void Send(std::vector<Message> msgs);
  awaitable<void> SendLoop(uint64_t peer);
  awaitable<Result<RaftBatchResponse>> OnBatch(RaftBatchRequest req);
  awaitable<Status> OnFetchSnapshot(FetchSnapshotRequest req, net::ServerWriter<SnapshotChunk>& w);
  awaitable<Status> FetchSnapshot(uint64_t from, const Snapshot& snap);
  bool DropFromTo(uint64_t peer);

  const KvNodeOptions opts_;
  std::shared_ptr<spdlog::logger> log_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::steady_timer timer_;
  std::thread thread_;
  std::unique_ptr<DiskStorage> storage_;
  std::unique_ptr<KvStateMachine> sm_;
  std::unique_ptr<RawNode> raw_;
  std::unique_ptr<net::RpcServer> server_;
  std::unique_ptr<net::RpcClient> client_;
  uint16_t port_ = 0;

  // Driver-thread state.
  bool ready_scheduled_ = false;
  bool stopping_ = false;
  uint64_t epoch_ = 0;
  uint64_t next_pid_ = 1;
  uint64_t next_read_ = 1;
  std::unordered_map<uint64_t, PendingProposal> proposals_;
  std::map<uint64_t, uint64_t> index_to_pid_;
  std::map<std::string, PendingRead> reads_;
  uint64_t snap_index_ = 0;

  // Observed from any thread. stopped_ is set under post_mu_, and client
  // requests are posted under it, so none is posted after Stop drained the queue.
  std::mutex post_mu_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> fetching_{false};  // a snapshot fetch is running
  std::atomic<uint64_t> leader_{0}, term_{0}, commit_{0}, applied_{0};
  std::atomic<int> role_{0};
  mutable std::mutex conf_mu_;
  ConfState conf_;

  mutable std::mutex peers_mu_;
  std::map<uint64_t, Peer> peers_;
  std::map<uint64_t, MemberAddress> book_;  // replicated address book (copy of sm_->members())
  std::set<uint64_t> dropped_;
  double drop_p_ = 0;
  Random rng_;  // under peers_mu_ after construction
};

Status KvNodeImpl::Init() {
  if (opts_.id == 0) return Status::InvalidArgument("node id must be >= 1");
  if (opts_.data_dir.empty()) return Status::InvalidArgument("data_dir is required");
  if (!opts_.peers.count(opts_.id))
    return Status::InvalidArgument("peers must include this node's id");
  std::error_code ec;
  fs::create_directories(opts_.data_dir / "snap", ec);
  if (ec) return Status::IOError("create " + opts_.data_dir.string() + ": " + ec.message());
  DiskStorageOptions so;
  so.sync = opts_.sync;
  TINYKV_ASSIGN_OR_RETURN(storage_, DiskStorage::Open(opts_.data_dir / "raft", so));
  TINYKV_ASSIGN_OR_RETURN(sm_, KvStateMachine::Open(opts_.data_dir / "kv"));
  if (storage_->IsEmpty() && !opts_.join_existing) TINYKV_RETURN_IF_ERROR(BootstrapLog());
  TINYKV_ASSIGN_OR_RETURN(Snapshot snap, storage_->GetSnapshot());
  snap_index_ = snap.metadata.index;
  if (snap.metadata.index > sm_->applied_index()) {
    // Crashed after persisting a received snapshot but before installing it.
    fs::path dir = opts_.data_dir / "snap" / SnapDirName(snap.metadata.index, snap.metadata.term);
    if (!fs::exists(dir))
      return Status::Corruption("raft log has snapshot " + dir.string() +
                                " newer than the state machine, and its files are missing");
    fs::path tmp = opts_.data_dir / "snap" / "installing";
    fs::remove_all(tmp, ec);
    fs::create_directories(tmp);
    for (const auto& de : fs::directory_iterator(dir)) fs::copy_file(de.path(), tmp / de.path().filename());
    TINYKV_RETURN_IF_ERROR(sm_->Install(tmp));
  }
  {
    TINYKV_ASSIGN_OR_RETURN(InitialState is, storage_->GetInitialState());
    std::lock_guard<std::mutex> l(conf_mu_);
    conf_ = sm_->conf_state().value_or(is.conf_state);
    term_ = is.hard_state.term;
    commit_ = is.hard_state.commit;
  }
  applied_ = sm_->applied_index();

  Config c;
  c.id = opts_.id;
  c.election_tick = opts_.election_ticks;
  c.heartbeat_tick = opts_.heartbeat_ticks;
  c.storage = storage_.get();
  // Restart from the snapshot, not from the state machine's applied index:
  // the core must re-apply conf changes after the snapshot (its ConfState comes
  // from the snapshot); entries the state machine already has are skipped.
  c.applied = std::min(sm_->applied_index(), snap_index_);
  c.max_msg_bytes = 512u << 10;
  c.max_inflight_msgs = 256;
  c.max_uncommitted_bytes = 64u << 20;
  c.max_committed_bytes_per_ready = 16u << 20;
  c.random_seed = rng_.Next();
  TINYKV_ASSIGN_OR_RETURN(raw_, RawNode::Create(c));

  for (const auto& [id, addr] : opts_.peers)
    if (id != opts_.id) peers_[id].addr = addr;
  AdoptAddressBook(sm_->members(), 0);

  net::ServerOptions sopt;
  TINYKV_ASSIGN_OR_RETURN(auto hp, SplitHostPort(opts_.peer_listen));
  sopt.host = hp.first;
  sopt.port = hp.second;
  sopt.io_threads = std::max(1, opts_.io_threads);
  TINYKV_ASSIGN_OR_RETURN(server_, net::RpcServer::Create(sopt));
  server_->Register<RaftBatchMethod>(
      [this](RaftBatchRequest r) -> awaitable<Result<RaftBatchResponse>> {
        auto c2 = OnBatch(std::move(r));
        co_return co_await std::move(c2);
      });
  server_->Register<FetchSnapshotMethod>(
      [this](FetchSnapshotRequest r, net::ServerWriter<SnapshotChunk>& w) -> awaitable<Status> {
        auto c2 = OnFetchSnapshot(r, w);
        co_return co_await std::move(c2);
      });
  TINYKV_RETURN_IF_ERROR(server_->Start());
  port_ = server_->port();
  net::ClientOptions copt;
  copt.io_threads = 1;
  copt.connect_timeout = std::chrono::milliseconds(1000);
  TINYKV_ASSIGN_OR_RETURN(client_, net::RpcClient::Create(copt));

  thread_ = std::thread([this] { io_.run(); });
  asio::post(io_, [this] {
    ArmTimer();
    ScheduleReady();
  });
  log_->info("node={} started: peer port {}, applied {}, log [{}, {}]", opts_.id, port_,
             applied_.load(), storage_->FirstIndex(), storage_->LastIndex());
  return Status::OK();
}

// etcd's bootstrap: the log of a new cluster starts with one committed
// AddNode conf change per initial member (term 1, index 1..n), carrying its
// peer address. Every member writes the same entries, so logs match; a node
// that joins later replays them (or gets a snapshot holding their effect) and
// so learns the full configuration and address book. (The older form, a
// ConfState in a bootstrap snapshot at index 0, is still read on restart of
// existing data dirs, but a joiner could not learn it from the log.)
Status KvNodeImpl::BootstrapLog() {
  std::vector<Entry> ents;
  for (const auto& [id, addr] : opts_.peers) {
    ConfChangeV2 cc;
    cc.changes.push_back(ConfChangeSingle{ConfChangeType::kAddNode, id});
    MemberContext mc;
    mc.address.peer = addr;
    cc.context = EncodeMemberContext(mc);
    Entry e;
    e.type = EntryType::kConfChangeV2;
    e.term = 1;
    e.index = ents.size() + 1;
    EncodeConfChange(cc, &e.data);
    ents.push_back(std::move(e));
  }
  HardState hs;
  hs.term = 1;
  hs.commit = ents.size();
  return storage_->Save(hs, ents, /*sync=*/true);
}

void KvNodeImpl::AdoptAddressBook(const std::map<uint64_t, MemberAddress>& book,
                                  uint64_t fresh_id) {
  std::lock_guard<std::mutex> l(peers_mu_);
  book_ = book;
  for (const auto& [id, a] : book) {
    if (id == opts_.id || a.peer.empty()) continue;
    Peer& p = peers_[id];
    if (p.addr.empty() || id == fresh_id) p.addr = a.peer;
  }
}

std::vector<MemberInfo> KvNodeImpl::Members() {
  ConfState cs;
  {
    std::lock_guard<std::mutex> l(conf_mu_);
    cs = conf_;
  }
  std::vector<MemberInfo> out;
  std::lock_guard<std::mutex> l(peers_mu_);
  auto info = [&](uint64_t id, bool learner) {
    MemberInfo m;
    m.id = id;
    m.learner = learner;
    auto b = book_.find(id);
    if (b != book_.end()) m.client_address = b->second.client;
    if (id == opts_.id) {
      m.peer_address = server_ ? server_->address() : std::string();
    } else {
      auto it = peers_.find(id);
      if (it != peers_.end()) m.peer_address = it->second.addr;
    }
    return m;
  };
  for (uint64_t v : cs.voters) out.push_back(info(v, false));
  for (uint64_t v : cs.learners) out.push_back(info(v, true));
  return out;
}

// Validates `ch` against the applied configuration (driver thread, leader).
// The core validates again at propose time and refuses a second change while
// one is pending (Busy).
Result<ConfChangeV2> KvNodeImpl::CheckMemberChange(const MemberChange& ch) {
  if (ch.id == 0) return Status::InvalidArgument("member id must be >= 1");
  ConfState cs;
  {
    std::lock_guard<std::mutex> l(conf_mu_);
    cs = conf_;
  }
  if (!cs.voters_outgoing.empty())
    return Status::Busy("the configuration is joint; retry once it left the joint state");
  auto has = [](const std::vector<uint64_t>& v, uint64_t id) {
    return std::find(v.begin(), v.end(), id) != v.end();
  };
  const bool voter = has(cs.voters, ch.id), learner = has(cs.learners, ch.id);
  const std::string who = "member " + std::to_string(ch.id);
  ConfChangeSingle c;
  c.node_id = ch.id;
  switch (ch.type) {
    case MemberChange::Type::kAddVoter:
    case MemberChange::Type::kAddLearner: {
      if (voter || learner) return Status::AlreadyExists(who + " is already in the configuration");
      if (ch.peer_address.empty()) return Status::InvalidArgument("a new member needs a peer address");
      TINYKV_RETURN_IF_ERROR(SplitHostPort(ch.peer_address).status());
      if (!ch.client_address.empty())
        TINYKV_RETURN_IF_ERROR(SplitHostPort(ch.client_address).status());
      c.type = ch.type == MemberChange::Type::kAddVoter ? ConfChangeType::kAddNode
                                                        : ConfChangeType::kAddLearnerNode;
      break;
    }
    case MemberChange::Type::kPromote: {
      if (voter) return Status::InvalidArgument(who + " is already a voter");
      if (!learner) return Status::NotFound(who + " is not a learner of the configuration");
      // As etcd: only a learner that is in sync with the leader is promoted,
      // so the new quorum does not wait for it to catch up.
      NodeStatus ns = raw_->GetStatus();
      uint64_t mine = 0, theirs = 0;
      for (const PeerStatus& ps : ns.progress) {
        if (ps.id == opts_.id) mine = ps.match;
        if (ps.id == ch.id) theirs = ps.match;
      }
      if (theirs * 10 < mine * 9)
        return Status::Unavailable(who + " is not caught up yet (match " + std::to_string(theirs) +
                                   " of " + std::to_string(mine) + ")");
      c.type = ConfChangeType::kAddNode;
      break;
    }
    case MemberChange::Type::kRemove: {
      if (!voter && !learner) return Status::NotFound(who + " is not in the configuration");
      if (voter && cs.voters.size() == 1) return Status::InvalidArgument("cannot remove the last voter");
      c.type = ConfChangeType::kRemoveNode;
      break;
    }
    default:
      return Status::InvalidArgument("unknown member change type");
  }
  ConfChangeV2 cc;
  cc.changes.push_back(c);
  return cc;
}

void KvNodeImpl::ProposeMemberChange(MemberChange change, std::chrono::milliseconds timeout,
                                     std::function<void(Result<MemberChangeResult>)> on_done) {
  auto deadline = Clock::now() + timeout;
  OnDriverAsLeader(std::move(on_done), [this, ch = std::move(change), deadline](auto done) mutable {
    Result<ConfChangeV2> cc = CheckMemberChange(ch);
    if (!cc.ok()) {
      done(cc.status());
      return;
    }
    const uint64_t pid = epoch_ | next_pid_++;
    MemberContext mc;
    mc.proposal_id = pid;
    if (ch.type == MemberChange::Type::kAddVoter || ch.type == MemberChange::Type::kAddLearner) {
      mc.address.peer = ch.peer_address;
      mc.address.client = ch.client_address;
    }
    cc->context = EncodeMemberContext(mc);
    Status s = raw_->ProposeConfChange(*cc);
    if (!s.ok()) {
      done(s.IsNotLeader() ? Status::NotLeader(LeaderHint()) : s);
      return;
    }
    log_->info("node={} proposed member change type={} id={}", opts_.id,
               static_cast<int>(ch.type), ch.id);
    auto wrapped = [this, done = std::move(done)](Result<KvCommandResult> r) {
      if (!r.ok()) {
        done(r.status());
        return;
      }
      done(MemberChangeResult{r->index, Members()});
    };
    proposals_.emplace(pid, PendingProposal{std::move(wrapped), deadline, 0});
    ScheduleReady();
  });
}

void KvNodeImpl::ArmTimer() {
  timer_.expires_after(std::chrono::milliseconds(opts_.tick_ms));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    OnTick();
    ArmTimer();
  });
}

void KvNodeImpl::OnTick() {
  raw_->Tick();
  SweepTimeouts();
  HandleReady();
}

void KvNodeImpl::ScheduleReady() {
  if (ready_scheduled_) return;
  ready_scheduled_ = true;
  asio::post(io_, [this] {
    ready_scheduled_ = false;
    if (!stopping_) HandleReady();
  });
}

std::string KvNodeImpl::LeaderHint() const {
  uint64_t l = leader_.load();
  std::string s = "leader=" + std::to_string(l);
  if (l != 0 && l != opts_.id) {
    std::lock_guard<std::mutex> g(peers_mu_);
    auto it = peers_.find(l);
    if (it != peers_.end() && !it->second.addr.empty()) s += " addr=" + it->second.addr;
  }
  return s;
}

void KvNodeImpl::Propose(KvCommand cmd, std::chrono::milliseconds timeout,
                         std::function<void(Result<KvCommandResult>)> on_done) {
  auto deadline = Clock::now() + timeout;
  OnDriverAsLeader(std::move(on_done), [this, cmd = std::move(cmd), deadline](auto done) mutable {
    const uint64_t pid = epoch_ | next_pid_++;
    Status s = raw_->Propose(EncodeKvEntry(pid, cmd));
    if (!s.ok()) {
      done(s.IsNotLeader() ? Status::NotLeader(LeaderHint()) : s);
      return;
    }
    proposals_.emplace(pid, PendingProposal{std::move(done), deadline, 0});
    ScheduleReady();
  });
}

void KvNodeImpl::ReadBarrier(std::chrono::milliseconds timeout,
                             std::function<void(Status)> on_done) {
  auto deadline = Clock::now() + timeout;
  OnDriverAsLeader(std::move(on_done), [this, deadline](auto done) mutable {
    std::string ctx = std::to_string(epoch_ | next_read_++);
    reads_.emplace(ctx, PendingRead{std::move(done), deadline, 0, false});
    raw_->ReadIndex(ctx);
    ScheduleReady();
  });
}

void KvNodeImpl::HandleReady() {
  while (!stopping_ && raw_->HasReady()) {
    Ready rd = raw_->GetReady();
    if (rd.soft_state) {
      leader_ = rd.soft_state->lead;
      role_ = static_cast<int>(rd.soft_state->role);
    }
    // 1. Persist.
    if (!rd.snapshot.empty()) {
      Status s = storage_->ApplySnapshot(rd.snapshot);
      TINYKV_CHECK(s.ok()) << "node=" << opts_.id << " persisting snapshot: " << s.ToString();
    }
    Status s = storage_->Save(rd.hard_state, rd.entries, rd.must_sync);
    TINYKV_CHECK(s.ok()) << "node=" << opts_.id << " persisting raft log: " << s.ToString();
    if (rd.hard_state) {
      term_ = rd.hard_state->term;
      commit_ = rd.hard_state->commit;
    }
    if (!proposals_.empty()) {
      for (const Entry& e : rd.entries) {
        uint64_t pid = 0;
        if (e.type == EntryType::kConfChangeV2) {
          auto cc = DecodeConfChange(Slice(e.data));
          if (!cc.ok()) continue;
          auto mc = DecodeMemberContext(Slice(cc->context));
          if (!mc.ok() || !mc->has_value()) continue;
          pid = (*mc)->proposal_id;
        } else {
          if (e.data.size() < 8) continue;
          auto d = DecodeKvEntry(Slice(e.data));
          if (!d.ok()) continue;
          pid = d->first;
        }
        auto it = proposals_.find(pid);
        if (it == proposals_.end()) continue;
        it->second.index = e.index;
        index_to_pid_[e.index] = pid;
      }
    }
    // 2. Send.
    if (!rd.messages.empty()) Send(std::move(rd.messages));
    // 3. Apply.
    if (!rd.snapshot.empty()) InstallSnapshot(rd.snapshot);
    ApplyEntries(rd.committed_entries);
    // 4. Reads.
    for (const ReadState& rs : rd.read_states) {
      auto it = reads_.find(rs.request_ctx);
      if (it == reads_.end()) continue;
      it->second.index = rs.index;
      it->second.confirmed = true;
    }
    for (const std::string& ctx : rd.failed_reads) {
      auto it = reads_.find(ctx);
      if (it == reads_.end()) continue;
      auto done = std::move(it->second.done);
      reads_.erase(it);
      done(Status::NotLeader(LeaderHint()));
    }
    CompleteReads();
    raw_->Advance(rd);
  }
  if (!stopping_) MaybeSnapshot();
}

void KvNodeImpl::ApplyEntries(const std::vector<Entry>& ents) {
  for (const Entry& e : ents) {
    if (e.index <= sm_->applied_index()) {
      // Already in the state machine (replay after restart): only the core's
      // view of the membership needs rebuilding.
      if (e.type == EntryType::kConfChangeV2) {
        auto cc = DecodeConfChange(Slice(e.data));
        TINYKV_CHECK(cc.ok()) << "bad conf change entry at " << e.index;
        raw_->ApplyConfChange(*cc);
      }
      continue;
    }
    uint64_t pid = 0;
    Result<KvCommandResult> result = KvCommandResult{};
    if (e.type == EntryType::kConfChangeV2) {
      auto cc = DecodeConfChange(Slice(e.data));
      TINYKV_CHECK(cc.ok()) << "bad conf change entry at " << e.index;
      auto mc = DecodeMemberContext(Slice(cc->context));
      TINYKV_CHECK(mc.ok()) << "bad member context at " << e.index << ": "
                            << mc.status().ToString();
      ConfState cs = raw_->ApplyConfChange(*cc);
      // The address book follows the configuration: an added member's
      // addresses come from the entry; removed members are dropped.
      std::map<uint64_t, MemberAddress> book = sm_->members();
      uint64_t fresh = 0;
      if (mc->has_value() && cc->changes.size() == 1 &&
          cc->changes[0].type != ConfChangeType::kRemoveNode) {
        const MemberAddress& a = (*mc)->address;
        MemberAddress& slot = book[cc->changes[0].node_id];
        if (!a.peer.empty()) {
          slot.peer = a.peer;
          fresh = cc->changes[0].node_id;
        }
        if (!a.client.empty()) slot.client = a.client;
      }
      std::set<uint64_t> in_conf;
      for (const auto* v : {&cs.voters, &cs.learners, &cs.voters_outgoing, &cs.learners_next})
        in_conf.insert(v->begin(), v->end());
      for (auto it = book.begin(); it != book.end();)
        it = in_conf.count(it->first) ? std::next(it) : book.erase(it);
      Status s = sm_->ApplyConfChange(e.index, e.term, cs, book);
      TINYKV_CHECK(s.ok()) << "applying entry " << e.index << ": " << s.ToString();
      if (mc->has_value()) pid = (*mc)->proposal_id;
      result->index = e.index;
      {
        std::lock_guard<std::mutex> l(conf_mu_);
        conf_ = cs;
      }
      AdoptAddressBook(book, fresh);
      // A new member needs the log from index 1 or a snapshot. If the log was
      // compacted, the latest snapshot predates this entry and does not list
      // the new member, which would ignore it (raft refuses a snapshot whose
      // ConfState does not contain it): take one that does, now (etcd makes
      // the snapshot it sends on demand for the same reason).
      if (fresh != 0 && storage_->FirstIndex() > 1) MaybeSnapshot(/*force=*/true);
      if (cc->changes.size() == 1 && cc->changes[0].type == ConfChangeType::kRemoveNode &&
          cc->changes[0].node_id == opts_.id)
        log_->info("node={} removed from the configuration at index {}", opts_.id, e.index);
    } else if (e.data.empty()) {
      Status s = sm_->ApplyNoop(e.index, e.term, std::nullopt);
      TINYKV_CHECK(s.ok()) << "applying entry " << e.index << ": " << s.ToString();
    } else {
      auto d = DecodeKvEntry(Slice(e.data));
      TINYKV_CHECK(d.ok()) << "undecodable entry at " << e.index << ": " << d.status().ToString();
      pid = d->first;
      result = sm_->Apply(e.index, e.term, d->second);
      TINYKV_CHECK(result.ok()) << "applying entry " << e.index << ": "
                                << result.status().ToString();
    }
    applied_ = e.index;
    // Our proposal that was appended at this index but lost it to another entry.
    for (auto it = index_to_pid_.begin(); it != index_to_pid_.end() && it->first <= e.index;) {
      if (it->second != pid) {
        auto p = proposals_.find(it->second);
        if (p != proposals_.end() && p->second.index == it->first) {
          auto done = std::move(p->second.done);
          proposals_.erase(p);
          done(Status::Aborted("proposal at index " + std::to_string(it->first) +
                               " was overwritten by another leader's entry"));
        }
      }
      it = index_to_pid_.erase(it);
    }
    if (pid != 0) {
      auto p = proposals_.find(pid);
      if (p != proposals_.end()) {
        auto done = std::move(p->second.done);
        proposals_.erase(p);
        done(std::move(result));
      }
    }
  }
  if (!ents.empty()) CompleteReads();
}

void KvNodeImpl::CompleteReads() {
  const uint64_t applied = applied_.load();
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (it->second.confirmed && it->second.index <= applied) {
      auto done = std::move(it->second.done);
      it = reads_.erase(it);
      done(Status::OK());
    } else {
      ++it;
    }
  }
}

void KvNodeImpl::SweepTimeouts() {
  const auto now = Clock::now();
  for (auto it = proposals_.begin(); it != proposals_.end();) {
    if (it->second.deadline <= now) {
      auto done = std::move(it->second.done);
      it = proposals_.erase(it);
      done(Status::Timeout("proposal not applied before the deadline (outcome unknown)"));
    } else {
      ++it;
    }
  }
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (it->second.deadline <= now) {
      auto done = std::move(it->second.done);
      it = reads_.erase(it);
      done(Status::Timeout("read barrier not confirmed before the deadline"));
    } else {
      ++it;
    }
  }
}

void KvNodeImpl::CancelAll() {
  auto props = std::move(proposals_);
  proposals_.clear();
  for (auto& [pid, p] : props) p.done(Status::Cancelled("node stopped"));
  auto reads = std::move(reads_);
  reads_.clear();
  for (auto& [ctx, r] : reads) r.done(Status::Cancelled("node stopped"));
}

// --- snapshots ---------------------------------------------------------------

void KvNodeImpl::MaybeSnapshot(bool force) {
  const uint64_t applied = sm_->applied_index();
  if (applied <= snap_index_) return;
  if (!force &&
      (opts_.snapshot_threshold == 0 || applied < snap_index_ + opts_.snapshot_threshold))
    return;
  const fs::path root = opts_.data_dir / "snap";
  const std::string name = SnapDirName(applied, sm_->applied_term());
  std::error_code ec;
  fs::remove_all(root / (name + ".tmp"), ec);
  Status s = sm_->Checkpoint(root / (name + ".tmp"));
  if (s.ok()) {
    fs::rename(root / (name + ".tmp"), root / name, ec);
    if (ec) s = Status::IOError("rename snapshot dir: " + ec.message());
  }
  if (s.ok()) s = SyncPath(root, true);
  if (!s.ok()) {
    log_->warn("node={} snapshot at {} failed: {}", opts_.id, applied, s.ToString());
    return;
  }
  ConfState cs;
  {
    std::lock_guard<std::mutex> l(conf_mu_);
    cs = conf_;
  }
  // Keep some entries below the snapshot so slightly lagging followers catch
  // up from the log instead of needing the whole snapshot.
  const uint64_t keep = std::min<uint64_t>(opts_.snapshot_threshold / 2, 5000);
  const uint64_t compact = applied > keep ? applied - keep : 0;
  s = storage_->CreateSnapshot(applied, cs, name, compact);
  TINYKV_CHECK(s.ok()) << "recording snapshot: " << s.ToString();
  snap_index_ = applied;
  // Drop older checkpoint directories.
  for (const auto& de : fs::directory_iterator(root)) {
    const std::string f = de.path().filename().string();
    if (f != name && f.find_first_not_of("0123456789-") == std::string::npos) fs::remove_all(de.path(), ec);
  }
  log_->info("node={} snapshot at index {} (log compacted to {})", opts_.id, applied, compact);
}

void KvNodeImpl::InstallSnapshot(const Snapshot& snap) {
  const fs::path dir =
      opts_.data_dir / "snap" / SnapDirName(snap.metadata.index, snap.metadata.term);
  const fs::path tmp = opts_.data_dir / "snap" / "installing";
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  for (const auto& de : fs::directory_iterator(dir, ec)) fs::copy_file(de.path(), tmp / de.path().filename(), ec);
  Status s = sm_->Install(tmp);
  TINYKV_CHECK(s.ok()) << "installing snapshot " << dir.string() << ": " << s.ToString();
  TINYKV_CHECK(sm_->applied_index() == snap.metadata.index)
      << "snapshot " << dir.string() << " holds applied index " << sm_->applied_index();
  applied_ = sm_->applied_index();
  snap_index_ = snap.metadata.index;
  {
    std::lock_guard<std::mutex> l(conf_mu_);
    conf_ = snap.metadata.conf_state;
  }
  AdoptAddressBook(sm_->members(), 0);
  log_->info("node={} installed snapshot at index {}", opts_.id, snap.metadata.index);
}

awaitable<Status> KvNodeImpl::OnFetchSnapshot(FetchSnapshotRequest req,
                                              net::ServerWriter<SnapshotChunk>& w) {
  const fs::path dir = opts_.data_dir / "snap" / SnapDirName(req.index, req.term);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) co_return Status::NotFound("no snapshot " + dir.string());
  std::vector<fs::path> files;
  for (const auto& de : fs::directory_iterator(dir, ec)) files.push_back(de.path());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) co_return Status::IOError("open " + f.string());
    uint64_t off = 0;
    for (;;) {
      SnapshotChunk c;
      c.file = f.filename().string();
      c.offset = off;
      c.data.resize(kSnapshotChunkBytes);
      in.read(c.data.data(), static_cast<std::streamsize>(c.data.size()));
      c.data.resize(static_cast<size_t>(in.gcount()));
      off += c.data.size();
      c.last = in.eof() ? 1 : 0;
      auto wr = w.Write(c);
      Status s = co_await std::move(wr);
      if (!s.ok()) co_return s;
      if (c.last) break;
    }
  }
  co_return Status::OK();
}

awaitable<Status> KvNodeImpl::FetchSnapshot(uint64_t from, const Snapshot& snap) {
  const fs::path root = opts_.data_dir / "snap";
  const std::string name = SnapDirName(snap.metadata.index, snap.metadata.term);
  if (fs::is_directory(root / name)) co_return Status::OK();
  std::string addr;
  {
    std::lock_guard<std::mutex> l(peers_mu_);
    addr = peers_[from].addr;
  }
  const fs::path tmp = root / (name + ".recv");
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) co_return Status::IOError("create " + tmp.string());
  auto files = std::make_shared<std::map<std::string, std::ofstream>>();
  net::CallOptions o;
  o.timeout = std::chrono::milliseconds(60000);
  auto call = client_->CallStream<FetchSnapshotMethod>(
      addr, FetchSnapshotRequest{snap.metadata.index, snap.metadata.term},
      [files, tmp](SnapshotChunk c) -> Status {
        if (c.file.empty() || c.file.find('/') != std::string::npos || c.file == "..")
          return Status::Corruption("bad snapshot file name");
        auto& out = (*files)[c.file];
        if (!out.is_open()) out.open(tmp / c.file, std::ios::binary | std::ios::trunc);
        out.seekp(static_cast<std::streamoff>(c.offset));
        out.write(c.data.data(), static_cast<std::streamsize>(c.data.size()));
        if (!out) return Status::IOError("write " + (tmp / c.file).string());
        if (c.last) out.close();
        return Status::OK();
      },
      o);
  Status s = co_await std::move(call);
  files->clear();
  if (!s.ok()) co_return s;
  for (const auto& de : fs::directory_iterator(tmp, ec)) {
    Status fs_st = SyncPath(de.path(), false);
    if (!fs_st.ok()) co_return fs_st;
  }
  fs::rename(tmp, root / name, ec);
  if (ec) co_return Status::IOError("rename " + tmp.string());
  co_return SyncPath(root, true);
}

// --- transport ---------------------------------------------------------------

bool KvNodeImpl::DropFromTo(uint64_t peer) {
  // REQUIRES: peers_mu_ held.
  if (dropped_.count(peer)) return true;
  return drop_p_ > 0 && rng_.Bernoulli(drop_p_);
}

void KvNodeImpl::Send(std::vector<Message> msgs) {
  std::vector<uint64_t> start;
  {
    std::lock_guard<std::mutex> l(peers_mu_);
    for (Message& m : msgs) {
      if (m.to == opts_.id) continue;
      if (DropFromTo(m.to)) {
        if (m.type == MessageType::kMsgSnap) {
          asio::post(io_, [this, to = m.to] { raw_->ReportSnapshot(to, true); });
        }
        continue;
      }
      Peer& p = peers_[m.to];
      if (p.bytes > (64u << 20)) continue;  // peer far behind: drop, raft retries
      std::string enc;
      EncodeMessage(m, &enc);
      p.bytes += enc.size();
      p.queue.push_back(std::move(enc));
      if (m.type == MessageType::kMsgSnap) p.has_snap = true;
      if (!p.sending) {
        p.sending = true;
        start.push_back(m.to);
      }
    }
  }
  for (uint64_t peer : start) asio::co_spawn(client_->executor(), SendLoop(peer), asio::detached);
}

awaitable<void> KvNodeImpl::SendLoop(uint64_t peer) {
  for (;;) {
    RaftBatchRequest req;
    req.from = opts_.id;
    req.to = peer;
    std::string addr;
    bool snap = false;
    {
      std::lock_guard<std::mutex> l(peers_mu_);
      Peer& p = peers_[peer];
      if (p.queue.empty() || stopped_) {
        p.sending = false;
        p.queue.clear();
        p.bytes = 0;
        co_return;
      }
      size_t bytes = 0;
      while (!p.queue.empty() && (req.messages.empty() || bytes + p.queue.front().size() <= kMaxBatchBytes)) {
        bytes += p.queue.front().size();
        req.messages.push_back(std::move(p.queue.front()));
        p.queue.pop_front();
      }
      p.bytes -= bytes;
      snap = p.has_snap;
      if (p.queue.empty()) p.has_snap = false;
      addr = p.addr;
    }
    if (addr.empty()) continue;  // address unknown: drop
    net::CallOptions o;
    // The receiver of a MsgSnap fetches the checkpoint before answering.
    o.timeout = std::chrono::milliseconds(snap ? 120000 : 3000);
    o.max_attempts = 1;
    auto call = client_->Call<RaftBatchMethod>(addr, std::move(req), o);
    auto r = co_await std::move(call);
    if (stopped_) continue;
    if (!r.ok()) {
      asio::post(io_, [this, peer, snap] {
        if (stopping_) return;
        raw_->ReportUnreachable(peer);
        if (snap) raw_->ReportSnapshot(peer, true);
      });
    } else if (snap) {
      asio::post(io_, [this, peer] {
        if (!stopping_) raw_->ReportSnapshot(peer, false);
      });
    }
  }
}

awaitable<Result<RaftBatchResponse>> KvNodeImpl::OnBatch(RaftBatchRequest req) {
  if (stopped_) co_return Status::Unavailable("node stopped");
  if (req.to != opts_.id) co_return Status::InvalidArgument("raft batch for another node");
  std::vector<Message> msgs;
  {
    std::lock_guard<std::mutex> l(peers_mu_);
    if (dropped_.count(req.from)) co_return RaftBatchResponse{};
  }
  for (const std::string& enc : req.messages) {
    auto m = DecodeMessage(Slice(enc));
    if (!m.ok()) co_return m.status();
    msgs.push_back(std::move(m).value());
  }
  for (Message& m : msgs) {
    if (m.type != MessageType::kMsgSnap) continue;
    // Fetch the checkpoint files before the core sees the snapshot.
    if (fetching_.exchange(true)) co_return Status::Busy("a snapshot fetch is already running");
    auto f = FetchSnapshot(m.from, m.snapshot);
    Status s = co_await std::move(f);
    fetching_ = false;
    if (!s.ok()) {
      log_->warn("node={} fetching snapshot {} from {}: {}", opts_.id, m.snapshot.metadata.index,
                 m.from, s.ToString());
      co_return s;
    }
  }
  asio::post(io_, [this, msgs = std::move(msgs)] {
    if (stopping_) return;
    for (const Message& m : msgs) (void)raw_->Step(m);
    ScheduleReady();
  });
  co_return RaftBatchResponse{};
}

// --- status / control --------------------------------------------------------

KvNodeStatus KvNodeImpl::GetStatus() {
  KvNodeStatus st;
  st.id = opts_.id;
  st.leader = leader_;
  st.term = term_;
  st.role = StateRoleName(static_cast<StateRole>(role_.load()));
  st.commit_index = commit_;
  st.applied_index = applied_;
  st.first_index = storage_->FirstIndex();
  st.last_index = storage_->LastIndex();
  auto ds = storage_->stats();
  st.log_fsyncs = ds.fsyncs;
  st.log_entries_written = ds.entries_written;
  auto snap = storage_->GetSnapshot();
  if (snap.ok()) st.snapshot_index = snap->metadata.index;
  st.members = Members();
  return st;
}

Status KvNodeImpl::TransferLeadership(uint64_t to, std::chrono::milliseconds timeout) {
  auto p = std::make_shared<std::promise<Result<uint64_t>>>();
  auto f = p->get_future();
  std::unique_lock<std::mutex> guard(post_mu_);
  if (stopped_) return Status::Cancelled("node stopped");
  asio::post(io_, [this, to, p] {
    if (stopping_) {
      p->set_value(Status::Cancelled("node stopped"));
      return;
    }
    if (role_ != static_cast<int>(StateRole::kLeader)) {
      p->set_value(Status::NotLeader(LeaderHint()));
      return;
    }
    uint64_t target = to;
    if (target == 0) {
      uint64_t best = 0;
      NodeStatus ns = raw_->GetStatus();
      for (const PeerStatus& ps : ns.progress) {
        if (ps.id == opts_.id || ps.learner) continue;
        if (target == 0 || ps.match > best) {
          target = ps.id;
          best = ps.match;
        }
      }
    }
    if (target == 0 || target == opts_.id) {
      p->set_value(target == opts_.id ? Result<uint64_t>(target)
                                      : Result<uint64_t>(Status::Unavailable("no other voter")));
      return;
    }
    raw_->TransferLeader(target);
    ScheduleReady();
    p->set_value(target);
  });
  guard.unlock();
  auto target = f.get();
  if (!target.ok()) return target.status();
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (leader_ == *target) return Status::OK();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return Status::Timeout("leadership did not move to " + std::to_string(*target));
}

void KvNodeImpl::Stop() {
  {
    std::lock_guard<std::mutex> l(post_mu_);
    if (stopped_.exchange(true)) return;
  }
  if (server_) server_->Shutdown(std::chrono::milliseconds(200));
  if (thread_.joinable()) {
    asio::post(io_, [this] {
      stopping_ = true;
      timer_.cancel();
      CancelAll();
    });
    work_.reset();
    thread_.join();
  }
  if (client_) {
    client_->Shutdown();
    client_.reset();
  }
  // Anything posted after the driver stopped (late proposals) is cancelled.
  stopping_ = true;
  io_.restart();
  io_.poll();
  CancelAll();
  log_->info("node={} stopped", opts_.id);
}

}  // namespace

Result<std::unique_ptr<KvNode>> KvNode::Open(const KvNodeOptions& options) {
  auto node = std::make_unique<KvNodeImpl>(options);
  Status s = node->Init();
  if (!s.ok()) {
    node->Stop();
    return s;
  }
  return std::unique_ptr<KvNode>(std::move(node));
}

}  // namespace tinykv::raft
