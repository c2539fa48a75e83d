#include "echo_load.h"

#include <algorithm>
#include <atomic>
#include <future>
#include <memory>
#include <mutex>

#include "kv_protocol.h"

namespace tinykv::net::demo {

double EchoLoadResult::Percentile(double q) const {
  if (latencies_us.empty()) return 0;
  std::vector<double> sorted = latencies_us;
  const size_t idx = std::min(sorted.size() - 1, static_cast<size_t>(q * (sorted.size() - 1) + 0.5));
  std::nth_element(sorted.begin(), sorted.begin() + idx, sorted.end());
  return sorted[idx];
}

namespace {

using Clock = std::chrono::steady_clock;

struct LoadState {
  RpcClient* client;
  EchoLoadOptions options;
  std::string payload;
  Clock::time_point end;
  std::atomic<uint64_t> issued{0};
  std::mutex mu;
  EchoLoadResult result;  // guarded by mu
  std::atomic<int> running{0};
  std::promise<void> done;
};

awaitable<void> Caller(std::shared_ptr<LoadState> st) {
  std::vector<double> local;
  uint64_t errors = 0;
  std::string first_error;
  CallOptions opts;
  opts.timeout = st->options.timeout;
  for (;;) {
    if (st->options.requests > 0) {
      if (st->issued.fetch_add(1) >= st->options.requests) break;
    } else if (Clock::now() >= st->end) {
      break;
    }
    const auto start = Clock::now();
    EchoRequest req{st->payload, 0};
    auto call = st->client->Call<EchoMethod>(st->options.address, std::move(req), opts);
    Result<EchoResponse> r = co_await std::move(call);
    const auto us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    if (r.ok() && r->data.size() == st->payload.size()) {
      local.push_back(us);
    } else {
      ++errors;
      if (first_error.empty()) {
        first_error = r.ok() ? "echo returned the wrong payload" : r.status().ToString();
      }
    }
  }
  {
    std::lock_guard<std::mutex> lock(st->mu);
    st->result.latencies_us.insert(st->result.latencies_us.end(), local.begin(), local.end());
    st->result.errors += errors;
    if (st->result.first_error.empty()) st->result.first_error = first_error;
  }
  if (st->running.fetch_sub(1) == 1) st->done.set_value();
}

}  // namespace

EchoLoadResult RunEchoLoad(RpcClient* client, const EchoLoadOptions& options) {
  auto st = std::make_shared<LoadState>();
  st->client = client;
  st->options = options;
  st->payload = std::string(options.payload_bytes, 'e');
  const int n = std::max(1, options.concurrency);
  st->running = n;
  auto done = st->done.get_future();
  const auto start = Clock::now();
  st->end = start + options.duration;
  for (int i = 0; i < n; ++i) {
    asio::co_spawn(client->executor(), Caller(st), asio::detached);
  }
  done.wait();
  std::lock_guard<std::mutex> lock(st->mu);
  EchoLoadResult out = std::move(st->result);
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  out.calls = out.latencies_us.size();
  return out;
}

}  // namespace tinykv::net::demo
