// The client service: protocol.h's methods over replica::KvNode (see service.h).
#include "tinykv/client/service.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "await_node.h"
#include "lease_service.h"
#include "watch_stream.h"
#include "tinykv/client/maintenance_protocol.h"
#include "tinykv/client/protocol.h"
#include "tinykv/common/env.h"
#include "tinykv/common/logging.h"
#include "tinykv/common/result.h"
#include "tinykv/common/status.h"
#include "tinykv/common/trace_id.h"
#include "tinykv/net/asio.h"
#include "tinykv/replica/backup.h"
#include "tinykv/txn/key_error.h"
#include "tinykv/txn/timestamp.h"

#ifndef TINYKV_VERSION
#define TINYKV_VERSION "unknown"
#endif

namespace tinykv::client {
namespace {

using net::awaitable;
using std::chrono::milliseconds;

// The wire's form of a key's metadata (protocol.h KeyMetadata).
KeyMetadata MetadataOf(const txn::KeyMeta& m) {
  return KeyMetadata{m.create_ts, m.mod_ts, m.version, m.lease};
}

// A write's prev_kvs as the responses carry them: the pairs, their metadata.
template <typename Response>
void SetPrevKvs(std::vector<txn::PrevKv> prev, Response* resp) {
  for (txn::PrevKv& p : prev) {
    resp->prev_metas.push_back(MetadataOf(p.meta));
    resp->prev_kvs.push_back(KeyValue{std::move(p.key), std::move(p.value), {}});
  }
}

class KvService {
 public:
  KvService(net::RpcServer& server, replica::KvNode& node, txn::TxnNode* txn,
            ServiceOptions options)
      : server_(server), node_(node), txn_(txn), options_(std::move(options)) {}

  awaitable<Result<GetResponse>> Get(GetRequest req) {
    TINYKV_CO_RETURN_IF_ERROR(CheckKey(req.key));
    TINYKV_CO_RETURN_IF_ERROR(CheckRequestSize(req.key.size(), "get"));
    if (txn_ != nullptr) {
      auto point = ReadPoint(req.revision, req.serializable, req.timeout_ms);
      Result<uint64_t> ts = co_await std::move(point);
      if (!ts.ok()) co_return ts.status();
      Result<txn::ReadResult> r = txn_->GetAt(req.key, *ts);
      if (!r.ok()) co_return r.status();
      if (r->error) co_return txn::KeyErrorStatus(*r->error);
      GetResponse resp;
      resp.header = Header();
      resp.revision = *ts == txn::kMaxTs ? 0 : *ts;
      if (r->value) {
        resp.found = true;
        resp.value = std::move(*r->value);
        resp.meta = MetadataOf(r->meta);
      }
      co_return resp;
    }
    if (req.revision != 0) co_return NoRevisions();
    if (!req.serializable) {
      Status s = co_await Barrier(req.timeout_ms);
      if (!s.ok()) co_return s;
    }
    Result<std::optional<std::string>> v = node_.Get(req.key);
    if (!v.ok()) co_return v.status();
    GetResponse resp;
    resp.header = Header();
    if (v->has_value()) {
      resp.found = true;
      resp.value = std::move(**v);
    }
    co_return resp;
  }

  // The backup file of this member's state, streamed (protocol.h SnapshotSave).
  // The checkpoint is made on the replica's driver; its files are read and
  // encoded here, blocking this I/O thread while they are read (a backup is
  // rare; the whole file is held in memory, as on the client side).
  awaitable<Status> SnapshotSave(net::ServerWriter<SnapshotSaveChunk>& w) {
    replica::KvNode* node = &node_;
    auto op = internal::AwaitResult<replica::StateCheckpoint>(
        [node](auto done) { node->CheckpointCopy(std::move(done)); });
    Result<replica::StateCheckpoint> cp = co_await std::move(op);
    if (!cp.ok()) co_return cp.status();
    Env* env = Env::Default();
    replica::Backup b;
    b.index = cp->index;
    b.term = cp->term;
    b.cluster_id = node_.identity().cluster_id;
    b.member_id = node_.identity().member_id;
    Status s = replica::ReadCheckpointFiles(env, cp->dir, &b);
    env->RemoveDirRecursively(cp->dir.string()).IgnoreError();  // read or not, done
    if (!s.ok()) co_return s;
    const std::string file = replica::EncodeBackup(b);
    b.files.clear();
    for (size_t off = 0; off < file.size(); off += kSnapshotSaveChunkBytes) {
      SnapshotSaveChunk c;
      c.data = file.substr(off, kSnapshotSaveChunkBytes);
      auto wr = w.Write(c);
      s = co_await std::move(wr);
      if (!s.ok()) co_return s;
    }
    co_return Status::OK();
  }

