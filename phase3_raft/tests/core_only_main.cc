// Links tinykv::raft and nothing else (no storage engine, no Asio transport):
// if the pure Raft core or the simulator ever needed either, this program
// would not link. It also runs: three simulated nodes elect a leader and
// commit an entry, in virtual time, deterministically.
#include <cstdio>

#include "tinykv/raft/sim_cluster.h"

int main() {
  tinykv::raft::sim::SimOptions o;
  o.n = 3;
  o.seed = 7;
  tinykv::raft::sim::SimCluster c(o);
  for (int i = 0; i < 100 && !c.Leader().has_value(); ++i) c.Tick();
  if (!c.Leader().has_value()) {
    std::fprintf(stderr, "no leader after 100 ticks (seed 7)\n");
    return 1;
  }
  auto idx = c.Propose("x");
  if (!idx.ok()) {
    std::fprintf(stderr, "propose: %s\n", idx.status().ToString().c_str());
    return 1;
  }
  for (int i = 0; i < 10; ++i) c.Tick();
  auto n = c.Node(*c.Leader());
  if (!n.ok() || n->commit_index < *idx) {
    std::fprintf(stderr, "entry %llu not committed\n", static_cast<unsigned long long>(*idx));
    return 1;
  }
  std::printf("core only: leader %llu committed index %llu\n",
              static_cast<unsigned long long>(*c.Leader()), static_cast<unsigned long long>(*idx));
  return 0;
}
