// tinykv-bench: a closed-loop load generator in the manner of etcd's
// `benchmark` tool, for TinyKV and etcd alike.
//
//   tinykv-bench put   --endpoints 127.0.0.1:2379,... --clients 64 --threads 2 --conns 2
//                      --total 20000 --key-size 8 --val-size 256
//                      [--backend tinykv|etcd|etcd-http] [--server-pids 11,12,13]
//                      [--cacert CA.pem --cert C.pem --key C.key]   (TLS, tinykv backend)
//   tinykv-bench get   ... --consistency l|s      (linearizable | serializable)
//   tinykv-bench mixed ... --read-ratio 0.9
//   tinykv-bench txn   --endpoints ... --clients 64 --total 5000 --txn-keys 4 --key-space 64
//                      [--read-modify-write]     (transactions: the tinykv-blocking backend)
//   tinykv-bench put   --backend tinykv-blocking ...   (their single-key baseline)
//   tinykv-bench watch --endpoints ... --watchers 100 --clients 64 --total 4000
//                      [--watch-streams 10 --watch-conns 2 --watch-threads 2]
//                      [--backend tinykv|etcd]        (puts under a prefix, watched)
//   tinykv-bench lease --endpoints ... --clients 64 --total 20000 [--lease-ttl 60]
//   tinykv-bench floor --dir DATA_DIR --endpoints 127.0.0.1:2379 [--seconds 2]
//
// --clients logical clients, each with one request in flight, run as
// coroutines on --threads threads over --conns connections (bench_backend.h:
// the same machinery for every backend; tinykv-blocking, the phase 5 client,
// runs a thread per logical client instead). With --rate OPS the load is open
// loop instead (open_loop.h): request n is meant to start at n / OPS seconds,
// its latency counts from that intended start, and --clients only bounds the
// requests in flight. get and mixed first write every
// key of the key space (not measured). txn: each request is one transaction
// (client::Txn) over --txn-keys distinct random keys of the key space, each
// written (read first with --read-modify-write, the value then a counter
// one above the value read), then committed; a write conflict is an abort,
// not an error, and the client goes on with a new transaction (no retry).
// --total counts attempts; latency and ops_per_s count commits only, the
// latency from Begin to Commit's return. watch: --watchers watchers of one
// fresh prefix are created first (bench_backend.h: how they share streams
// and connections), then --total puts write keys of their own under it,
// each watcher should receive every one (watch_log.h: the delivery
// latencies, from the put's ack as etcd's watch-latency measures them, and
// from its send); the run ends when every event arrived or --drain-ms after
// the last put. ops_per_s and the latencies are the puts' (with --watchers
// 0: the puts alone, the baseline). lease: each logical client is granted a
// lease of --lease-ttl seconds first (not measured) and then renews it, one
// keep-alive in flight; each keep-alive is a request; the leases are
// revoked at the end. Output: a summary like etcd's
// benchmark, the latency distribution, the CPU the run cost (the
// generator's own, getrusage; the servers', /proc/<pid>/stat of
// --server-pids, summed), and one machine-readable line:
//   RESULT backend=.. op=.. clients=.. threads=.. conns=.. total=.. errors=.. retries=..
//          seconds=.. ops_per_s=.. offered_ops_per_s=.. achieved_ops_per_s=.. late=..
//          max_late_ms=.. p50_ms=.. p90_ms=.. p99_ms=.. max_ms=..
//          gen_cpu_s=.. gen_cpu_cores=.. gen_cpu_us_per_op=.. server_cpu_us_per_op=..
//          keys_per_op=.. key_space=.. succeeded=.. aborts=.. abort_rate=..
// (server_cpu_us_per_op=-1 without --server-pids; offered_ops_per_s=0, late=0
// and max_late_ms=0 in a closed loop, where achieved = ops_per_s; keys_per_op
// is --txn-keys for txn and 1 otherwise, threads the clients for
// tinykv-blocking; succeeded counts the requests that succeeded -- txn: the
// commits --, and succeeded + aborts + errors = total; aborts=0 outside
// txn). watch appends
//          watchers=.. watch_streams=.. watch_conns=.. events=.. events_per_s=..
//          watch_seconds=.. missing=.. duplicates=.. foreign=.. early=.. resumes=..
//          watch_p50_ms=.. watch_p99_ms=.. watch_max_ms=.. watch_send_p50_ms=..
//          watch_send_p99_ms=..
// (events: distinct (watcher, put) pairs delivered, over watch_seconds from
// the first put to the last event; watch_*: after the put's ack, clamped at
// 0, early counting the events that beat their ack; watch_send_*: after the
// put's send). `floor` prints the disk's raw fsync rate and one loopback round trip (floor.h):
//   RESULT op=floor fsync_per_s=.. fsync_p50_ms=.. fsync_p99_ms=.. rtt_p50_ms=.. rtt_p99_ms=..
//          floor_ms=.. floor_ops_per_s=..
// Exit codes: 0 ok; 1 cannot start (unreachable store, no leader, preload
// failed, watches or leases not created); 2 bad flags; 3 some requests
// failed (watch: or some event never arrived, or a watcher gave up).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench_backend.h"
#include "floor.h"
#include "process_cpu.h"
#include "watch_log.h"
#include "workload.h"

