// tinykv-bench: a load generator in the manner of etcd's `benchmark` tool.
//
//   tinykv-bench put   --endpoints 127.0.0.1:2379 --clients 64 --conns 8 --total 20000
//                      --key-size 8 --val-size 256 [--target tinykv|etcd]
//   tinykv-bench get   ... --consistency l|s      (linearizable | serializable)
//   tinykv-bench mixed ... --read-ratio 0.9
//
// Each client is one thread issuing one request at a time (closed loop), like
// etcd's benchmark. Keys are random within --key-space-size; get and mixed
// first write every key of the key space (not measured). Output: a summary
// like etcd's, a latency histogram, and one machine-readable line
//   RESULT target=.. op=.. clients=.. total=.. errors=.. seconds=.. ops_per_s=..
//          p50_ms=.. p90_ms=.. p99_ms=.. max_ms=..
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench_backend.h"
#include "tinykv/common/random.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string op;
  std::vector<std::string> endpoints{"127.0.0.1:2379"};
  std::string target = "tinykv";
  int clients = 1;
  int conns = 1;
  uint64_t total = 10000;
  int key_size = 8;
  int val_size = 256;
  uint64_t key_space = 10000;
  std::string consistency = "l";
  double read_ratio = 0.5;
  uint64_t seed = 1;
  int timeout_ms = 10000;
};

std::string MakeKey(uint64_t i, int size) {
  std::string k = std::to_string(i);
  if (static_cast<int>(k.size()) < size) k.insert(0, size - k.size(), '0');
  return k;
}

double Ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