  awaitable<Result<ScanResponse>> Scan(ScanRequest req) {
    TINYKV_CO_RETURN_IF_ERROR(CheckRequestSize(req.start.size() + req.end.size(), "scan"));
    if (!req.end.empty() && req.end <= req.start) co_return ScanResponse{};
    const uint64_t page =
        req.limit == 0 ? kMaxScanPageItems : std::min(req.limit, kMaxScanPageItems);
    // One more than the page, to learn whether the range goes on.
    Result<std::vector<std::pair<std::string, std::string>>> kvs =
        std::vector<std::pair<std::string, std::string>>{};
    uint64_t revision = 0;
    std::vector<txn::KeyMeta> metas;  // one per pair (MVCC only)
    if (txn_ != nullptr) {
      auto point = ReadPoint(req.revision, req.serializable, req.timeout_ms);
      Result<uint64_t> ts = co_await std::move(point);
      if (!ts.ok()) co_return ts.status();
      Result<txn::ScanResult> r =
          txn_->ScanAt(req.start, req.end, *ts, static_cast<size_t>(page + 1));
      if (!r.ok()) co_return r.status();
      // A lock met part-way fails the page: the pairs before it are not
      // a page of the snapshot until the lock is resolved.
      if (r->error) co_return txn::KeyErrorStatus(*r->error);
      kvs = std::move(r->pairs);
      metas = std::move(r->metas);
      revision = *ts == txn::kMaxTs ? 0 : *ts;
    } else {
      if (req.revision != 0) co_return NoRevisions();
      if (!req.serializable) {
        Status s = co_await Barrier(req.timeout_ms);
        if (!s.ok()) co_return s;
      }
      kvs = node_.Scan(req.start, req.end, static_cast<size_t>(page + 1));
    }
    if (!kvs.ok()) co_return kvs.status();
    ScanResponse resp;
    resp.header = Header();
    resp.revision = revision;
    uint64_t bytes = 0;
    for (auto& [k, v] : *kvs) {
      // Stop before the page would pass its byte budget (protocol.h), but
      // never at zero pairs: one pair alone is within kMaxRequestBytes.
      const uint64_t pair_bytes = k.size() + (req.keys_only ? 0 : v.size());
      if (resp.kvs.size() == page ||
          (!resp.kvs.empty() && bytes + pair_bytes > kMaxScanPageBytes)) {
        resp.more = true;
        break;
      }
      bytes += pair_bytes;
      if (!metas.empty()) resp.metas.push_back(MetadataOf(metas[resp.kvs.size()]));
      KeyValue kv;
      kv.key = std::move(k);
      if (!req.keys_only) kv.value = std::move(v);
      resp.kvs.push_back(std::move(kv));
    }
    if (resp.more) resp.next_key = KeySuccessor(resp.kvs.back().key);
    co_return resp;
  }

  // The writes take the request's trace id (RegisterObserved), which the
  // entry carries to every member (txn::KvWriteOptions::trace_id).
  awaitable<Result<WriteResponse>> Put(PutRequest req, uint64_t trace) {
    // Checked again here, not only by well-behaved clients: a value the
    // leader accepted must fit every later hop (a Raft append to the
    // followers, a snapshot chunk, a response).
    TINYKV_CO_RETURN_IF_ERROR(CheckKey(req.key));
    TINYKV_CO_RETURN_IF_ERROR(CheckRequestSize(req.key.size() + req.value.size(), "put"));
    replica::KvCommand cmd;
    cmd.op = replica::KvCommand::Op::kPut;
    cmd.key = std::move(req.key);
    cmd.value = std::move(req.value);
    SetId(cmd, req.id);
    if (req.lease != 0 && txn_ == nullptr)
      co_return Status::NotSupported("put with a lease: this server keeps no leases");
    auto call =
        Propose(std::move(cmd), req.timeout_ms, txn::KvWriteOptions{req.lease, req.prev_kv, trace});
    Result<txn::KvWriteResult> r = co_await std::move(call);
    if (!r.ok()) co_return r.status();
    WriteResponse resp{r->kv.index, r->kv.revision, {}, {}, Header()};
    SetPrevKvs(std::move(r->prev_kvs), &resp);
    co_return resp;
  }

