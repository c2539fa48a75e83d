// Distributed locks and leader elections over a TinyKV cluster, as etcd's
// clientv3/concurrency package builds them: a Session (a lease kept alive),
// a Mutex and an Election, both made of keys attached to the session's lease.
//
//   auto session = Session::Create(client.get(), {.ttl_s = 10}).value();
//   Mutex m(*session, "jobs/reindex");
//   TINYKV_RETURN_IF_ERROR(m.Lock());          // blocks until held
//   Write(data, /*fencing token=*/m.revision());
//   TINYKV_RETURN_IF_ERROR(m.Unlock());
//
// The queue. A Mutex or Election on prefix P is the set of keys under
// "P/": each contender puts its own key, "P/" + its lease id in hex, with a
// plain put carrying the lease (Client::PutWith; a transaction's write would
// detach the key from its lease). Revisions are commit timestamps, strictly
// increasing per write, so the keys' create revisions order the contenders:
// the key with the lowest create revision under "P/" is the owner (the lock's
// holder, the election's leader). A contender that is not the owner watches
// the delete of the key with the greatest create revision below its own (its
// predecessor: no herd wakes when the owner leaves) and then looks again.
//
// Why at most one owner at a time (in revisions). A contender decides it is
// the owner from one linearizable scan of "P/" at revision R, in which its
// key K (create revision c) has the lowest create revision. Let two
// contenders decide so at R1 and R2, with c1 < c2. K2 existed at R2, so
// c2 <= R2 and c1 < R2: K1 was created before R2 but is absent at R2, so it
// was deleted at some d1 <= R2. K1 existed at R1 and only its own contender
// re-puts it (the key holds its lease id), which would give it a new create
// revision: so d1 > R1. The first ownership ended (at d1: an Unlock, a
// Resign, or the lease revoked or expired) before the second began (R2).
// The same argument gives c1 < c2 for any two successive owners: the create
// revision is a fencing token (Mutex::revision, Election::revision) that
// strictly increases from one holder to the next. A holder whose lease
// expired while it was paused still believes it holds; the token is what a
// resource guarded by the lock checks (accept writes only with a token at
// least the highest seen).
//
// A contender that gives up waiting (a timeout, a cancel) deletes its key,
// so it never becomes the owner without knowing. A session whose lease is
// lost (revoked, or expired without keep-alive) loses its keys with it:
// waiters fail with NotFound ("session: expired"), and an owner's lock or
// leadership passes to the next contender.
//
// Thread safety: a Session from any thread; one Mutex or Election is used
// by one thread at a time (several of them may share a Session, each with
// its own prefix: on one prefix a session has one key). The Client must
// outlive the Session, and the Session its Mutexes and Elections.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tinykv/client/client.h"
#include "tinykv/client/lease_keep_alive.h"
#include "tinykv/client/watch.h"

namespace tinykv::client {

struct SessionOptions {
  uint64_t ttl_s = 60;  // etcd's default session TTL
  uint64_t lease = 0;   // use this existing lease instead of granting one
};

// A lease granted with SessionOptions::ttl_s (or the one given) and kept
// alive in the background (LeaseKeepAlive, a renewal every ttl/3) until
// Close, which revokes it: every key of the session is deleted at once.
class Session {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Session>> Create(Client* client,
                                                               SessionOptions options = {});
  ~Session();  // Close(), best effort
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Client& client() const { return *client_; }
  uint64_t lease() const { return lease_; }
  uint64_t ttl_s() const { return ttl_s_; }
  // OK while the lease lives as far as this session knows; NotFound
  // ("session: expired") once a renewal found it gone, Cancelled once
  // closed or orphaned.
  Status status() const;
  // Ends the renewals and revokes the lease (a lease already gone is not
  // an error). Idempotent.
  Status Close();
  // Ends the renewals without revoking: the lease, and every key of the
  // session, expire a TTL later (etcd's Orphan; a process that stops
  // keeping its lease alive, as one killed does).
  void Orphan();

