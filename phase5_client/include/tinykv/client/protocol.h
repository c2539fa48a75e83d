// The client protocol: the RPC methods a TinyKV server offers its clients.
//
// Every method is a phase 2 RPC method (tinykv/net/method.h): a cereal request
// and response struct bound to a method id. Method ids 500..599 belong to
// this protocol (phase 5); doc/protocol.md gives the grammar of every message,
// the error mapping and a worked example.
//
// Conventions shared by every method:
//   * Keys and values are arbitrary bytes (std::string, may hold '\0'). A
//     key is never empty (an empty range bound is: see below). One request
//     carries at most kMaxRequestBytes of keys and values together.
//   * Ranges are half-open [start, end); an empty `end` means "to the end of
//     the key space".
//   * `timeout_ms` is how long the server may work on the request (Raft
//     propose / read barrier); 0 = the server's default. The client sends the
//     time left of its own deadline, so the server gives up when the client
//     does.
//   * Every write carries (client_id, request_seq). The replicated state
//     machine remembers the highest request_seq applied per client_id and its
//     result, so a retry of the same write (same pair) is applied at most once
//     and answers with the original result. A client issues the writes of one
//     client_id strictly one after the other (see client.h: write sessions).
//   * Errors travel as the RPC layer's error frames carrying a Status code
//     (status.h), a message and a detail. A follower answers writes and
//     linearizable reads with NotLeader whose detail is a RoutingError
//     (common/routing_error.h): the group, the leader's id (0 = unknown) and,
//     when the server knows it, the leader's CLIENT address. Clients read
//     those fields; the message ("leader=<id> addr=<host:port>") is for humans.
//
// Why Scan is paged (a continuation key), not server-streamed: each page is a
// short unary call that can be retried on any node (reads are idempotent),
// so a scan survives a leader change half-way: the client resumes on the new
// leader from the continuation key. The server holds no state between
// pages, and each page is a read of a bounded size (the server caps a page
// at kMaxScanPageItems pairs / kMaxScanPageBytes). The first page is a
// linearizable read at a fresh revision; the client reads every later page
// at that same revision, so the whole scan is one snapshot. The cost: a
// long scan pays one round trip per page.
//
// Revisions. The server keeps every key in MVCC (phase4_txn): each write
// commits at a timestamp from the leader's oracle -- its revision, which
// every write answers with -- and a read can be made at any revision
// (Get/Scan `revision`, 0 = now; one in the future is refused). A read or
// write that meets a transaction's lock fails with Conflict whose detail is
// the lock (status.h StatusDetailKind::kKeyError, phase4_txn key_error.h):
// the client resolves it (check the primary, roll forward or back) and
// retries. Tso and Txn are the transaction protocol (client.h Txn).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "tinykv/client/lease_protocol.h"
#include "tinykv/common/routing_error.h"
#include "tinykv/common/status.h"
#include "tinykv/net/method.h"
#include "tinykv/net/method_ids.h"
#include "tinykv/net/serialization.h"
#include "tinykv/replica/replica_status.h"

