// The etcd backend's watchers (bench_backend.h): etcd's bidirectional Watch
// streams over gRPC's async API (grpc_await.h), the watchers multiplexed on
// plan.streams of them as etcd's `benchmark watch-latency` does (its
// --streams and --watchers-per-stream), received into a WatchLog.
//
// One stream, two coroutines on its queue's thread: the writer sends one
// create request per watcher of the stream, in order; the reader takes
// every response. etcd answers the creates of a stream in the order they
// came, each with `created` and the id it gave the watch, so the k-th
// created answer is the stream's k-th watcher, and later responses name
// their watcher by that id. Whichever of the two ends last finishes the
// stream (gRPC's Finish, after no read or write is outstanding). Stop
// cancels every stream's context: the reads fail, the streams finish.
#include <algorithm>
#include <atomic>
#include <latch>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "bench_backend.h"
#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"
#include "grpc_await.h"
#include "tinykv/client/protocol.h"

namespace tinykv::bench {
namespace {

using Clock = std::chrono::steady_clock;
using WatchStreamRw =
    grpc::ClientAsyncReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>;

// One Watch stream and its watchers; touched only by its queue's thread
// once the stream started.
struct Stream {
  grpc::ClientContext ctx;
  etcdserverpb::Watch::Stub* stub = nullptr;
  grpc::CompletionQueue* cq = nullptr;
  std::unique_ptr<WatchStreamRw> rw;
  std::vector<int> watchers;                    // in the order their creates are sent
  size_t created = 0;                           // created answers so far
  std::unordered_map<int64_t, int> watcher_of;  // etcd's watch id -> watcher
  int alive = 2;                                // the reader and the writer
  grpc::Status end;
};

class EtcdWatchGroup final : public WatchGroup {
 public:
  EtcdWatchGroup(BackendOptions options, std::string leader, WatchPlan plan, WatchLog* log)
      : options_(std::move(options)),
        leader_(std::move(leader)),
        plan_(plan),
        log_(log),
        done_(std::max(1, std::min(plan.streams, log->watchers()))) {}

  ~EtcdWatchGroup() override { Stop(); }