  awaitable<Result<WriteResponse>> Delete(DeleteRequest req, uint64_t trace) {
    TINYKV_CO_RETURN_IF_ERROR(CheckKey(req.key));
    TINYKV_CO_RETURN_IF_ERROR(CheckRequestSize(req.key.size(), "delete"));
    replica::KvCommand cmd;
    cmd.op = replica::KvCommand::Op::kDelete;
    cmd.key = std::move(req.key);
    SetId(cmd, req.id);
    auto call = Propose(std::move(cmd), req.timeout_ms, txn::KvWriteOptions{0, req.prev_kv, trace});
    Result<txn::KvWriteResult> r = co_await std::move(call);
    if (!r.ok()) co_return r.status();
    WriteResponse resp{r->kv.index, r->kv.revision, {}, {}, Header()};
    SetPrevKvs(std::move(r->prev_kvs), &resp);
    co_return resp;
  }

  awaitable<Result<DeleteRangeResponse>> DeleteRange(DeleteRangeRequest req, uint64_t trace) {
    TINYKV_CO_RETURN_IF_ERROR(CheckRequestSize(req.start.size() + req.end.size(), "delete range"));
    if (!req.end.empty() && req.end <= req.start) {
      co_return Status::InvalidArgument("delete range: end must be empty or greater than start");
    }
    replica::KvCommand cmd;
    cmd.op = replica::KvCommand::Op::kDeleteRange;
    cmd.key = std::move(req.start);
    cmd.value = std::move(req.end);
    SetId(cmd, req.id);
    auto call = Propose(std::move(cmd), req.timeout_ms, txn::KvWriteOptions{0, req.prev_kv, trace});
    Result<txn::KvWriteResult> r = co_await std::move(call);
    if (!r.ok()) co_return r.status();
    DeleteRangeResponse resp;
    resp.header = Header();
    resp.deleted = r->kv.deleted;
    resp.index = r->kv.index;
    resp.revision = r->kv.revision;
    resp.prev_kvs_truncated = r->prev_kvs_truncated;
    SetPrevKvs(std::move(r->prev_kvs), &resp);
    co_return resp;
  }

  awaitable<Result<CasResponse>> Cas(CasRequest req, uint64_t trace) {
    TINYKV_CO_RETURN_IF_ERROR(CheckKey(req.key));
    TINYKV_CO_RETURN_IF_ERROR(CheckRequestSize(
        req.key.size() + req.expected.size() + req.value.size(), "cas"));
    replica::KvCommand cmd;
    cmd.op = replica::KvCommand::Op::kCas;
    cmd.key = std::move(req.key);
    cmd.value = std::move(req.value);
    if (req.has_expected) cmd.expected = std::move(req.expected);
    SetId(cmd, req.id);
    if (req.lease != 0 && txn_ == nullptr)
      co_return Status::NotSupported("cas with a lease: this server keeps no leases");
    auto call =
        Propose(std::move(cmd), req.timeout_ms, txn::KvWriteOptions{req.lease, false, trace});
    Result<txn::KvWriteResult> w = co_await std::move(call);
    if (!w.ok()) co_return w.status();
    replica::KvCommandResult& r = w->kv;
    CasResponse resp;
    resp.succeeded = r.succeeded;
    resp.index = r.index;
    resp.revision = r.revision;
    if (r.current.has_value()) {
      resp.has_current = true;
      resp.current = std::move(*r.current);
    }
    co_return resp;
  }

  // Timestamps are handed out only once this node is known to have been
  // the leader when it took them. A leader cut off by a partition may not
  // know yet that it was deposed, and its window lies below the new
  // leader's: a start_ts from it could miss a commit that finished before
  // the transaction began, a commit_ts from it could land under a
  // snapshot already read. So the timestamps are taken first and a read
  // barrier confirms leadership after: a majority that answers this term
  // after the timestamps were taken has voted for no newer leader before
  // that point, so every timestamp a newer leader hands out comes later
  // and is higher. (A read takes its barrier first instead: what it needs
  // is a timestamp above every write committed before it arrived.)
  awaitable<Result<TsoResponse>> Tso(TsoRequest req) {
    Result<uint64_t> ts = txn_->GetTimestamps(req.count);
    if (!ts.ok()) co_return Translate(ts.status());
    Status s = co_await Barrier(0);
    if (!s.ok()) co_return s;
    co_return TsoResponse{*ts};
  }

  awaitable<Result<TxnResponse>> Txn(TxnRequest req) {
    Result<txn::TxnCommand> cmd = txn::DecodeTxnCommand(Slice(req.command));
    if (!cmd.ok()) co_return Status::InvalidArgument(cmd.status().message());
    txn::TxnNode* node = txn_;
    milliseconds timeout = TimeoutOf(req.timeout_ms);
    auto shared = std::make_shared<txn::TxnCommand>(std::move(cmd).value());
    auto op = internal::AwaitResult<txn::TxnCommandResult>([node, timeout, shared](auto done) {
      node->ProposeTxn(std::move(*shared), timeout, std::move(done));
    });
    Result<txn::TxnCommandResult> r = co_await std::move(op);
    if (!r.ok()) co_return Translate(r.status());
    co_return TxnResponse{txn::EncodeTxnCommandResult(*r)};
  }

