// tinykv_mvcc_apply_bench: what one replica's state machine spends to apply
// a put (MvccStateMachine::ApplyBatch, the engine write included, no Raft,
// no network), with the version cache off and on, in alternating rounds.
//
//   build/ci/phase4_txn/bench/tinykv_mvcc_apply_bench [--keys 10000] [--puts 100000]
//       [--batch 64] [--value-size 256] [--rounds 3]
//
// The load is the cluster benchmark's (tinykv-bench put): uniform random
// keys over the key space, runs of --batch puts per ApplyBatch (what 64
// clients' entries make). Reported: CPU time of this thread per put (so a
// busy machine inflates it less than wall time), median over the rounds,
// and the ratio on / off. The engine syncs no WAL here (the cluster's
// fsync is paid per Raft entry batch by the log, not by the state machine).
#include <CLI/CLI.hpp>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "tinykv/txn/mvcc_state_machine.h"
#include "tinykv/txn/txn_command.h"

namespace {

using tinykv::txn::MvccStateMachine;

struct Options {
  uint64_t keys = 10000;
  uint64_t puts = 100000;
  int batch = 64;
  size_t value_size = 256;
  int rounds = 3;
};

double ThreadCpuMicros() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

// CPU µs per put of one run in a fresh state machine; -1 on an error.
double Run(const Options& o, size_t cache_bytes, const std::filesystem::path& dir) {
  std::filesystem::remove_all(dir);
  auto sm = MvccStateMachine::Open(dir, nullptr, cache_bytes);
  if (!sm.ok()) {
    std::fprintf(stderr, "open: %s\n", sm.status().ToString().c_str());
    return -1;
  }
  std::mt19937_64 rng(42);  // the same keys in every run
  uint64_t index = 0, ts = 1000;
  const std::string value(o.value_size, 'v');
  std::vector<std::string> bytes(static_cast<size_t>(o.batch));
  std::vector<tinykv::replica::CommittedCommand> cmds;
  const double start = ThreadCpuMicros();
  for (uint64_t done = 0; done < o.puts;) {
    cmds.clear();
    for (int i = 0; i < o.batch && done < o.puts; ++i, ++done) {
      tinykv::replica::KvCommand kv;
      kv.op = tinykv::replica::KvCommand::Op::kPut;
      char key[24];
      std::snprintf(key, sizeof key, "%08llu", static_cast<unsigned long long>(rng() % o.keys));
      kv.key = key;
      kv.value = value;
      bytes[static_cast<size_t>(i)] = tinykv::txn::EncodeTxnCommand(tinykv::txn::KvWriteCmd{kv, ++ts});
      cmds.push_back({++index, 1, tinykv::Slice(bytes[static_cast<size_t>(i)])});
    }
    auto outs = (*sm)->ApplyBatch(cmds);
    if (!outs.ok() || !outs->front().status.ok()) {
      std::fprintf(stderr, "apply: %s\n",
                   (outs.ok() ? outs->front().status : outs.status()).ToString().c_str());
      return -1;
    }
  }
  return (ThreadCpuMicros() - start) / static_cast<double>(o.puts);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string dir = "data/mvcc-apply-bench";
  CLI::App app("The MVCC state machine's CPU per applied put, version cache off and on");
  app.add_option("--keys", o.keys, "key space (uniform random keys)")->check(CLI::PositiveNumber);
  app.add_option("--puts", o.puts, "puts per run")->check(CLI::PositiveNumber);
  app.add_option("--batch", o.batch, "puts per ApplyBatch")->check(CLI::PositiveNumber);
  app.add_option("--value-size", o.value_size, "bytes per value");
  app.add_option("--rounds", o.rounds, "alternating rounds (off, on)")->check(CLI::PositiveNumber);
  app.add_option("--dir", dir, "scratch directory (removed after)");
  CLI11_PARSE(app, argc, argv);
  std::vector<double> off, on;
  for (int r = 0; r < o.rounds; ++r) {
    const double a = Run(o, 0, std::filesystem::path(dir) / "off");
    const double b = Run(o, tinykv::txn::VersionCache::kDefaultCapacityBytes,
                         std::filesystem::path(dir) / "on");
    if (a < 0 || b < 0) return 1;
    std::printf("round %d: cache off %.2f us/put, on %.2f us/put\n", r + 1, a, b);
    off.push_back(a);
    on.push_back(b);
  }
  std::filesystem::remove_all(dir);
  std::printf("\n%llu puts over %llu keys, %d per batch, %zu B values; medians of %d rounds\n",
              static_cast<unsigned long long>(o.puts), static_cast<unsigned long long>(o.keys),
              o.batch, o.value_size, o.rounds);
  std::printf("| version cache | CPU us/put |\n|---|---:|\n| off | %.2f |\n| on | %.2f |\n",
              Median(off), Median(on));
  std::printf("on / off: %.2f\n", Median(on) / Median(off));
  return 0;
}
