// Simulation throughput: committed entries per second of CPU for the Raft
// core in a 3-node SimCluster (no disk, no network, invariant checker off).
// Each iteration proposes `batch` entries of `value_bytes` on the leader and
// ticks once, so the entries of one tick travel batched in one MsgApp per
// follower. Counters: entries/s (items_per_second), messages per entry.
//
//   build/ci/phase3_raft/tinykv_raft_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <string>

#include "tinykv/raft/sim_cluster.h"

namespace tinykv::raft::sim {
namespace {

void BM_SimCommit(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  const size_t value_bytes = static_cast<size_t>(state.range(1));
  SimOptions o;
  o.n = 3;
  o.seed = 1;
  o.check_invariants = false;
  o.record_applied = false;  // the state machine keeps no payloads
  o.record_trace = false;
  o.election_ticks = 10;
  SimCluster c(o);
  for (int i = 0; i < 200 && !c.Leader(); ++i) c.Tick();
  if (!c.Leader()) {
    state.SkipWithError("no leader");
    return;
  }
  const uint64_t leader = *c.Leader();
  const std::string value(value_bytes, 'v');
  const uint64_t start_commit = c.Node(leader)->commit_index;
  c.ResetStats();
  // Compact every so often so memory stays bounded (as a real node would).
  uint64_t last_compact = 0;
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) {
      if (!c.Propose(value, leader).ok()) {
        state.SkipWithError("proposal refused");
        return;
      }
    }
    c.Tick();
    const uint64_t applied = c.Node(leader)->applied_index;
    if (applied > last_compact + 10000) {
      for (uint64_t id : c.NodeIds()) c.Compact(id, c.Node(id)->applied_index).IgnoreError();
      last_compact = applied;
    }
  }
  const uint64_t committed = c.Node(leader)->commit_index - start_commit;
  state.SetItemsProcessed(static_cast<int64_t>(committed));
  state.SetBytesProcessed(static_cast<int64_t>(committed * value_bytes));
  state.counters["msgs_per_entry"] =
      committed == 0 ? 0.0
                     : static_cast<double>(c.stats().total()) / static_cast<double>(committed);
}

BENCHMARK(BM_SimCommit)
    ->ArgNames({"batch", "value_bytes"})
    ->Args({1, 256})
    ->Args({16, 256})
    ->Args({64, 256})
    ->Args({256, 256})
    ->Args({64, 16})
    ->Args({64, 4096})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tinykv::raft::sim

BENCHMARK_MAIN();