  // One watch stream (protocol.h Watch; watch_stream.h), from the node's hub.
  awaitable<Status> Watch(WatchRequest req, net::ServerWriter<WatchResponse>& w) {
    auto serve = internal::ServeWatch(txn_->watch_hub(), std::move(req), w);
    Status s = co_await std::move(serve);
    co_return Translate(std::move(s));
  }
  // A progress item on one of this node's watch streams (protocol.h
  // WatchProgress).
  awaitable<Result<WatchProgressResponse>> WatchProgress(WatchProgressRequest req) {
    Status s = txn_->watch_hub().RequestProgress(req.watch_id);
    if (!s.ok()) co_return Translate(std::move(s));
    co_return WatchProgressResponse{};
  }
  // Compaction (maintenance_protocol.h), through the leader's TxnNode.
  awaitable<Result<CompactResponse>> Compact(CompactRequest req) {
    txn::TxnNode* node = txn_;
    const milliseconds timeout = TimeoutOf(req.timeout_ms);
    auto op = internal::AwaitResult<txn::CompactResult>(
        [node, timeout, revision = req.revision](auto done) {
          node->Compact(revision, timeout, std::move(done));
        });
    Result<txn::CompactResult> r = co_await std::move(op);
    if (!r.ok()) co_return Translate(r.status());
    co_return CompactResponse{r->revision, r->removed};
  }

  // Defragmentation of this member's engine (maintenance_protocol.h), on
  // the node's defrag thread.
  awaitable<Result<DefragmentResponse>> Defragment(DefragmentRequest) {
    txn::TxnNode* node = txn_;
    auto op = internal::AwaitResult<txn::MvccStateMachine::DefragmentResult>(
        [node](auto done) { node->Defragment(std::move(done)); });
    Result<txn::MvccStateMachine::DefragmentResult> r = co_await std::move(op);
    if (!r.ok()) co_return r.status();
    co_return DefragmentResponse{node_.GetStatus().id, r->bytes_before, r->bytes_after};
  }

  // MoveLeader (maintenance_protocol.h): checked here, then the node's
  // TransferLeadership, which waits for the target to lead -- on a thread
  // of its own, not the io thread. That thread holds the node until the
  // transfer ends (within the request's timeout), and the handler waits for
  // it, so the server's drain covers it (service.h's shutdown order).
  awaitable<Result<MoveLeaderResponse>> MoveLeader(MoveLeaderRequest req) {
    replica::KvNodeStatus st = node_.GetStatus();
    if (st.role != "leader") {
      RoutingError hint;
      hint.group = st.group;
      hint.leader_id = st.leader;
      co_return Translate(NotLeaderError(hint));
    }
    const std::string target = std::to_string(req.target);
    const auto m = std::find_if(st.members.begin(), st.members.end(),
                                [&](const replica::MemberInfo& i) { return i.id == req.target; });
    if (req.target == 0 || m == st.members.end())
      co_return Status::NotFound("member " + target + " not found in the cluster");
    if (m->learner) {
      co_return Status::InvalidArgument("member " + target +
                                        " is a learner: only a voter can lead (promote it first)");
    }
    if (req.target == st.id) co_return MoveLeaderResponse{st.id, st.id};
    replica::KvNode* node = &node_;
    // Gives up a little before the request's budget, so that the client
    // hears this Timeout rather than its own deadline's.
    const milliseconds budget = TimeoutOf(req.timeout_ms);
    const milliseconds timeout = budget - std::min(milliseconds(100), budget / 10);
    auto op = internal::AwaitCallback<Status>(
        [node, to = req.target, timeout](std::function<void(Status)> done) {
          std::thread([node, to, timeout, done = std::move(done)] {
            done(node->TransferLeadership(to, timeout));
          }).detach();
        });
    Status s = co_await std::move(op);
    if (s.IsTimeout()) {
      co_return Status::Timeout("move-leader: leadership did not move to " + target + " within " +
                                std::to_string(timeout.count()) + " ms");
    }
    if (!s.ok()) co_return Translate(std::move(s));
    co_return MoveLeaderResponse{st.id, req.target};
  }

