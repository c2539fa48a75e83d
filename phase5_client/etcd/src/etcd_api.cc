// EtcdApiServer: etcd's gRPC services translated into TinyKV client calls
// (etcd_api.h has the contract).
#include "tinykv/etcd/etcd_api.h"

#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <string>
#include <utility>
#include <vector>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"
#include "tinykv/client/compare_txn.h"
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

// The header of answers whose TinyKV call carries none (leases, members,
// maintenance): the dialled member's identity and term, read with Status at
// most once a second.
class HeaderCache {
 public:
  HeaderCache(client::Client* cl, std::string endpoint) : cl_(cl), endpoint_(std::move(endpoint)) {}
  void Fill(uint64_t revision, pb::ResponseHeader* out) {
    std::lock_guard<std::mutex> l(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (!valid_ || now - read_ > std::chrono::seconds(1)) {
      Result<client::StatusResponse> st = cl_->EndpointStatus(endpoint_, std::chrono::seconds(2));
      if (st.ok()) {
        header_ = client::ResponseHeader{st->cluster_id, st->id, st->term};
        valid_ = true;
        read_ = now;
      }
    }
    FillHeader(header_, revision, out);
  }

 private:
  client::Client* cl_;
  const std::string endpoint_;
  std::mutex mu_;
  bool valid_ = false;
  std::chrono::steady_clock::time_point read_;
  client::ResponseHeader header_;
};

// etcd's Txn as a CompareTxn (compare_txn.h): single-key compares and ops.
// A range compare or op, a nested txn, and a put with a lease, prev_kv or
// ignore_* are refused (UNIMPLEMENTED) rather than run without the
// guarantee they ask for.
grpc::Status ToCompareTxn(const pb::TxnRequest& req, client::CompareTxn* out) {
  using client::TxnCompare;
  using client::TxnOp;
  const grpc::Status unsupported(grpc::StatusCode::UNIMPLEMENTED,
                                 "etcdserver: txn: only single-key compares and get/put/del ops "
                                 "(no range, lease, prev_kv or nested txn) are served");
  for (const pb::Compare& c : req.compare()) {
    if (!c.range_end().empty()) return unsupported;
    TxnCompare tc;
    tc.key = c.key();
    switch (c.result()) {
      case pb::Compare::EQUAL: tc.op = TxnCompare::Op::kEqual; break;
      case pb::Compare::GREATER: tc.op = TxnCompare::Op::kGreater; break;
      case pb::Compare::LESS: tc.op = TxnCompare::Op::kLess; break;
      case pb::Compare::NOT_EQUAL: tc.op = TxnCompare::Op::kNotEqual; break;
      default: return {grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: txn: unknown compare result"};
    }
    switch (c.target()) {
      case pb::Compare::VERSION: tc.target = TxnCompare::Target::kVersion; tc.number = c.version(); break;
      case pb::Compare::CREATE: tc.target = TxnCompare::Target::kCreate; tc.number = c.create_revision(); break;
      case pb::Compare::MOD: tc.target = TxnCompare::Target::kMod; tc.number = c.mod_revision(); break;
      case pb::Compare::VALUE: tc.target = TxnCompare::Target::kValue; tc.value = c.value(); break;
      case pb::Compare::LEASE: tc.target = TxnCompare::Target::kLease; tc.number = c.lease(); break;
      default: return {grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: txn: unknown compare target"};
    }
    out->compares.push_back(std::move(tc));
  }
  auto ops = [&](const auto& in, std::vector<TxnOp>* dst) -> grpc::Status {
    for (const pb::RequestOp& op : in) {
      TxnOp o;
      if (op.has_request_range()) {
        if (!op.request_range().range_end().empty()) return unsupported;
        o.kind = TxnOp::Kind::kGet;
        o.key = op.request_range().key();
      } else if (op.has_request_put()) {
        const pb::PutRequest& p = op.request_put();
        if (p.lease() != 0 || p.prev_kv() || p.ignore_value() || p.ignore_lease()) return unsupported;
        o.kind = TxnOp::Kind::kPut;
        o.key = p.key();
        o.value = p.value();
      } else if (op.has_request_delete_range()) {
        const pb::DeleteRangeRequest& d = op.request_delete_range();
        if (!d.range_end().empty() || d.prev_kv()) return unsupported;
        o.kind = TxnOp::Kind::kDelete;
        o.key = d.key();
      } else {
        return unsupported;  // a nested txn, or an empty op
      }
      if (o.key.empty()) return {grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: key is not provided"};
      dst->push_back(std::move(o));
    }
    return grpc::Status::OK;
  };
  if (grpc::Status s = ops(req.success(), &out->success); !s.ok()) return s;
  return ops(req.failure(), &out->failure);
}

// etcd's lock and election idiom -- "if key is absent (or holds V), put it
// with my lease, else get it" -- as one compare-and-swap: a put with a lease
// cannot be part of a client transaction (Percolator's mutations carry no
// lease), but a swap can carry one (CasRequest::lease). Taken only for a put
// with a lease; other txns take the general path.
struct CasPlan {
  std::string key;
  std::optional<std::string> expected;  // nullopt: the key must be absent
  const pb::PutRequest* put = nullptr;
  bool failure_get = false;  // the failure branch reads the key
};
std::optional<CasPlan> AsCas(const pb::TxnRequest& req) {
  if (req.compare_size() != 1 || req.success_size() != 1 || req.failure_size() > 1)
    return std::nullopt;
  const pb::Compare& c = req.compare(0);
  const pb::RequestOp& s = req.success(0);
  if (!c.range_end().empty() || c.result() != pb::Compare::EQUAL || !s.has_request_put())
    return std::nullopt;
  const pb::PutRequest& put = s.request_put();
  if (put.key() != c.key() || put.lease() == 0 || put.prev_kv() || put.ignore_value() ||
      put.ignore_lease())
    return std::nullopt;
  CasPlan plan;
  plan.key = c.key();
  plan.put = &put;
  if (c.target() == pb::Compare::VALUE) {
    plan.expected = c.value();
  } else if (!((c.target() == pb::Compare::CREATE && c.create_revision() == 0) ||
               (c.target() == pb::Compare::VERSION && c.version() == 0))) {
    return std::nullopt;
  }
  if (req.failure_size() == 1) {
    const pb::RequestOp& f = req.failure(0);
    if (!f.has_request_range() || f.request_range().key() != c.key() ||
        !f.request_range().range_end().empty())
      return std::nullopt;
    plan.failure_get = true;
  }
  return plan;
}

class KvService final : public pb::KV::Service {
 public:
  KvService(client::Client* cl, HeaderCache* headers) : cl_(cl), headers_(headers) {}

  grpc::Status Txn(grpc::ServerContext*, const pb::TxnRequest* req, pb::TxnResponse* resp) override {
    if (std::optional<CasPlan> plan = AsCas(*req)) return CasTxn(*plan, *req, resp);
    client::CompareTxn txn;
    if (grpc::Status s = ToCompareTxn(*req, &txn); !s.ok()) return s;
    Result<client::TxnOutcome> r = client::RunCompareTxn(*cl_, txn, client::TxnOptions{});
    if (!r.ok()) return ToGrpc(r.status());
    headers_->Fill(r->revision, resp->mutable_header());
    resp->set_succeeded(r->succeeded);
    const auto& branch = r->succeeded ? req->success() : req->failure();
    for (size_t i = 0; i < r->responses.size(); ++i) {
      const client::TxnOpResult& res = r->responses[i];
      pb::ResponseOp* out = resp->add_responses();
      switch (res.kind) {
        case client::TxnOp::Kind::kGet: {
          pb::RangeResponse* rr = out->mutable_response_range();
          *rr->mutable_header() = resp->header();
          const pb::RangeRequest& asked = branch[static_cast<int>(i)].request_range();
          rr->set_count(static_cast<int64_t>(res.kvs.size()));
          if (!asked.count_only())
            for (const client::KeyValue& kv : res.kvs) FillKv(kv, asked.keys_only(), rr->add_kvs());
          break;
        }
        case client::TxnOp::Kind::kPut:
          *out->mutable_response_put()->mutable_header() = resp->header();
          break;
        case client::TxnOp::Kind::kDelete: {
          pb::DeleteRangeResponse* d = out->mutable_response_delete_range();
          *d->mutable_header() = resp->header();
          d->set_deleted(static_cast<int64_t>(res.deleted));
          break;
        }
      }
    }
    return grpc::Status::OK;
  }

  // A failed swap's get reads the key again for its metadata (a linearizable
  // read after the swap, not one atomic with it).
  grpc::Status CasTxn(const CasPlan& plan, const pb::TxnRequest& req, pb::TxnResponse* resp) {
    client::WriteOptions w;
    w.lease = static_cast<uint64_t>(plan.put->lease());
    Result<client::CasResult> r = cl_->CasWith(plan.key, plan.expected, plan.put->value(), w);
    if (!r.ok()) return ToGrpc(r.status());
    headers_->Fill(r->revision, resp->mutable_header());
    resp->set_succeeded(r->succeeded);
    if (r->succeeded) {
      *resp->add_responses()->mutable_response_put()->mutable_header() = resp->header();
    } else if (plan.failure_get) {
      pb::RangeResponse* rr = resp->add_responses()->mutable_response_range();
      const grpc::Status s = Range(nullptr, &req.failure(0).request_range(), rr);
      if (!s.ok()) return s;
    }
    return grpc::Status::OK;
  }

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
    headers_->Fill(r->compact_revision, resp->mutable_header());
    return grpc::Status::OK;
  }

 private:
  client::Client* cl_;
  HeaderCache* headers_;
};

// etcd's member URLs are URLs: TinyKV's host:port addresses get http://.
std::string Url(const std::string& address) { return address.empty() ? "" : "http://" + address; }

void FillMember(const client::Member& m, pb::Member* out) {
  out->set_id(m.id);
  out->set_name(std::to_string(m.id));
  if (!m.peer_address.empty()) out->add_peerurls(Url(m.peer_address));
  if (!m.client_address.empty()) out->add_clienturls(Url(m.client_address));
  out->set_islearner(m.learner);
}

template <typename Members>
void FillMembers(const std::vector<client::Member>& members, Members* out) {
  for (const client::Member& m : members) FillMember(m, out->Add());
}

// The one peer URL of a member add or update (a TinyKV member has one
// address).
Result<std::string> OnePeerUrl(const google::protobuf::RepeatedPtrField<std::string>& urls) {
  if (urls.size() != 1)
    return Status::InvalidArgument("a TinyKV member has one peer URL, not " +
                                   std::to_string(urls.size()));
  return urls[0];
}

class ClusterService final : public pb::Cluster::Service {
 public:
  ClusterService(client::Client* cl, HeaderCache* headers) : cl_(cl), headers_(headers) {}

  grpc::Status MemberList(grpc::ServerContext*, const pb::MemberListRequest*,
                          pb::MemberListResponse* resp) override {
    Result<client::MemberListResponse> r = cl_->MemberList();
    if (!r.ok()) return ToGrpc(r.status());
    headers_->Fill(0, resp->mutable_header());
    FillMembers(r->members, resp->mutable_members());
    return grpc::Status::OK;
  }

  // etcd picks a random id; TinyKV's ids are small integers: the highest
  // member id + 1.
  grpc::Status MemberAdd(grpc::ServerContext*, const pb::MemberAddRequest* req,
                         pb::MemberAddResponse* resp) override {
    Result<std::string> peer = OnePeerUrl(req->peerurls());
    if (!peer.ok()) return ToGrpc(peer.status());
    Result<client::MemberListResponse> list = cl_->MemberList();
    if (!list.ok()) return ToGrpc(list.status());
    uint64_t id = 1;
    for (const client::Member& m : list->members) id = std::max(id, m.id + 1);
    Result<client::MemberChangeResponse> r =
        cl_->MemberAdd(id, *peer, "", req->islearner(), /*force=*/false);
    if (!r.ok()) return ToGrpc(r.status());
    headers_->Fill(0, resp->mutable_header());
    for (const client::Member& m : r->members)
      if (m.id == id) FillMember(m, resp->mutable_member());
    FillMembers(r->members, resp->mutable_members());
    return grpc::Status::OK;
  }

  grpc::Status MemberRemove(grpc::ServerContext*, const pb::MemberRemoveRequest* req,
                            pb::MemberRemoveResponse* resp) override {
    return Change(cl_->MemberRemove(req->id()), resp);
  }

  grpc::Status MemberUpdate(grpc::ServerContext*, const pb::MemberUpdateRequest* req,
                            pb::MemberUpdateResponse* resp) override {
    Result<std::string> peer = OnePeerUrl(req->peerurls());
    if (!peer.ok()) return ToGrpc(peer.status());
    return Change(cl_->MemberUpdate(req->id(), *peer), resp);
  }

  grpc::Status MemberPromote(grpc::ServerContext*, const pb::MemberPromoteRequest* req,
                             pb::MemberPromoteResponse* resp) override {
    return Change(cl_->MemberPromote(req->id()), resp);
  }

 private:
  template <typename Response>
  grpc::Status Change(const Result<client::MemberChangeResponse>& r, Response* resp) {
    if (!r.ok()) return ToGrpc(r.status());
    headers_->Fill(0, resp->mutable_header());
    FillMembers(r->members, resp->mutable_members());
    return grpc::Status::OK;
  }

  client::Client* cl_;
  HeaderCache* headers_;
};

class LeaseService final : public pb::Lease::Service {
 public:
  LeaseService(client::Client* cl, HeaderCache* headers) : cl_(cl), headers_(headers) {}

  grpc::Status LeaseGrant(grpc::ServerContext*, const pb::LeaseGrantRequest* req,
                          pb::LeaseGrantResponse* resp) override {
    if (req->ttl() <= 0) return {grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: lease TTL must be positive"};
    if (req->id() < 0) return {grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: lease ID must not be negative"};
    Result<client::LeaseGrantResponse> r =
        cl_->LeaseGrant(static_cast<uint64_t>(req->ttl()), static_cast<uint64_t>(req->id()));
    if (!r.ok()) return ToGrpc(r.status());
    headers_->Fill(0, resp->mutable_header());
    resp->set_id(Rev(r->id));
    resp->set_ttl(Rev(r->ttl_s));
    return grpc::Status::OK;
  }

  grpc::Status LeaseRevoke(grpc::ServerContext*, const pb::LeaseRevokeRequest* req,
                           pb::LeaseRevokeResponse* resp) override {
    Result<client::LeaseRevokeResponse> r = cl_->LeaseRevoke(static_cast<uint64_t>(req->id()));
    if (!r.ok()) return ToGrpc(r.status());
    headers_->Fill(r->revision, resp->mutable_header());
    return grpc::Status::OK;
  }

  // Each request renews once and is answered once; a lease that does not
  // exist is answered with TTL 0, as etcd does.
  grpc::Status LeaseKeepAlive(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<pb::LeaseKeepAliveResponse, pb::LeaseKeepAliveRequest>* stream) override {
    pb::LeaseKeepAliveRequest req;
    while (!ctx->IsCancelled() && stream->Read(&req)) {
      pb::LeaseKeepAliveResponse resp;
      resp.set_id(req.id());
      Result<client::LeaseKeepAliveResponse> r =
          cl_->LeaseKeepAliveOnce(static_cast<uint64_t>(req.id()));
      if (r.ok()) {
        resp.set_ttl(Rev(r->ttl_s));
      } else if (!r.status().IsNotFound()) {
        return ToGrpc(r.status());
      }
      headers_->Fill(0, resp.mutable_header());
      if (!stream->Write(resp)) break;
    }
    return grpc::Status::OK;
  }

  // A lease that does not exist: TTL -1, as etcd answers.
  grpc::Status LeaseTimeToLive(grpc::ServerContext*, const pb::LeaseTimeToLiveRequest* req,
                               pb::LeaseTimeToLiveResponse* resp) override {
    headers_->Fill(0, resp->mutable_header());
    resp->set_id(req->id());
    Result<client::LeaseTimeToLiveResponse> r =
        cl_->LeaseTimeToLive(static_cast<uint64_t>(req->id()), req->keys());
    if (!r.ok()) {
      if (!r.status().IsNotFound()) return ToGrpc(r.status());
      resp->set_ttl(-1);
      return grpc::Status::OK;
    }
    resp->set_ttl(Rev(r->ttl_s));
    resp->set_grantedttl(Rev(r->granted_ttl_s));
    for (const std::string& k : r->keys) resp->add_keys(k);
    return grpc::Status::OK;
  }

  grpc::Status LeaseLeases(grpc::ServerContext*, const pb::LeaseLeasesRequest*,
                           pb::LeaseLeasesResponse* resp) override {
    Result<std::vector<uint64_t>> r = cl_->Leases();
    if (!r.ok()) return ToGrpc(r.status());
    headers_->Fill(0, resp->mutable_header());
    for (uint64_t id : *r) resp->add_leases()->set_id(Rev(id));
    return grpc::Status::OK;
  }

 private:
  client::Client* cl_;
  HeaderCache* headers_;
};

// Watch: one bidirectional stream per client, any number of watches on it.
// Each watch is a client::WatchStream (watch.h: resumed across leader
// changes without gap or duplicate) drained by a thread of its own into the
// gRPC stream (writes serialized by a mutex). Events carry the key's
// mod_revision (the event's revision) but not its create_revision, version
// or lease: TinyKV's watch events do not hold them (0).
class WatchService final : public pb::Watch::Service {
 public:
  WatchService(client::Client* cl, HeaderCache* headers) : cl_(cl), headers_(headers) {}

  grpc::Status Watch(grpc::ServerContext* ctx,
                     grpc::ServerReaderWriter<pb::WatchResponse, pb::WatchRequest>* stream) override {
    struct OneWatch {
      std::unique_ptr<client::WatchStream> w;
      std::thread drain;
    };
    std::mutex write_mu;
    auto write = [&](const pb::WatchResponse& r) {
      std::lock_guard<std::mutex> l(write_mu);
      return stream->Write(r);
    };
    std::map<int64_t, OneWatch> watches;
    int64_t next_id = 0;
    pb::WatchRequest req;
    while (!ctx->IsCancelled() && stream->Read(&req)) {
      if (req.has_create_request()) {
        const pb::WatchCreateRequest& c = req.create_request();
        int64_t id = c.watch_id();
        if (id == 0) {
          while (watches.count(next_id) > 0) ++next_id;
          id = next_id++;
        }
        pb::WatchResponse created;
        headers_->Fill(0, created.mutable_header());
        created.set_watch_id(id);
        created.set_created(true);
        if (watches.count(id) > 0) {
          created.set_canceled(true);
          created.set_cancel_reason("etcdserver: watch id " + std::to_string(id) + " is in use");
          write(created);
          continue;
        }
        client::WatchOptions o;
        o.key = c.key();
        o.range_end = c.range_end();
        o.start_revision = c.start_revision() > 0 ? static_cast<uint64_t>(c.start_revision()) : 0;
        o.prev_kv = c.prev_kv();
        o.progress_notify = c.progress_notify();
        bool no_put = false, no_delete = false;
        for (int f : c.filters()) {
          no_put |= f == pb::WatchCreateRequest::NOPUT;
          no_delete |= f == pb::WatchCreateRequest::NODELETE;
        }
        Result<std::unique_ptr<client::WatchStream>> w =
            o.key.empty() && o.range_end.empty()
                ? Result<std::unique_ptr<client::WatchStream>>(
                      Status::InvalidArgument("key is not provided"))
                : cl_->Watch(o);
        if (!w.ok()) {
          created.set_canceled(true);
          Cancelled(w.status(), &created);
          write(created);
          continue;
        }
        if (!write(created)) break;
        OneWatch& one = watches[id];
        one.w = std::move(w).value();
        client::WatchStream* ws = one.w.get();
        one.drain = std::thread([this, ws, id, no_put, no_delete, ctx, &write] {
          for (;;) {
            Result<client::WatchBatch> b = ws->Next(std::chrono::milliseconds(500));
            if (b.status().IsTimeout()) {
              if (ctx->IsCancelled()) return;
              continue;
            }
            pb::WatchResponse r;
            r.set_watch_id(id);
            if (!b.ok()) {
              if (b.status().IsCancelled()) return;  // cancel_request answers itself
              headers_->Fill(0, r.mutable_header());
              r.set_canceled(true);
              Cancelled(b.status(), &r);
              write(r);
              return;
            }
            headers_->Fill(b->revision, r.mutable_header());
            for (const client::WatchEvent& e : b->events) {
              const bool put = e.type == client::WatchEvent::Type::kPut;
              if ((put && no_put) || (!put && no_delete)) continue;
              mvccpb::Event* ev = r.add_events();
              ev->set_type(put ? mvccpb::Event::PUT : mvccpb::Event::DELETE);
              ev->mutable_kv()->set_key(e.key);
              ev->mutable_kv()->set_value(e.value);
              ev->mutable_kv()->set_mod_revision(Rev(e.revision));
              if (e.prev_value) {
                ev->mutable_prev_kv()->set_key(e.key);
                ev->mutable_prev_kv()->set_value(*e.prev_value);
              }
            }
            // A batch whose events the filters took out says nothing new.
            if (b->kind == client::WatchBatch::Kind::kEvents && r.events().empty()) continue;
            if (!write(r)) return;
          }
        });
      } else if (req.has_cancel_request()) {
        const int64_t id = req.cancel_request().watch_id();
        auto it = watches.find(id);
        if (it == watches.end()) continue;
        it->second.w->Cancel();
        it->second.drain.join();
        watches.erase(it);
        pb::WatchResponse r;
        headers_->Fill(0, r.mutable_header());
        r.set_watch_id(id);
        r.set_canceled(true);
        write(r);
      } else if (req.has_progress_request()) {
        // The progress batches come through each watch's stream, in order.
        for (auto& [id, one] : watches) (void)one.w->RequestProgress(std::chrono::seconds(2));
      }
    }
    for (auto& [id, one] : watches) one.w->Cancel();
    for (auto& [id, one] : watches) one.drain.join();
    return grpc::Status::OK;
  }

 private:
  // Why a watch ended, as etcd says it: a compacted start revision sets
  // compact_revision (the oldest revision it may watch from is one above).
  static void Cancelled(const Status& why, pb::WatchResponse* r) {
    if (auto e = txn::WatchErrorOf(why); e && e->kind == txn::WatchError::Kind::kCompacted) {
      r->set_compact_revision(Rev(e->revision + 1));
      r->set_cancel_reason("etcdserver: mvcc: required revision has been compacted");
      return;
    }
    r->set_cancel_reason("etcdserver: " + why.ToString());
  }

  client::Client* cl_;
  HeaderCache* headers_;
};

class MaintenanceService final : public pb::Maintenance::Service {
 public:
  MaintenanceService(client::Client* cl, std::string endpoint, HeaderCache* headers)
      : cl_(cl), endpoint_(std::move(endpoint)), headers_(headers) {}

  grpc::Status Defragment(grpc::ServerContext*, const pb::DefragmentRequest*,
                          pb::DefragmentResponse* resp) override {
    Result<client::DefragmentResponse> r = cl_->EndpointDefragment(endpoint_);
    if (!r.ok()) return ToGrpc(r.status());
    headers_->Fill(0, resp->mutable_header());
    return grpc::Status::OK;
  }

  grpc::Status HashKV(grpc::ServerContext*, const pb::HashKVRequest* req,
                      pb::HashKVResponse* resp) override {
    if (req->revision() < 0) return {grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: negative revision"};
    Result<client::HashKvResponse> r =
        cl_->EndpointHashKv(endpoint_, static_cast<uint64_t>(req->revision()));
    if (!r.ok()) return ToGrpc(r.status());
    headers_->Fill(r->hash_revision, resp->mutable_header());
    resp->set_hash(r->hash);
    resp->set_compact_revision(Rev(r->compact_revision));
    resp->set_hash_revision(Rev(r->hash_revision));
    return grpc::Status::OK;
  }

  grpc::Status MoveLeader(grpc::ServerContext*, const pb::MoveLeaderRequest* req,
                          pb::MoveLeaderResponse* resp) override {
    Result<client::MoveLeaderResponse> r = cl_->MoveLeader(req->targetid());
    if (!r.ok()) return ToGrpc(r.status());
    headers_->Fill(0, resp->mutable_header());
    return grpc::Status::OK;
  }

  // Each member's alarms are its own (its disk, its hash check): asked of
  // every member the cluster lists, as `tinykv alarm` does. DEACTIVATE
  // disarms NOSPACE (CORRUPT stays until the member is repaired) and answers
  // the alarms it cleared; ACTIVATE is not served (TinyKV raises alarms
  // itself).
  grpc::Status Alarm(grpc::ServerContext*, const pb::AlarmRequest* req,
                     pb::AlarmResponse* resp) override {
    if (req->action() == pb::AlarmRequest::ACTIVATE)
      return {grpc::StatusCode::UNIMPLEMENTED, "etcdserver: alarms are raised by the members themselves"};
    const bool disarm = req->action() == pb::AlarmRequest::DEACTIVATE;
    Result<client::MemberListResponse> members = cl_->MemberList();
    if (!members.ok()) return ToGrpc(members.status());
    for (const client::Member& m : members->members) {
      if (m.client_address.empty() || (req->memberid() != 0 && req->memberid() != m.id)) continue;
      std::vector<std::string> before;
      if (disarm) {
        Result<client::AlarmResponse> listed = cl_->EndpointAlarm(m.client_address, false);
        if (!listed.ok()) return ToGrpc(listed.status());
        before = listed->alarms;
      }
      Result<client::AlarmResponse> r = cl_->EndpointAlarm(m.client_address, disarm);
      if (!r.ok()) return ToGrpc(r.status());
      for (const std::string& a : disarm ? before : r->alarms) {
        if (disarm && std::find(r->alarms.begin(), r->alarms.end(), a) != r->alarms.end()) continue;
        const pb::AlarmType type = a == "NOSPACE" ? pb::NOSPACE : a == "CORRUPT" ? pb::CORRUPT : pb::NONE;
        if (req->alarm() != pb::NONE && req->alarm() != type) continue;
        pb::AlarmMember* am = resp->add_alarms();
        am->set_memberid(r->member_id);
        am->set_alarm(type);
      }
    }
    headers_->Fill(0, resp->mutable_header());
    return grpc::Status::OK;
  }


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
  HeaderCache* headers_;
};

}  // namespace

struct EtcdApiServer::Impl {
  std::unique_ptr<client::Client> client;
  std::unique_ptr<HeaderCache> headers;
  std::unique_ptr<KvService> kv;
  std::unique_ptr<ClusterService> cluster;
  std::unique_ptr<LeaseService> lease;
  std::unique_ptr<WatchService> watch;
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
  impl->headers = std::make_unique<HeaderCache>(impl->client.get(), status_endpoint);
  impl->kv = std::make_unique<KvService>(impl->client.get(), impl->headers.get());
  impl->cluster = std::make_unique<ClusterService>(impl->client.get(), impl->headers.get());
  impl->lease = std::make_unique<LeaseService>(impl->client.get(), impl->headers.get());
  impl->watch = std::make_unique<WatchService>(impl->client.get(), impl->headers.get());
  impl->maintenance =
      std::make_unique<MaintenanceService>(impl->client.get(), status_endpoint, impl->headers.get());
  grpc::ServerBuilder builder;
  builder.AddListeningPort(hp.ToString(), grpc::InsecureServerCredentials(),
                           &impl->port);
  builder.RegisterService(impl->kv.get());
  builder.RegisterService(impl->cluster.get());
  builder.RegisterService(impl->lease.get());
  builder.RegisterService(impl->watch.get());
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
