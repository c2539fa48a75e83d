// WatchStream and Client::Watch: see watch.h.
#include "tinykv/client/watch.h"

#include <algorithm>
#include <future>
#include <utility>

#include "tinykv/client/client.h"
#include "tinykv/common/routing_error.h"
#include "tinykv/net/asio.h"
#include "tinykv/txn/watch_error.h"

namespace tinykv::client {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The most a server is asked to stay quiet: its progress items are the
// stream's keepalive (watch.h "silence_timeout").
constexpr milliseconds kKeepalive{1000};

size_t EventBytes(const WatchEvent& e) { return txn::WatchEventBytes(e); }

WatchEvent EventOf(WatchEventMessage m) {
  WatchEvent e;
  e.type = m.type == static_cast<uint8_t>(WatchEventType::kDelete) ? WatchEvent::Type::kDelete
                                                                   : WatchEvent::Type::kPut;
  e.key = std::move(m.key);
  e.value = std::move(m.value);
  if (m.has_prev) e.prev_value = std::move(m.prev_value);
  e.revision = m.revision;
  return e;
}

// Whether a stream that ended with `s` is resumed (watch.h "Resuming").
bool Resumable(const Status& s) {
  if (std::optional<txn::WatchError> e = txn::WatchErrorOf(s))
    return e->kind == txn::WatchError::Kind::kResume;
  return IsRetryable(s);
}

}  // namespace

Result<std::unique_ptr<WatchStream>> Client::Watch(const WatchOptions& options) {
  WatchRequest req;
  req.start = options.key;
  if (options.prefix) {
    if (!options.range_end.empty())
      return Status::InvalidArgument("watch: give a prefix or a range end, not both");
    req.end = PrefixEnd(options.key);
  } else if (options.range_end == std::string(1, '\0')) {
    req.end.clear();  // etcd's "\0": every key >= key
  } else if (!options.range_end.empty()) {
    if (options.range_end <= options.key)
      return Status::InvalidArgument("watch: range end must be greater than the key");
    req.end = options.range_end;
  } else {
    TINYKV_RETURN_IF_ERROR(CheckKey(options.key));
    req.end = KeySuccessor(options.key);
  }
  TINYKV_RETURN_IF_ERROR(CheckRequestSize(req.start.size() + req.end.size(), "watch"));
  if (options.progress_interval.count() <= 0 || options.silence_timeout.count() <= 0)
    return Status::InvalidArgument("watch: intervals must be positive");
  req.prev_kv = options.prev_kv;
  const milliseconds interval =
      options.progress_notify ? std::min(options.progress_interval, kKeepalive) : kKeepalive;
  req.progress_interval_ms = static_cast<uint32_t>(interval.count());
  if (closed_) return Status::Cancelled("client closed");
  // Its own connection, with a receive buffer the size of its own bound:
  // a consumer that stops reading pushes back on the server soon (watch.h).
  TINYKV_ASSIGN_OR_RETURN(
      std::unique_ptr<net::RpcClient> rpc,
      NewRpcClient(options_, 1, std::clamp<size_t>(options.max_buffered_bytes, 64u << 10, 4u << 20)));
  std::unique_ptr<WatchStream> w(new WatchStream(this, options, std::move(req), std::move(rpc)));
  TINYKV_RETURN_IF_ERROR(w->WaitCreated());
  return w;
}

WatchStream::WatchStream(Client* client, WatchOptions options, WatchRequest request,
                         std::unique_ptr<net::RpcClient> rpc)
    : client_(client),
      options_(std::move(options)),
      request_(std::move(request)),
      rpc_(std::move(rpc)) {
  next_revision_ = options_.start_revision;
  stats_.next_revision = next_revision_;
  last_item_ = last_delivered_ = Clock::now();
  driver_ = std::thread([this] { Run(); });
}

WatchStream::~WatchStream() {
  Cancel();
  if (driver_.joinable()) driver_.join();
  rpc_->Shutdown();
}

Status WatchStream::WaitCreated() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [this] { return created_ || end_.has_value(); });
  if (created_) return Status::OK();
  return *end_;
}

void WatchStream::Cancel() {
  std::shared_ptr<net::CancellationToken> token;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (cancelled_) return;
    cancelled_ = true;
    if (!end_) end_ = Status::Cancelled("watch cancelled");
    token = stream_cancel_;
  }
  cv_.notify_all();
  if (token) token->Cancel();
}

