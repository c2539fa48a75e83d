// PeerHostImpl: the process's Raft transport (peer_host.h).
//
// Outbound: one queue per destination node holding the encoded messages of
// every group bound there, drained by one send loop per destination (one
// batch RPC in flight per destination, so messages pile up and batch while
// it runs). A MsgSnap is sent alone, by its own coroutine, so that a
// receiver busy fetching a snapshot's files holds up neither that group's
// appends nor other groups' traffic.
//
// Inbound: a connection must open with a hello (CheckHello: this cluster,
// a plausible node id); a batch is checked as a whole (addressed to this
// node, from the node its connection's hello named) and per message
// (decodes, names the batch's sender and receiver, names a hosted group)
// before any replica sees it; what fails is counted and dropped.
#include <utility>  // before Asio

#include "tinykv/replica/peer_host.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>

#include "peer_protocol.h"
#include "snapshot_receiver.h"
#include "tinykv/common/logging.h"
#include "tinykv/net/address.h"
#include "tinykv/net/client.h"
#include "tinykv/net/server.h"
#include "tinykv/raft/codec.h"
#include "tinykv/replica/data_dir.h"

namespace tinykv::replica {
namespace {

namespace asio = net::asio;
namespace fs = std::filesystem;
using net::awaitable;
using namespace internal;  // NOLINT: peer protocol types

// A destination far behind (or unreachable) stops queueing at this many
// bytes; Raft retransmits what was dropped.
constexpr size_t kMaxQueuedBytes = 64u << 20;

class PeerHostImpl final : public PeerHost {
 public:
  explicit PeerHostImpl(PeerHostOptions o) : opts_(std::move(o)), log_(logging::Get("raft.peer")) {}
  ~PeerHostImpl() override { Stop(); }

  Status Init();

  uint64_t node_id() const override { return opts_.node_id; }
  uint16_t port() const override { return port_; }
  std::string address() const override { return server_ ? server_->address() : std::string(); }

  void SetAddress(uint64_t id, std::string address) override {
    std::lock_guard<std::mutex> l(mu_);
    addresses_[id] = std::move(address);
  }
  void AddAddressIfUnknown(uint64_t id, std::string address) override {
    std::lock_guard<std::mutex> l(mu_);
    std::string& a = addresses_[id];
    if (a.empty()) a = std::move(address);
  }
  std::string AddressOf(uint64_t id) const override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = addresses_.find(id);
    return it == addresses_.end() ? std::string() : it->second;
  }

  Status Register(uint64_t group, GroupEndpoint* ep) override {
    std::lock_guard<std::mutex> l(mu_);
    if (stopped_) return Status::Cancelled("peer host stopped");
    if (!groups_.emplace(group, Registration{ep, 0}).second)
      return Status::AlreadyExists("group " + std::to_string(group) + " is already hosted here");
    return Status::OK();
  }

  void Unregister(uint64_t group) override {
    std::unique_lock<std::mutex> l(mu_);
    auto it = groups_.find(group);
    if (it == groups_.end()) return;
    it->second.ep = nullptr;  // no new calls
    cv_.wait(l, [&] { return it->second.inflight == 0; });
    groups_.erase(it);
  }

  void Send(uint64_t group, std::vector<raft::Message> msgs) override;
  void SendStateHash(uint64_t to, StateHashRequest req) override;

  awaitable<Status> FetchSnapshot(uint64_t group, uint64_t from, uint64_t index, uint64_t term,
                                  fs::path into, Env* env, std::function<bool()> cancelled) override;

  PeerHostStats stats() const override {
    PeerHostStats s;
    {
      std::lock_guard<std::mutex> l(mu_);
      s = stats_;
    }
    if (server_) {
      const net::ServerStats ss = server_->stats();
      s.hellos_refused = ss.hellos_refused;
      s.handshake_timeouts = ss.handshake_timeouts;
    }
    return s;
  }