int Run(const Options& o) {
  tinykv::bench::BackendOptions bo{o.endpoints, o.conns, o.clients, o.timeout_ms};
  auto backend = o.target == "etcd" ? tinykv::bench::NewEtcdBackend(bo)
                                    : tinykv::bench::NewTinyKvBackend(bo);
  if (!backend.ok()) {
    std::cerr << "tinykv-bench: error: " << backend.status().ToString() << "\n";
    return 1;
  }
  std::vector<std::unique_ptr<tinykv::bench::Session>> sessions;
  for (int i = 0; i < o.clients; ++i) {
    auto s = (*backend)->NewSession(i);
    if (!s.ok()) {
      std::cerr << "tinykv-bench: error: " << s.status().ToString() << "\n";
      return 1;
    }
    sessions.push_back(std::move(s).value());
  }
  const std::string value(o.val_size, 'v');
  const bool linearizable = o.consistency != "s";

  if (o.op != "put") {  // preload the key space, not measured
    std::atomic<uint64_t> next{0};
    std::atomic<uint64_t> failed{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < o.clients; ++c) {
      threads.emplace_back([&, c] {
        for (uint64_t i; (i = next.fetch_add(1)) < o.key_space;) {
          if (!sessions[c]->Put(MakeKey(i, o.key_size), value).ok()) failed++;
        }
      });
    }
    for (auto& t : threads) t.join();
    if (failed > 0) {
      std::cerr << "tinykv-bench: error: " << failed << " preload puts failed\n";
      return 1;
    }
  }

  std::atomic<uint64_t> issued{0};
  std::atomic<uint64_t> errors{0};
  std::mutex mu;
  std::vector<uint64_t> all_ns;
  all_ns.reserve(o.total);
  std::string first_error;
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < o.clients; ++c) {
    threads.emplace_back([&, c] {
      tinykv::Random rnd(o.seed * 1000003 + c);
      std::vector<uint64_t> ns;
      std::string err;
      while (issued.fetch_add(1) < o.total) {
        const std::string key = MakeKey(rnd.Uniform(o.key_space), o.key_size);
        const bool read = o.op == "get" || (o.op == "mixed" && rnd.NextDouble() < o.read_ratio);
        const auto t0 = Clock::now();
        tinykv::Status s = read ? sessions[c]->Get(key, linearizable) : sessions[c]->Put(key, value);
        const auto t1 = Clock::now();
        if (s.ok()) {
          ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
        } else {
          errors++;
          if (err.empty()) err = s.ToString();
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      all_ns.insert(all_ns.end(), ns.begin(), ns.end());
      if (first_error.empty()) first_error = err;
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(all_ns.begin(), all_ns.end());
  auto pct = [&](double p) -> double {
    if (all_ns.empty()) return 0;
    size_t i = static_cast<size_t>(p * (all_ns.size() - 1) + 0.5);
    return Ms(all_ns[std::min(i, all_ns.size() - 1)]);
  };
  uint64_t sum = 0;
  for (uint64_t v : all_ns) sum += v;
  const double ops = all_ns.size() / seconds;

  std::printf("Target: %s\n", (*backend)->Describe().c_str());
  std::printf("Workload: %s, %d clients, %d conns, %llu requests, key %d B, value %d B%s\n",
              o.op.c_str(), o.clients, o.conns, static_cast<unsigned long long>(o.total),
              o.key_size, o.val_size,
              o.op == "put" ? "" : (linearizable ? ", linearizable reads" : ", serializable reads"));
  std::printf("\nSummary:\n  Total:\t%.4f secs.\n  Slowest:\t%.4f secs.\n  Fastest:\t%.4f secs.\n"
              "  Average:\t%.4f secs.\n  Requests/sec:\t%.1f\n  Errors:\t%llu\n",
              seconds, pct(1.0) / 1000, pct(0.0) / 1000,
              all_ns.empty() ? 0.0 : Ms(sum / all_ns.size()) / 1000, ops,
              static_cast<unsigned long long>(errors.load()));
  if (!first_error.empty()) std::printf("  First error:\t%s\n", first_error.c_str());
  std::printf("\nLatency distribution:\n");
  for (double p : {0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99, 0.999}) {
    std::printf("  %.1f%% in %.4f ms.\n", p * 100, pct(p));
  }
  std::printf("\nRESULT target=%s op=%s%s clients=%d total=%llu errors=%llu seconds=%.3f "
              "ops_per_s=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
              o.target.c_str(), o.op.c_str(),
              o.op == "put" ? "" : (linearizable ? "-l" : "-s"), o.clients,
              static_cast<unsigned long long>(o.total),
              static_cast<unsigned long long>(errors.load()), seconds, ops, pct(0.50), pct(0.90),
              pct(0.99), pct(1.0));
  return errors.load() == 0 ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"tinykv-bench: load generator for TinyKV (and etcd, --target etcd)",
               "tinykv-bench"};
  app.require_subcommand(1);
  auto add_common = [&](CLI::App* sub) {
    sub->add_option("--endpoints", o.endpoints, "host:port list (comma-separated)")
        ->delimiter(',')
        ->capture_default_str();
    sub->add_option("--target", o.target, "tinykv or etcd")
        ->check(CLI::IsMember({"tinykv", "etcd"}))
        ->capture_default_str();
    sub->add_option("--clients", o.clients, "Concurrent clients (one request in flight each)")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    sub->add_option("--conns", o.conns, "Connections shared by the clients")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    sub->add_option("--total", o.total, "Requests to send")->capture_default_str();
    sub->add_option("--key-size", o.key_size, "Key size in bytes")->capture_default_str();
    sub->add_option("--val-size", o.val_size, "Value size in bytes")->capture_default_str();
    sub->add_option("--key-space-size", o.key_space, "Distinct keys")
        ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))
        ->capture_default_str();
    sub->add_option("--seed", o.seed, "Key generator seed")->capture_default_str();
    sub->add_option("--timeout-ms", o.timeout_ms, "Per-request deadline")->capture_default_str();
  };
  auto* put = app.add_subcommand("put", "Random-key puts");
  auto* get = app.add_subcommand("get", "Random-key gets (the key space is written first)");
  auto* mixed = app.add_subcommand("mixed", "Gets and puts, --read-ratio of them gets");
  for (auto* sub : {put, get, mixed}) add_common(sub);
  for (auto* sub : {get, mixed}) {
    sub->add_option("--consistency", o.consistency, "l: linearizable, s: serializable")
        ->check(CLI::IsMember({"l", "s"}))
        ->capture_default_str();
  }
  mixed->add_option("--read-ratio", o.read_ratio, "Fraction of gets")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  o.op = app.get_subcommands()[0]->get_name();
  return Run(o);
}
