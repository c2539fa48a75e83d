// MeasureFloor (floor.h).
#include "tinykv/net/asio.h"  // first: see the header

#include <algorithm>
#include <future>
#include <vector>

#include "floor.h"
#include "tinykv/client/protocol.h"
#include "tinykv/net/client.h"

namespace tinykv::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Default-constructible, as Asio 1.74's co_spawn wants its result types.
struct Timings {
  Status status;
  std::vector<double> ms;
};

// Sequential Status calls; the latencies in ms, or the first error.
net::awaitable<Timings> RoundTrips(net::RpcClient* rpc, std::string endpoint, uint64_t n) {
  Timings t;
  t.ms.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    net::CallOptions call;
    call.timeout = std::chrono::milliseconds(2000);
    call.max_attempts = 1;
    const auto t0 = Clock::now();
    auto pending = rpc->Call<client::StatusMethod>(endpoint, client::StatusRequest{}, call);
    auto r = co_await std::move(pending);
    if (!r.ok()) {
      t.status = r.status();
      co_return t;
    }
    t.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  co_return t;
}

}  // namespace

Result<Floor> MeasureFloor(const std::filesystem::path& dir, double fsync_seconds,
                           const std::string& endpoint, uint64_t round_trips) {
  Floor f;
  f.fsync = RawFsyncRate(dir, fsync_seconds);
  if (f.fsync.per_sec <= 0) return Status::IOError("fsync probe: cannot write in " + dir.string());
  net::ClientOptions co;
  co.retry.max_attempts = 1;
  TINYKV_ASSIGN_OR_RETURN(auto rpc, net::RpcClient::Create(co));
  // One unmeasured call opens the connection.
  auto warm = rpc->CallSync<client::StatusMethod>(endpoint, client::StatusRequest{});
  if (!warm.ok()) return warm.status();
  std::promise<Timings> promise;
  auto future = promise.get_future();
  boost::asio::co_spawn(rpc->executor(), RoundTrips(rpc.get(), endpoint, round_trips),
                        [&promise](std::exception_ptr e, Timings t) {
                          if (e) t.status = Status::Aborted("round trips: exception");
                          promise.set_value(std::move(t));
                        });
  Timings t = future.get();
  TINYKV_RETURN_IF_ERROR(t.status);
  std::vector<double>& ms = t.ms;
  if (ms.empty()) return f;
  std::sort(ms.begin(), ms.end());
  f.round_trips = ms.size();
  f.rtt_p50_ms = ms[ms.size() / 2];
  f.rtt_p99_ms = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
  return f;
}

}  // namespace tinykv::bench