namespace {

using namespace tinykv::bench;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string op;
  std::vector<std::string> endpoints{"127.0.0.1:2379"};
  std::string backend = "tinykv";
  int clients = 1;
  int threads = 2;
  int conns = 2;
  bool etcd_spread = false;
  uint64_t total = 10000;
  int key_size = 8;
  int val_size = 256;
  uint64_t key_space = 10000;
  std::string consistency = "l";
  double read_ratio = 0.5;
  uint64_t seed = 1;
  double rate = 0;  // open loop: requests per second offered in total; 0 = closed loop
  int timeout_ms = 10000;
  std::vector<int> server_pids;
  std::string cacert, cert, key;  // TLS (tinykv backend)
  // floor
  std::string dir;
  double seconds = 2;
  uint64_t round_trips = 2000;
  // txn
  int txn_keys = 2;
  bool read_modify_write = false;
  // watch
  int watchers = 1;
  WatchPlan watch_plan;
  int drain_ms = 30000;
  // lease
  int64_t lease_ttl_s = 60;
};

int Fail(const tinykv::Status& s) {
  std::cerr << "tinykv-bench: error: " << s.ToString() << "\n";
  return 1;
}

int RunFloor(const Options& o) {
  auto f = MeasureFloor(o.dir, o.seconds, StripScheme(o.endpoints[0]), o.round_trips);
  if (!f.ok()) return Fail(f.status());
  std::printf("fsync (4 KiB write + fdatasync in %s, %.1f s): %.0f/s, p50 %.3f ms, p99 %.3f ms\n",
              o.dir.c_str(), o.seconds, f->fsync.per_sec, f->fsync.p50_ms, f->fsync.p99_ms);
  std::printf("loopback round trip (TinyKV Status RPC to %s, %llu sequential): p50 %.3f ms, "
              "p99 %.3f ms\n",
              o.endpoints[0].c_str(), static_cast<unsigned long long>(f->round_trips),
              f->rtt_p50_ms, f->rtt_p99_ms);
  std::printf("single-client floor: fsync p50 + round trip p50 = %.3f ms = %.0f ops/s\n",
              f->floor_ms(), 1000.0 / f->floor_ms());
  std::printf("\nRESULT op=floor fsync_per_s=%.1f fsync_p50_ms=%.3f fsync_p99_ms=%.3f "
              "rtt_p50_ms=%.3f rtt_p99_ms=%.3f floor_ms=%.3f floor_ops_per_s=%.1f\n",
              f->fsync.per_sec, f->fsync.p50_ms, f->fsync.p99_ms, f->rtt_p50_ms, f->rtt_p99_ms,
              f->floor_ms(), 1000.0 / f->floor_ms());
  return 0;
}

int BadFlag(const std::string& why) {
  std::cerr << "tinykv-bench: error: " << why << "\n";
  return 2;
}

