// Mutex: a lock as the owner of the contenders' queue (concurrency.h).
#include "concurrency/queue.h"
#include "tinykv/client/concurrency.h"

namespace tinykv::client {

using namespace concurrency_internal;

Mutex::Mutex(Session& session, std::string prefix)
    : session_(session),
      prefix_(QueuePrefix(prefix)),
      key_(QueueKey(prefix_, session.lease())) {}

Status Mutex::Lock(const WaitOptions& wait) {
  revision_ = 0;
  TINYKV_RETURN_IF_ERROR(Enqueue(session_, key_, "", /*set_value=*/false));
  Result<uint64_t> rev = WaitForTurn(session_, prefix_, key_, wait, "mutex");
  if (!rev.ok()) {
    // Leave the queue: a key left behind would make this session the
    // holder later without its knowing.
    session_.client().Delete(key_).IgnoreError();
    return rev.status();
  }
  revision_ = *rev;
  return Status::OK();
}

Status Mutex::TryLock() {
  revision_ = 0;
  TINYKV_RETURN_IF_ERROR(Enqueue(session_, key_, "", /*set_value=*/false));
  Result<QueueView> q = ReadQueue(session_.client(), prefix_, key_);
  if (q.ok() && q->self >= 0 && q->owner == q->self) {
    revision_ = q->kvs[q->self].meta.create_revision;
    return Status::OK();
  }
  session_.client().Delete(key_).IgnoreError();
  if (!q.ok()) return q.status();
  if (q->self < 0) return Status::NotFound("mutex: " + key_ + " is gone (the session expired)");
  return Status::Busy("mutex: Locked by another session");
}

Status Mutex::Unlock() {
  revision_ = 0;
  return session_.client().Delete(key_);
}

}  // namespace tinykv::client
