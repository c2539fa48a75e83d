// The TinyKV backend's watchers (bench_backend.h): one Watch stream
// (protocol.h) per watcher over phase 2's multiplexed RpcClient, received
// into a WatchLog.
//
// Why not client::WatchStream: it gives every watch its own connection, io
// thread and driver thread (watch.h "Flow control": a stalled watch never
// holds up its Client's other calls) -- 1000 watchers would be 3000 threads
// and 1000 connections on a 2-core machine, and the run would measure the
// scheduler. Here the watchers are coroutines on plan.threads RpcClients
// (one io thread each) over plan.conns connections, as the put path's
// clients are (tinykv_backend.cc) and as etcd's watchers share their gRPC
// streams. What the benchmark needs of WatchStream's resuming is kept: a
// stream that ends for a reason that is not the watch's (the server dropped
// a watcher that fell behind its bound, with a resume revision; a leader
// change, followed by its hint) is opened again from its position + 1, so
// no event is lost and none comes twice (every watched put is a revision of
// its own, so an item never ends inside one).
//
// Each stream's items arrive on its lane's io thread, the one its coroutine
// runs on, so a watcher's log is appended to by one thread.
#include "tinykv/net/asio.h"  // first: see the header

#include <algorithm>
#include <atomic>
#include <latch>
#include <mutex>
#include <thread>

#include "bench_backend.h"
#include "tinykv/client/client.h"
#include "tinykv/client/protocol.h"
#include "tinykv/common/routing_error.h"
#include "tinykv/net/client.h"
#include "tinykv/txn/watch_error.h"

namespace tinykv::bench {
namespace {

namespace asio = boost::asio;
using net::awaitable;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Whether a stream that ended with `s` (not by Stop) is opened again.
bool Resumable(const Status& s) {
  if (std::optional<txn::WatchError> e = txn::WatchErrorOf(s)) {
    return e->kind == txn::WatchError::Kind::kResume;
  }
  return s.ok() || client::IsRetryable(s);
}

class TinyKvWatchGroup final : public WatchGroup {
 public:
  TinyKvWatchGroup(BackendOptions options, std::string leader, WatchPlan plan, WatchLog* log)
      : options_(std::move(options)),
        leader_(std::move(leader)),
        plan_(plan),
        log_(log),
        done_(log->watchers()) {}

  ~TinyKvWatchGroup() override { Stop(); }

  Status Start() {
    TINYKV_ASSIGN_OR_RETURN(lanes_, NewTinyKvLaneClients(options_, plan_.threads, plan_.conns));
    conns_total_ = std::max(plan_.conns, plan_.threads);
    for (int w = 0; w < log_->watchers(); ++w) {
      net::RpcClient& lane = *lanes_[static_cast<size_t>(w) % lanes_.size()];
      asio::co_spawn(lane.executor(), WatchLoop(lane, w),
                     [this](std::exception_ptr) { done_.count_down(); });
    }
    spawned_ = true;
    const auto deadline = Clock::now() + milliseconds(options_.timeout_ms);
    while (log_->created() < log_->watchers()) {
      if (failed_.load() > 0 || Clock::now() >= deadline) {
        Stop();
        const std::string why = first_error();
        return Status::Timeout("tinykv: " + std::to_string(log_->created()) + " of " +
                               std::to_string(log_->watchers()) + " watches created in " +
                               std::to_string(options_.timeout_ms) + " ms" +
                               (why.empty() ? "" : "; " + why));
      }
      std::this_thread::sleep_for(milliseconds(2));
    }
    return Status::OK();
  }

  void Stop() override {
    stop_->Cancel();  // every stream, also one opened after this
    if (spawned_) done_.wait();
  }

  std::string Describe() const override {
    return "tinykv: " + std::to_string(log_->watchers()) + " Watch streams (one per watcher) " +
           "over " + std::to_string(conns_total_) + " multiplexed connections of " +
           std::to_string(lanes_.size()) + " RpcClients (an io thread each) to the leader (" +
           leader_ + "), resumed from their position when the server ends them";
  }
  uint64_t resumes() const override { return resumes_.load(); }
  std::string first_error() const override {
    std::lock_guard<std::mutex> l(mu_);
    return first_error_;
  }

 private:
  awaitable<void> WatchLoop(net::RpcClient& lane, int w) {
    uint64_t next = 0;  // the first revision wanted; 0: from now (the first stream)
    bool created = false;
    std::string target = leader_;
    int failures = 0;
    while (!stop_->cancelled()) {
      client::WatchRequest req;
      req.start = log_->prefix();
      req.end = client::PrefixEnd(req.start);
      req.start_revision = next;
      net::CallOptions call;
      call.timeout = std::chrono::hours(24 * 365);  // a watch has no deadline
      call.max_attempts = 1;
      call.cancel = stop_;
      std::function<Status(client::WatchResponse)> on_item =
          [this, w, &next, &created, &failures](client::WatchResponse item) {
            const auto now = Clock::now();
            if (item.kind == static_cast<uint8_t>(client::WatchItemKind::kCreated) && !created) {
              created = true;
              log_->Created(w);
            }
            for (const client::WatchEventMessage& e : item.events) log_->Event(w, e.key, now);
            next = std::max(next, item.revision + 1);
            failures = 0;
            return Status::OK();
          };
      auto stream =
          lane.CallStream<client::WatchMethod>(target, std::move(req), std::move(on_item), call);
      const Status s = co_await std::move(stream);
      if (stop_->cancelled()) break;
      if (!Resumable(s)) {
        Fail(w, s);
        break;
      }
      resumes_.fetch_add(1, std::memory_order_relaxed);
      if (s.IsNotLeader()) {
        const RoutingError hint = RoutingErrorOf(s).value_or(RoutingError{});
        if (!hint.leader_address.empty()) target = hint.leader_address;
      }
      // A dropped watcher resumes at once; anything else backs off a little.
      if (txn::WatchErrorOf(s)) continue;
      const milliseconds backoff(std::min(500, 20 << std::min(++failures, 5)));
      asio::steady_timer timer(co_await asio::this_coro::executor, backoff);
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  void Fail(int w, const Status& s) {
    std::lock_guard<std::mutex> l(mu_);
    if (first_error_.empty()) first_error_ = "watcher " + std::to_string(w) + ": " + s.ToString();
    failed_.fetch_add(1);
  }

  const BackendOptions options_;
  const std::string leader_;
  const WatchPlan plan_;
  WatchLog* const log_;
  std::vector<std::unique_ptr<net::RpcClient>> lanes_;
  int conns_total_ = 0;
  const std::shared_ptr<net::CancellationToken> stop_ = std::make_shared<net::CancellationToken>();
  std::latch done_;
  bool spawned_ = false;
  std::atomic<uint64_t> resumes_{0};
  std::atomic<int> failed_{0};
  mutable std::mutex mu_;
  std::string first_error_;  // guarded by mu_
};

}  // namespace

Result<std::unique_ptr<WatchGroup>> NewTinyKvWatchGroup(const BackendOptions& options,
                                                        const std::string& leader,
                                                        const WatchPlan& plan, WatchLog* log) {
  auto group = std::make_unique<TinyKvWatchGroup>(options, leader, plan, log);
  TINYKV_RETURN_IF_ERROR(group->Start());
  return std::unique_ptr<WatchGroup>(std::move(group));
}

}  // namespace tinykv::bench
