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

enum class OutputFormat { kSimple, kJson, kTable };
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

// An ASCII table in the manner of etcdctl's -w table.
std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

// `get`, `scan`. JSON: {"revision":R,"count":N,"kvs":[...]}, the revision
// the read was made at (etcdctl's header.revision) only when `revision` is
// set (a server without MVCC, or a serializable read of the newest state,
// reports none).
std::string RenderKvs(const std::vector<client::KeyValue>& kvs, OutputFormat format,
                      BytesEncoding encoding, bool keys_only,
                      std::optional<uint64_t> revision = std::nullopt);
// `put`: OK; JSON {"ok":true} plus "revision":R, the write's, when set.
std::string RenderPut(OutputFormat format, std::optional<uint64_t> revision = std::nullopt);
// `txn` (etcdctl's layout): SUCCESS or FAILURE, then for each op of the
// branch that ran a blank line and its output as the command's own (put:
// OK, del: the count, get: key and value lines, nothing for an absent key).
// JSON: {"revision":R,"succeeded":B,"responses":[{"put":{"ok":true}},
// {"get":{"count":N,"kvs":[...]}},{"del":{"deleted":N}}]}.
std::string RenderTxn(const TxnOutcome& outcome, OutputFormat format, BytesEncoding encoding);
// `snapshot status` (etcdutl's fields: hash, revision = index, total keys,
// total size, plus the term and the cluster it came from).
std::string RenderSnapshotStatus(uint64_t hash, uint64_t index, uint64_t term, uint64_t keys,
                                 uint64_t bytes, uint64_t cluster_id, OutputFormat format);
std::string RenderDeleted(uint64_t deleted, OutputFormat format);
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
std::string RenderStatus(const std::vector<EndpointStatusRow>& rows, OutputFormat format);
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