// The watchers' part of a watch run's report.
void PrintWatch(const Options& o, const WatchGroup* watchers, const WatchOutcome& w,
                double seconds) {
  std::printf("\nWatch:\n  Watchers:\t%d (%s)\n", o.watchers,
              watchers ? watchers->Describe().c_str() : "none: the puts alone");
  std::printf("  Events:\t%llu delivered in %.4f secs. (first put to last event) = %.1f/sec\n"
              "  Missing:\t%llu\n  Duplicates:\t%llu\n  Foreign:\t%llu\n  Resumes:\t%llu\n",
              static_cast<unsigned long long>(w.events), seconds,
              seconds > 0 ? w.events / seconds : 0, static_cast<unsigned long long>(w.missing),
              static_cast<unsigned long long>(w.duplicates),
              static_cast<unsigned long long>(w.foreign),
              static_cast<unsigned long long>(watchers ? watchers->resumes() : 0));
  if (watchers && !watchers->first_error().empty()) {
    std::printf("  First error:\t%s\n", watchers->first_error().c_str());
  }
  std::printf("  Before the put's ack:\t%llu of the events\n",
              static_cast<unsigned long long>(w.early));
  std::printf("\nDelivery latency, after the put's ack (0 when the event came first):\n");
  for (double p : {0.50, 0.90, 0.99, 0.999, 1.0}) {
    std::printf("  %.1f%% in %.4f ms.\n", p * 100, w.after_ack.QuantileMs(p));
  }
  std::printf("\nDelivery latency, after the put's send:\n");
  for (double p : {0.50, 0.90, 0.99, 0.999, 1.0}) {
    std::printf("  %.1f%% in %.4f ms.\n", p * 100, w.after_send.QuantileMs(p));
  }
}

