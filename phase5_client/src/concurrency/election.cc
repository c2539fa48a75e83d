// Election: the leader as the owner of the contenders' queue (concurrency.h).
#include "concurrency/queue.h"
#include "tinykv/client/concurrency.h"

namespace tinykv::client {

using namespace concurrency_internal;

namespace {

Status NotLeader() { return Status::NotFound("election: not leader"); }

// Whether two leader answers are the same leadership with the same value.
bool SameLeader(const KeyValue& a, const KeyValue& b) {
  return a.key == b.key && a.meta.create_revision == b.meta.create_revision && a.value == b.value;
}

}  // namespace

Election::Election(Session& session, std::string prefix)
    : session_(session),
      prefix_(QueuePrefix(prefix)),
      key_(QueueKey(prefix_, session.lease())) {}

Status Election::Campaign(const std::string& value, const WaitOptions& wait) {
  revision_ = 0;
  TINYKV_RETURN_IF_ERROR(Enqueue(session_, key_, value, /*set_value=*/true));
  Result<uint64_t> rev = WaitForTurn(session_, prefix_, key_, wait, "election");
  if (!rev.ok()) {
    session_.client().Delete(key_).IgnoreError();  // leave the queue (as Mutex::Lock)
    return rev.status();
  }
  revision_ = *rev;
  return Status::OK();
}

Status Election::Proclaim(const std::string& value) {
  if (revision_ == 0) return NotLeader();
  Client& client = session_.client();
  TINYKV_ASSIGN_OR_RETURN(GetResponse got, client.GetWithRevision(key_));
  // Still this leadership: the key of the term won, not a later one.
  if (!got.found || got.meta.create_revision != revision_) {
    revision_ = 0;
    return NotLeader();
  }
  // With the lease: a put fails (NotFound) once the lease is gone, so the
  // key cannot come back after the session lost it.
  WriteOptions w;
  w.lease = session_.lease();
  Result<WriteResponse> put = client.PutWith(key_, value, w);
  if (put.status().IsNotFound()) {
    revision_ = 0;
    return NotLeader();
  }
  return put.status();
}

Status Election::Resign() {
  if (revision_ == 0) return Status::OK();
  revision_ = 0;
  return session_.client().Delete(key_);
}

Result<KeyValue> Election::Leader() {
  TINYKV_ASSIGN_OR_RETURN(QueueView q, ReadQueue(session_.client(), prefix_, ""));
  if (q.owner < 0) return Status::NotFound("election: no leader");
  return q.kvs[q.owner];
}

Result<std::unique_ptr<ElectionObserver>> Election::Observe() {
  Client& client = session_.client();
  TINYKV_ASSIGN_OR_RETURN(QueueView q, ReadQueue(client, prefix_, ""));
  WatchOptions wo;
  wo.key = prefix_;
  wo.prefix = true;
  wo.start_revision = q.revision + 1;  // every change after the scan
  TINYKV_ASSIGN_OR_RETURN(std::unique_ptr<WatchStream> watch, client.Watch(wo));
  std::optional<KeyValue> first;
  if (q.owner >= 0) first = q.kvs[q.owner];
  return std::unique_ptr<ElectionObserver>(
      new ElectionObserver(client, prefix_, std::move(watch), std::move(first)));
}

ElectionObserver::ElectionObserver(Client& client, std::string prefix,
                                   std::unique_ptr<WatchStream> watch,
                                   std::optional<KeyValue> first)
    : client_(client), prefix_(std::move(prefix)), watch_(std::move(watch)),
      pending_(std::move(first)) {}

Result<KeyValue> ElectionObserver::Next(std::optional<std::chrono::milliseconds> timeout) {
  if (pending_) {
    last_ = std::move(pending_);
    pending_.reset();
    return *last_;
  }
  const auto deadline =
      timeout ? std::optional(std::chrono::steady_clock::now() + *timeout) : std::nullopt;
  for (;;) {
    std::optional<std::chrono::milliseconds> left;
    if (deadline) {
      left = std::max(std::chrono::milliseconds(0),
                      std::chrono::duration_cast<std::chrono::milliseconds>(
                          *deadline - std::chrono::steady_clock::now()));
    }
    TINYKV_ASSIGN_OR_RETURN(WatchBatch b, watch_->Next(left));
    if (b.kind != WatchBatch::Kind::kEvents || b.events.empty()) continue;
    // The leader as of the batch's revision (every change up to it seen).
    TINYKV_ASSIGN_OR_RETURN(QueueView q, ReadQueue(client_, prefix_, "", b.revision));
    if (q.owner < 0) continue;  // no leader for now: not reported
    if (last_ && SameLeader(*last_, q.kvs[q.owner])) continue;
    last_ = q.kvs[q.owner];
    return *last_;
  }
}

}  // namespace tinykv::client