  // HashKv (maintenance_protocol.h): this member's own, on the node's
  // member-job thread.
  awaitable<Result<HashKvResponse>> HashKv(HashKvRequest req) {
    txn::TxnNode* node = txn_;
    auto op = internal::AwaitResult<txn::KvHash>(
        [node, revision = req.revision](auto done) { node->HashKv(revision, std::move(done)); });
    Result<txn::KvHash> r = co_await std::move(op);
    if (!r.ok()) co_return r.status();
    co_return HashKvResponse{node_.GetStatus().id, r->hash, r->compact_revision, r->hash_revision};
  }

  // For the lease handlers (lease_service.h).
  Status TranslateStatus(Status s) { return Translate(std::move(s)); }
  milliseconds TimeoutOfRequest(uint32_t timeout_ms) const { return TimeoutOf(timeout_ms); }

  StatusResponse NodeStatus() {
    replica::KvNodeStatus st = node_.GetStatus();
    StatusResponse resp;
    static_cast<replica::ReplicaPosition&>(resp) = st;
    resp.client_address = SelfAddress();
    resp.leader_client_address = ClientAddressOf(st.id, st.leader);
    resp.cluster_id = node_.identity().cluster_id;
    resp.alarm = st.alarm;
    resp.version = TINYKV_VERSION;
    if (txn_ != nullptr) {
      const txn::WatchHubStats w = txn_->watch_hub().stats();
      resp.watchers = w.watchers;
      resp.watch_queued_bytes = w.queued_bytes;
    }
    return resp;
  }

  awaitable<Result<AlarmResponse>> Alarm(AlarmRequest req) {
    if (req.action != AlarmRequest::kList && req.action != AlarmRequest::kDisarm)
      co_return Status::InvalidArgument("alarm: unknown action " + std::to_string(req.action));
    if (req.action == AlarmRequest::kDisarm) {
      replica::KvNode* node = &node_;
      auto op = internal::AwaitCallback<Status>(
          [node](std::function<void(Status)> done) { node->DisarmNoSpace(std::move(done)); });
      Status s = co_await std::move(op);
      if (!s.ok()) co_return s;
    }
    replica::KvNodeStatus st = node_.GetStatus();
    AlarmResponse resp;
    resp.member_id = st.id;
    if (st.nospace) {
      resp.alarms.push_back("NOSPACE");
      resp.detail = st.error;
    }
    if (!st.alarm.empty()) {
      resp.alarms.push_back("CORRUPT");
      resp.detail += (resp.detail.empty() ? "" : "; ") + st.alarm;
    }
    co_return resp;
  }

  MemberListResponse Members() {
    replica::KvNodeStatus st = node_.GetStatus();
    MemberListResponse resp;
    resp.leader = st.leader;
    resp.members = ToMembers(st.id, st.members);
    return resp;
  }

  awaitable<Result<MemberChangeResponse>> MemberAdd(MemberAddRequest req) {
    replica::MemberChange ch;
    ch.type = req.learner ? replica::MemberChange::Type::kAddLearner
                          : replica::MemberChange::Type::kAddVoter;
    ch.id = req.id;
    ch.peer_address = std::move(req.peer_address);
    ch.client_address = std::move(req.client_address);
    ch.force = req.force;
    auto call = ChangeMembers(std::move(ch), req.timeout_ms);
    co_return co_await std::move(call);
  }

  awaitable<Result<MemberChangeResponse>> MemberPromote(MemberPromoteRequest req) {
    replica::MemberChange ch;
    ch.type = replica::MemberChange::Type::kPromote;
    ch.id = req.id;
    auto call = ChangeMembers(std::move(ch), req.timeout_ms);
    co_return co_await std::move(call);
  }

  awaitable<Result<MemberChangeResponse>> MemberUpdate(MemberUpdateRequest req) {
    replica::MemberChange ch;
    ch.type = replica::MemberChange::Type::kUpdate;
    ch.id = req.id;
    ch.peer_address = std::move(req.peer_address);
    ch.client_address = std::move(req.client_address);
    auto call = ChangeMembers(std::move(ch), req.timeout_ms);
    co_return co_await std::move(call);
  }

  awaitable<Result<MemberChangeResponse>> MemberRemove(MemberRemoveRequest req) {
    replica::MemberChange ch;
    ch.type = replica::MemberChange::Type::kRemove;
    ch.id = req.id;
    auto call = ChangeMembers(std::move(ch), req.timeout_ms);
    co_return co_await std::move(call);
  }

 private:
  // Who answers (protocol.h ResponseHeader): the ids Status answers, and the
  // term now, taken after the read or write it goes with. Cheap (no status
  // snapshot): every get, scan and write carries one.
  ResponseHeader Header() {
    const replica::NodeIdentity id = node_.identity();
    return ResponseHeader{id.cluster_id, id.member_id, node_.term()};
  }

  static Status NoRevisions() {
    return Status::NotSupported("this server keeps one version per key: no reads at a revision");
  }