Status WatchStream::RequestProgress(std::optional<std::chrono::milliseconds> timeout) {
  std::string target;
  uint64_t id = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (end_) return *end_;
    target = stream_target_;
    id = stream_watch_id_;
  }
  if (id == 0) {
    return Status::Unavailable("watch: no stream is open now (it is being resumed); ask again");
  }
  net::CallOptions call;
  call.timeout = timeout.value_or(client_->default_timeout());
  return rpc_->CallSync<WatchProgressMethod>(target, WatchProgressRequest{id}, call).status();
}

uint64_t WatchStream::next_revision() const {
  std::lock_guard<std::mutex> l(mu_);
  return next_revision_;
}

WatchStats WatchStream::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  WatchStats s = stats_;
  s.next_revision = next_revision_;
  return s;
}

void WatchStream::End(Status why) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!end_) end_ = std::move(why);
  }
  cv_.notify_all();
}

Result<WatchBatch> WatchStream::Next(std::optional<milliseconds> timeout) {
  std::unique_lock<std::mutex> l(mu_);
  auto ready = [this] { return !queue_.empty() || end_.has_value(); };
  if (timeout) {
    if (!cv_.wait_for(l, *timeout, ready))
      return Status::Timeout("watch: nothing new within " + std::to_string(timeout->count()) +
                             " ms");
  } else {
    cv_.wait(l, ready);
  }
  // What arrived before the end is still delivered, unless the watch was
  // cancelled (then nobody wants it).
  if (!queue_.empty() && !cancelled_) {
    WatchBatch b = std::move(queue_.front());
    queue_.pop_front();
    for (const WatchEvent& e : b.events) queued_bytes_ -= EventBytes(e);
    l.unlock();
    cv_.notify_all();  // room for a blocked OnItem
    return b;
  }
  return *end_;
}

void WatchStream::Run() {
  const milliseconds create_timeout = options_.create_timeout.value_or(client_->default_timeout());
  const Clock::time_point create_deadline = Clock::now() + create_timeout;
  Status last = Status::Unavailable("no stream opened");
  int failures = 0;
  for (;;) {
    bool created_once = false;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (end_) return;
      created_once = created_;
    }
    if (!created_once && Clock::now() >= create_deadline) {
      End(Status::Timeout("watch: not created within " + std::to_string(create_timeout.count()) +
                          " ms; last error: " + last.ToString()));
      return;
    }
    const std::string target = client_->PickTarget();
    bool created = false;
    Status s = RunStream(target, &created);
    {
      std::lock_guard<std::mutex> l(mu_);
      if (cancelled_) return;
    }
    if (created) {
      client_->SetLeader(target);  // only the leader creates a watch
      failures = 0;
    }
    last = s.ok() ? Status::Unavailable("the server ended the stream") : s;
    if (!Resumable(last)) {
      End(last);
      return;
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      if (created_) {
        ++stats_.resumes;
        stats_.last_resume_error = last.ToString();
      }
    }
    if (last.IsNotLeader()) {
      const RoutingError hint = RoutingErrorOf(last).value_or(RoutingError{});
      client_->ForgetLeader(target);
      if (!hint.leader_address.empty() && hint.leader_address != target) {
        client_->SetLeader(hint.leader_address);
        if (++failures > 2) client_->Backoff(failures - 2, client_->DeadlineOf({}));
        continue;
      }
      if (hint.leader_id != 0 && client_->Discover(client_->DeadlineOf({}))) continue;
      client_->Backoff(++failures, client_->DeadlineOf({}));
      continue;
    }
    // A watcher that fell behind resumes on the same (still leading) node;
    // anything else tries the next one.
    if (!txn::WatchErrorOf(last)) client_->ForgetLeader(target);
    client_->Backoff(++failures, client_->DeadlineOf({}));
  }
}