  void Stop() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stopped_) return;
      stopped_ = true;
    }
    if (server_) server_->Shutdown(std::chrono::milliseconds(200));
    if (client_) client_->Shutdown();
    server_.reset();
    client_.reset();
  }

 private:
  struct Registration {
    GroupEndpoint* ep = nullptr;
    int inflight = 0;
  };
  struct Queued {
    uint64_t group = 0;
    std::string message;
  };
  struct Destination {
    std::deque<Queued> queue;
    size_t bytes = 0;
    bool sending = false;
  };

  // A registered endpoint held for the duration of one call into it.
  class EndpointRef {
   public:
    EndpointRef(PeerHostImpl* host, uint64_t group) : host_(host), group_(group) {
      std::lock_guard<std::mutex> l(host_->mu_);
      auto it = host_->groups_.find(group);
      if (it != host_->groups_.end() && it->second.ep != nullptr) {
        ep_ = it->second.ep;
        ++it->second.inflight;
      }
    }
    ~EndpointRef() {
      if (ep_ == nullptr) return;
      std::lock_guard<std::mutex> l(host_->mu_);
      auto it = host_->groups_.find(group_);
      if (it != host_->groups_.end() && --it->second.inflight == 0) host_->cv_.notify_all();
    }
    EndpointRef(const EndpointRef&) = delete;
    EndpointRef& operator=(const EndpointRef&) = delete;
    GroupEndpoint* get() const { return ep_; }
    GroupEndpoint* operator->() const { return ep_; }
    explicit operator bool() const { return ep_ != nullptr; }

   private:
    PeerHostImpl* host_;
    uint64_t group_;
    GroupEndpoint* ep_ = nullptr;
  };

  awaitable<void> SendLoop(uint64_t to);
  awaitable<void> SendSnapshot(uint64_t group, uint64_t to, std::string encoded);
  // The hello handler of the peer port: the node id the hello claims, or why
  // the connection is refused.
  Result<uint64_t> CheckHello(Slice payload) const;
  awaitable<Result<RaftBatchResponse>> OnBatch(RaftBatchRequest req, uint64_t hello_node);
  awaitable<Status> OnFetchSnapshot(FetchSnapshotRequest req, net::ServerWriter<SnapshotChunk>& w);
  awaitable<Result<StateHashResponse>> OnStateHash(StateHashRequest req, uint64_t hello_node);
  awaitable<void> CallStateHash(uint64_t to, StateHashRequest req);
  void Refuse(uint64_t n, const std::string& why) {
    {
      std::lock_guard<std::mutex> l(mu_);
      stats_.messages_refused += n;
    }
    log_->warn("node={} refused {} peer message(s): {}", opts_.node_id, n, why);
  }

  const PeerHostOptions opts_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<net::RpcServer> server_;
  std::unique_ptr<net::RpcClient> client_;
  uint16_t port_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  std::map<uint64_t, Registration> groups_;
  std::map<uint64_t, std::string> addresses_;
  std::map<uint64_t, Destination> dests_;
  PeerHostStats stats_;
};

Status PeerHostImpl::Init() {
  if (opts_.node_id == 0) return Status::InvalidArgument("peer host: node id must be >= 1");
  TINYKV_ASSIGN_OR_RETURN(net::HostPort hp, net::ParseHostPort(opts_.listen));
  net::ServerOptions sopt;
  sopt.host = hp.host;
  sopt.port = hp.port;
  sopt.io_threads = std::max(1, opts_.io_threads);
  sopt.max_pending_connections = kMaxUnauthenticatedPeerConnections;
  sopt.on_hello = [this](Slice hello, const std::string&) { return CheckHello(hello); };
  sopt.tls = opts_.server_tls;
  TINYKV_ASSIGN_OR_RETURN(server_, net::RpcServer::Create(sopt));
  server_->Register<RaftBatchMethod>(
      [this](RaftBatchRequest r, const net::ServerCall& c) -> awaitable<Result<RaftBatchResponse>> {
        auto call = OnBatch(std::move(r), c.peer_id());
        co_return co_await std::move(call);
      });
  server_->Register<FetchSnapshotMethod>(
      [this](FetchSnapshotRequest r, net::ServerWriter<SnapshotChunk>& w) -> awaitable<Status> {
        auto call = OnFetchSnapshot(r, w);
        co_return co_await std::move(call);
      });
  server_->Register<StateHashMethod>(
      [this](StateHashRequest r, const net::ServerCall& c) -> awaitable<Result<StateHashResponse>> {
        auto call = OnStateHash(std::move(r), c.peer_id());
        co_return co_await std::move(call);
      });
  TINYKV_RETURN_IF_ERROR(server_->Start());
  port_ = server_->port();
  net::ClientOptions copt;
  copt.io_threads = 1;
  copt.connect_timeout = std::chrono::milliseconds(1000);
  copt.hello = net::EncodeMessage(PeerHello{kPeerHelloVersion, opts_.cluster_id, opts_.node_id});
  copt.tls = opts_.client_tls;
  TINYKV_ASSIGN_OR_RETURN(client_, net::RpcClient::Create(copt));
  return Status::OK();
}