  // The timestamp an MVCC read is made at, after what makes it safe:
  //   serializable: the request's revision, or the newest state (kMaxTs);
  //     nothing awaited.
  //   linearizable: the read barrier; then the request's revision (refused
  //     if it is in the future: writes could still commit below it) or a
  //     fresh timestamp from the oracle; then the writes below it in flight.
  awaitable<Result<uint64_t>> ReadPoint(uint64_t revision, bool serializable,
                                        uint32_t timeout_ms) {
    if (serializable) co_return revision != 0 ? revision : txn::kMaxTs;
    Status s = co_await Barrier(timeout_ms);
    if (!s.ok()) co_return s;
    Result<uint64_t> now = txn_->GetTimestamps(1);
    if (!now.ok()) co_return Translate(now.status());
    if (revision > *now) {
      co_return Status::InvalidArgument("revision " + std::to_string(revision) +
                                        " is in the future (now " + std::to_string(*now) + ")");
    }
    const uint64_t ts = revision != 0 ? revision : *now;
    txn::TxnNode* node = txn_;
    milliseconds timeout = TimeoutOf(timeout_ms);
    auto op = internal::AwaitCallback<Status>([node, ts, timeout](std::function<void(Status)> done) {
      node->WaitForWrites(ts, timeout, std::move(done));
    });
    s = co_await std::move(op);
    if (!s.ok()) co_return Translate(std::move(s));
    co_return ts;
  }

  static void SetId(replica::KvCommand& cmd, const WriteId& id) {
    cmd.client_id = id.client_id;
    cmd.request_seq = id.request_seq;
  }

  milliseconds TimeoutOf(uint32_t timeout_ms) const {
    return milliseconds(timeout_ms != 0 ? static_cast<int64_t>(timeout_ms)
                                        : static_cast<int64_t>(options_.default_timeout_ms));
  }

  std::string SelfAddress() const {
    return options_.advertise_client_address.empty() ? server_.address()
                                                     : options_.advertise_client_address;
  }

  // Configured addresses first, then the resolver, then the replicated
  // address book (client addresses given to MemberAdd).
  std::string ClientAddressOf(uint64_t self, uint64_t id) const {
    if (id == 0) return "";
    if (id == self) return SelfAddress();
    auto it = options_.member_client_addresses.find(id);
    if (it != options_.member_client_addresses.end()) return it->second;
    std::string r = options_.resolve_client_address ? options_.resolve_client_address(id) : "";
    if (!r.empty()) return r;
    for (const replica::MemberInfo& m : node_.GetStatus().members)
      if (m.id == id) return m.client_address;
    return "";
  }

  std::vector<Member> ToMembers(uint64_t self, const std::vector<replica::MemberInfo>& ms) const {
    std::vector<Member> out;
    for (const replica::MemberInfo& m : ms) {
      Member o;
      o.id = m.id;
      o.peer_address = m.peer_address;
      o.client_address = m.id == self ? SelfAddress() : m.client_address;
      if (o.client_address.empty()) o.client_address = ClientAddressOf(self, m.id);
      o.learner = m.learner;
      out.push_back(std::move(o));
    }
    std::sort(out.begin(), out.end(), [](const Member& a, const Member& b) { return a.id < b.id; });
    return out;
  }

  awaitable<Result<MemberChangeResponse>> ChangeMembers(replica::MemberChange ch, uint32_t timeout_ms) {
    replica::KvNode* node = &node_;
    milliseconds timeout = TimeoutOf(timeout_ms);
    auto shared = std::make_shared<replica::MemberChange>(std::move(ch));
    auto op = internal::AwaitResult<replica::MemberChangeResult>([node, timeout, shared](auto done) {
      node->ProposeMemberChange(std::move(*shared), timeout, std::move(done));
    });
    Result<replica::MemberChangeResult> r = co_await std::move(op);
    if (!r.ok()) co_return Translate(r.status());
    replica::KvNodeStatus st = node_.GetStatus();
    MemberChangeResponse resp;
    resp.index = r->index;
    resp.members = ToMembers(st.id, r->members);
    resp.leader = st.leader;
    co_return resp;
  }

  // A replica's NotLeader names the leader's PEER address; the client needs
  // its CLIENT address: the routing detail is rewritten before it leaves.
  Status Translate(Status s) {
    if (!s.IsNotLeader()) return s;
    RoutingError hint = RoutingErrorOf(s).value_or(RoutingError{});
    replica::KvNodeStatus st = node_.GetStatus();
    if (hint.group == 0) hint.group = st.group;
    if (hint.leader_id == 0 && st.leader != st.id) hint.leader_id = st.leader;
    hint.leader_address = ClientAddressOf(st.id, hint.leader_id);
    return NotLeaderError(hint);
  }