Status WatchStream::RunStream(const std::string& target, bool* created) {
  auto token = std::make_shared<net::CancellationToken>();
  WatchRequest req = request_;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (cancelled_) return Status::Cancelled("watch cancelled");
    stream_cancel_ = token;
    stream_target_ = target;
    stream_watch_id_ = 0;
    req.start_revision = next_revision_;
    partial_.clear();  // an unfinished revision comes again, whole
    last_item_ = Clock::now();
    ++stats_.streams;
  }
  net::CallOptions call;
  call.timeout = std::chrono::hours(24 * 365);  // a watch has no deadline; silence ends it
  call.max_attempts = 1;
  call.cancel = token;
  std::promise<Status> done;
  std::future<Status> finished = done.get_future();
  std::function<Status(WatchResponse)> on_item = [this, created](WatchResponse item) {
    if (item.kind == static_cast<uint8_t>(WatchItemKind::kCreated)) *created = true;
    return OnItem(std::move(item));
  };
  auto stream = rpc_->CallStream<WatchMethod>(target, std::move(req), std::move(on_item), call);
  net::asio::co_spawn(rpc_->executor(), std::move(stream), [&done](std::exception_ptr e, Status s) {
    done.set_value(e ? Status::Aborted("watch stream failed") : std::move(s));
  });
  // Wait for the stream's end; give up on one that went silent (its server
  // stopped computing resolved timestamps: cut off from its peers).
  bool silent = false;
  while (finished.wait_for(milliseconds(100)) != std::future_status::ready) {
    std::lock_guard<std::mutex> l(mu_);
    if (!silent && !blocked_ && Clock::now() - last_item_ > options_.silence_timeout) {
      silent = true;
      token->Cancel();
    }
  }
  Status s = finished.get();
  {
    std::lock_guard<std::mutex> l(mu_);
    stream_cancel_.reset();
    stream_watch_id_ = 0;
    if (cancelled_) return Status::Cancelled("watch cancelled");
  }
  if (silent) {
    return Status::Unavailable("watch: no word from " + target + " for " +
                               std::to_string(options_.silence_timeout.count()) + " ms");
  }
  return s;
}

Status WatchStream::OnItem(WatchResponse item) {
  std::unique_lock<std::mutex> l(mu_);
  const auto now = Clock::now();
  last_item_ = now;
  if (cancelled_) return Status::Cancelled("watch cancelled");
  switch (static_cast<WatchItemKind>(item.kind)) {
    case WatchItemKind::kCreated:
      if (item.revision + 1 < next_revision_)
        return Status::Corruption("watch: the server created the stream below its start");
      next_revision_ = item.revision + 1;
      stream_watch_id_ = item.watch_id;
      if (!created_) {
        created_ = true;
        cv_.notify_all();
      }
      return Status::OK();
    case WatchItemKind::kEvents:
    case WatchItemKind::kProgress:
      break;
    default:
      return Status::Corruption("watch: unknown item kind " + std::to_string(item.kind));
  }
  if (item.revision + 1 < next_revision_)
    return Status::Corruption("watch: the server's position went back");
  for (WatchEventMessage& m : item.events) {
    if (m.revision < next_revision_)
      return Status::Corruption("watch: an event below the stream's position");
    partial_.push_back(EventOf(std::move(m)));
  }
  // Deliver the revisions the position passed (whole; watch.h "Resuming").
  WatchBatch batch;
  batch.revision = item.revision;
  auto complete = std::partition_point(partial_.begin(), partial_.end(), [&](const WatchEvent& e) {
    return e.revision <= item.revision;
  });
  batch.events.assign(std::make_move_iterator(partial_.begin()), std::make_move_iterator(complete));
  partial_.erase(partial_.begin(), complete);
  next_revision_ = std::max(next_revision_, item.revision + 1);
  if (!batch.events.empty()) {
    for (const WatchEvent& e : batch.events) queued_bytes_ += EventBytes(e);
    queue_.push_back(std::move(batch));
    last_delivered_ = now;
    cv_.notify_all();
  } else if (static_cast<WatchItemKind>(item.kind) == WatchItemKind::kProgress &&
             (item.requested || (options_.progress_notify && partial_.empty() &&
                                 now - last_delivered_ >= options_.progress_interval))) {
    // A requested one always (its revision is a position like any other,
    // even with a split revision pending); idle ones as asked.
    batch.kind = WatchBatch::Kind::kProgress;
    queue_.push_back(std::move(batch));
    last_delivered_ = now;
    cv_.notify_all();
  }
  // Flow control (watch.h): hold this connection while the consumer is
  // behind; waiting here is not the server's silence.
  while (queued_bytes_ > options_.max_buffered_bytes && !cancelled_) {
    blocked_ = true;
    cv_.wait(l);
  }
  blocked_ = false;
  last_item_ = Clock::now();
  return cancelled_ ? Status::Cancelled("watch cancelled") : Status::OK();
}

}  // namespace tinykv::client