Result<uint64_t> PeerHostImpl::CheckHello(Slice payload) const {
  auto hello = net::DecodeMessage<PeerHello>(payload);
  if (!hello.ok()) {
    return Status::InvalidArgument("malformed peer hello: " + hello.status().ToString());
  }
  if (hello->version != kPeerHelloVersion) {
    return Status::InvalidArgument("peer hello version " + std::to_string(hello->version) +
                                   ", node " + std::to_string(opts_.node_id) + " speaks " +
                                   std::to_string(kPeerHelloVersion));
  }
  // A hello naming cluster 0 comes from a member that joined an existing
  // cluster and has not recorded its id (data_dir.h, "Identity").
  if (opts_.cluster_id != 0 && hello->cluster_id != 0 && hello->cluster_id != opts_.cluster_id) {
    return Status::InvalidArgument(
        "cluster id mismatch: node " + std::to_string(hello->node_id) + " says cluster " +
        ClusterIdString(hello->cluster_id) + ", node " + std::to_string(opts_.node_id) +
        " is in cluster " + ClusterIdString(opts_.cluster_id));
  }
  if (hello->node_id == 0 || hello->node_id == opts_.node_id) {
    return Status::InvalidArgument("peer hello names node " + std::to_string(hello->node_id) +
                                   ", which cannot be a peer of node " +
                                   std::to_string(opts_.node_id));
  }
  return hello->node_id;
}

void PeerHostImpl::Send(uint64_t group, std::vector<raft::Message> msgs) {
  std::vector<uint64_t> start;
  std::vector<std::pair<uint64_t, std::string>> snaps;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopped_) return;
    for (const raft::Message& m : msgs) {
      if (m.to == opts_.node_id) continue;
      std::string enc;
      raft::EncodeMessage(m, &enc);
      if (m.type == raft::MessageType::kMsgSnap) {
        snaps.emplace_back(m.to, std::move(enc));
        continue;
      }
      Destination& d = dests_[m.to];
      if (d.bytes > kMaxQueuedBytes) continue;  // far behind: drop, Raft retries
      d.bytes += enc.size();
      d.queue.push_back(Queued{group, std::move(enc)});
      if (!d.sending) {
        d.sending = true;
        start.push_back(m.to);
      }
    }
  }
  for (uint64_t to : start) asio::co_spawn(client_->executor(), SendLoop(to), asio::detached);
  for (auto& [to, enc] : snaps)
    asio::co_spawn(client_->executor(), SendSnapshot(group, to, std::move(enc)), asio::detached);
}

awaitable<void> PeerHostImpl::SendLoop(uint64_t to) {
  for (;;) {
    RaftBatchRequest req;
    req.from = opts_.node_id;
    req.to = to;
    std::string addr;
    {
      std::lock_guard<std::mutex> l(mu_);
      Destination& d = dests_[to];
      if (d.queue.empty() || stopped_) {
        d.sending = false;
        d.queue.clear();
        d.bytes = 0;
        co_return;
      }
      size_t bytes = 0;
      while (!d.queue.empty() &&
             (req.messages.empty() || bytes + d.queue.front().message.size() <= kMaxBatchBytes)) {
        bytes += d.queue.front().message.size();
        req.messages.push_back(GroupMessage{d.queue.front().group, std::move(d.queue.front().message)});
        d.queue.pop_front();
      }
      d.bytes -= bytes;
      auto a = addresses_.find(to);
      if (a != addresses_.end()) addr = a->second;
      stats_.batches_sent++;
      stats_.messages_sent += req.messages.size();
    }
    if (addr.empty()) continue;  // address unknown: drop, Raft retries
    std::vector<uint64_t> groups;
    for (const GroupMessage& gm : req.messages)
      if (groups.empty() || groups.back() != gm.group) groups.push_back(gm.group);
    net::CallOptions o;
    o.timeout = std::chrono::milliseconds(3000);
    o.max_attempts = 1;
    auto call = client_->Call<RaftBatchMethod>(addr, std::move(req), o);
    auto r = co_await std::move(call);
    if (r.ok()) continue;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stopped_) continue;
      stats_.batches_failed++;
    }
    std::sort(groups.begin(), groups.end());
    groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
    for (uint64_t g : groups) {
      EndpointRef ep(this, g);
      if (ep) ep->OnUnreachable(to);
    }
  }
}

