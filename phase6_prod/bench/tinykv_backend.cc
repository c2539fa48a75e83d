// The TinyKV backend of tinykv-bench: logical clients as coroutines over
// phase 2's multiplexed RpcClient (bench_backend.h has the contract).
//
// Why one RpcClient per generator thread, each with one io thread: a
// coroutine co_spawned on its RpcClient's executor awaits Call on the same
// io_context its connections live on, so a request never hops threads and
// the lane's state (the cached leader) needs no lock. Logical client c runs
// on lane c % threads.
//
// Routing is the phase 5 client's (client.h), rewritten as a coroutine
// because that client blocks a thread per call: leader first, NotLeader's
// typed hint followed at once, a Status sweep when the hint has no address,
// backoff with full jitter on anything else retryable (client::IsRetryable),
// all within the request's deadline.
#include "tinykv/net/asio.h"  // first: see the header

#include <algorithm>
#include <atomic>
#include <future>
#include <latch>
#include <random>
#include <thread>

#include "asio_wait.h"
#include "bench_backend.h"
#include "tinykv/client/client.h"
#include "tinykv/client/lease_protocol.h"
#include "tinykv/client/protocol.h"
#include "tinykv/common/routing_error.h"
#include "tinykv/net/client.h"
#include "tinykv/net/retry.h"

namespace tinykv::bench {
namespace {

namespace asio = boost::asio;
using net::awaitable;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The phase 5 client's default cap on one attempt (client.h).
constexpr milliseconds kAttemptTimeout{2000};

// One generator thread: its RpcClient (whose io thread runs the lane's
// coroutines) and what those coroutines share. Touched only on that thread.
struct Lane {
  std::unique_ptr<net::RpcClient> rpc;
  std::string leader;  // "" = unknown
  size_t next_endpoint = 0;
  Random rnd{1};
};

// A client_id no earlier run used: the state machine keeps the highest
// request_seq per client_id, so a reused id would turn new writes into
// duplicates of old ones.
uint64_t FreshClientId() {
  static std::random_device rd;
  static std::mutex mu;
  std::lock_guard<std::mutex> l(mu);
  uint64_t id = 0;
  while (id == 0) id = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  return id;
}

class TinyKvBackend final : public Backend {
 public:
  explicit TinyKvBackend(BackendOptions options) : options_(std::move(options)) {}

  Status Start() {
    TINYKV_ASSIGN_OR_RETURN(auto clients,
                            NewTinyKvLaneClients(options_, options_.threads, options_.conns));
    conns_total_ = std::max(options_.conns, options_.threads);
    for (size_t i = 0; i < clients.size(); ++i) {
      auto lane = std::make_unique<Lane>();
      lane->rpc = std::move(clients[i]);
      lane->rnd = Random(FreshClientId());
      lane->next_endpoint = static_cast<size_t>(i);
      lanes_.push_back(std::move(lane));
    }
    // Find the leader once, up front, so an unreachable cluster fails here.
    initial_leader_ = SweepForLeader();
    if (!reached_) {
      return Status::Unavailable("tinykv: could not reach any endpoint (" + sweep_error_ + ")");
    }
    for (auto& lane : lanes_) lane->leader = initial_leader_;
    return Status::OK();
  }

  void Run(Workload& w) override {
    std::latch done(w.clients());
    for (int c = 0; c < w.clients(); ++c) {
      Lane& lane = *lanes_[static_cast<size_t>(c) % lanes_.size()];
      asio::co_spawn(lane.rpc->executor(), ClientLoop(lane, w, c),
                     [&done](std::exception_ptr) { done.count_down(); });
    }
    done.wait();
  }

  std::string Describe() const override {
    return std::string("tinykv: client protocol over phase 2 RpcClient") +
           (options_.tls ? (options_.cert.empty() ? " (TLS)" : " (mutual TLS)") : "") + ", " +
           std::to_string(lanes_.size()) +
           " threads, " + std::to_string(conns_total_) +
           " multiplexed connections to the leader (" +
           (initial_leader_.empty() ? "not known at start" : initial_leader_) +
           "), NotLeader followed, retries until the deadline";
  }
  uint64_t retries() const override { return retries_.load(); }

  Result<std::unique_ptr<WatchGroup>> Watch(const WatchPlan& plan, WatchLog* log) override {
    // A watch is the leader's: wait for one (a young cluster may still be
    // electing), within the request deadline.
    const auto deadline = Clock::now() + milliseconds(options_.timeout_ms);
    std::string leader = initial_leader_;
    while (leader.empty() && Clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(50));
      leader = SweepForLeader();
    }
    if (leader.empty()) {
      return Status::Unavailable("tinykv: no leader to watch on: " + sweep_error_);
    }
    return NewTinyKvWatchGroup(options_, leader, plan, log);
  }

