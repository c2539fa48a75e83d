// The etcd backend of tinykv-bench: etcd's v3 gRPC API with gRPC's async
// (CompletionQueue) client API, logical clients as C++20 coroutines
// (bench_backend.h has the contract).
//
// Why a CompletionQueue per thread and a coroutine type of our own: gRPC
// completes an async call by handing its tag to whichever thread polls the
// call's queue. Each generator thread polls one queue, and each logical
// client always uses its own thread's queue, so a client's coroutine is
// resumed by the thread that polls -- no hop to another executor, as with
// the TinyKV backend on Asio. The tag is the awaiting call itself; the
// poller stores `ok` and resumes the coroutine waiting on it.
//
// Why GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL: gRPC shares one connection among
// channels created with the same target and arguments; a local pool per
// channel gives each its own HTTP/2 connection, as --conns promises (etcd's
// benchmark tool dials one connection per --conns too).
//
// Lease keep-alives (kLeaseKeepAlive): LeaseKeepAlive is a stream both ways,
// so each logical client opens one on its channel and then, per request,
// writes one renewal and reads its answer -- the same one-in-flight closed
// loop as the unary calls. A stream that breaks fails that request and is
// opened again for the next.
#include <coroutine>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <latch>
#include <thread>

#include <absl/synchronization/mutex.h>
#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include "bench_backend.h"
#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"
#include "grpc_await.h"

namespace tinykv::bench {
namespace {

using Clock = std::chrono::steady_clock;

// One unary call as an awaitable: co_await starts it on `cq`, the poller of
// `cq` resumes the caller with the call's status.
template <typename Request, typename Response>
class UnaryCall {
 public:
  using Prepare = std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> (
      etcdserverpb::KV::Stub::*)(grpc::ClientContext*, const Request&, grpc::CompletionQueue*);

  UnaryCall(etcdserverpb::KV::Stub* stub, Prepare prepare, const Request& request,
            grpc::CompletionQueue* cq, std::chrono::milliseconds timeout)
      : stub_(stub), prepare_(prepare), request_(request), cq_(cq) {
    context_.set_deadline(std::chrono::system_clock::now() + timeout);
  }

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    done_.waiter = h;
    reader_ = (stub_->*prepare_)(&context_, request_, cq_);
    reader_->StartCall();
    // The poller may resume the caller as soon as this returns: nothing of
    // this object is touched after Finish.
    reader_->Finish(&response_, &status_, &done_);
  }
  Status await_resume() const { return StatusOfGrpc(status_); }

 private:
  etcdserverpb::KV::Stub* stub_;
  Prepare prepare_;
  const Request& request_;
  grpc::CompletionQueue* cq_;
  grpc::ClientContext context_;
  Response response_;
  grpc::Status status_;
  Completion done_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader_;
};

// Waiting for an open-loop request's intended start: co_await arms a
// grpc::Alarm on `cq`, whose poller resumes the caller when it fires, so the
// thread keeps polling for the other clients meanwhile.
class AlarmAt {
 public:
  AlarmAt(grpc::CompletionQueue* cq, Clock::time_point t) : cq_(cq), t_(t) {}
  bool await_ready() const noexcept { return Clock::now() >= t_; }
  void await_suspend(std::coroutine_handle<> h) {
    done_.waiter = h;
    const auto left = t_ - Clock::now();
    alarm_.Set(cq_, std::chrono::system_clock::now() +
                        std::chrono::duration_cast<std::chrono::system_clock::duration>(left),
               &done_);
  }
  void await_resume() const noexcept {}

 private:
  grpc::CompletionQueue* cq_;
  Clock::time_point t_;
  grpc::Alarm alarm_;
  Completion done_;
};

class EtcdGrpcBackend final : public Backend {
 public:
  explicit EtcdGrpcBackend(BackendOptions options) : options_(std::move(options)) {}

  ~EtcdGrpcBackend() override {
    for (auto& cq : queues_) cq->Shutdown();
    for (auto& t : pollers_) t.join();
  }