awaitable<void> PeerHostImpl::SendSnapshot(uint64_t group, uint64_t to, std::string encoded) {
  const std::string addr = AddressOf(to);
  Status s = Status::Unavailable("address of node " + std::to_string(to) + " unknown");
  if (!addr.empty()) {
    RaftBatchRequest req;
    req.from = opts_.node_id;
    req.to = to;
    req.messages.push_back(GroupMessage{group, std::move(encoded)});
    net::CallOptions o;
    // The receiver fetches the snapshot's files before it answers.
    o.timeout = std::chrono::milliseconds(120000);
    o.max_attempts = 1;
    auto call = client_->Call<RaftBatchMethod>(addr, std::move(req), o);
    auto r = co_await std::move(call);
    s = r.status();
  }
  if (!s.ok()) {
    log_->warn("node={} group={} sending snapshot to {} failed: {}", opts_.node_id, group, to,
               s.ToString());
  }
  EndpointRef ep(this, group);
  if (ep) ep->OnSnapshotSent(to, !s.ok());
}

awaitable<Result<RaftBatchResponse>> PeerHostImpl::OnBatch(RaftBatchRequest req,
                                                         uint64_t hello_node) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopped_) co_return Status::Unavailable("node stopped");
    stats_.messages_received += req.messages.size();
  }
  if (req.from != hello_node) {
    Refuse(req.messages.size(), "batch says it is from node " + std::to_string(req.from) +
                                    " on a connection whose hello named node " +
                                    std::to_string(hello_node));
    co_return Status::InvalidArgument("raft batch from another node than the connection's hello");
  }
  if (req.to != opts_.node_id) {
    Refuse(req.messages.size(), "batch for node " + std::to_string(req.to) + " arrived at node " +
                                    std::to_string(opts_.node_id));
    co_return Status::InvalidArgument("raft batch for another node");
  }
  // group -> messages, in arrival order; a snapshot is handled on its own.
  std::map<uint64_t, std::vector<raft::Message>> by_group;
  std::optional<std::pair<uint64_t, raft::Message>> snap;
  for (const GroupMessage& gm : req.messages) {
    auto m = raft::DecodeMessage(Slice(gm.message));
    if (!m.ok()) {
      Refuse(1, "from node " + std::to_string(req.from) + ": " + m.status().ToString());
      continue;
    }
    if (m->from != req.from || m->to != req.to) {
      Refuse(1, "message from " + std::to_string(m->from) + " to " + std::to_string(m->to) +
                    " inside a batch from " + std::to_string(req.from) + " to " +
                    std::to_string(req.to));
      continue;
    }
    if (m->type == raft::MessageType::kMsgSnap) {
      if (req.messages.size() != 1) {
        Refuse(1, "snapshot message not alone in its batch");
        continue;
      }
      snap.emplace(gm.group, std::move(m).value());
      continue;
    }
    by_group[gm.group].push_back(std::move(m).value());
  }
  for (auto& [g, msgs] : by_group) {
    EndpointRef ep(this, g);
    if (!ep) {
      Refuse(msgs.size(), "group " + std::to_string(g) + " is not hosted here");
      continue;
    }
    ep->OnMessages(req.from, std::move(msgs));
  }
  if (snap) {
    EndpointRef ep(this, snap->first);
    if (!ep) {
      Refuse(1, "snapshot for group " + std::to_string(snap->first) + ", not hosted here");
      co_return Status::NotFound("group " + std::to_string(snap->first) + " is not hosted here");
    }
    auto handle = ep->OnSnapshotMessage(std::move(snap->second));
    Status s = co_await std::move(handle);
    if (!s.ok()) co_return s;
  }
  co_return RaftBatchResponse{};
}

// An ask for a hash that is still being computed (or an index not applied
// yet) is held here, polling the group every few ms for up to
// kStateHashHoldMs, so the leader gets the hash in one call as soon as it
// exists instead of asking again on its own schedule.
awaitable<Result<StateHashResponse>> PeerHostImpl::OnStateHash(StateHashRequest req,
                                                             uint64_t hello_node) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(kStateHashHoldMs);
  for (;;) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stopped_) co_return Status::Unavailable("node stopped");
    }
    Result<StateHashResponse> r = Status::NotFound("group " + std::to_string(req.group) +
                                                   " is not hosted here");
    {
      EndpointRef ep(this, req.group);  // not held across the wait: Unregister waits for it
      if (ep) r = ep->OnStateHash(hello_node, req);
    }
    if (!r.ok() || req.kind != static_cast<uint8_t>(StateHashKind::kAsk) ||
        r->state != static_cast<uint8_t>(StateHashState::kPending) ||
        std::chrono::steady_clock::now() >= until)
      co_return r;
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(5));
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

