// ServeWatch: one tinykv.Watch stream (protocol.h) served from the node's
// watch hub (phase4_txn watch_hub.h) on the connection's io thread.
//
// The handler registers a watcher, then writes what it polls from it, in
// order, and returns the watcher's end status (untranslated: the service
// adds the leader hint to a NotLeader). It never blocks its io thread: when
// nothing is queued it waits on a timer that the hub's notify cancels (the
// notify posts to the io thread, and only while the stream lives), and
// wakes at least every kWatchPoll to notice a client that went away. A
// failed write (client gone, cancelled) cancels the watcher.
#pragma once

#include "tinykv/client/protocol.h"
#include "tinykv/common/status.h"
#include "tinykv/net/asio.h"
#include "tinykv/net/server_call.h"
#include "tinykv/txn/watch_hub.h"

namespace tinykv::client::internal {

// The wire form of a watch request and of one output.
txn::WatchSpec WatchSpecOf(const WatchRequest& req);
WatchResponse WatchResponseOf(txn::WatchOutput out);

net::awaitable<Status> ServeWatch(txn::WatchHub& hub, WatchRequest req,
                                  net::ServerWriter<WatchResponse>& out);

}  // namespace tinykv::client::internal