  Status Start() {
    std::vector<std::string> targets = options_.endpoints;
    TINYKV_ASSIGN_OR_RETURN(auto credentials, CredentialsOf(options_));
    if (!options_.spread_endpoints) {
      TINYKV_ASSIGN_OR_RETURN(leader_, FindEtcdLeader(options_));
      targets = {leader_};
    }
    const auto connect_by =
        std::chrono::system_clock::now() + std::chrono::milliseconds(options_.timeout_ms);
    for (int i = 0; i < options_.conns; ++i) {
      const std::string& target = targets[static_cast<size_t>(i) % targets.size()];
      auto channel = NewChannel(target, credentials);
      if (!channel->WaitForConnected(connect_by)) {
        return Status::Unavailable("etcd: could not connect to " + target);
      }
      stubs_.push_back(etcdserverpb::KV::NewStub(channel));
      lease_stubs_.push_back(etcdserverpb::Lease::NewStub(channel));
      channels_.push_back(std::move(channel));
    }
    for (int i = 0; i < options_.threads; ++i) {
      queues_.push_back(std::make_unique<grpc::CompletionQueue>());
    }
    for (auto& cq : queues_) pollers_.emplace_back(PollUntilShutdown, cq.get());
    return Status::OK();
  }

  void Run(Workload& w) override {
    std::latch done(w.clients());
    for (int c = 0; c < w.clients(); ++c) {
      const size_t channel = static_cast<size_t>(c) % stubs_.size();
      grpc::CompletionQueue* cq = queues_[static_cast<size_t>(c) % queues_.size()].get();
      if (w.op() == OpKind::kLeaseKeepAlive) {
        LeaseLoop(w, c, lease_stubs_[channel].get(), cq, &done);
      } else {
        ClientLoop(w, c, stubs_[channel].get(), cq, &done);
      }
    }
    done.wait();
  }

  std::string Describe() const override {
    return std::string("etcd: v3 gRPC API (async CompletionQueue") +
           (options_.tls ? ", TLS" : "") + "), " + std::to_string(queues_.size()) +
           " threads, " + std::to_string(channels_.size()) + " HTTP/2 connections " +
           (options_.spread_endpoints
                ? "round-robin over " + std::to_string(options_.endpoints.size()) + " endpoints"
                : "to the leader (" + leader_ + ")") +
           ", errors not retried";
  }

  Result<std::unique_ptr<WatchGroup>> Watch(const WatchPlan& plan, WatchLog* log) override {
    std::string leader = leader_;
    if (leader.empty()) {
      TINYKV_ASSIGN_OR_RETURN(leader, FindEtcdLeader(options_));
    }
    return NewEtcdWatchGroup(options_, leader, plan, log);
  }

