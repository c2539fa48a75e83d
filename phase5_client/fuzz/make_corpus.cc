// Writes the seed corpus of the client protocol fuzz target (run once; the
// output is committed under fuzz/corpus/, together with inputs libFuzzer
// found):
//   tinykv_client_make_corpus phase5_client/fuzz/corpus
// protocol/: an encoding of every request and response of protocol.h, and
// error payloads (NotLeader with a routing detail, with a range, unknown
// codes), each also truncated and with a flipped byte.
#include <cstdio>
#include <fstream>
#include <string>

#include "tinykv/client/maintenance_protocol.h"
#include "tinykv/client/protocol.h"
#include "tinykv/txn/key_error.h"
#include "tinykv/txn/txn_command.h"
#include "tinykv/txn/watch_error.h"
#include "tinykv/common/routing_error.h"
#include "tinykv/net/method.h"
#include "tinykv/net/serialization.h"

using namespace tinykv;          // NOLINT: a generator, not library code
using namespace tinykv::client;  // NOLINT

namespace {

std::string dir;

void WriteOut(const std::string& name, const std::string& data) {
  std::ofstream(dir + "/" + name, std::ios::binary) << data;
}

template <typename T>
void Seed(const std::string& name, const T& value) {
  const std::string data = net::EncodeMessage(value);
  WriteOut(name, data);
  if (data.size() > 6) {
    WriteOut(name + ".trunc", data.substr(0, data.size() - 3));
    std::string flipped = data;
    flipped[data.size() / 2] ^= 0x41;
    WriteOut(name + ".flip", flipped);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s corpusdir\n", argv[0]);
    return 2;
  }
  dir = std::string(argv[1]) + "/protocol";
  const WriteId id{42, 7};
  Seed("get", GetRequest{"key", true, 500});
  Seed("get_response", GetResponse{true, "value"});
  Seed("put", PutRequest{"key", "value", id, 1000});
  Seed("write_response", WriteResponse{17});
  Seed("delete", DeleteRequest{"key", id, 0});
  Seed("delete_range", DeleteRangeRequest{"a", "", id, 0});
  Seed("delete_range_response", DeleteRangeResponse{3, 18});
  Seed("scan", ScanRequest{"a", "z", 100, true, false, 250});
  Seed("scan_response", ScanResponse{{{"a", "1"}, {"b", "2"}}, true, std::string("b\0", 2)});
  Seed("cas", CasRequest{"key", true, "old", "new", id, 0});
  Seed("cas_lease", CasRequest{"key", false, "", "new", id, 0, 0x694d5765fc71500bULL});
  Seed("cas_response", CasResponse{false, true, "current", 19});
  Seed("status", StatusRequest{});
  StatusResponse st;
  st.id = 2;
  st.leader = 1;
  st.term = 5;
  st.role = "follower";
  st.commit_index = st.applied_index = st.last_index = 20;
  st.first_index = 1;
  st.client_address = "127.0.0.1:22379";
  st.leader_client_address = "127.0.0.1:2379";
  st.cluster_id = 0x5c2f00000000002aull;
  Seed("status_response", st);
  Seed("member_list", MemberListRequest{});
  const std::vector<Member> members = {{1, "127.0.0.1:2380", "127.0.0.1:2379", false},
                                       {4, "127.0.0.1:2384", "", true}};
  Seed("member_list_response", MemberListResponse{members, 1});
  MemberAddRequest add{4, "127.0.0.1:2384", "127.0.0.1:2383", true, 1000, true};
  Seed("member_add", add);
  std::string old_add = net::EncodeMessage(add);
  old_add.pop_back();  // a client that predates `force`
  WriteOut("member_add_without_force", old_add);
  Seed("member_promote", MemberPromoteRequest{4, 0});
  Seed("member_update", MemberUpdateRequest{2, "127.0.0.1:2480", "127.0.0.1:2479", 0});
  Seed("member_remove", MemberRemoveRequest{3, 0});
  Seed("member_change_response", MemberChangeResponse{21, members, 1});
  RoutingError hint{1, 2, "127.0.0.1:22379", false, 0, "", "", 0};
  Seed("error_not_leader", net::ErrorPayloadOf(NotLeaderError(hint)));
  RoutingError range{1, 2, "http://127.0.0.1:22379/", true, 9, "a", "m", 3};
  Seed("error_range", net::ErrorPayloadOf(NotLeaderError(range)));
  Seed("error_unknown_code", net::ErrorPayload{200, "from the future", ""});
  WriteOut("routing_detail", EncodeRoutingError(range));
  // Revisions and transactions.
  Seed("get_at_revision", GetRequest{"key", false, 500, 0x0000018c2a3b4c5dull});
  Seed("get_response_revision", GetResponse{true, "value", 0x0000018c2a3b4c5eull});
  Seed("scan_at_revision", ScanRequest{"a", "z", 100, false, false, 250, 0x0000018c2a3b4c5dull});
  Seed("tso", TsoRequest{16});
  Seed("tso_response", TsoResponse{0x0000018c2a3b4c5dull});
  const txn::TxnCommand prewrite = txn::PrewriteCmd{
      {txn::Mutation{txn::MutationKind::kPut, "a", "1"}, txn::Mutation{txn::MutationKind::kDelete, "b", ""}},
      "a", 0x0000018c2a3b0000ull, 3000};
  Seed("txn_prewrite", TxnRequest{txn::EncodeTxnCommand(prewrite), 1000});
  txn::TxnCommandResult locked;
  txn::KeyError e;
  e.kind = txn::KeyError::Kind::kLocked;
  e.key = "b";
  e.lock = txn::LockInfo{"b", txn::Lock{txn::MutationKind::kPut, 0x0000018c2a3a0000ull, 3000, "x"}};
  locked.errors.push_back(e);
  Seed("txn_response_locked", TxnResponse{txn::EncodeTxnCommandResult(locked)});
  Seed("error_locked", net::ErrorPayloadOf(txn::KeyErrorStatus(e)));
  // Watches.
  Seed("watch", WatchRequest{"app/", "app0", 0x0000018c2a3b4c5dull, true, 1000});
  Seed("watch_created", WatchResponse{1, 0x0000018c2a3b4c5cull, {}});
  Seed("watch_events",
       WatchResponse{2, 0x0000018c2a3b4c60ull,
                     {{1, "app/a", "1", true, "0", 0x0000018c2a3b4c5eull},
                      {2, "app/b", "", false, "", 0x0000018c2a3b4c60ull}}});
  Seed("watch_progress", WatchResponse{3, 0x0000018c2a3b4c70ull, {}});
  Seed("error_compacted", net::ErrorPayloadOf(txn::CompactedError(17, 20)));
  Seed("error_watch_resume", net::ErrorPayloadOf(txn::ResumeError("watcher fell behind", 21)));
  // Leases.
  const uint64_t lease = 0x694d5765fc71500bull;
  Seed("put_lease", PutRequest{"key", "value", id, 1000, lease});
  Seed("lease_grant", LeaseGrantRequest{10, 0, 1000});
  Seed("lease_grant_response", LeaseGrantResponse{lease, 10});
  Seed("lease_revoke", LeaseRevokeRequest{lease, 1000});
  Seed("lease_revoke_response", LeaseRevokeResponse{0x0000018c2a3b4c5dull, 2});
  Seed("lease_keep_alive", LeaseKeepAliveRequest{lease});
  Seed("lease_keep_alive_response", LeaseKeepAliveResponse{lease, 10});
  Seed("lease_time_to_live", LeaseTimeToLiveRequest{lease, true});
  Seed("lease_time_to_live_response", LeaseTimeToLiveResponse{lease, 10, 7, {"a", "b"}});
  Seed("lease_leases", LeaseLeasesRequest{});
  Seed("lease_leases_response", LeaseLeasesResponse{{1, lease}});
  // Compaction and defragmentation.
  Seed("compact", CompactRequest{0x0000018c2a3b4c5dull, true, 1000});
  Seed("compact_response", CompactResponse{0x0000018c2a3b4c5dull, 42});
  Seed("error_read_compacted", net::ErrorPayloadOf(txn::ReadCompactedError(17, 20)));
  Seed("defragment", DefragmentRequest{});
  Seed("defragment_response", DefragmentResponse{2, 1u << 20, 4096});
  Seed("move_leader", MoveLeaderRequest{2, 1000});
  Seed("move_leader_response", MoveLeaderResponse{1, 2});
  Seed("hash_kv", HashKvRequest{0x0000018c2a3b4c5dull});
  Seed("hash_kv_response", HashKvResponse{2, 0x8a9136aau, 0x0000018c2a3b4c00ull,
                                          0x0000018c2a3b4c5dull});
  // Response headers (the answering member), after every other trailing field.
  const ResponseHeader who{0x5c2f00000000002aull, 2, 5};
  Seed("get_response_header",
       GetResponse{true, "value", 0x0000018c2a3b4c5eull, {3, 4, 2, 0}, who});
  Seed("write_response_header", WriteResponse{17, 0x0000018c2a3b4c5eull, {}, {}, who});
  Seed("delete_range_response_header",
       DeleteRangeResponse{3, 18, 0x0000018c2a3b4c5eull, {{"a", "1", {}}}, {{1, 1, 1, 0}}, false, who});
  Seed("scan_response_header",
       ScanResponse{{{"a", "1", {}}}, false, "", 0x0000018c2a3b4c5eull, {{1, 1, 1, 0}}, who});
  std::printf("wrote %s\n", dir.c_str());
  return 0;
}
