// The contenders' queue (queue.h).
#include "concurrency/queue.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <thread>

namespace tinykv::client::concurrency_internal {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How often a wait looks at its cancel flag, its deadline and the session.
constexpr milliseconds kPollInterval{200};
// A wait rereads the queue at least this often even without an event: a
// safety net only (the watch delivers the predecessor's delete).
constexpr milliseconds kRecheckInterval{10000};

}  // namespace

std::string QueuePrefix(const std::string& prefix) { return prefix + "/"; }

std::string QueueKey(const std::string& queue_prefix, uint64_t lease) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%" PRIx64, lease);  // etcd's %x of the lease id
  return queue_prefix + hex;
}

Status Enqueue(Session& session, const std::string& key, const std::string& value,
               bool set_value) {
  TINYKV_RETURN_IF_ERROR(session.status());
  Client& client = session.client();
  TINYKV_ASSIGN_OR_RETURN(GetResponse got, client.GetWithRevision(key));
  if (got.found && (!set_value || got.value == value)) return Status::OK();
  WriteOptions w;
  w.lease = session.lease();
  Result<WriteResponse> put = client.PutWith(key, value, w);
  if (put.status().IsNotFound()) return Status::NotFound("session: expired (its lease is gone)");
  return put.status();
}

Result<QueueView> ReadQueue(Client& client, const std::string& queue_prefix,
                            const std::string& key, uint64_t revision) {
  CallOptions call;
  call.revision = revision;
  TINYKV_ASSIGN_OR_RETURN(ScanAtRevision scan,
                          client.ScanWithRevision(queue_prefix, PrefixEnd(queue_prefix), 0, call,
                                                  /*keys_only=*/false));
  QueueView v;
  v.kvs = std::move(scan.kvs);
  v.revision = scan.revision;
  for (int i = 0; i < static_cast<int>(v.kvs.size()); ++i) {
    const uint64_t created = v.kvs[i].meta.create_revision;
    if (created == 0) {
      return Status::NotSupported("concurrency: the server reports no create revisions");
    }
    if (v.owner < 0 || created < v.kvs[v.owner].meta.create_revision) v.owner = i;
    if (!key.empty() && v.kvs[i].key == key) v.self = i;
  }
  if (v.self >= 0) {
    const uint64_t mine = v.kvs[v.self].meta.create_revision;
    for (int i = 0; i < static_cast<int>(v.kvs.size()); ++i) {
      const uint64_t created = v.kvs[i].meta.create_revision;
      if (created < mine &&
          (v.predecessor < 0 || created > v.kvs[v.predecessor].meta.create_revision)) {
        v.predecessor = i;
      }
    }
  }
  return v;
}

Result<uint64_t> WaitForTurn(Session& session, const std::string& queue_prefix,
                             const std::string& key, const WaitOptions& wait, const char* what) {
  Client& client = session.client();
  const auto start = SteadyClock::now();
  // Why the wait must end now (OK: go on).
  auto stop = [&]() -> Status {
    if (wait.cancelled != nullptr && wait.cancelled->load()) {
      return Status::Cancelled(std::string(what) + ": wait cancelled");
    }
    if (wait.timeout && SteadyClock::now() - start >= *wait.timeout) {
      return Status::Timeout(std::string(what) + ": not acquired within " +
                             std::to_string(wait.timeout->count()) + " ms");
    }
    return session.status();
  };
  for (;;) {
    TINYKV_RETURN_IF_ERROR(stop());
    TINYKV_ASSIGN_OR_RETURN(QueueView q, ReadQueue(client, queue_prefix, key));
    if (q.self < 0) {
      return Status::NotFound(std::string(what) + ": " + key +
                              " is gone (the session's lease was revoked or expired)");
    }
    // The lowest create revision at one linearizable revision: the owner
    // (concurrency.h, why at most one).
    if (q.owner == q.self) return q.kvs[q.self].meta.create_revision;
    // Wait for the predecessor's delete: from the revision after the scan,
    // so a delete between the scan and the watch is replayed from history.
    WatchOptions wo;
    wo.key = q.kvs[q.predecessor].key;
    wo.start_revision = q.revision + 1;
    Result<std::unique_ptr<WatchStream>> w = client.Watch(wo);
    if (!w.ok()) {
      // The history may be compacted past the scan (or a leader change):
      // read the queue again, after a short pause.
      if (w.status().IsInvalidArgument() || IsRetryable(w.status())) {
        std::this_thread::sleep_for(kPollInterval);
        continue;
      }
      return w.status();
    }
    const auto watching = SteadyClock::now();
    bool deleted = false;
    while (!deleted && SteadyClock::now() - watching < kRecheckInterval) {
      TINYKV_RETURN_IF_ERROR(stop());
      Result<WatchBatch> b = (*w)->Next(kPollInterval);
      if (b.status().IsTimeout()) continue;
      if (!b.ok()) {  // the watch ended: read the queue again, after a pause
        std::this_thread::sleep_for(kPollInterval);
        break;
      }
      for (const WatchEvent& e : b->events) deleted |= e.type == WatchEvent::Type::kDelete;
    }
  }
}

}  // namespace tinykv::client::concurrency_internal
