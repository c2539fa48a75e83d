// EtcdApiServer: etcd's gRPC services translated into TinyKV client calls
// (etcd_api.h has the contract).
#include "tinykv/etcd/etcd_api.h"

#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"
#include "tinykv/client/maintenance_protocol.h"
#include "tinykv/net/address.h"
#include "tinykv/txn/lease.h"
#include "tinykv/txn/watch_error.h"

namespace tinykv::etcd {
namespace {

namespace pb = etcdserverpb;

// etcd's codes and messages for the errors its clients tell apart
// (etcd's api/v3rpc/rpctypes); anything else keeps TinyKV's message.
grpc::Status ToGrpc(const Status& s) {
  if (auto w = txn::WatchErrorOf(s); w && w->kind == txn::WatchError::Kind::kCompacted)
    return {grpc::StatusCode::OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted"};
  if (s.IsInvalidArgument() && s.ToString().find(" is in the future") != std::string::npos)
    return {grpc::StatusCode::OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision"};
  if (s.IsNotFound() && s.ToString().find(txn::kLeaseNotFoundMessage) != std::string::npos)
    return {grpc::StatusCode::NOT_FOUND, txn::kLeaseNotFoundMessage};
  const std::string msg(s.message());
  switch (s.code()) {
    case Status::Code::kInvalidArgument:
      return {grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: " + msg};
    case Status::Code::kNotFound:
      return {grpc::StatusCode::NOT_FOUND, "etcdserver: " + msg};
    case Status::Code::kTimeout:
      return {grpc::StatusCode::UNAVAILABLE, "etcdserver: request timed out: " + msg};
    case Status::Code::kNotLeader:
      return {grpc::StatusCode::UNAVAILABLE, "etcdserver: no leader: " + msg};
    case Status::Code::kResourceExhausted:
      return {grpc::StatusCode::RESOURCE_EXHAUSTED, "etcdserver: " + msg};
    case Status::Code::kNotSupported:
      return {grpc::StatusCode::UNIMPLEMENTED, "etcdserver: " + msg};
    case Status::Code::kCancelled:
      return {grpc::StatusCode::CANCELLED, "etcdserver: " + msg};
    default:
      return {grpc::StatusCode::UNAVAILABLE, "etcdserver: " + s.ToString()};
  }
}

int64_t Rev(uint64_t r) { return static_cast<int64_t>(r); }

void FillHeader(const client::ResponseHeader& h, uint64_t revision, pb::ResponseHeader* out) {
  out->set_cluster_id(h.cluster_id);
  out->set_member_id(h.member_id);
  out->set_revision(Rev(revision));
  out->set_raft_term(h.raft_term);
}

void FillKv(const client::KeyValue& kv, bool keys_only, mvccpb::KeyValue* out) {
  out->set_key(kv.key);
  if (!keys_only) out->set_value(kv.value);
  out->set_create_revision(Rev(kv.meta.create_revision));
  out->set_mod_revision(Rev(kv.meta.mod_revision));
  out->set_version(Rev(kv.meta.version));
  out->set_lease(Rev(kv.meta.lease));
}

// A prev_kv of a write (the pair and its metadata side by side).
void FillPrevKv(const client::KeyValue& kv, const client::KeyMetadata* meta, mvccpb::KeyValue* out) {
  client::KeyValue with = kv;
  if (meta != nullptr) with.meta = *meta;
  FillKv(with, false, out);
}

// etcd's [key, range_end) as TinyKV's [start, end) with end "" = unbounded:
// range_end "\0" means every key >= key, and key "\0" with it every key.
struct Span {
  bool single = false;
  std::string start, end;
};
Span SpanOf(const std::string& key, const std::string& range_end) {
  if (range_end.empty()) return Span{true, key, {}};
  const std::string zero(1, '\0');
  if (range_end == zero) return Span{false, key == zero ? std::string() : key, {}};
  return Span{false, key, range_end};
}

client::CallOptions ReadOptions(int64_t revision, bool serializable) {
  client::CallOptions o;
  o.serializable = serializable;
  o.revision = revision > 0 ? static_cast<uint64_t>(revision) : 0;
  return o;
}

class KvService final : public pb::KV::Service {
 public:
  explicit KvService(client::Client* cl) : cl_(cl) {}

  grpc::Status Range(grpc::ServerContext*, const pb::RangeRequest* req,
                     pb::RangeResponse* resp) override {
    if (req->key().empty()) return {grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: key is not provided"};
    if (req->limit() < 0) return {grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: limit is negative"};
    if (req->sort_order() != pb::RangeRequest::NONE &&
        !(req->sort_target() == pb::RangeRequest::KEY && req->sort_order() == pb::RangeRequest::ASCEND))
      return {grpc::StatusCode::UNIMPLEMENTED,
              "etcdserver: only key order is served (sort by key, ascending)"};
    if (req->min_mod_revision() || req->max_mod_revision() || req->min_create_revision() ||
        req->max_create_revision())
      return {grpc::StatusCode::UNIMPLEMENTED, "etcdserver: revision filters are not served"};
    const client::CallOptions opts = ReadOptions(req->revision(), req->serializable());
    const Span span = SpanOf(req->key(), req->range_end());
    if (span.single) {
      Result<client::GetResponse> g = cl_->GetWithRevision(span.start, opts);
      if (!g.ok()) return ToGrpc(g.status());
      FillHeader(g->header, g->revision, resp->mutable_header());
      if (g->found) {
        resp->set_count(1);
        if (!req->count_only()) {
          client::KeyValue kv{span.start, g->value, g->meta};
          FillKv(kv, req->keys_only(), resp->add_kvs());
        }
      }
      return grpc::Status::OK;
    }
    // One more than the limit tells whether there is more; the count is
    // every key of the range at the same revision.
    const uint64_t limit = static_cast<uint64_t>(req->limit());
    Result<client::ScanAtRevision> s =
        cl_->ScanWithRevision(span.start, span.end, limit == 0 ? 0 : limit + 1, opts,
                              req->keys_only() || req->count_only());
    if (!s.ok()) return ToGrpc(s.status());
    FillHeader(s->header, s->revision, resp->mutable_header());
    uint64_t count = s->kvs.size();
    if (limit != 0 && s->kvs.size() > limit) {
      resp->set_more(true);
      client::CallOptions at = opts;
      at.revision = s->revision;
      Result<client::ScanAtRevision> all = cl_->ScanWithRevision(span.start, span.end, 0, at, true);
      if (!all.ok()) return ToGrpc(all.status());
      count = all->kvs.size();
      s->kvs.resize(limit);
    }
    resp->set_count(static_cast<int64_t>(count));
    if (!req->count_only())
      for (const client::KeyValue& kv : s->kvs) FillKv(kv, req->keys_only(), resp->add_kvs());
    return grpc::Status::OK;
  }

  grpc::Status Put(grpc::ServerContext*, const pb::PutRequest* req, pb::PutResponse* resp) override {
    if (req->key().empty()) return {grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: key is not provided"};
    if (req->ignore_value() || req->ignore_lease())
      return {grpc::StatusCode::UNIMPLEMENTED, "etcdserver: ignore_value and ignore_lease are not served"};
    client::WriteOptions w;
    w.lease = static_cast<uint64_t>(req->lease());
    w.prev_kv = req->prev_kv();
    Result<client::WriteResponse> r = cl_->PutWith(req->key(), req->value(), w);
    if (!r.ok()) return ToGrpc(r.status());
    FillHeader(r->header, r->revision, resp->mutable_header());
    if (req->prev_kv() && !r->prev_kvs.empty())
      FillPrevKv(r->prev_kvs[0], r->prev_metas.empty() ? nullptr : &r->prev_metas[0],
                 resp->mutable_prev_kv());
    return grpc::Status::OK;
  }

  grpc::Status DeleteRange(grpc::ServerContext*, const pb::DeleteRangeRequest* req,
                           pb::DeleteRangeResponse* resp) override {
    if (req->key().empty()) return {grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: key is not provided"};
    client::WriteOptions w;
    w.prev_kv = req->prev_kv();
    const Span span = SpanOf(req->key(), req->range_end());
    if (span.single) {
      // A delete of one key is a range of one: how many went tells the caller
      // whether it existed, so the prev_kv path answers both.
      client::WriteOptions with_prev = w;
      with_prev.prev_kv = true;
      Result<client::WriteResponse> r = cl_->DeleteWith(span.start, with_prev);
      if (!r.ok()) return ToGrpc(r.status());
      FillHeader(r->header, r->revision, resp->mutable_header());
      resp->set_deleted(static_cast<int64_t>(r->prev_kvs.size()));
      if (req->prev_kv())
        for (size_t i = 0; i < r->prev_kvs.size(); ++i)
          FillPrevKv(r->prev_kvs[i], i < r->prev_metas.size() ? &r->prev_metas[i] : nullptr,
                     resp->add_prev_kvs());
      return grpc::Status::OK;
    }
    Result<client::DeleteRangeResponse> r = cl_->DeleteRangeWith(span.start, span.end, w);
    if (!r.ok()) return ToGrpc(r.status());
    if (req->prev_kv() && r->prev_kvs_truncated)
      return {grpc::StatusCode::RESOURCE_EXHAUSTED,
              "etcdserver: the deleted pairs exceed what one answer carries; the delete applied"};
    FillHeader(r->header, r->revision, resp->mutable_header());
    resp->set_deleted(static_cast<int64_t>(r->deleted));
    for (size_t i = 0; i < r->prev_kvs.size(); ++i)
      FillPrevKv(r->prev_kvs[i], i < r->prev_metas.size() ? &r->prev_metas[i] : nullptr,
                 resp->add_prev_kvs());
    return grpc::Status::OK;
  }

  grpc::Status Compact(grpc::ServerContext*, const pb::CompactionRequest* req,
                       pb::CompactionResponse* resp) override {
    if (req->revision() <= 0)
      return {grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: compaction revision must be positive"};
    Result<client::CompactResponse> r =
        cl_->Compact(static_cast<uint64_t>(req->revision()), req->physical());
    if (!r.ok()) return ToGrpc(r.status());
    resp->mutable_header()->set_revision(Rev(r->compact_revision));
    return grpc::Status::OK;
  }

 private:
  client::Client* cl_;
};

// etcd's member URLs are URLs: TinyKV's host:port addresses get http://.
std::string Url(const std::string& address) { return address.empty() ? "" : "http://" + address; }

class ClusterService final : public pb::Cluster::Service {
 public:
  explicit ClusterService(client::Client* cl) : cl_(cl) {}

  grpc::Status MemberList(grpc::ServerContext*, const pb::MemberListRequest*,
                          pb::MemberListResponse* resp) override {
    Result<client::MemberListResponse> r = cl_->MemberList();
    if (!r.ok()) return ToGrpc(r.status());
    for (const client::Member& m : r->members) {
      pb::Member* out = resp->add_members();
      out->set_id(m.id);
      out->set_name(std::to_string(m.id));
      if (!m.peer_address.empty()) out->add_peerurls(Url(m.peer_address));
      if (!m.client_address.empty()) out->add_clienturls(Url(m.client_address));
      out->set_islearner(m.learner);
    }
    return grpc::Status::OK;
  }

 private:
  client::Client* cl_;
};

class MaintenanceService final : public pb::Maintenance::Service {
 public:
  MaintenanceService(client::Client* cl, std::string endpoint)
      : cl_(cl), endpoint_(std::move(endpoint)) {}

  grpc::Status Status(grpc::ServerContext*, const pb::StatusRequest*,
                      pb::StatusResponse* resp) override {
    Result<client::StatusResponse> r = cl_->EndpointStatus(endpoint_);
    if (!r.ok()) return ToGrpc(r.status());
    pb::ResponseHeader* h = resp->mutable_header();
    h->set_cluster_id(r->cluster_id);
    h->set_member_id(r->id);
    h->set_raft_term(r->term);
    resp->set_version(r->version);
    resp->set_leader(r->leader);
    resp->set_raftindex(r->commit_index);
    resp->set_raftterm(r->term);
    resp->set_raftappliedindex(r->applied_index);
    if (!r->alarm.empty()) resp->add_errors("alarm: CORRUPT: " + r->alarm);
    resp->set_islearner(r->role == "learner");
    return grpc::Status::OK;
  }

 private:
  client::Client* cl_;
  std::string endpoint_;
};

}  // namespace

struct EtcdApiServer::Impl {
  std::unique_ptr<client::Client> client;
  std::unique_ptr<KvService> kv;
  std::unique_ptr<ClusterService> cluster;
  std::unique_ptr<MaintenanceService> maintenance;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  std::once_flag stopped;
};

Result<std::unique_ptr<EtcdApiServer>> EtcdApiServer::Start(EtcdApiOptions options) {
  TINYKV_ASSIGN_OR_RETURN(net::HostPort hp, net::ParseHostPort(options.listen));
  if (options.client.endpoints.empty())
    return Status::InvalidArgument("etcd API: no client endpoint to forward calls to");
  // Debian's Abseil keeps mutex deadlock detection on; its bookkeeping on
  // every gRPC mutex costs CPU on each call (as in tinykv-bench's backend).
  static std::once_flag once;
  std::call_once(once, [] { absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore); });
  auto impl = std::make_unique<Impl>();
  const std::string status_endpoint =
      options.status_endpoint.empty() ? options.client.endpoints.front() : options.status_endpoint;
  TINYKV_ASSIGN_OR_RETURN(impl->client, client::Client::Create(std::move(options.client)));
  impl->kv = std::make_unique<KvService>(impl->client.get());
  impl->cluster = std::make_unique<ClusterService>(impl->client.get());
  impl->maintenance = std::make_unique<MaintenanceService>(impl->client.get(), status_endpoint);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(hp.ToString(), grpc::InsecureServerCredentials(),
                           &impl->port);
  builder.RegisterService(impl->kv.get());
  builder.RegisterService(impl->cluster.get());
  builder.RegisterService(impl->maintenance.get());
  impl->server = builder.BuildAndStart();
  if (impl->server == nullptr || impl->port == 0)
    return Status::IOError("etcd API: cannot listen on " + options.listen);
  return std::unique_ptr<EtcdApiServer>(new EtcdApiServer(std::move(impl)));
}

EtcdApiServer::EtcdApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EtcdApiServer::~EtcdApiServer() { Stop(); }

uint16_t EtcdApiServer::port() const { return static_cast<uint16_t>(impl_->port); }

void EtcdApiServer::Stop() {
  std::call_once(impl_->stopped, [this] {
    impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    impl_->server->Wait();
    impl_->client->Close();
  });
}

}  // namespace tinykv::etcd