  awaitable<Status> Barrier(uint32_t timeout_ms) {
    replica::KvNode* node = &node_;
    milliseconds timeout = TimeoutOf(timeout_ms);
    auto op = internal::AwaitCallback<Status>([node, timeout](std::function<void(Status)> done) {
      node->ReadBarrier(timeout, std::move(done));
    });
    Status s = co_await std::move(op);
    co_return Translate(std::move(s));
  }

  // lease != 0: a put attaching its key (REQUIRES: txn_).
  // With a TxnNode every write goes through ProposeKvWrite (etcd's put
  // options); a plain KvNode has none of them.
  awaitable<Result<txn::KvWriteResult>> Propose(replica::KvCommand cmd, uint32_t timeout_ms,
                                                txn::KvWriteOptions options = {}) {
    if (txn_ == nullptr && options.prev_kv)
      co_return Status::NotSupported("prev_kv: this server keeps one version per key");
    replica::KvNode* node = &node_;
    txn::TxnNode* txn = txn_;
    milliseconds timeout = TimeoutOf(timeout_ms);
    auto shared_cmd = std::make_shared<replica::KvCommand>(std::move(cmd));
    auto op = internal::AwaitResult<txn::KvWriteResult>(
        [node, txn, options, timeout, shared_cmd](auto done) {
          if (txn != nullptr) {
            txn->ProposeKvWrite(std::move(*shared_cmd), options, timeout, std::move(done));
            return;
          }
          node->Propose(std::move(*shared_cmd), timeout,
                        [done = std::move(done)](Result<replica::KvCommandResult> r) mutable {
                          if (!r.ok()) {
                            done(r.status());
                            return;
                          }
                          txn::KvWriteResult out;
                          out.kv = std::move(r).value();
                          done(std::move(out));
                        });
        });
    Result<txn::KvWriteResult> r = co_await std::move(op);
    if (!r.ok()) co_return Translate(r.status());
    co_return std::move(r).value();
  }