 private:
  Session(Client* client, uint64_t lease, uint64_t ttl_s, std::unique_ptr<LeaseKeepAlive> keeper);

  Client* const client_;
  const uint64_t lease_;
  const uint64_t ttl_s_;
  std::unique_ptr<LeaseKeepAlive> keeper_;
  std::atomic<bool> closed_{false};
};

// How long Lock and Campaign wait, and how a caller stops them.
struct WaitOptions {
  std::optional<std::chrono::milliseconds> timeout;  // nullopt: no limit
  // Checked every 200 ms at most: true ends the wait with Cancelled.
  const std::atomic<bool>* cancelled = nullptr;
};

// etcd's concurrency.Mutex on a prefix (see "The queue").
class Mutex {
 public:
  Mutex(Session& session, std::string prefix);

  // Blocks until this session holds the lock. Timeout or Cancelled as
  // WaitOptions say, NotFound when the session's lease is gone; on any
  // failure this session's key is deleted (it does not stay queued).
  Status Lock(const WaitOptions& wait = {});
  // Takes the lock if no one holds it; otherwise Busy ("mutex: Locked by
  // another session", etcd's ErrLocked) and nothing stays queued.
  Status TryLock();
  // Deletes this session's key: the next contender takes the lock.
  Status Unlock();

  // The key of this session ("PREFIX/<lease hex>").
  const std::string& key() const { return key_; }
  // While held: the key's create revision, the fencing token; 0 otherwise.
  uint64_t revision() const { return revision_; }

 private:
  Session& session_;
  const std::string prefix_;  // with its '/'
  const std::string key_;
  uint64_t revision_ = 0;
};

// etcd's concurrency.Election on a prefix: the leader is the owner of the
// queue ("The queue"), the value its key holds is what it proclaims.
class ElectionObserver;
class Election {
 public:
  Election(Session& session, std::string prefix);

  // Puts this session's key with `value` (or sets the value of the key it
  // has) and blocks until it is the leader. Failures as Mutex::Lock's.
  Status Campaign(const std::string& value, const WaitOptions& wait = {});
  // The leader announces a new value without losing its place. NotFound
  // ("election: not leader") unless this session leads (or its key is gone).
  Status Proclaim(const std::string& value);
  // Gives up the leadership (deletes the key); OK when not leading.
  Status Resign();
  // The current leader's key, value and metadata (meta.create_revision is
  // its term's fencing token). NotFound ("election: no leader") when none.
  Result<KeyValue> Leader();
  // A stream of the leaders of this prefix (ElectionObserver).
  Result<std::unique_ptr<ElectionObserver>> Observe();

  const std::string& key() const { return key_; }
  // While leading: the key's create revision; 0 otherwise.
  uint64_t revision() const { return revision_; }

 private:
  Session& session_;
  const std::string prefix_;  // with its '/'
  const std::string key_;
  uint64_t revision_ = 0;
};

// The leaders of an election, as they change: the first Next answers the
// leader at the time Observe was called (if any), each later one the next
// change -- another key leading, or the leader proclaiming a new value.
// Intervals without a leader are not reported. Built on a watch of the
// prefix: a change is seen by rereading the leader at the revision of each
// batch of events, so two changes within one batch show as the last.
class ElectionObserver {
 public:
  // Timeout when no change came within `timeout` (the observer goes on);
  // other errors end it (the watch's, watch.h).
  Result<KeyValue> Next(std::optional<std::chrono::milliseconds> timeout = std::nullopt);

 private:
  friend class Election;
  ElectionObserver(Client& client, std::string prefix, std::unique_ptr<WatchStream> watch,
                   std::optional<KeyValue> first);

  Client& client_;
  const std::string prefix_;
  std::unique_ptr<WatchStream> watch_;
  std::optional<KeyValue> pending_;  // the first answer, not yet taken
  std::optional<KeyValue> last_;     // the last leader reported
};

}  // namespace tinykv::client