  Result<std::vector<uint64_t>> GrantLeases(int n, int64_t ttl_s) override {
    std::vector<uint64_t> ids;
    for (int i = 0; i < n; ++i) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(options_.timeout_ms));
      etcdserverpb::LeaseGrantRequest req;
      req.set_ttl(ttl_s);
      etcdserverpb::LeaseGrantResponse resp;
      TINYKV_RETURN_IF_ERROR(StatusOfGrpc(lease_stubs_[0]->LeaseGrant(&ctx, req, &resp)));
      if (!resp.error().empty()) return Status::IOError("etcd: lease grant: " + resp.error());
      ids.push_back(static_cast<uint64_t>(resp.id()));
    }
    return ids;
  }

  Status RevokeLeases(const std::vector<uint64_t>& ids) override {
    for (uint64_t id : ids) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(options_.timeout_ms));
      etcdserverpb::LeaseRevokeRequest req;
      req.set_id(static_cast<int64_t>(id));
      etcdserverpb::LeaseRevokeResponse resp;
      TINYKV_RETURN_IF_ERROR(StatusOfGrpc(lease_stubs_[0]->LeaseRevoke(&ctx, req, &resp)));
    }
    return Status::OK();
  }

 private:
  using KeepAliveStream = grpc::ClientAsyncReaderWriter<etcdserverpb::LeaseKeepAliveRequest,
                                                        etcdserverpb::LeaseKeepAliveResponse>;

  // Client c's keep-alives, on a stream of its own (see the top of this file).
  DetachedTask LeaseLoop(Workload& w, int c, etcdserverpb::Lease::Stub* stub,
                         grpc::CompletionQueue* cq, std::latch* done) {
    Request r;
    while (w.Next(c, &r)) {
      // A stream, open until it breaks; every request it serves is r's
      // successor (the loop below takes the next one itself).
      grpc::ClientContext ctx;
      std::unique_ptr<KeepAliveStream> stream = stub->PrepareAsyncLeaseKeepAlive(&ctx, cq);
      bool ok = co_await CqOp([&](void* tag) { stream->StartCall(tag); });
      for (bool more = true; more;) {
        if (w.open_loop()) co_await AlarmAt(cq, r.intended);
        const auto t0 = w.Begin(c, r, Clock::now());
        etcdserverpb::LeaseKeepAliveRequest req;
        req.set_id(static_cast<int64_t>(r.lease));
        etcdserverpb::LeaseKeepAliveResponse resp;
        if (ok) ok = co_await CqOp([&](void* tag) { stream->Write(req, tag); });
        if (ok) ok = co_await CqOp([&](void* tag) { stream->Read(&resp, tag); });
        Status s = ok ? Status::OK() : Status::Unavailable("etcd: the keep-alive stream broke");
        if (ok && resp.ttl() <= 0) s = Status::NotFound("etcd: requested lease not found");
        w.Record(c, Clock::now() - t0, s);
        more = ok && w.Next(c, &r);
      }
      if (ok) co_await CqOp([&](void* tag) { stream->WritesDone(tag); });
      grpc::Status end;
      co_await CqOp([&](void* tag) { stream->Finish(&end, tag); });
      if (ok) break;  // the loop ended because the workload did
    }
    done->count_down();
  }

  DetachedTask ClientLoop(Workload& w, int c, etcdserverpb::KV::Stub* stub,
                          grpc::CompletionQueue* cq, std::latch* done) {
    const std::chrono::milliseconds timeout(options_.timeout_ms);
    etcdserverpb::PutRequest put;
    put.set_value(w.value());
    etcdserverpb::RangeRequest range;
    range.set_serializable(!w.linearizable());
    Request r;
    while (w.Next(c, &r)) {
      if (w.open_loop()) co_await AlarmAt(cq, r.intended);
      const auto t0 = w.Begin(c, r, Clock::now());
      Status s;
      if (r.read) {
        range.set_key(std::move(r.key));
        UnaryCall<etcdserverpb::RangeRequest, etcdserverpb::RangeResponse> call(
            stub, &etcdserverpb::KV::Stub::PrepareAsyncRange, range, cq, timeout);
        s = co_await call;
      } else {
        put.set_key(std::move(r.key));
        UnaryCall<etcdserverpb::PutRequest, etcdserverpb::PutResponse> call(
            stub, &etcdserverpb::KV::Stub::PrepareAsyncPut, put, cq, timeout);
        s = co_await call;
      }
      w.Record(c, Clock::now() - t0, s);
    }
    done->count_down();
  }

  const BackendOptions options_;
  std::string leader_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> stubs_;
  std::vector<std::unique_ptr<etcdserverpb::Lease::Stub>> lease_stubs_;
  std::vector<std::unique_ptr<grpc::CompletionQueue>> queues_;
  std::vector<std::thread> pollers_;
};

}  // namespace

void PollUntilShutdown(grpc::CompletionQueue* cq) {
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) {
    auto* done = static_cast<Completion*>(tag);
    done->ok = ok;
    done->waiter.resume();
  }
}

Status StatusOfGrpc(const grpc::Status& status) {
  if (status.ok()) return Status::OK();
  const std::string msg = "etcd: " + status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::DEADLINE_EXCEEDED: return Status::Timeout(msg);
    case grpc::StatusCode::UNAVAILABLE: return Status::Unavailable(msg);
    case grpc::StatusCode::CANCELLED: return Status::Cancelled(msg);
    case grpc::StatusCode::INVALID_ARGUMENT: return Status::InvalidArgument(msg);
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return Status::ResourceExhausted(msg);
    case grpc::StatusCode::NOT_FOUND: return Status::NotFound(msg);
    default:
      return Status::IOError(msg + " (gRPC code " +
                             std::to_string(static_cast<int>(status.error_code())) + ")");
  }
}