  Result<std::vector<uint64_t>> GrantLeases(int n, int64_t ttl_s) override {
    std::vector<uint64_t> ids;
    for (int i = 0; i < n; ++i) {
      client::LeaseGrantRequest req;
      req.ttl_s = static_cast<uint64_t>(ttl_s);
      TINYKV_ASSIGN_OR_RETURN(client::LeaseGrantResponse granted,
                              RunOnLane0<client::LeaseGrantMethod>(req));
      ids.push_back(granted.id);
    }
    return ids;
  }

  Status RevokeLeases(const std::vector<uint64_t>& ids) override {
    for (uint64_t id : ids) {
      client::LeaseRevokeRequest req;
      req.id = id;
      TINYKV_RETURN_IF_ERROR(RunOnLane0<client::LeaseRevokeMethod>(req).status());
    }
    return Status::OK();
  }

 private:
  // One Invoke from outside the lanes (the main thread), waited for.
  template <typename M>
  Result<typename M::Response> RunOnLane0(typename M::Request req) {
    std::promise<Result<typename M::Response>> done;
    auto answer = done.get_future();
    Lane& lane = *lanes_[0];
    asio::co_spawn(lane.rpc->executor(), InvokeInto<M>(lane, std::move(req), &done),
                   [](std::exception_ptr) {});
    return answer.get();
  }
  template <typename M>
  awaitable<void> InvokeInto(Lane& lane, typename M::Request req,
                             std::promise<Result<typename M::Response>>* done) {
    auto call = Invoke<M>(lane, std::move(req), true);
    done->set_value(co_await std::move(call));
  }

  awaitable<void> ClientLoop(Lane& lane, Workload& w, int c) {
    client::WriteId id{FreshClientId(), 0};
    Request r;
    while (w.Next(c, &r)) {
      if (w.open_loop()) co_await WaitUntil(r.intended);
      const auto t0 = w.Begin(c, r, Clock::now());
      Status s;
      if (w.op() == OpKind::kLeaseKeepAlive) {
        auto call = Invoke<client::LeaseKeepAliveMethod>(
            lane, client::LeaseKeepAliveRequest{r.lease}, true);
        s = (co_await std::move(call)).status();
      } else if (r.read) {
        client::GetRequest req;
        req.key = std::move(r.key);
        req.serializable = !w.linearizable();
        auto call = Invoke<client::GetMethod>(lane, std::move(req), w.linearizable());
        s = (co_await std::move(call)).status();
      } else {
        client::PutRequest req;
        req.key = std::move(r.key);
        req.value = w.value();
        id.request_seq++;  // the same id for every attempt of this write
        req.id = id;
        auto call = Invoke<client::PutMethod>(lane, std::move(req), true);
        s = (co_await std::move(call)).status();
      }
      w.Record(c, Clock::now() - t0, s);
    }
  }

  // One Status call to each endpoint, from this thread: the leader's
  // address, or "" when no member reached names one (sweep_error_ says
  // why); sets reached_ when any member answered.
  std::string SweepForLeader() {
    sweep_error_.clear();
    for (const std::string& e : options_.endpoints) {
      net::CallOptions call;
      call.timeout = milliseconds(std::min(options_.timeout_ms, 2000));
      call.max_attempts = 1;
      auto st = lanes_[0]->rpc->CallSync<client::StatusMethod>(e, client::StatusRequest{}, call);
      if (!st.ok()) {
        sweep_error_ += (sweep_error_.empty() ? "" : "; ") + e + ": " + st.status().ToString();
        continue;
      }
      reached_ = true;
      if (st->leader != 0 && st->leader == st->id) return e;
      if (!st->leader_client_address.empty()) return st->leader_client_address;
    }
    if (sweep_error_.empty()) sweep_error_ = "no member knows a leader";
    return std::string();
  }

  std::string PickTarget(Lane& lane) {
    if (!lane.leader.empty()) return lane.leader;
    return options_.endpoints[lane.next_endpoint++ % options_.endpoints.size()];
  }