void PeerHostImpl::SendStateHash(uint64_t to, StateHashRequest req) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopped_) return;
  }
  asio::co_spawn(client_->executor(), CallStateHash(to, std::move(req)), asio::detached);
}

awaitable<void> PeerHostImpl::CallStateHash(uint64_t to, StateHashRequest req) {
  const std::string addr = AddressOf(to);
  Result<StateHashResponse> r =
      Status::Unavailable("address of node " + std::to_string(to) + " unknown");
  if (!addr.empty()) {
    net::CallOptions o;
    o.timeout = std::chrono::milliseconds(3000);
    o.max_attempts = 1;  // the check retries on its own schedule
    auto call = client_->Call<StateHashMethod>(addr, req, o);
    r = co_await std::move(call);
  }
  EndpointRef ep(this, req.group);
  if (ep) ep->OnStateHashAnswer(to, req, std::move(r));
}

awaitable<Status> PeerHostImpl::OnFetchSnapshot(FetchSnapshotRequest req,
                                                net::ServerWriter<SnapshotChunk>& w) {
  Result<fs::path> dir = Status::NotFound("group " + std::to_string(req.group) + " is not hosted here");
  Env* env = nullptr;
  {
    EndpointRef ep(this, req.group);
    if (ep) {
      dir = ep->SnapshotFiles(req.index, req.term);
      env = ep->env();
    }
  }
  if (!dir.ok()) co_return dir.status();
  std::vector<std::string> names;
  TINYKV_CO_RETURN_IF_ERROR(env->GetChildren(dir->string(), &names));
  std::sort(names.begin(), names.end());
  std::string scratch(kSnapshotChunkBytes, '\0');
  for (const std::string& name : names) {
    const std::string path = (*dir / name).string();
    // The files of a snapshot never change, so the size read up front says
    // which chunk is the last (an empty file is one empty, last chunk).
    Result<uint64_t> size = env->GetFileSize(path);
    if (!size.ok()) co_return size.status();
    auto file = env->NewSequentialFile(path);
    if (!file.ok()) co_return file.status();
    uint64_t off = 0;
    for (;;) {
      SnapshotChunk c;
      c.file = name;
      c.offset = off;
      const size_t want = static_cast<size_t>(std::min<uint64_t>(kSnapshotChunkBytes, *size - off));
      Slice got;
      TINYKV_CO_RETURN_IF_ERROR((*file)->Read(want, &got, scratch.data()));
      if (got.size() != want) {
        co_return Status::IOError(path + ": read " + std::to_string(got.size()) + " bytes at offset " +
                                  std::to_string(off) + ", expected " + std::to_string(want) +
                                  " (the file shrank)");
      }
      c.data.assign(got.data(), got.size());
      off += got.size();
      c.last = off >= *size ? 1 : 0;
      auto wr = w.Write(c);
      Status s = co_await std::move(wr);
      if (!s.ok()) co_return s;
      if (c.last) break;
    }
  }
  co_return Status::OK();
}

awaitable<Status> PeerHostImpl::FetchSnapshot(uint64_t group, uint64_t from, uint64_t index,
                                              uint64_t term, fs::path into, Env* env,
                                              std::function<bool()> cancelled) {
  const std::string addr = AddressOf(from);
  if (addr.empty()) co_return Status::Unavailable("address of node " + std::to_string(from) + " unknown");
  auto receiver = std::make_shared<SnapshotReceiver>(env, std::move(into));
  TINYKV_CO_RETURN_IF_ERROR(receiver->Start());
  net::CallOptions o;
  o.timeout = std::chrono::milliseconds(60000);
  auto call = client_->CallStream<FetchSnapshotMethod>(
      addr, FetchSnapshotRequest{group, index, term},
      [receiver, cancelled](SnapshotChunk c) -> Status {
        if (cancelled && cancelled()) return Status::Cancelled("snapshot fetch cancelled");
        return receiver->Accept(c);
      },
      o);
  Status s = co_await std::move(call);
  if (!s.ok()) co_return s;
  co_return receiver->Finish();
}

}  // namespace

Result<std::unique_ptr<PeerHost>> PeerHost::Start(const PeerHostOptions& options) {
  auto host = std::make_unique<PeerHostImpl>(options);
  TINYKV_RETURN_IF_ERROR(host->Init());
  return std::unique_ptr<PeerHost>(std::move(host));
}

}  // namespace tinykv::replica
