// Writes the seed corpus of the transaction command fuzz target (run once;
// the output is committed under fuzz/corpus/, together with inputs
// libFuzzer found):
//   tinykv_txn_make_corpus phase4_txn/fuzz/corpus
// txn_command/: an encoding of every command and of a result with every
// field set, each also truncated and with a flipped byte.
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

#include "tinykv/txn/txn_command.h"

using namespace tinykv;       // NOLINT: a generator, not library code
using namespace tinykv::txn;  // NOLINT

namespace {

std::string dir;

void WriteOut(const std::string& name, const std::string& data) {
  std::ofstream(dir + "/" + name, std::ios::binary) << data;
}

void Seed(const std::string& name, const std::string& data) {
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
  dir = std::string(argv[1]) + "/txn_command";
  const uint64_t t1 = 0xFA00000, t2 = 0xFA00001;
  Seed("prewrite", EncodeTxnCommand(PrewriteCmd{{{MutationKind::kPut, "a", "1"},
                                                 {MutationKind::kDelete, "b", ""},
                                                 {MutationKind::kLock, "c", ""}},
                                                "a",
                                                t1,
                                                3000}));
  Seed("commit", EncodeTxnCommand(CommitCmd{t1, t2, {"a", "b", "c"}}));
  Seed("rollback", EncodeTxnCommand(RollbackCmd{t1, {"a"}}));
  Seed("check_txn_status", EncodeTxnCommand(CheckTxnStatusCmd{"a", t1, t2}));
  Seed("resolve_lock", EncodeTxnCommand(ResolveLockCmd{t1, t2, {"b", "c"}}));
  Seed("resolve_lock_all", EncodeTxnCommand(ResolveLockCmd{t1, 0, {}}));
  Seed("gc", EncodeTxnCommand(GcCmd{t2}));
  Seed("one_phase_put", EncodeTxnCommand(OnePhaseWriteCmd{{MutationKind::kPut, "k", "v"}, t2}));
  Seed("one_phase_delete", EncodeTxnCommand(OnePhaseWriteCmd{{MutationKind::kDelete, "k", ""}, t2}));
  Seed("reserve_ts", EncodeTxnCommand(ReserveTsCmd{t2 << 4}));
  Seed("heartbeat", EncodeTxnCommand(HeartbeatCmd{"a", t1, 20000}));
  using Op = replica::KvCommand::Op;
  // KvCommand: op, key, value, expected, client_id, request_seq.
  auto kv_write = [&](replica::KvCommand kv) { return EncodeTxnCommand(KvWriteCmd{kv, t2}); };
  Seed("kv_put", kv_write({Op::kPut, "k", "v", std::nullopt, 7, 3}));
  Seed("kv_delete", kv_write({Op::kDelete, "k", "", std::nullopt, 0, 3}));
  Seed("kv_cas", kv_write({Op::kCas, "k", "new", "old", 7, 3}));
  Seed("kv_cas_absent", kv_write({Op::kCas, "k", "new", std::nullopt, 7, 3}));
  Seed("kv_delete_range", kv_write({Op::kDeleteRange, "a", "z", std::nullopt, 7, 3}));
  KvWriteCmd leased{{Op::kPut, "k", "v", std::nullopt, 7, 3}, t2};
  leased.lease = 0x694d5765fc71500bULL;
  Seed("kv_put_lease", EncodeTxnCommand(leased));
  KvWriteCmd with_prev = leased;
  with_prev.prev_kv = true;
  Seed("kv_put_lease_prev_kv", EncodeTxnCommand(with_prev));
  KvWriteCmd traced = with_prev;
  traced.trace_id = 0x5eed00c0ffee0001ULL;
  Seed("kv_put_lease_prev_kv_traced", EncodeTxnCommand(traced));
  KvWriteCmd range_prev{{Op::kDeleteRange, "a", "z", std::nullopt, 7, 3}, t2};
  range_prev.prev_kv = true;
  Seed("kv_delete_range_prev_kv", EncodeTxnCommand(range_prev));
  Seed("lease_grant", EncodeTxnCommand(LeaseGrantCmd{0x694d5765fc71500bULL, 10}));
  Seed("lease_revoke", EncodeTxnCommand(LeaseRevokeCmd{0x694d5765fc71500bULL, t2}));
  TxnCommandResult r;
  KeyError e;
  e.kind = KeyError::Kind::kLocked;
  e.key = "k";
  e.lock = LockInfo{"k", Lock{MutationKind::kPut, t1, 3000, "p"}};
  e.conflict_start_ts = t1;
  e.conflict_commit_ts = t2;
  r.errors = {e, e};
  r.txn_status = TxnStatus::kCommitted;
  r.commit_ts = t2;
  r.ttl_left_ms = 5;
  r.rolled_back_now = true;
  r.count = 3;
  r.prev_reserved = t1;
  r.reserved = t2;
  r.term = 4;
  r.kv.succeeded = false;
  r.kv.current = "cur";
  r.kv.deleted = 2;
  r.lease_status = LeaseStatus::kLeaseNotFound;
  Seed("result", EncodeTxnCommandResult(r));
  TxnCommandResult prev_result;
  prev_result.commit_ts = t2;
  prev_result.kv.deleted = 2;
  prev_result.prev_kvs = {PrevKv{"a", "1", KeyMeta{t1, t1, 1, 0}},
                          PrevKv{"b", "", KeyMeta{t1, t2, 3, 0x694d5765fc71500bULL}}};
  prev_result.prev_kvs_truncated = true;
  Seed("result_prev_kvs", EncodeTxnCommandResult(prev_result));
  Seed("result_empty", EncodeTxnCommandResult(TxnCommandResult{}));
  return 0;
}