namespace tinykv::client {

// The largest page a Scan answers with, whatever the request's limit: at
// most kMaxScanPageItems pairs, and the page stops before its keys and values
// would pass kMaxScanPageBytes -- except that a page always holds at least
// one pair (else a scan could not pass a large value). One pair is at most
// kMaxRequestBytes (1.5 MiB, checked when it was written), so a page is at
// most 1.5 MiB of keys and values plus fixed fields: always within the RPC
// frame limit (net::kDefaultMaxFrameBytes, 4 MiB), whatever the values.
inline constexpr uint64_t kMaxScanPageItems = 1000;
inline constexpr uint64_t kMaxScanPageBytes = 1u << 20;

// The request size limit: the key and value bytes one request carries
// together (Put: key + value; Cas: key + expected + value; Get/Delete: the
// key; Scan/DeleteRange: start + end) must not exceed it. etcd's default
// --max-request-bytes is the same 1.5 MiB. It sits well below the RPC frame
// limit (net::kDefaultMaxFrameBytes, 4 MiB), so a request that passes always
// fits in a frame with its fixed fields. The client checks it before
// sending and answers InvalidArgument("request too large ..."), so an
// oversized write fails at once instead of being retried until its deadline.
inline constexpr size_t kMaxRequestBytes = 1536 * 1024;

// The input rules above, as Status, for the client (before sending) and the
// service (on arrival) alike. `what` names the request in the message.
inline Status CheckKey(std::string_view key) {
  if (key.empty()) return Status::InvalidArgument("key must not be empty");
  return Status::OK();
}
inline Status CheckRequestSize(size_t key_and_value_bytes, std::string_view what) {
  if (key_and_value_bytes <= kMaxRequestBytes) return Status::OK();
  return Status::InvalidArgument("request too large: " + std::string(what) + " carries " +
                                 std::to_string(key_and_value_bytes) +
                                 " bytes of keys and values, the limit is " +
                                 std::to_string(kMaxRequestBytes) + " (1.5 MiB)");
}

// Identifies a write for exactly-once retries. client_id 0 disables dedup.
struct WriteId {
  uint64_t client_id = 0;
  uint64_t request_seq = 0;
  template <class A>
  void serialize(A& a) {
    a(client_id, request_seq);
  }
};

// ---- Key metadata (etcd's KeyValue fields) ----
// A key's create revision (its first put since it last did not exist), mod
// revision (its newest put), version (puts since its creation: 1 on
// creation) and lease (0: none), as the server's MVCC keeps them
// (phase4_txn mvcc_record.h). All 0 from a server without MVCC. Metadata
// travels beside the pairs it describes, in lists of its own (KeyValue's
// own encoding stays key and value), so older peers still decode.
struct KeyMetadata {
  uint64_t create_revision = 0;
  uint64_t mod_revision = 0;
  uint64_t version = 0;
  uint64_t lease = 0;
  template <class A>
  void serialize(A& a) {
    a(create_revision, mod_revision, version, lease);
  }
  friend bool operator==(const KeyMetadata&, const KeyMetadata&) = default;
};

// A key and its value, and its metadata where the message that carries the
// pair also carries a metadata list (not part of this struct's encoding).
struct KeyValue {
  std::string key;
  std::string value;  // empty when keys_only
  KeyMetadata meta;
  template <class A>
  void serialize(A& a) {
    a(key, value);
  }
  friend bool operator==(const KeyValue&, const KeyValue&) = default;
};

// ---- ResponseHeader: who answered (etcd's ResponseHeader) ----
// The answering member's cluster id (its data dir's identity, as Status
// answers it; 0 while a joined member does not know it yet), its own member
// id and its current Raft term when it answered. etcd's header also holds
// the revision; here each response carries its revision as its own field.
// Reads and writes answer it as their last trailing field: all 0 from a
// server that predates it (a client tells by member_id == 0).
struct ResponseHeader {
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  uint64_t raft_term = 0;
  template <class A>
  void serialize(A& a) {
    a(cluster_id, member_id, raft_term);
  }
  friend bool operator==(const ResponseHeader&, const ResponseHeader&) = default;
};

// ---- Get ----
struct GetRequest {
  std::string key;
  bool serializable = false;  // true: answer from this node's state machine, possibly stale
  uint32_t timeout_ms = 0;
  // The revision (a commit timestamp) to read at; 0 = now. See "Revisions".
  uint64_t revision = 0;
  template <class A>
  void serialize(A& a) {
    a(key, serializable, timeout_ms);
    net::TrailingField(a, revision);
  }
};
struct GetResponse {
  bool found = false;
  std::string value;
  uint64_t revision = 0;  // the revision the read was made at (0: the newest state)
  KeyMetadata meta;       // the key's, when found
  ResponseHeader header;
  template <class A>
  void serialize(A& a) {
    a(found, value);
    net::TrailingField(a, revision);
    net::TrailingField(a, meta);
    net::TrailingField(a, header);
  }
};

// ---- Put ----
struct PutRequest {
  std::string key;
  std::string value;
  WriteId id;
  uint32_t timeout_ms = 0;
  // The lease the key is attached to (lease_protocol.h); 0 = none (a put
  // without a lease detaches the key from any). Last on the wire, and
  // optional there: a request from a client that predates leases decodes
  // with lease 0.
  uint64_t lease = 0;
  // etcd's prev_kv: answer the key as it was before the put (WriteResponse).
  bool prev_kv = false;
  template <class A>
  void serialize(A& a) {
    a(key, value, id, timeout_ms);
    net::TrailingField(a, lease);
    net::TrailingField(a, prev_kv);
  }
};
// Every write answers with the Raft index at which it applied, and its
// revision (its commit timestamp; 0 from a server without MVCC). With
// prev_kv, a put or delete of a key that had a value answers it and its
// metadata as they were before (prev_kvs and prev_metas, one entry each;
// empty when the key had none).
struct WriteResponse {
  uint64_t index = 0;
  uint64_t revision = 0;
  std::vector<KeyValue> prev_kvs;
  std::vector<KeyMetadata> prev_metas;
  ResponseHeader header;
  template <class A>
  void serialize(A& a) {
    a(index);
    net::TrailingField(a, revision);
    net::TrailingField(a, prev_kvs);
    net::TrailingField(a, prev_metas);
    net::TrailingField(a, header);
  }
};

// ---- Delete (one key; succeeds whether or not the key existed) ----
struct DeleteRequest {
  std::string key;
  WriteId id;
  uint32_t timeout_ms = 0;
  bool prev_kv = false;  // answer the deleted value (WriteResponse)
  template <class A>
  void serialize(A& a) {
    a(key, id, timeout_ms);
    net::TrailingField(a, prev_kv);
  }
};

// ---- DeleteRange [start, end) ----
struct DeleteRangeRequest {
  std::string start;
  std::string end;  // empty = unbounded
  WriteId id;
  uint32_t timeout_ms = 0;
  bool prev_kv = false;  // answer the deleted pairs (DeleteRangeResponse)
  template <class A>
  void serialize(A& a) {
    a(start, end, id, timeout_ms);
    net::TrailingField(a, prev_kv);
  }
};
struct DeleteRangeResponse {
  uint64_t deleted = 0;  // keys removed
  uint64_t index = 0;
  uint64_t revision = 0;
  // With prev_kv: the deleted pairs in key order and their metadata, at
  // most 2 MiB of keys and values and 4096 pairs (phase4_txn
  // kMaxPrevKvBytes); prev_kvs_truncated when more were deleted.
  std::vector<KeyValue> prev_kvs;
  std::vector<KeyMetadata> prev_metas;
  bool prev_kvs_truncated = false;
  ResponseHeader header;
  template <class A>
  void serialize(A& a) {
    a(deleted, index);
    net::TrailingField(a, revision);
    net::TrailingField(a, prev_kvs);
    net::TrailingField(a, prev_metas);
    net::TrailingField(a, prev_kvs_truncated);
    net::TrailingField(a, header);
  }
};

// ---- Scan [start, end), paged ----
struct ScanRequest {
  std::string start;
  std::string end;     // empty = unbounded
  uint64_t limit = 0;  // pairs wanted in this page; 0 = as many as a page holds
  bool keys_only = false;
  bool serializable = false;
  uint32_t timeout_ms = 0;
  // The revision to read at; 0 = now. The client passes the first page's
  // answer on to every later page, so a scan is one snapshot.
  uint64_t revision = 0;
  template <class A>
  void serialize(A& a) {
    a(start, end, limit, keys_only, serializable, timeout_ms);
    net::TrailingField(a, revision);
  }
};
struct ScanResponse {
  std::vector<KeyValue> kvs;
  // more: the range may hold keys after this page; continue with
  // start = next_key (the successor of the last key returned).
  bool more = false;
  std::string next_key;
  uint64_t revision = 0;  // the revision the page was read at (0: the newest state)
  std::vector<KeyMetadata> metas;  // one per kvs entry (none from a server without MVCC)
  ResponseHeader header;
  template <class A>
  void serialize(A& a) {
    a(kvs, more, next_key);
    net::TrailingField(a, revision);
    net::TrailingField(a, metas);
    net::TrailingField(a, header);
  }
};

// ---- Cas: compare-and-swap ----
struct CasRequest {
  std::string key;
  bool has_expected = false;  // false: succeed only if the key is absent
  std::string expected;
  std::string value;  // the new value
  WriteId id;
  uint32_t timeout_ms = 0;
  // Attach the key to this lease when the swap happens (0: detach it, as a
  // put does). Trailing: a request without it carries no lease.
  uint64_t lease = 0;
  template <class A>
  void serialize(A& a) {
    a(key, has_expected, expected, value, id, timeout_ms);
    net::TrailingField(a, lease);
  }
};
struct CasResponse {
  bool succeeded = false;
  bool has_current = false;  // on failure: whether the key exists ...
  std::string current;       // ... and its value
  uint64_t index = 0;
  uint64_t revision = 0;
  template <class A>
  void serialize(A& a) {
    a(succeeded, has_current, current, index);
    net::TrailingField(a, revision);
  }
};

// ---- Status: one node's view of the cluster ----
struct StatusRequest {
  uint8_t reserved = 0;
  template <class A>
  void serialize(A& a) {
    a(reserved);
  }
};
// Starts with the replica's position (replica_status.h: id, leader, term,
// role, commit/applied/first/last index), serialized first.
struct StatusResponse : replica::ReplicaPosition {
  std::string client_address;         // this node's advertised client endpoint
  std::string leader_client_address;  // empty when unknown
  uint64_t cluster_id = 0;            // the data dir's identity (0: not known yet)
  // Non-empty while the node is CORRUPT (replica/hash_check.h: its state
  // differs from the majority's; it refuses reads and writes). Last on the
  // wire, and optional there: an answer from a server that predates the
  // field decodes with no alarm.
  std::string alarm;
  // Watch streams this node serves now, and the bytes of events queued for
  // them and not yet taken by their streams (the watch hub's bound,
  // protocol.md "Watch"). Trailing: 0 from a server without watches.
  uint64_t watchers = 0;
  uint64_t watch_queued_bytes = 0;
  // The server's version (the project's version, "0.1.0"; tinykv-server
  // --version). Trailing: empty from a server before the field.
  std::string version;
  template <class A>
  void serialize(A& a) {
    ReplicaPosition::serialize(a);
    a(client_address, leader_client_address);
    net::TrailingField(a, cluster_id);  // absent from servers before identities
    net::TrailingField(a, alarm);       // absent from servers before the hash check
    net::TrailingField(a, watchers);    // absent from servers before watches
    net::TrailingField(a, watch_queued_bytes);
    net::TrailingField(a, version);     // absent from servers before versions
  }
};

// ---- MemberList ----
struct MemberListRequest {
  uint8_t reserved = 0;
  template <class A>
  void serialize(A& a) {
    a(reserved);
  }
};
struct Member {
  uint64_t id = 0;
  std::string peer_address;
  std::string client_address;  // empty when this server does not know it
  bool learner = false;
  template <class A>
  void serialize(A& a) {
    a(id, peer_address, client_address, learner);
  }
};
struct MemberListResponse {
  std::vector<Member> members;
  uint64_t leader = 0;
  template <class A>
  void serialize(A& a) {
    a(members, leader);
  }
};

// ---- MemberAdd / MemberPromote / MemberRemove / MemberUpdate ----
// Membership changes (leader only; a follower answers NotLeader with the
// hint). One change at a time: while one is pending the leader answers Busy.
// Not idempotent (a retried add of an applied change gets AlreadyExists).
struct MemberAddRequest {
  uint64_t id = 0;
  std::string peer_address;    // where the new member's peer (raft) server listens
  std::string client_address;  // optional: its client endpoint, kept in the address book
  bool learner = false;        // true: a non-voting learner (promote it later)
  uint32_t timeout_ms = 0;
  // true: skip the strict reconfiguration check (replica::MemberChange::force).
  // Last on the wire, and optional there: a request that ends after
  // timeout_ms (from a client that predates the field) decodes with
  // force = false.
  bool force = false;
  template <class A>
  void serialize(A& a) {
    a(id, peer_address, client_address, learner, timeout_ms);
    net::TrailingField(a, force);
  }
};
struct MemberPromoteRequest {
  uint64_t id = 0;
  uint32_t timeout_ms = 0;
  template <class A>
  void serialize(A& a) {
    a(id, timeout_ms);
  }
};
struct MemberRemoveRequest {
  uint64_t id = 0;
  uint32_t timeout_ms = 0;
  template <class A>
  void serialize(A& a) {
    a(id, timeout_ms);
  }
};
// New addresses of a member in the configuration (replica::MemberChange::
// kUpdate): every member adopts them when the change applies. An empty
// client_address keeps the recorded one. Safe to resend: updating to the
// same addresses again changes nothing.
struct MemberUpdateRequest {
  uint64_t id = 0;
  std::string peer_address;
  std::string client_address;
  uint32_t timeout_ms = 0;
  template <class A>
  void serialize(A& a) {
    a(id, peer_address, client_address, timeout_ms);
  }
};
// The configuration right after the change applied on the leader.
struct MemberChangeResponse {
  uint64_t index = 0;  // raft index of the conf change entry
  std::vector<Member> members;
  uint64_t leader = 0;
  template <class A>
  void serialize(A& a) {
    a(index, members, leader);
  }
};

// ---- SnapshotSave: a backup of the serving member's state ----
// The member makes a checkpoint of its state machine at its applied index
// (replica::Replica::CheckpointCopy; not a linearizable read: etcd's
// snapshot save is a member's backend as of now, too) and streams the
// backup file (replica/backup.h: header, files, checksum) as chunks of at
// most kSnapshotChunkBytes, in order; their concatenation is the file. A
// member refuses (Unavailable) after a disk error or while CORRUPT.
inline constexpr size_t kSnapshotSaveChunkBytes = 1u << 20;
struct SnapshotSaveRequest {
  uint8_t reserved = 0;
  template <class A>
  void serialize(A& a) {
    a(reserved);
  }
};
struct SnapshotSaveChunk {
  std::string data;
  template <class A>
  void serialize(A& a) {
    a(data);
  }
};

// ---- Tso: timestamps from the oracle (the leader's) ----
// `count` consecutive timestamps [ts, ts + count): a transaction's start_ts
// and commit_ts, and the current_ts of a lock check.
struct TsoRequest {
  uint32_t count = 1;
  template <class A>
  void serialize(A& a) {
    a(count);
  }
};
struct TsoResponse {
  uint64_t ts = 0;
  template <class A>
  void serialize(A& a) {
    a(ts);
  }
};

// ---- Txn: one transaction command (prewrite, commit, rollback,
// check-txn-status, resolve-lock, heartbeat), proposed through Raft ----
// `command` is the MVCC state machine's own encoding of the command
// (phase4_txn doc/mvcc_format.md "Commands": versioned, bounded and fuzzed),
// `result` that of its result (KeyErrors are answers in it, not errors of
// the call). The server refuses the commands that are not a client's
// (reserve-ts, GC, KV writes) with InvalidArgument.
struct TxnRequest {
  std::string command;
  uint32_t timeout_ms = 0;
  template <class A>
  void serialize(A& a) {
    a(command, timeout_ms);
  }
};
struct TxnResponse {
  std::string result;
  template <class A>
  void serialize(A& a) {
    a(result);
  }
};

// ---- Alarm: this member's alarms (etcd's Maintenance.Alarm, asked of each
// member: an alarm here is the member's own) ----
// action kList lists them; kDisarm disarms NOSPACE first (the member probes
// its disk and resumes: replica.h "Failing safe"), then lists what is still
// raised. A disarm on a disk still full fails with ResourceExhausted and the
// alarm stays. CORRUPT is not disarmed: it clears when a state hash check
// finds the member's state right again (or by restoring the member).
struct AlarmRequest {
  static constexpr uint8_t kList = 0;
  static constexpr uint8_t kDisarm = 1;
  uint8_t action = kList;
  template <class A>
  void serialize(A& a) {
    a(action);
  }
};
struct AlarmResponse {
  uint64_t member_id = 0;
  std::vector<std::string> alarms;  // "NOSPACE", "CORRUPT", in that order; empty: none
  std::string detail;               // why (the disk error; the hash mismatch)
  template <class A>
  void serialize(A& a) {
    a(member_id, alarms, detail);
  }
};

// ---- Watch: the changes of a key range from a revision on (server-streaming) ----
// Served by the leader (a follower answers NotLeader with the hint). The
// stream's first item is kCreated with the position the watch starts from
// (start_revision - 1, or a fresh timestamp when start_revision is 0), then
// kEvents items (puts and deletes in revision order) and, when asked,
// kProgress items (no events) when nothing else was sent for
// progress_interval_ms. Every item's `revision` is the stream's position:
// every matching event at or below it has been sent. A revision too large
// for one item is split over several; the items before its last carry a
// position below it. A stream that ends (leader change, shutdown, a
// watcher that fell behind: doc/protocol.md) is resumed by a new Watch from
// position + 1. The end status may carry a WatchError detail
// (phase4_txn/include/tinykv/txn/watch_error.h): compacted (history gone:
// InvalidArgument) or resume-from (ResourceExhausted).
struct WatchRequest {
  std::string start;
  std::string end;              // empty = unbounded
  uint64_t start_revision = 0;  // the first revision wanted; 0 = after now
  bool prev_kv = false;         // fill each event's prev value
  uint32_t progress_interval_ms = 0;  // 0 = no idle progress items
  template <class A>
  void serialize(A& a) {
    a(start, end, start_revision, prev_kv, progress_interval_ms);
  }
};
enum class WatchEventType : uint8_t { kPut = 1, kDelete = 2 };
struct WatchEventMessage {
  uint8_t type = 1;  // WatchEventType
  std::string key;
  std::string value;        // kPut: the new value
  bool has_prev = false;    // prev_kv asked and the key had a value before
  std::string prev_value;
  uint64_t revision = 0;
  template <class A>
  void serialize(A& a) {
    a(type, key, value, has_prev, prev_value, revision);
  }
};
enum class WatchItemKind : uint8_t { kCreated = 1, kEvents = 2, kProgress = 3 };
struct WatchResponse {
  uint8_t kind = 2;       // WatchItemKind
  uint64_t revision = 0;  // the stream's position after this item
  std::vector<WatchEventMessage> events;
  // Trailing (absent from servers before WatchProgress): kCreated names the
  // watcher's id on its server (what WatchProgress takes); a kProgress item
  // that answers a WatchProgress says so.
  uint64_t watch_id = 0;
  bool requested = false;
  template <class A>
  void serialize(A& a) {
    a(kind, revision, events);
    net::TrailingField(a, watch_id);
    net::TrailingField(a, requested);
  }
};

// ---- WatchProgress: etcd's RequestProgress for one watch stream ----
// Sent to the server that serves the stream (the id is that server's): the
// stream then carries one kProgress item with `requested` set, whose
// position covers every write acknowledged before this call (watch_hub.h
// "Progress on request"). NotFound when the watch does not run there.
struct WatchProgressRequest {
  uint64_t watch_id = 0;
  template <class A>
  void serialize(A& a) {
    a(watch_id);
  }
};
struct WatchProgressResponse {
  uint8_t reserved = 0;
  template <class A>
  void serialize(A& a) {
    a(reserved);
  }
};

// ---- Method declarations ----
// Writes are marked idempotent: with a WriteId they are (the state machine
// deduplicates), so the RPC layer may resend them after a lost connection.
// Membership changes are not (a retried add of an applied change gets
// AlreadyExists).
namespace method_id = net::method_id;
using net::kIdempotent;
using net::kNotIdempotent;
using GetMethod = net::UnaryMethod<method_id::kGet, "tinykv.Get", GetRequest, GetResponse, kIdempotent>;
using PutMethod = net::UnaryMethod<method_id::kPut, "tinykv.Put", PutRequest, WriteResponse, kIdempotent>;
using DeleteMethod =
    net::UnaryMethod<method_id::kDelete, "tinykv.Delete", DeleteRequest, WriteResponse, kIdempotent>;
using DeleteRangeMethod = net::UnaryMethod<method_id::kDeleteRange, "tinykv.DeleteRange",
                                           DeleteRangeRequest, DeleteRangeResponse, kIdempotent>;
using ScanMethod = net::UnaryMethod<method_id::kScan, "tinykv.Scan", ScanRequest, ScanResponse, kIdempotent>;
using CasMethod = net::UnaryMethod<method_id::kCas, "tinykv.Cas", CasRequest, CasResponse, kIdempotent>;
using StatusMethod =
    net::UnaryMethod<method_id::kStatus, "tinykv.Status", StatusRequest, StatusResponse, kIdempotent>;
using MemberListMethod = net::UnaryMethod<method_id::kMemberList, "tinykv.MemberList",
                                          MemberListRequest, MemberListResponse, kIdempotent>;
using MemberAddMethod = net::UnaryMethod<method_id::kMemberAdd, "tinykv.MemberAdd", MemberAddRequest,
                                         MemberChangeResponse, kNotIdempotent>;
using MemberPromoteMethod =
    net::UnaryMethod<method_id::kMemberPromote, "tinykv.MemberPromote", MemberPromoteRequest,
                     MemberChangeResponse, kNotIdempotent>;
using MemberRemoveMethod = net::UnaryMethod<method_id::kMemberRemove, "tinykv.MemberRemove",
                                            MemberRemoveRequest, MemberChangeResponse,
                                            kNotIdempotent>;
using MemberUpdateMethod = net::UnaryMethod<method_id::kMemberUpdate, "tinykv.MemberUpdate",
                                            MemberUpdateRequest, MemberChangeResponse, kIdempotent>;
using TsoMethod = net::UnaryMethod<method_id::kTso, "tinykv.Tso", TsoRequest, TsoResponse, kIdempotent>;
// Every client command is safe to resend: prewrite, commit, rollback and
// resolve-lock of the same transaction are idempotent by their rules
// (phase4_txn txn_executor.h), check-txn-status and heartbeat are too.
using TxnMethod = net::UnaryMethod<method_id::kTxn, "tinykv.Txn", TxnRequest, TxnResponse, kIdempotent>;
// A disarm is safe to resend: disarming an alarm that is gone is OK.
using AlarmMethod =
    net::UnaryMethod<method_id::kAlarm, "tinykv.Alarm", AlarmRequest, AlarmResponse, kIdempotent>;
using SnapshotSaveMethod = net::StreamMethod<method_id::kSnapshotSave, "tinykv.SnapshotSave",
                                             SnapshotSaveRequest, SnapshotSaveChunk, kIdempotent>;
using WatchMethod =
    net::StreamMethod<method_id::kWatch, "tinykv.Watch", WatchRequest, WatchResponse, kIdempotent>;
// Asking twice asks for two progress items: harmless to resend.
using WatchProgressMethod = net::UnaryMethod<method_id::kWatchProgress, "tinykv.WatchProgress",
                                             WatchProgressRequest, WatchProgressResponse,
                                             kIdempotent>;

// The smallest key greater than every key with this prefix ("" when there is
// none, i.e. the prefix is empty or all 0xff bytes: scan to the end).
std::string PrefixEnd(std::string_view prefix);
// The smallest key greater than `key`: key + '\0'.
inline std::string KeySuccessor(std::string_view key) {
  std::string s(key);
  s.push_back('\0');
  return s;
}

}  // namespace tinykv::client
