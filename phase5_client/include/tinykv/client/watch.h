// WatchStream: a watch of a TinyKV cluster (protocol.h Watch) -- the puts
// and deletes of a key, a prefix or a range from a revision on, in revision
// order, resumed across leader changes without a gap or a duplicate.
//
//   WatchOptions o;
//   o.key = "app/";
//   o.prefix = true;
//   auto w = client->Watch(o).value();          // returns once the server created it
//   for (;;) {
//     Result<WatchBatch> b = w->Next(std::chrono::seconds(1));
//     if (b.status().IsTimeout()) continue;       // nothing new yet; the watch goes on
//     if (!b.ok()) break;                         // the watch ended (see Next)
//     for (const WatchEvent& e : b->events) ...   // whole revisions, in order
//   }
//   w->Cancel();                                  // or destroy it
//
// What it delivers. Batches of events of whole revisions (all keys one
// transaction or delete-range wrote come in one batch), revisions strictly
// increasing across batches, each with the position reached: every
// matching event at or below WatchBatch::revision has been delivered. With
// progress_notify, kProgress batches (no events) tell the position when
// nothing happened for progress_interval.
//
// Resuming. A stream runs on the leader. When it ends for a reason that is
// not the watch's -- the leader changed (NotLeader: its hint is followed),
// the server shut down or cannot be reached, the server dropped the
// watcher because it fell behind (ResourceExhausted with a resume
// revision: watch_error.h), the stream went silent for `silence_timeout` (a
// leader cut off from its peers) -- the watch opens a new stream from the
// position + 1, with backoff, on the leader it finds: no gap (the server
// replays from its history) and no duplicate (a revision split over
// several items is delivered only once complete; a resumed stream starts
// after the last delivered position). stats() counts the resumes.
//
// Progress on request (etcd's RequestProgress). RequestProgress asks the
// server of the current stream for a kProgress batch whose revision covers
// every write acknowledged before the call; it comes through Next in order
// with the events, whether or not progress_notify is set. Unavailable when
// no stream is open at that moment (the watch is resuming): ask again.
//
// Flow control. Events received but not yet taken by Next are held up to
// max_buffered_bytes; beyond that the stream's connection stops reading
// (its socket's receive buffer is about as large, 64 KiB to 4 MiB, not the
// OS's autotuned tens of MiB), TCP pushes back on the server, whose
// watcher buffer is bounded too: a
// consumer that does not read for long is dropped by the server and
// resumed from history when it reads again. Each stream has its own
// connection (one RpcClient, one io thread), so a stalled watch never holds
// up the Client's other calls.
//
// Thread safety: Next from one thread at a time; Cancel, next_revision and
// stats from any thread. REQUIRES: the Client outlives the stream (it
// routes through the Client's leader cache and discovery).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tinykv/client/protocol.h"
#include "tinykv/common/result.h"
#include "tinykv/common/status.h"
#include "tinykv/net/cancellation.h"
#include "tinykv/net/client.h"
#include "tinykv/txn/watch_event.h"

namespace tinykv::client {

class Client;

using WatchEvent = txn::WatchEvent;

struct WatchOptions {
  // What to watch (etcd's key / range_end / --prefix): the key alone; with
  // `prefix`, every key that starts with it (an empty key: every key); with
  // range_end, [key, range_end), where range_end "\0" means every key >= key
  // (etcd's convention). An empty key needs prefix or range_end.
  std::string key;
  std::string range_end;
  bool prefix = false;
  uint64_t start_revision = 0;   // the first revision wanted; 0: after now
  bool prev_kv = false;          // each event carries the value before it
  bool progress_notify = false;  // deliver kProgress batches when idle
  std::chrono::milliseconds progress_interval{1000};
  // A stream that sends nothing for this long is given up and resumed
  // (servers send a keepalive progress item every second at most).
  std::chrono::milliseconds silence_timeout{5000};
  size_t max_buffered_bytes = 16u << 20;  // received, not yet taken by Next
  // How long Watch may take to create the first stream (default: the
  // Client's timeout).
  std::optional<std::chrono::milliseconds> create_timeout;
};

struct WatchBatch {
  enum class Kind : uint8_t { kEvents, kProgress };
  Kind kind = Kind::kEvents;
  std::vector<WatchEvent> events;  // kEvents: whole revisions, in order
  uint64_t revision = 0;           // the position: every matching event <= it delivered
};

struct WatchStats {
  uint64_t streams = 0;           // streams opened (the first and every resume)
  uint64_t resumes = 0;           // streams that ended and were resumed
  std::string last_resume_error;  // why the last one ended ("" if none did)
  uint64_t next_revision = 0;     // where a resume starts
};

class WatchStream {
 public:
  ~WatchStream();  // Cancel(), and waits for the stream to stop
  WatchStream(const WatchStream&) = delete;
  WatchStream& operator=(const WatchStream&) = delete;

  // The next batch, waiting at most `timeout` (nullopt: until one comes or
  // the watch ends). Timeout when none came in time (the watch goes on: call
  // again). Otherwise the watch has ended, for good: Cancelled after Cancel;
  // InvalidArgument with a compacted WatchError (watch_error.h: the history
  // it needs is gone); or an error no retry can help (a refused TLS
  // handshake: IOError; NotSupported from a server without watches).
  Result<WatchBatch> Next(std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  // Asks for a progress batch (above); OK once the server took the request.
  Status RequestProgress(std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  // Stops the watch; a waiting Next returns Cancelled. Idempotent.
  void Cancel();
  // The revision a resume would start from (the position delivered + 1).
  uint64_t next_revision() const;
  WatchStats stats() const;

 private:
  friend class Client;
  WatchStream(Client* client, WatchOptions options, WatchRequest request,
              std::unique_ptr<net::RpcClient> rpc);
  // Waits until the first stream was created (or the watch ended).
  Status WaitCreated();
  void Run();
  // One stream to `target` from next_revision_; its end status.
  Status RunStream(const std::string& target, bool* created);
  Status OnItem(WatchResponse item);
  void End(Status why);

  Client* const client_;
  const WatchOptions options_;
  WatchRequest request_;  // start and end fixed; start_revision set per stream
  std::unique_ptr<net::RpcClient> rpc_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool cancelled_ = false;
  bool created_ = false;  // the first stream was created
  std::optional<Status> end_;
  uint64_t next_revision_ = 0;       // 0 until the first stream was created with start 0
  std::vector<WatchEvent> partial_;  // events of a revision not complete yet
  std::deque<WatchBatch> queue_;
  size_t queued_bytes_ = 0;
  bool blocked_ = false;  // OnItem waits for room (not silence: the consumer is slow)
  std::chrono::steady_clock::time_point last_item_;
  std::chrono::steady_clock::time_point last_delivered_;
  std::shared_ptr<net::CancellationToken> stream_cancel_;
  // The open stream's server and its watch id there (0: none created yet).
  std::string stream_target_;
  uint64_t stream_watch_id_ = 0;
  WatchStats stats_;
  std::thread driver_;
};

}  // namespace tinykv::client