  Status Start() {
    TINYKV_ASSIGN_OR_RETURN(auto credentials, CredentialsOf(options_));
    const auto connect_by =
        std::chrono::system_clock::now() + std::chrono::milliseconds(options_.timeout_ms);
    for (int i = 0; i < plan_.conns; ++i) {
      auto channel = NewChannel(leader_, credentials);
      if (!channel->WaitForConnected(connect_by)) {
        return Status::Unavailable("etcd: could not connect to " + leader_);
      }
      stubs_.push_back(etcdserverpb::Watch::NewStub(channel));
      channels_.push_back(std::move(channel));
    }
    for (int i = 0; i < plan_.threads; ++i) {
      queues_.push_back(std::make_unique<grpc::CompletionQueue>());
    }
    for (auto& cq : queues_) pollers_.emplace_back(PollUntilShutdown, cq.get());
    const int n = std::max(1, std::min(plan_.streams, log_->watchers()));
    for (int s = 0; s < n; ++s) {
      auto st = std::make_unique<Stream>();
      st->stub = stubs_[static_cast<size_t>(s) % stubs_.size()].get();
      st->cq = queues_[static_cast<size_t>(s) % queues_.size()].get();
      streams_.push_back(std::move(st));
    }
    for (int w = 0; w < log_->watchers(); ++w) {
      streams_[static_cast<size_t>(w) % streams_.size()]->watchers.push_back(w);
    }
    started_ = true;
    for (auto& st : streams_) Writer(st.get());
    const auto deadline = Clock::now() + std::chrono::milliseconds(options_.timeout_ms);
    while (log_->created() < log_->watchers()) {
      if (failed() || Clock::now() >= deadline) {
        Stop();
        const std::string why = first_error();
        return Status::Timeout("etcd: " + std::to_string(log_->created()) + " of " +
                               std::to_string(log_->watchers()) + " watches created in " +
                               std::to_string(options_.timeout_ms) + " ms" +
                               (why.empty() ? "" : "; " + why));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return Status::OK();
  }

  void Stop() override {
    if (stopped_) return;
    stopped_ = true;
    if (started_) {
      for (auto& st : streams_) st->ctx.TryCancel();
      done_.wait();
    }
    for (auto& cq : queues_) cq->Shutdown();
    for (auto& t : pollers_) t.join();
  }

  std::string Describe() const override {
    return "etcd: " + std::to_string(log_->watchers()) + " watchers multiplexed on " +
           std::to_string(streams_.size()) + " Watch streams over " +
           std::to_string(channels_.size()) + " HTTP/2 connections to the leader (" + leader_ +
           "), " + std::to_string(queues_.size()) + " threads";
  }
  std::string first_error() const override {
    std::lock_guard<std::mutex> l(mu_);
    return first_error_;
  }

 private:
  // Opens the stream, starts its reader, then sends its creates.
  DetachedTask Writer(Stream* st) {
    st->rw = st->stub->PrepareAsyncWatch(&st->ctx, st->cq);
    bool ok = co_await CqOp([st](void* tag) { st->rw->StartCall(tag); });
    if (ok) {
      Reader(st);  // runs up to its first Read
    } else {
      Fail("a Watch stream did not open");
      --st->alive;  // no reader
    }
    const std::string prefix = log_->prefix();
    for (size_t i = 0; ok && i < st->watchers.size(); ++i) {
      etcdserverpb::WatchRequest req;
      etcdserverpb::WatchCreateRequest* create = req.mutable_create_request();
      create->set_key(prefix);
      create->set_range_end(client::PrefixEnd(prefix));
      ok = co_await CqOp([st, &req](void* tag) { st->rw->Write(req, tag); });
    }
    if (--st->alive == 0) FinishStream(st);
  }

  DetachedTask Reader(Stream* st) {
    etcdserverpb::WatchResponse resp;
    for (;;) {
      const bool ok = co_await CqOp([st, &resp](void* tag) { st->rw->Read(&resp, tag); });
      if (!ok) break;
      const auto now = Clock::now();
      if (resp.created()) {
        if (st->created < st->watchers.size()) {
          const int w = st->watchers[st->created++];
          st->watcher_of[resp.watch_id()] = w;
          log_->Created(w);
        }
      }
      if (resp.canceled()) {
        Fail("etcd cancelled watch " + std::to_string(resp.watch_id()) + ": " +
             resp.cancel_reason());
      }
      if (resp.events_size() == 0) continue;
      auto it = st->watcher_of.find(resp.watch_id());
      if (it == st->watcher_of.end()) continue;
      for (const auto& e : resp.events()) log_->Event(it->second, e.kv().key(), now);
    }
    if (--st->alive == 0) FinishStream(st);
  }

  DetachedTask FinishStream(Stream* st) {
    co_await CqOp([st](void* tag) { st->rw->Finish(&st->end, tag); });
    if (!stopped_ && !st->end.ok()) Fail(StatusOfGrpc(st->end).ToString());
    done_.count_down();
  }

  void Fail(const std::string& why) {
    std::lock_guard<std::mutex> l(mu_);
    if (first_error_.empty()) first_error_ = why;
    failed_ = true;
  }
  bool failed() const {
    std::lock_guard<std::mutex> l(mu_);
    return failed_;
  }

  const BackendOptions options_;
  const std::string leader_;
  const WatchPlan plan_;
  WatchLog* const log_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<etcdserverpb::Watch::Stub>> stubs_;
  std::vector<std::unique_ptr<grpc::CompletionQueue>> queues_;
  std::vector<std::thread> pollers_;
  std::vector<std::unique_ptr<Stream>> streams_;
  std::latch done_;  // one count per stream, down when it finished
  bool started_ = false;
  std::atomic<bool> stopped_{false};
  mutable std::mutex mu_;
  bool failed_ = false;      // guarded by mu_
  std::string first_error_;  // guarded by mu_
};

}  // namespace

Result<std::unique_ptr<WatchGroup>> NewEtcdWatchGroup(const BackendOptions& options,
                                                      const std::string& leader,
                                                      const WatchPlan& plan, WatchLog* log) {
  auto group = std::make_unique<EtcdWatchGroup>(options, leader, plan, log);
  TINYKV_RETURN_IF_ERROR(group->Start());
  return std::unique_ptr<WatchGroup>(std::move(group));
}

}  // namespace tinykv::bench