int RunLoad(const Options& o) {
  if (!std::isfinite(o.rate) || o.rate < 0) {
    return BadFlag("--rate must be a finite number >= 0 (0 = closed loop)");
  }
  if (o.rate > 0 && static_cast<double>(o.total) < o.rate) {
    char why[200];
    std::snprintf(why, sizeof why,
                  "--rate %g with --total %llu: fewer requests than one second of load; raise "
                  "--total to at least the rate",
                  o.rate, static_cast<unsigned long long>(o.total));
    return BadFlag(why);
  }
  BackendOptions bo;
  bo.endpoints = o.endpoints;
  bo.threads = o.threads;
  bo.conns = o.conns;
  bo.timeout_ms = o.timeout_ms;
  bo.spread_endpoints = o.etcd_spread;
  bo.cacert = o.cacert;
  bo.cert = o.cert;
  bo.key = o.key;
  bo.tls = !o.cacert.empty() || !o.cert.empty() || !o.key.empty() ||
           std::any_of(o.endpoints.begin(), o.endpoints.end(),
                       [](const std::string& e) { return e.starts_with("https://"); });
  if (o.op == "txn" && o.backend != "tinykv-blocking") {
    return BadFlag("txn runs on --backend tinykv-blocking only (the phase 5 client's "
                   "transactions)");
  }
  if (o.op == "txn" && static_cast<uint64_t>(o.txn_keys) > o.key_space) {
    return BadFlag("--txn-keys " + std::to_string(o.txn_keys) + " exceeds --key-space " +
                   std::to_string(o.key_space) + ": a transaction's keys are distinct");
  }
  const bool watch = o.op == "watch";
  const bool lease = o.op == "lease";
  if ((watch || lease) && o.backend != "tinykv" && o.backend != "etcd") {
    return BadFlag(o.op + " runs on --backend tinykv and etcd only");
  }
  if (watch && o.total >= UINT32_MAX) return BadFlag("watch: --total must be below 2^32");
  if (bo.tls && o.backend == "etcd-http") {
    return Fail(tinykv::Status::NotSupported("TLS (--cacert/--cert/--key, https://) is "
                                             "implemented for --backend tinykv and etcd only"));
  }
  auto backend = o.backend == "etcd"              ? NewEtcdGrpcBackend(bo)
                 : o.backend == "etcd-http"       ? NewEtcdHttpBackend(bo)
                 : o.backend == "tinykv-blocking" ? NewTinyKvBlockingBackend(bo)
                                                  : NewTinyKvBackend(bo);
  if (!backend.ok()) return Fail(backend.status());

  WorkloadOptions wo;
  wo.op = o.op == "put"   ? OpKind::kPut
          : o.op == "get" ? OpKind::kGet
          : o.op == "txn" ? OpKind::kTxn
          : lease         ? OpKind::kLeaseKeepAlive
          : watch         ? OpKind::kPut
                          : OpKind::kMixed;
  wo.clients = o.clients;
  wo.total = o.total;
  wo.key_space = o.key_space;
  wo.key_size = o.key_size;
  wo.val_size = o.val_size;
  wo.read_ratio = o.read_ratio;
  wo.linearizable = o.consistency != "s";
  wo.seed = o.seed;
  wo.rate = o.rate;
  wo.txn_keys = o.txn_keys;
  wo.read_modify_write = o.read_modify_write;
  wo.watched = watch;
  const bool txn = wo.op == OpKind::kTxn;

  // watch: the watchers first, on a prefix no earlier run wrote.
  std::unique_ptr<WatchLog> watch_log;
  std::unique_ptr<WatchGroup> watchers;
  if (watch) {
    char prefix[32];
    std::snprintf(prefix, sizeof prefix, "bench-watch/%08x/", std::random_device{}());
    wo.key_prefix = prefix;
    watch_log = std::make_unique<WatchLog>(prefix, o.key_size, o.watchers, o.total);
    if (o.watchers > 0) {
      auto group = (*backend)->Watch(o.watch_plan, watch_log.get());
      if (!group.ok()) return Fail(group.status());
      watchers = std::move(group).value();
    }
  }

  // get and mixed: write the key space first, not measured.
  if (wo.op == OpKind::kGet || wo.op == OpKind::kMixed) {
    WorkloadOptions po = wo;
    po.rate = 0;  // as fast as it goes
    po.clients = static_cast<int>(std::min<uint64_t>(std::max(o.clients, 64), o.key_space));
    auto preload = Workload::Preload(po);
    (*backend)->Run(*preload);
    const Outcome p = preload->Finish();
    if (p.errors > 0) {
      return Fail(tinykv::Status::Unavailable(std::to_string(p.errors) +
                                              " preload puts failed; first: " + p.first_error));
    }
  }

  auto work = Workload::Measured(wo);
  std::vector<uint64_t> leases;
  if (lease) {
    auto granted = (*backend)->GrantLeases(o.clients, o.lease_ttl_s);
    if (!granted.ok()) return Fail(granted.status().WithContext("granting the leases"));
    leases = std::move(granted).value();
    work->set_leases(leases);
  }
  const uint64_t retries_before = (*backend)->retries();
  tinykv::Result<std::chrono::microseconds> server_before = std::chrono::microseconds(0);
  if (!o.server_pids.empty()) {
    server_before = ProcessesCpuTime(o.server_pids);
    if (!server_before.ok()) return Fail(server_before.status());
  }
  const auto cpu_before = SelfCpuTime();
  const auto start = Clock::now();
  work->Start(start);
  (*backend)->Run(*work);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const Outcome out = work->Finish();
  WatchOutcome wout;
  if (watch) {
    // Until every acknowledged put reached every watcher, or --drain-ms.
    const uint64_t expected = out.latency_ns.size() * static_cast<uint64_t>(o.watchers);
    const auto drain_until = Clock::now() + std::chrono::milliseconds(o.drain_ms);
    while (watch_log->delivered() < expected && Clock::now() < drain_until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (watchers) watchers->Stop();
    wout = watch_log->Finish(out);
  }
  const double gen_cpu_s = std::chrono::duration<double>(SelfCpuTime() - cpu_before).count();
  double server_cpu_s = -1;
  if (!o.server_pids.empty()) {
    auto after = ProcessesCpuTime(o.server_pids);
    if (!after.ok()) return Fail(after.status());
    server_cpu_s = std::chrono::duration<double>(*after - *server_before).count();
  }
  const uint64_t retries = (*backend)->retries() - retries_before;
  // watch: from the first put to the last event; the CPU is spent over that.
  const double watch_seconds =
      wout.last_event_ns == 0 ? 0 : std::max(0.0, (wout.last_event_ns - SteadyNs(start)) / 1e9);
  const double cpu_seconds = std::max(seconds, watch_seconds);
  if (lease) {
    const tinykv::Status revoked = (*backend)->RevokeLeases(leases);
    if (!revoked.ok()) std::fprintf(stderr, "tinykv-bench: revoking the leases: %s\n",
                                    revoked.ToString().c_str());
  }
  const size_t ok = out.latency_ns.size();
  const double ops = ok / seconds;
  const double gen_us_per_op = ok > 0 ? gen_cpu_s * 1e6 / ok : 0;
  const double server_us_per_op = server_cpu_s < 0 ? -1 : ok > 0 ? server_cpu_s * 1e6 / ok : 0;
  const bool reads = wo.op == OpKind::kGet || wo.op == OpKind::kMixed;
  const std::string op_label =
      txn     ? (o.read_modify_write ? "txn-rmw" : "txn")
      : lease ? "lease-keepalive"
              : o.op + (reads ? (wo.linearizable ? "-l" : "-s") : "");
  const int keys_per_op = txn ? o.txn_keys : 1;
  const int threads = o.backend == "tinykv-blocking" ? o.clients : o.threads;

  std::printf("Backend: %s\n", (*backend)->Describe().c_str());
  if (txn) {
    std::printf("Workload: txn of %d keys (%s), %d clients, %llu transactions attempted, key "
                "space %llu, key %d B, value %d B\n",
                o.txn_keys, o.read_modify_write ? "each read, then written" : "blind writes",
                o.clients, static_cast<unsigned long long>(o.total),
                static_cast<unsigned long long>(o.key_space), o.key_size, o.val_size);
  } else if (lease) {
    std::printf("Workload: lease keep-alives, %d clients each renewing its own lease (TTL %lld "
                "s), %llu keep-alives\n",
                o.clients, static_cast<long long>(o.lease_ttl_s),
                static_cast<unsigned long long>(o.total));
  } else if (watch) {
    std::printf("Workload: %llu puts of keys of their own under %s, %d clients, key %zu B, "
                "value %d B, %d watchers of the prefix\n",
                static_cast<unsigned long long>(o.total), wo.key_prefix.c_str(), o.clients,
                wo.key_prefix.size() + static_cast<size_t>(o.key_size), o.val_size, o.watchers);
  } else {
    std::printf("Workload: %s, %d clients, %llu requests, key %d B, value %d B%s\n",
                o.op.c_str(), o.clients, static_cast<unsigned long long>(o.total), o.key_size,
                o.val_size,
                reads ? (wo.linearizable ? ", linearizable reads" : ", serializable reads") : "");
  }
  if (o.rate > 0) {
    std::printf("Open loop: %.1f requests/s offered, %.1f achieved; latency from each request's "
                "intended start; %llu of %llu started more than %.0f ms late, at most %.3f ms\n",
                o.rate, ops, static_cast<unsigned long long>(out.lateness.late),
                static_cast<unsigned long long>(o.total),
                std::chrono::duration<double, std::milli>(kLateThreshold).count(),
                std::chrono::duration<double, std::milli>(out.lateness.max).count());
  }
  std::printf("\nSummary:\n  Total:\t%.4f secs.\n  Slowest:\t%.4f secs.\n  Fastest:\t%.4f secs.\n"
              "  Average:\t%.4f secs.\n  %s:\t%.1f\n  Errors:\t%llu\n  Retries:\t%llu\n",
              seconds, out.QuantileMs(1.0) / 1000, out.QuantileMs(0.0) / 1000,
              out.MeanMs() / 1000, txn ? "Commits/sec" : "Requests/sec", ops,
              static_cast<unsigned long long>(out.errors),
              static_cast<unsigned long long>(retries));
  if (txn) {
    std::printf("  Committed:\t%zu\n  Aborted:\t%llu (%.1f%% of attempts: write conflicts)\n",
                ok, static_cast<unsigned long long>(out.aborts), out.AbortRate() * 100);
  }
  if (!out.first_error.empty()) std::printf("  First error:\t%s\n", out.first_error.c_str());
  std::printf("\nLatency distribution:\n");
  for (double p : {0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99, 0.999}) {
    std::printf("  %.1f%% in %.4f ms.\n", p * 100, out.QuantileMs(p));
  }
  std::printf("\nCPU%s:\n  generator:\t%.3f s = %.2f cores, %.1f us per request\n",
              watch ? " (to the last event)" : "", gen_cpu_s, gen_cpu_s / cpu_seconds,
              gen_us_per_op);
  if (server_cpu_s >= 0) {
    std::printf("  servers:\t%.3f s = %.2f cores, %.1f us per request (%zu processes)\n",
                server_cpu_s, server_cpu_s / cpu_seconds, server_us_per_op,
                o.server_pids.size());
  }
  if (watch) PrintWatch(o, watchers.get(), wout, watch_seconds);
  std::printf("\nRESULT backend=%s op=%s clients=%d threads=%d conns=%d total=%llu errors=%llu "
              "retries=%llu seconds=%.3f ops_per_s=%.1f offered_ops_per_s=%.1f achieved_ops_per_s=%.1f "
              "late=%llu max_late_ms=%.3f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f "
              "max_ms=%.3f gen_cpu_s=%.3f gen_cpu_cores=%.3f gen_cpu_us_per_op=%.2f "
              "server_cpu_us_per_op=%.2f keys_per_op=%d key_space=%llu succeeded=%zu aborts=%llu "
              "abort_rate=%.4f",
              o.backend.c_str(), op_label.c_str(), o.clients, threads, o.conns,
              static_cast<unsigned long long>(o.total),
              static_cast<unsigned long long>(out.errors),
              static_cast<unsigned long long>(retries), seconds, ops, o.rate, ops,
              static_cast<unsigned long long>(out.lateness.late),
              std::chrono::duration<double, std::milli>(out.lateness.max).count(),
              out.QuantileMs(0.50),
              out.QuantileMs(0.90), out.QuantileMs(0.99), out.QuantileMs(1.0), gen_cpu_s,
              gen_cpu_s / cpu_seconds, gen_us_per_op, server_us_per_op, keys_per_op,
              static_cast<unsigned long long>(o.key_space), ok,
              static_cast<unsigned long long>(out.aborts), out.AbortRate());
  if (watch) {
    const int streams = o.watchers == 0        ? 0
                        : o.backend == "etcd" ? std::min(o.watch_plan.streams, o.watchers)
                                              : o.watchers;
    std::printf(" watchers=%d watch_streams=%d watch_conns=%d events=%llu events_per_s=%.1f "
                "watch_seconds=%.3f missing=%llu duplicates=%llu foreign=%llu early=%llu "
                "resumes=%llu watch_p50_ms=%.3f watch_p99_ms=%.3f watch_max_ms=%.3f "
                "watch_send_p50_ms=%.3f watch_send_p99_ms=%.3f",
                o.watchers, streams, o.watchers == 0 ? 0 : o.watch_plan.conns,
                static_cast<unsigned long long>(wout.events),
                watch_seconds > 0 ? wout.events / watch_seconds : 0, watch_seconds,
                static_cast<unsigned long long>(wout.missing),
                static_cast<unsigned long long>(wout.duplicates),
                static_cast<unsigned long long>(wout.foreign),
                static_cast<unsigned long long>(wout.early),
                static_cast<unsigned long long>(watchers ? watchers->resumes() : 0),
                wout.after_ack.QuantileMs(0.5), wout.after_ack.QuantileMs(0.99),
                wout.after_ack.QuantileMs(1.0), wout.after_send.QuantileMs(0.5),
                wout.after_send.QuantileMs(0.99));
  }
  std::printf("\n");
  const bool watch_ok = !watch || (wout.missing == 0 && wout.foreign == 0 &&
                                   (!watchers || watchers->first_error().empty()));
  return out.errors == 0 && watch_ok ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"tinykv-bench: closed- or open-loop (--rate) load generator for TinyKV and etcd", "tinykv-bench"};
  app.require_subcommand(1);
  auto add_endpoints = [&](CLI::App* sub) {
    sub->add_option("--endpoints", o.endpoints, "host:port list (comma-separated)")
        ->delimiter(',')
        ->capture_default_str();
  };
  auto add_common = [&](CLI::App* sub) {
    add_endpoints(sub);
    sub->add_option("--backend", o.backend,
                    "tinykv (client protocol, coroutines), tinykv-blocking (the phase 5 "
                    "client, a thread per logical client; txn's only backend), etcd (v3 gRPC), "
                    "etcd-http (v3 JSON gateway)")
        ->check(CLI::IsMember({"tinykv", "tinykv-blocking", "etcd", "etcd-http"}))
        ->capture_default_str();
    sub->add_option("--clients", o.clients, "Logical clients (one request in flight each)")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    sub->add_option("--threads", o.threads, "Generator threads the clients run on")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    sub->add_option("--conns", o.conns, "Connections the clients share, in total")
        ->check(CLI::Range(1, 10000))
        ->capture_default_str();
    sub->add_option("--cacert", o.cacert,
                    "TLS: verify the servers with this CA bundle (PEM); turns TLS on "
                    "(tinykv and etcd backends)");
    sub->add_option("--cert", o.cert, "TLS: the client certificate (PEM), for mutual TLS");
    sub->add_option("--key", o.key, "TLS: the key of --cert (PEM)");
    sub->add_flag("--etcd-spread", o.etcd_spread,
                  "etcd backends: connections round-robin over the endpoints (etcd's benchmark "
                  "tool) instead of all to the leader");
    sub->add_option("--total", o.total, "Requests to send")
        ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))
        ->capture_default_str();
    sub->add_option("--rate", o.rate,
                    "Open loop: requests per second offered in total, each timed from its "
                    "intended start; --clients then bounds the requests in flight (0 = closed "
                    "loop)")
        ->capture_default_str();
    sub->add_option("--key-size", o.key_size, "Key size in bytes")
        ->check(CLI::Range(1, 1 << 20))
        ->capture_default_str();
    sub->add_option("--val-size", o.val_size, "Value size in bytes")
        ->check(CLI::Range(0, 1 << 20))
        ->capture_default_str();
    sub->add_option("--key-space-size,--key-space", o.key_space, "Distinct keys")
        ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))
        ->capture_default_str();
    sub->add_option("--seed", o.seed, "Key generator seed")->capture_default_str();
    sub->add_option("--timeout-ms", o.timeout_ms, "Per-request deadline (all attempts)")
        ->check(CLI::Range(1, 3600000))
        ->capture_default_str();
    sub->add_option("--server-pids", o.server_pids,
                    "Server process ids: report their CPU per request, summed")
        ->delimiter(',')
        ->check(CLI::PositiveNumber);
  };
  auto* put = app.add_subcommand("put", "Random-key puts");
  auto* get = app.add_subcommand("get", "Random-key gets (the key space is written first)");
  auto* mixed = app.add_subcommand("mixed", "Gets and puts, --read-ratio of them gets");
  auto* txn = app.add_subcommand(
      "txn", "Transactions of --txn-keys random keys (client::Txn, tinykv-blocking backend): "
             "commits, aborts on write conflicts");
  auto* watch = app.add_subcommand(
      "watch", "Puts of keys of their own under one prefix, watched by --watchers watchers: "
               "events delivered per second and their latency (tinykv and etcd backends)");
  auto* lease = app.add_subcommand(
      "lease", "Lease keep-alives: each client renews its own lease in a closed loop "
               "(tinykv and etcd backends)");
  for (auto* sub : {put, get, mixed, txn, watch, lease}) add_common(sub);
  watch->add_option("--watchers", o.watchers, "Watchers of the prefix (0: the puts alone)")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  watch->add_option("--watch-streams", o.watch_plan.streams,
                    "etcd: Watch streams the watchers are multiplexed on (etcd's "
                    "watch-latency --streams); tinykv has one stream per watcher")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  watch->add_option("--watch-conns", o.watch_plan.conns,
                    "Connections the watch streams share, apart from the putters'")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  watch->add_option("--watch-threads", o.watch_plan.threads, "Generator threads that receive")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  watch->add_option("--drain-ms", o.drain_ms,
                    "After the last put, how long to wait for the watchers to receive the rest")
      ->check(CLI::Range(0, 3600000))
      ->capture_default_str();
  lease->add_option("--lease-ttl", o.lease_ttl_s, "TTL of each client's lease, seconds")
      ->check(CLI::Range(int64_t{5}, int64_t{1} << 30))
      ->capture_default_str();
  for (auto* sub : {get, mixed}) {
    sub->add_option("--consistency", o.consistency, "l: linearizable, s: serializable")
        ->check(CLI::IsMember({"l", "s"}))
        ->capture_default_str();
  }
  mixed->add_option("--read-ratio", o.read_ratio, "Fraction of gets")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  txn->add_option("--txn-keys", o.txn_keys, "Distinct keys per transaction")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  txn->add_flag("--read-modify-write", o.read_modify_write,
                "Read each key in the transaction first and write a counter one above it "
                "(default: blind writes of --val-size bytes)");
  auto* floor = app.add_subcommand(
      "floor", "The single-client floor: the disk's raw fsync rate and one loopback round trip "
               "(TinyKV Status RPC)");
  add_endpoints(floor);
  floor->add_option("--dir", o.dir, "Directory on the disk to probe (the data directory's)")
      ->required()
      ->check(CLI::ExistingDirectory);
  floor->add_option("--seconds", o.seconds, "How long to probe fsync")
      ->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  floor->add_option("--total", o.round_trips, "Round trips to time")
      ->check(CLI::Range(uint64_t{1}, uint64_t{10000000}))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints the help or the error
    return rc == 0 ? 0 : 2;
  }
  o.op = app.get_subcommands()[0]->get_name();
  if (o.op == "txn" && txn->count("--backend") == 0) o.backend = "tinykv-blocking";
  return o.op == "floor" ? RunFloor(o) : RunLoad(o);
}