Result<std::shared_ptr<grpc::ChannelCredentials>> CredentialsOf(const BackendOptions& o) {
  if (!o.tls) return grpc::InsecureChannelCredentials();
  auto read = [](const std::string& path, std::string* out) -> Status {
    if (path.empty()) return Status::OK();
    std::ifstream f(path, std::ios::binary);
    std::stringstream text;
    text << f.rdbuf();
    if (!f.good() && !f.eof()) return Status::InvalidArgument("cannot read " + path);
    *out = text.str();
    if (out->empty()) return Status::InvalidArgument("cannot read " + path);
    return Status::OK();
  };
  grpc::SslCredentialsOptions ssl;
  TINYKV_RETURN_IF_ERROR(read(o.cacert, &ssl.pem_root_certs));
  TINYKV_RETURN_IF_ERROR(read(o.cert, &ssl.pem_cert_chain));
  TINYKV_RETURN_IF_ERROR(read(o.key, &ssl.pem_private_key));
  return grpc::SslCredentials(ssl);
}

// A channel tuned for a load generator (measured on the 64-client gets: the
// generator's CPU per request fell by about a quarter):
//   * its own connection (local subchannel pool, see the top of this file);
//   * no transparent retries: the retry filter buffers every request for a
//     resend this generator never wants (errors are counted, not retried);
//   * the minimal filter stack, with deadline checks explicitly kept on, so
//     a request to a stopped member still ends at its deadline.
// And, once per process, Abseil's mutex deadlock detection off: Debian's
// Abseil keeps it on, and its lock-graph bookkeeping on every gRPC mutex
// was a visible share of the generator's profile.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& endpoint,
                                          std::shared_ptr<grpc::ChannelCredentials> credentials) {
  static std::once_flag once;
  std::call_once(once,
                 [] { absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore); });
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  args.SetInt(GRPC_ARG_MINIMAL_STACK, 1);
  args.SetInt(GRPC_ARG_ENABLE_DEADLINE_CHECKS, 1);
  return grpc::CreateCustomChannel(endpoint, std::move(credentials), args);
}

Result<std::string> FindEtcdLeader(const BackendOptions& options) {
  const std::vector<std::string>& endpoints = options.endpoints;
  TINYKV_ASSIGN_OR_RETURN(auto credentials, CredentialsOf(options));
  const auto deadline = Clock::now() + std::chrono::milliseconds(options.timeout_ms);
  std::string last_error = "no endpoints";
  while (true) {
    std::map<uint64_t, std::string> endpoint_of;  // member id -> endpoint
    uint64_t leader = 0;
    for (const std::string& e : endpoints) {
      const std::string target = StripScheme(e);
      auto stub = etcdserverpb::Maintenance::NewStub(NewChannel(target, credentials));
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(1000));
      etcdserverpb::StatusResponse resp;
      grpc::Status st = stub->Status(&ctx, etcdserverpb::StatusRequest{}, &resp);
      if (!st.ok()) {
        last_error = target + ": " + st.error_message();
        continue;
      }
      endpoint_of[resp.header().member_id()] = target;
      if (resp.leader() != 0) leader = resp.leader();
    }
    if (auto it = endpoint_of.find(leader); leader != 0 && it != endpoint_of.end()) {
      return it->second;
    }
    if (leader != 0) last_error = "the leader is not among the endpoints";
    if (!endpoint_of.empty() && leader == 0) last_error = "no member knows a leader";
    if (Clock::now() >= deadline) {
      return Status::Unavailable("etcd: no leader found (" + last_error + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Result<std::unique_ptr<Backend>> NewEtcdGrpcBackend(const BackendOptions& options) {
  return StartBackend<EtcdGrpcBackend>(options);
}

}  // namespace tinykv::bench
