// ServeWatch: see watch_stream.h.
#include "watch_stream.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

namespace tinykv::client::internal {
namespace {

namespace asio = net::asio;

// How often a waiting stream looks whether its client is still there (the
// RPC layer marks a cancelled call, it does not wake it).
constexpr std::chrono::milliseconds kWatchPoll{500};

// What the hub's notify reaches: the stream's timer, on its io thread, and
// only while the stream lives (after it ended, the io context may be gone).
struct Wakeup {
  std::mutex mu;
  bool alive = true;
  asio::any_io_executor ex;
  std::weak_ptr<asio::steady_timer> timer;
  void Notify() {
    std::lock_guard<std::mutex> l(mu);
    if (!alive) return;
    asio::post(ex, [t = timer] {
      if (auto timer = t.lock()) timer->cancel();
    });
  }
  void Close() {
    std::lock_guard<std::mutex> l(mu);
    alive = false;
  }
};

}  // namespace

txn::WatchSpec WatchSpecOf(const WatchRequest& req) {
  txn::WatchSpec spec;
  spec.start = req.start;
  spec.end = req.end;
  spec.start_revision = req.start_revision;
  spec.prev_kv = req.prev_kv;
  spec.progress_interval = std::chrono::milliseconds(req.progress_interval_ms);
  return spec;
}

WatchResponse WatchResponseOf(txn::WatchOutput out) {
  WatchResponse r;
  r.kind = static_cast<uint8_t>(out.kind);
  r.revision = out.revision;
  r.requested = out.requested;
  r.events.reserve(out.events.size());
  for (txn::WatchEvent& e : out.events) {
    WatchEventMessage m;
    m.type = static_cast<uint8_t>(e.type);
    m.key = std::move(e.key);
    m.value = std::move(e.value);
    if (e.prev_value) {
      m.has_prev = true;
      m.prev_value = std::move(*e.prev_value);
    }
    m.revision = e.revision;
    r.events.push_back(std::move(m));
  }
  return r;
}

net::awaitable<Status> ServeWatch(txn::WatchHub& hub, WatchRequest req,
                                  net::ServerWriter<WatchResponse>& out) {
  TINYKV_CO_RETURN_IF_ERROR(CheckRequestSize(req.start.size() + req.end.size(), "watch"));
  Result<std::shared_ptr<txn::Watcher>> registered = hub.Watch(WatchSpecOf(req));
  if (!registered.ok()) co_return registered.status();
  std::shared_ptr<txn::Watcher> watcher = std::move(registered).value();
  auto timer = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor);
  auto wakeup = std::make_shared<Wakeup>();
  wakeup->ex = timer->get_executor();
  wakeup->timer = timer;
  watcher->SetNotify([wakeup] { wakeup->Notify(); });
  struct Done {  // every way out: no more wakeups, and the hub forgets the watcher
    std::shared_ptr<Wakeup> wakeup;
    std::shared_ptr<txn::Watcher> watcher;
    ~Done() {
      wakeup->Close();
      watcher->SetNotify(nullptr);
      watcher->Cancel();
    }
  } done{wakeup, watcher};
  for (;;) {
    if (out.cancelled()) co_return Status::Cancelled("watch: the stream was closed");
    std::optional<txn::WatchOutput> next = watcher->Poll();
    if (next) {
      WatchResponse item = WatchResponseOf(std::move(*next));
      if (item.kind == static_cast<uint8_t>(WatchItemKind::kCreated)) item.watch_id = watcher->id();
      auto write = out.Write(item);  // split: GCC 12 co_await bug
      Status s = co_await std::move(write);
      if (!s.ok()) co_return s;
      continue;
    }
    if (std::optional<Status> end = watcher->Ended()) co_return *end;
    timer->expires_after(kWatchPoll);
    boost::system::error_code ec;  // cancelled by a notify, or the poll interval
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace tinykv::client::internal
