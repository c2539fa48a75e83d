// The `tinykv` CLI's pure parts: output rendering (simple, JSON, table), the
// UTF-8 check and base64 used by JSON output, duration parsing, and the exit
// code of an error. No I/O here, so every format is unit-tested
// (tests/output_test.cc).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/txn_command.h"
#include "tinykv/client/client.h"
#include "tinykv/client/protocol.h"
#include "tinykv/common/duration.h"
#include "tinykv/common/status.h"

namespace tinykv::cli {

// Documented exit codes (README "CLI").
enum ExitCode : int {
  kExitOk = 0,
  kExitNotFound = 1,     // get KEY: no such key
  kExitUsage = 2,        // bad flags or arguments
  kExitUnavailable = 3,  // no leader / cannot connect / deadline passed / endpoint unhealthy
  kExitError = 4,        // anything else (server error, corruption, ...)
};
int ExitCodeFor(const Status& s);

// -w: simple, json, table, fields. kFields is etcdctl's "fields" printer:
// one `"Name" : value` line per field, strings as Go string literals
// (Quoted), numbers and booleans bare; a blank line ends each member or
// endpoint of a list. Only the fields TinyKV has are printed (no
// ClusterID/MemberID/RaftTerm header on key-value answers, no per-key
// CreateRevision, ModRevision, Version or Lease).
enum class OutputFormat { kSimple, kJson, kTable, kFields };
// How JSON shows keys and values. kAuto: as text when valid UTF-8 ("key"),
// else base64 ("key_base64"). kBase64: always base64 ("key_base64").
enum class BytesEncoding { kAuto, kBase64 };

bool IsValidUtf8(std::string_view s);
std::string Base64Encode(std::string_view s);
// A JSON string literal (quotes included) of valid UTF-8 text.
std::string JsonString(std::string_view utf8);
// Text for a table cell or a simple line: printable ASCII and valid UTF-8
// pass through; control bytes and invalid UTF-8 become \xNN escapes.
std::string Printable(std::string_view s);
// `s` as a Go string literal, quotes included (etcdctl's %q): Printable's
// text with '"' escaped too, so every byte string round-trips through Go's
// (and `tinykv txn`'s) unquoting.
std::string Quoted(std::string_view s);

// An ASCII table in the manner of etcdctl's -w table.
std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

// etcd's response header, the first key of a KV answer's JSON object:
// "header":{"cluster_id":C,"member_id":M,"revision":R,"raft_term":T}
// (numbers, etcd's field names and order). The member fields (protocol.h
// ResponseHeader) only from a server that sent them (member_id != 0), the
// revision only when known. Returned as an object member and its comma
// ("\"header\":{...},"), or "" when neither is known.
std::string JsonHeader(const client::ResponseHeader& member, std::optional<uint64_t> revision);

// How `get` shows its pairs, and the parts of etcd's RangeResponse besides them.
struct KvsView {
  bool keys_only = false;
  bool values_only = false;  // --print-value-only: the value lines (simple only)
  // The revision the read was made at (etcdctl's header.revision), when the
  // server reports one (a server without MVCC, or a serializable read of the
  // newest state, does not).
  std::optional<uint64_t> revision;
  client::ResponseHeader header;  // who answered (JSON's header)
  // etcd's count: the keys in the range, also those a limit left out
  // (unset: the pairs given); `more`: some were left out.
  std::optional<uint64_t> count;
  bool more = false;
};
// `get`, `scan`. simple: key line, value line (raw bytes); JSON:
// {"header":{...},"count":N,"kvs":[...]} then ,"more":true when more (the
// header as JsonHeader writes it), each pair {"key":K,"create_revision":C,
// "mod_revision":M,"version":V,"value":X,"lease":L} (etcd's KeyValue; the
// metadata only from a server that keeps it); table: KEY | VALUE; fields:
// "Revision" (when known), per pair "Key", "CreateRevision",
// "ModRevision", "Version", "Value", "Lease", then "More" and "Count".
std::string RenderKvs(const std::vector<client::KeyValue>& kvs, OutputFormat format,
                      BytesEncoding encoding, const KvsView& view = {});
// `get --count-only`: simple the count; JSON {"header":{...},"count":N};
// table COUNT; fields as RenderKvs's with no pairs.
std::string RenderCount(uint64_t count, OutputFormat format, std::optional<uint64_t> revision,
                        const client::ResponseHeader& header = {});
// `put`: OK; JSON {"header":{...},"ok":true} (the header with the write's
// revision); fields "Revision" when set. With --prev-kv and a previous value (`prev`,
// one pair), etcdctl's: OK, then its key and value lines; JSON "prev_kv":{...}
// (a pair as RenderKvs writes it); fields "PrevKey", "PrevValue".
std::string RenderPut(OutputFormat format, std::optional<uint64_t> revision = std::nullopt,
                      const std::vector<client::KeyValue>& prev = {},
                      BytesEncoding encoding = BytesEncoding::kAuto,
                      const client::ResponseHeader& header = {});
// `txn` (etcdctl's layout): SUCCESS or FAILURE, then for each op of the
// branch that ran a blank line and its output as the command's own (put:
// OK, del: the count, get: key and value lines, nothing for an absent key).
// JSON: {"header":{"revision":R},"succeeded":B,"responses":[{"put":{"ok":true}},
// {"get":{"count":N,"kvs":[...]}},{"del":{"deleted":N}}]}: R is the commit
// revision; the header has no member fields (the transaction's Tso and Txn
// calls answer none), the ops' answers no header.
std::string RenderTxn(const TxnOutcome& outcome, OutputFormat format, BytesEncoding encoding);
// `snapshot status` (etcdutl's fields: hash, revision = index, total keys,
// total size, plus the term and the cluster it came from).
std::string RenderSnapshotStatus(uint64_t hash, uint64_t index, uint64_t term, uint64_t keys,
                                 uint64_t bytes, uint64_t cluster_id, OutputFormat format);
// `del`: the count; JSON {"header":{...},"deleted":N} (the header with the
// delete's revision; none when neither is given); table DELETED; fields
// "Deleted".
// With --prev-kv (`prev`: the deleted pairs), etcdctl's: the count, then each
// pair's key and value lines; JSON "prev_kvs":[...]; fields "PrevKey" and
// "PrevValue" per pair.
std::string RenderDeleted(uint64_t deleted, OutputFormat format,
                          const std::vector<client::KeyValue>& prev = {},
                          BytesEncoding encoding = BytesEncoding::kAuto,
                          std::optional<uint64_t> revision = std::nullopt,
                          const client::ResponseHeader& header = {});
// `watch`, one batch: etcdctl's layout -- per event its type line (PUT or
// DELETE), the previous key and value lines when it has a prev value, the
// key line and the value line (empty for a delete); a progress batch is
// "PROGRESS <revision>". JSON: one object a line per event,
// {"type":"PUT","key":K,"value":V,"revision":R} (a delete: no value; with a
// prev value: "prev_value"), a progress batch {"type":"PROGRESS","revision":R}.
std::string RenderWatchBatch(const client::WatchBatch& batch, OutputFormat format,
                             BytesEncoding encoding);

// One row of `endpoint status`: the endpoint and its answer (or error).
struct EndpointStatusRow {
  std::string endpoint;
  Result<client::StatusResponse> status = Status::Unavailable("not asked");
};
// A server's version as shown: "unknown" from a server before versions.
std::string VersionOf(const client::StatusResponse& s);
// `endpoint status`: every format shows the server's version (etcdctl's
// VERSION column, after the ID). fields, per endpoint and in etcdctl's
// order: "ClusterID", "MemberID", "RaftTerm", "Version", "Leader",
// "RaftIndex" (the commit index), "RaftTerm", "RaftAppliedIndex", "Errors"
// ([] or [CORRUPT: ...], Go's list layout), "Endpoint", a blank line; an
// endpoint that did not answer: "Endpoint", "Errors" [its error], a blank
// line.
std::string RenderStatus(const std::vector<EndpointStatusRow>& rows, OutputFormat format);
// `member list`. fields, per member: "ID", "PeerURL", "ClientURL" (when
// known), "IsLearner", a blank line.
std::string RenderMembers(const client::MemberListResponse& members, OutputFormat format);
// `member add|promote|remove`: verb is "added to", "promoted in" or
// "removed from". simple: "Member ID VERB cluster" then the new member list;
// json: {"index":N,"id":ID,"leader":L,"members":[...]}; table: the line,
// then the member table.
std::string RenderMemberChange(const std::string& verb, uint64_t id,
                               const client::MemberChangeResponse& resp, OutputFormat format);
// After `member add` (simple and table output): how to start the new
// member `id`, in the manner of etcdctl's ETCD_INITIAL_* lines. The
// TINYKV_* variables tinykv-server reads (TINYKV_ID, TINYKV_LISTEN_PEER,
// TINYKV_LISTEN_CLIENT when the member has a client address,
// TINYKV_INITIAL_CLUSTER of every member's peer address,
// TINYKV_INITIAL_CLUSTER_CLIENT when any client address is known,
// TINYKV_INITIAL_CLUSTER_STATE="existing"), then the same as one
// tinykv-server command line (with DATA_DIR to fill in).
std::string RenderMemberStart(uint64_t id, const client::MemberChangeResponse& resp);
std::string RenderHealth(const std::vector<client::HealthReport>& reports, OutputFormat format);
// `alarm list` / `alarm disarm`: one alarm of one member each, as etcdctl
// prints them ("memberID:2 alarm:NOSPACE"); JSON {"alarms":[{"memberID":2,
// "alarm":"NOSPACE"}, ...]}. Table: MEMBER ID | ALARM.
struct MemberAlarm {
  uint64_t member_id = 0;
  std::string alarm;
};
std::string RenderAlarms(const std::vector<MemberAlarm>& alarms, OutputFormat format);

}  // namespace tinykv::cli