  net::RpcServer& server_;
  replica::KvNode& node_;
  txn::TxnNode* const txn_;  // the same node when it is MVCC; null for a plain KvNode
  const ServiceOptions options_;
};

// Registers `handler` for method M, timed and reported to the observer when
// there is one. A handler that takes (request, trace id) gets the request
// frame's trace id (common/trace_id.h); a traced request's outcome is logged
// at debug level ("kv: request done").
template <typename M, typename Handler>
void RegisterObserved(net::RpcServer& server, const ServiceOptions& options, Handler handler) {
  using Req = typename M::Request;
  using Resp = typename M::Response;
  constexpr bool kTraced = std::is_invocable_v<Handler&, Req, uint64_t>;
  if constexpr (!kTraced) {
    if (!options.on_request_done) {
      server.Register<M>(std::move(handler));
      return;
    }
  }
  server.Register<M>([handler = std::move(handler), observe = options.on_request_done,
                      log = logging::Get("kv")](Req r, const net::ServerCall& call)
                         -> awaitable<Result<Resp>> {
    const uint64_t trace = call.trace_id();
    const auto start = std::chrono::steady_clock::now();
    auto run = [&] {
      if constexpr (kTraced) {
        return handler(std::move(r), trace);
      } else {
        return handler(std::move(r));
      }
    };
    auto op = run();  // its own statement: GCC 12 co_await argument bug
    Result<Resp> out = co_await std::move(op);
    const auto took = std::chrono::steady_clock::now() - start;
    if (observe) observe(M::kName, out.status(), took);
    if (trace != 0 && log->should_log(spdlog::level::debug)) {
      logging::Log(log, spdlog::level::debug, "kv: request done",
                   {{"method", M::kName},
                    {"code", StatusCodeName(out.status().code())},
                    {"took_ms", took},
                    {"trace", FormatTraceId(trace)}});
    }
    co_return out;
  });
}

void RegisterMethods(net::RpcServer& server, std::shared_ptr<KvService> svc,
                     const ServiceOptions& options) {
  RegisterObserved<GetMethod>(server, options,
                              [svc](GetRequest r) { return svc->Get(std::move(r)); });
  RegisterObserved<ScanMethod>(server, options,
                               [svc](ScanRequest r) { return svc->Scan(std::move(r)); });
  RegisterObserved<PutMethod>(server, options, [svc](PutRequest r, uint64_t trace) {
    return svc->Put(std::move(r), trace);
  });
  RegisterObserved<DeleteMethod>(server, options, [svc](DeleteRequest r, uint64_t trace) {
    return svc->Delete(std::move(r), trace);
  });
  RegisterObserved<DeleteRangeMethod>(server, options, [svc](DeleteRangeRequest r, uint64_t trace) {
    return svc->DeleteRange(std::move(r), trace);
  });
  RegisterObserved<CasMethod>(server, options, [svc](CasRequest r, uint64_t trace) {
    return svc->Cas(std::move(r), trace);
  });
  RegisterObserved<StatusMethod>(
      server, options,
      [svc](StatusRequest) -> awaitable<Result<StatusResponse>> { co_return svc->NodeStatus(); });
  RegisterObserved<MemberListMethod>(
      server, options, [svc](MemberListRequest) -> awaitable<Result<MemberListResponse>> {
        co_return svc->Members();
      });
  RegisterObserved<AlarmMethod>(server, options,
                                [svc](AlarmRequest r) { return svc->Alarm(std::move(r)); });
  RegisterObserved<MemberAddMethod>(
      server, options, [svc](MemberAddRequest r) { return svc->MemberAdd(std::move(r)); });
  RegisterObserved<MemberPromoteMethod>(
      server, options, [svc](MemberPromoteRequest r) { return svc->MemberPromote(std::move(r)); });
  RegisterObserved<MemberRemoveMethod>(
      server, options, [svc](MemberRemoveRequest r) { return svc->MemberRemove(std::move(r)); });
  RegisterObserved<MemberUpdateMethod>(
      server, options, [svc](MemberUpdateRequest r) { return svc->MemberUpdate(std::move(r)); });
  RegisterObserved<MoveLeaderMethod>(
      server, options, [svc](MoveLeaderRequest r) { return svc->MoveLeader(r); });
  server.Register<SnapshotSaveMethod>(
      [svc](SnapshotSaveRequest, net::ServerWriter<SnapshotSaveChunk>& w) {
        return svc->SnapshotSave(w);
      });
}

// The lease methods (lease_service.h), with this service's NotLeader hint
// and default timeout.
void RegisterLeaseMethods(net::RpcServer& server, std::shared_ptr<KvService> svc,
                          txn::TxnNode& node, const ServiceOptions& options) {
  auto h = std::make_shared<internal::LeaseHandlers>(
      node, [svc](Status s) { return svc->TranslateStatus(std::move(s)); },
      [svc](uint32_t ms) { return svc->TimeoutOfRequest(ms); });
  RegisterObserved<LeaseGrantMethod>(server, options,
                                     [h](LeaseGrantRequest r) { return h->Grant(r); });
  RegisterObserved<LeaseRevokeMethod>(server, options,
                                      [h](LeaseRevokeRequest r) { return h->Revoke(r); });
  RegisterObserved<LeaseKeepAliveMethod>(server, options,
                                         [h](LeaseKeepAliveRequest r) { return h->KeepAlive(r); });
  RegisterObserved<LeaseTimeToLiveMethod>(
      server, options, [h](LeaseTimeToLiveRequest r) { return h->TimeToLive(r); });
  RegisterObserved<LeaseLeasesMethod>(server, options,
                                      [h](LeaseLeasesRequest r) { return h->Leases(r); });
}

}  // namespace

void RegisterKvService(net::RpcServer& server, replica::KvNode& node, const ServiceOptions& options) {
  RegisterMethods(server, std::make_shared<KvService>(server, node, nullptr, options), options);
}

void RegisterKvService(net::RpcServer& server, txn::TxnNode& node, const ServiceOptions& options) {
  auto svc = std::make_shared<KvService>(server, node, &node, options);
  RegisterMethods(server, svc, options);
  RegisterObserved<TsoMethod>(server, options,
                              [svc](TsoRequest r) { return svc->Tso(std::move(r)); });
  RegisterObserved<TxnMethod>(server, options,
                              [svc](TxnRequest r) { return svc->Txn(std::move(r)); });
  server.Register<WatchMethod>([svc](WatchRequest r, net::ServerWriter<WatchResponse>& w) {
    return svc->Watch(std::move(r), w);
  });
  RegisterObserved<WatchProgressMethod>(
      server, options, [svc](WatchProgressRequest r) { return svc->WatchProgress(r); });
  RegisterLeaseMethods(server, svc, node, options);
  RegisterObserved<CompactMethod>(server, options,
                                  [svc](CompactRequest r) { return svc->Compact(r); });
  RegisterObserved<DefragmentMethod>(server, options,
                                     [svc](DefragmentRequest r) { return svc->Defragment(r); });
  RegisterObserved<HashKvMethod>(server, options,
                                 [svc](HashKvRequest r) { return svc->HashKv(r); });
}

}  // namespace tinykv::client