  // The Status sweep: the endpoint that leads, or the leader's address as a
  // member reports it. "" when no member knows a leader.
  awaitable<std::string> Discover(Lane& lane, Clock::time_point deadline) {
    for (const std::string& e : options_.endpoints) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) break;
      net::CallOptions call;
      call.timeout = std::min(left, milliseconds(500));
      call.max_attempts = 1;
      auto pending = lane.rpc->Call<client::StatusMethod>(e, client::StatusRequest{}, call);
      auto st = co_await std::move(pending);
      if (!st.ok() || st->leader == 0) continue;
      if (st->leader == st->id) co_return e;
      if (!st->leader_client_address.empty()) co_return st->leader_client_address;
    }
    co_return std::string();
  }

  awaitable<void> Backoff(Lane& lane, int failures, Clock::time_point deadline) {
    net::RetryPolicy policy;
    policy.initial_backoff = milliseconds(20);
    policy.max_backoff = milliseconds(500);
    const auto delay = std::min<Clock::duration>(net::BackoffDelay(policy, failures, &lane.rnd),
                                                 deadline - Clock::now());
    if (delay <= Clock::duration::zero()) co_return;
    asio::steady_timer timer(co_await asio::this_coro::executor, delay);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  // One request with its retries, its answer or its last error.
  // leader_only: only the leader answers, so a success confirms the target
  // as leader.
  template <typename M>
  awaitable<Result<typename M::Response>> Invoke(Lane& lane, typename M::Request req,
                                                 bool leader_only) {
    const auto deadline = Clock::now() + milliseconds(options_.timeout_ms);
    Status last = Status::Unavailable("no attempt made");
    int failures = 0;
    for (int attempt = 0;; ++attempt) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        co_return Status::Timeout("deadline exceeded after " + std::to_string(attempt) +
                                  " attempts; last error: " + last.ToString());
      }
      if (attempt > 0) retries_.fetch_add(1, std::memory_order_relaxed);
      const std::string target = PickTarget(lane);
      // Each attempt gets at most kAttemptTimeout of the time left, so a
      // paused or cut-off leader costs one attempt, not the whole deadline.
      // The server may work until a little before the attempt's end, so
      // that its own Timeout (a real answer) arrives before we give up.
      const milliseconds attempt_timeout = std::min(left, kAttemptTimeout);
      const int64_t ms = attempt_timeout.count();
      if constexpr (requires { req.timeout_ms; }) {  // a keep-alive has none: it never waits
        req.timeout_ms =
            static_cast<uint32_t>(std::max<int64_t>(1, ms - std::min<int64_t>(50, ms / 10)));
      }
      net::CallOptions call;
      call.timeout = attempt_timeout;
      call.max_attempts = 1;
      auto pending = lane.rpc->Call<M>(target, req, call);
      auto r = co_await std::move(pending);
      if (r.ok()) {
        if (leader_only) lane.leader = target;
        co_return std::move(*r);
      }
      last = r.status();
      if (!client::IsRetryable(last)) co_return last;
      if (lane.leader == target) lane.leader.clear();
      if (last.IsNotLeader()) {
        const RoutingError hint = RoutingErrorOf(last).value_or(RoutingError{});
        if (!hint.leader_address.empty() && hint.leader_address != target) {
          lane.leader = hint.leader_address;  // follow a concrete hint at once
        } else if (hint.leader_id != 0) {
          auto sweep = Discover(lane, deadline);
          lane.leader = co_await std::move(sweep);
        }
        // A known leader is tried at once; back off only if hints keep
        // failing (or no member knows a leader: an election is running).
        ++failures;
        if (!lane.leader.empty() && failures <= 2) continue;
      } else {
        ++failures;
      }
      auto wait = Backoff(lane, failures, deadline);
      co_await std::move(wait);
    }
  }

  const BackendOptions options_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  int conns_total_ = 0;
  bool reached_ = false;
  std::string initial_leader_;
  std::string sweep_error_;  // why the last SweepForLeader found none
  std::atomic<uint64_t> retries_{0};
};

}  // namespace

Result<std::unique_ptr<Backend>> NewTinyKvBackend(const BackendOptions& options) {
  return StartBackend<TinyKvBackend>(options);
}

Result<std::vector<std::unique_ptr<net::RpcClient>>> NewTinyKvLaneClients(
    const BackendOptions& options, int threads, int conns) {
  std::vector<std::unique_ptr<net::RpcClient>> out;
  int conns_left = conns;
  for (int i = 0; i < threads; ++i) {
    const int lanes_left = threads - i;
    const int mine = std::max(1, (conns_left + lanes_left - 1) / lanes_left);
    conns_left -= mine;
    net::ClientOptions co;
    co.io_threads = 1;
    co.max_connections_per_peer = static_cast<size_t>(mine);
    co.connect_timeout = std::chrono::milliseconds(std::min(options.timeout_ms, 2000));
    co.retry.max_attempts = 1;  // the callers retry (across endpoints, or by resuming)
    co.tls.enabled = options.tls;
    co.tls.ca_file = options.cacert;
    co.tls.cert_file = options.cert;
    co.tls.key_file = options.key;
    TINYKV_ASSIGN_OR_RETURN(std::unique_ptr<net::RpcClient> rpc, net::RpcClient::Create(co));
    out.push_back(std::move(rpc));
  }
  return out;
}

}  // namespace tinykv::bench
