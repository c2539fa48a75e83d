// tinykv_db_bench: LevelDB-style db_bench that runs the same workloads against
// TinyKV, LevelDB and RocksDB with identical settings and prints ops/s per
// engine and the ratio TinyKV/other in one table. See RESULTS.md.
//
//   build/ci/phase1_storage/bench/tinykv_db_bench [--num 1000000] [--runs 3]
//
// Workloads (as in LevelDB's db_bench): fillseq, fillrandom, overwrite,
// readrandom, readseq, seekrandom (Seek + 100 x Next), fillsync (sync=true,
// 10,000 writes); plus reopen (Open time after --num random writes by a child
// that _exit()s without closing) and peakmem (RSS high-water mark of a child
// running fillrandom). Keys are 16 bytes, values 100 bytes. Each fill* starts
// from an empty database; overwrite, readrandom, readseq and seekrandom run on
// the database fillrandom left behind (as db_bench's default order does).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench_engine.h"

namespace tinykv::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Flags {
  uint64_t num = 1'000'000;
  uint64_t reads = 0;  // 0: num
  uint64_t seeks = 0;  // 0: num / 10
  uint64_t fillsync_num = 10'000;
  int value_size = 100;
  int runs = 1;
  uint64_t seed = 301;
  std::string engines = "tinykv,leveldb,rocksdb";
  std::string benchmarks =
      "fillseq,fillrandom,overwrite,readrandom,readseq,seekrandom,fillsync,reopen,peakmem";
  std::string db_dir;
};

// splitmix64: fast, seedable, identical across engines.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t Uniform(uint64_t n) { return Next() % n; }

 private:
  uint64_t s_;
};

// 16-byte keys: k as 16 zero-padded decimal digits ("%016llu"), as db_bench.
struct Key {
  char buf[16];
  std::string_view Set(uint64_t k) {
    for (int i = 15; i >= 0; i--) {
      buf[i] = static_cast<char>('0' + k % 10);
      k /= 10;
    }
    return std::string_view(buf, 16);
  }
};

// Values: 100-byte windows into 1 MiB of random bytes (incompressible anyway:
// compression is off for every engine).
class ValueGen {
 public:
  explicit ValueGen(int size) : size_(size) {
    Rng r(42);
    data_.resize(1 << 20);
    for (auto& c : data_) c = static_cast<char>(' ' + r.Uniform(95));
  }
  std::string_view Next() {
    if (pos_ + size_ > data_.size()) pos_ = 0;
    std::string_view v(data_.data() + pos_, size_);
    pos_ += size_;
    return v;
  }

 private:
  size_t size_;
  std::string data_;
  size_t pos_ = 0;
};

std::unique_ptr<BenchEngine> MakeEngine(const std::string& id) {
  if (id == "tinykv") return NewTinyKVEngine();
  if (id == "leveldb") return NewLevelDBEngine();
  if (id == "rocksdb") return NewRocksDBEngine();
  return nullptr;
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// CPU time (user + sys) of every thread of this process so far, in seconds.
double ProcessCpuSeconds() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// CPU time of the calling (foreground) thread only, in seconds: separates the
// read or write path from background flushes and compactions.
double ThreadCpuSeconds() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One engine's run of the suite. Results: workload -> ops/s (or ms / MiB for
// reopen and peakmem).
class Runner {
 public:
  Runner(const Flags& f, std::string engine_id, std::string dir)
      : f_(f), id_(std::move(engine_id)), dir_(std::move(dir)), values_(f.value_size) {}

  // Results: workload -> value, and workload -> CPU microseconds per op
  // (all threads of this process: foreground plus background compaction).
  std::map<std::string, double> Run(const std::vector<std::string>& benchmarks,
                                    std::map<std::string, double>* cpu_us_per_op) {
    std::map<std::string, double> out;
    engine_ = MakeEngine(id_);
    for (const std::string& b : benchmarks) {
      double v = 0;
      ops_ = 0;
      const double cpu0 = ProcessCpuSeconds();
      const double fg0 = ThreadCpuSeconds();
      if (b == "fillseq") {
        Fresh();
        v = Fill(f_.num, /*random=*/false, /*sync=*/false, 1);
        engine_->Destroy(dir_);
      } else if (b == "fillrandom") {
        Fresh();
        v = Fill(f_.num, true, false, 2);
        // Left open: overwrite and the reads use this database.
      } else if (b == "overwrite") {
        EnsureFilled();
        v = Fill(f_.num, true, false, 3);
      } else if (b == "readrandom") {
        EnsureFilled();
        v = ReadRandom();
      } else if (b == "readseq") {
        EnsureFilled();
        v = ReadSeq();
      } else if (b == "seekrandom") {
        EnsureFilled();
        v = SeekRandom();
      } else if (b == "fillsync") {
        Fresh();
        v = Fill(f_.fillsync_num, true, true, 4);
        engine_->Destroy(dir_);
        open_ = false;
      } else if (b == "reopen") {
        v = Reopen();
      } else if (b == "peakmem") {
        v = PeakMem();
      } else {
        std::fprintf(stderr, "unknown benchmark '%s'\n", b.c_str());
        std::exit(2);
      }
      out[b] = v;
      const double cpu = ProcessCpuSeconds() - cpu0;
      const double fg = ThreadCpuSeconds() - fg0;
      if (ops_ > 0) {
        (*cpu_us_per_op)[b] = cpu * 1e6 / static_cast<double>(ops_);
        note_ += " [" + std::to_string((*cpu_us_per_op)[b]).substr(0, 6) + " cpu-us/op, " +
                 std::to_string(fg * 1e6 / static_cast<double>(ops_)).substr(0, 6) +
                 " of it this thread]";
      }
      std::fprintf(stderr, "  %-8s %-11s %14.1f %s%s\n", engine_->name().c_str(), b.c_str(), v,
                   Unit(b), note_.c_str());
      note_.clear();
    }
    if (open_) engine_->Destroy(dir_);
    fs::remove_all(dir_);
    return out;
  }

  std::string name() const { return engine_ ? engine_->name() : id_; }

  static const char* Unit(const std::string& b) {
    if (b == "reopen") return "ms";
    if (b == "peakmem") return "MiB";
    return "ops/s";
  }

 private:
  void Open() {
    std::string err = engine_->Open(dir_, settings_);
    if (!err.empty()) Die(engine_->name(), "open " + dir_, err);
    open_ = true;
  }
  void Fresh() {
    if (open_) engine_->Destroy(dir_);
    fs::remove_all(dir_);
    Open();
    filled_ = false;
  }
  void EnsureFilled() {
    if (filled_ && open_) return;
    Fresh();
    Fill(f_.num, true, false, 2);
    ops_ = 0;
  }

  // Writes n keys (sequential or uniform random in [0, num)); returns ops/s.
  double Fill(uint64_t n, bool random, bool sync, uint64_t salt) {
    Rng rng(f_.seed * 31 + salt);
    Key key;
    auto start = Clock::now();
    for (uint64_t i = 0; i < n; i++) {
      const uint64_t k = random ? rng.Uniform(f_.num) : i;
      engine_->Put(key.Set(k), values_.Next(), sync);
    }
    const double s = Seconds(start);
    filled_ = true;
    ops_ = n;
    return static_cast<double>(n) / s;
  }

  double ReadRandom() {
    const uint64_t n = f_.reads ? f_.reads : f_.num;
    Rng rng(f_.seed * 31 + 5);
    Key key;
    std::string value;
    uint64_t found = 0;
    auto start = Clock::now();
    for (uint64_t i = 0; i < n; i++) {
      if (engine_->Get(key.Set(rng.Uniform(f_.num)), &value)) found++;
    }
    const double s = Seconds(start);
    note_ = " (" + std::to_string(found) + " of " + std::to_string(n) + " found; " +
            engine_->Shape() + ")";
    ops_ = n;
    return static_cast<double>(n) / s;
  }

  double ReadSeq() {
    uint64_t n = 0, bytes = 0;
    auto start = Clock::now();
    auto it = engine_->NewIterator();
    for (it->SeekToFirst(); it->Valid() && n < f_.num; it->Next()) {
      bytes += it->key().size() + it->value().size();
      n++;
    }
    const double s = Seconds(start);
    note_ = " (" + std::to_string(n) + " entries, " + std::to_string(bytes >> 20) + " MiB; " +
            engine_->Shape() + ")";
    ops_ = n;
    return static_cast<double>(n) / s;
  }

  double SeekRandom() {
    const uint64_t n = f_.seeks ? f_.seeks : std::max<uint64_t>(1, f_.num / 10);
    Rng rng(f_.seed * 31 + 6);
    Key key;
    uint64_t found = 0, nexts = 0;
    auto start = Clock::now();
    auto it = engine_->NewIterator();
    for (uint64_t i = 0; i < n; i++) {
      it->Seek(key.Set(rng.Uniform(f_.num)));
      if (it->Valid()) found++;
      for (int j = 0; j < 100 && it->Valid(); j++) {
        nexts++;
        it->Next();
      }
    }
    const double s = Seconds(start);
    note_ = " (" + std::to_string(found) + " of " + std::to_string(n) + " seeks found, " +
            std::to_string(nexts) + " nexts; " + engine_->Shape() + ")";
    ops_ = n;
    return static_cast<double>(n) / s;
  }

  // A child process writes num random keys and _exit()s without closing the
  // DB (a crash as far as the engine knows); the parent times Open, which
  // replays the WAL. The child is a fresh exec of this binary: forking a
  // process whose engines already started background threads would leave the
  // child with thread pools that do not exist.
  double Reopen() {
    if (open_) engine_->Destroy(dir_);
    open_ = false;
    fs::remove_all(dir_);
    RunChild("crash-writer");
    engine_ = MakeEngine(id_);
    auto start = Clock::now();
    Open();
    const double ms = Seconds(start) * 1000;
    // The child's last write must be there.
    Rng rng(f_.seed * 31 + 7);
    uint64_t last = 0;
    for (uint64_t i = 0; i < f_.num; i++) last = rng.Uniform(f_.num);
    Key key;
    std::string value;
    if (!engine_->Get(key.Set(last), &value)) Die(engine_->name(), "reopen", "lost last write");
    engine_->Destroy(dir_);
    open_ = false;
    return ms;
  }

  // fillrandom in a fresh child process, which reports its own VmHWM (the RSS
  // high-water mark of its address space only).
  double PeakMem() {
    if (open_) engine_->Destroy(dir_);
    open_ = false;
    fs::remove_all(dir_);
    const std::string out = RunChild("peakmem");
    fs::remove_all(dir_);
    return std::stod(out) / 1024.0;  // KiB -> MiB
  }

  // Runs this binary with --child_mode=mode for this engine; returns its stdout.
  std::string RunChild(const std::string& mode) {
    const std::string cmd = "'" + fs::read_symlink("/proc/self/exe").string() +
                            "' --child_mode=" + mode + " --engines=" + id_ + " --db_dir='" +
                            dir_ + "' --num=" + std::to_string(f_.num) +
                            " --value_size=" + std::to_string(f_.value_size) +
                            " --seed=" + std::to_string(f_.seed);
    std::fflush(nullptr);
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) Die(engine_->name(), mode, "popen failed");
    std::string out;
    char buf[256];
    while (std::fgets(buf, sizeof(buf), p) != nullptr) out += buf;
    const int status = pclose(p);
    if (status != 0 || (mode == "peakmem" && out.empty())) {
      Die(engine_->name(), mode, "child failed: " + cmd);
    }
    return out;
  }

 public:
  // The child side of RunChild.
  int ChildMain(const std::string& mode) {
    engine_ = MakeEngine(id_);
    Open();
    Rng rng(f_.seed * 31 + (mode == "crash-writer" ? 7 : 2));
    Key key;
    for (uint64_t i = 0; i < f_.num; i++) {
      engine_->Put(key.Set(rng.Uniform(f_.num)), values_.Next(), false);
    }
    if (mode == "crash-writer") {
      std::fflush(nullptr);
      _exit(0);  // no Close, no destructors: the WAL is all that is left
    }
    engine_->Close();
    FILE* st = std::fopen("/proc/self/status", "r");
    char line[256];
    while (st != nullptr && std::fgets(line, sizeof(line), st) != nullptr) {
      unsigned long kb = 0;
      if (std::sscanf(line, "VmHWM: %lu kB", &kb) == 1) std::printf("%lu\n", kb);
    }
    if (st != nullptr) std::fclose(st);
    return 0;
  }

 private:
  const Flags& f_;
  std::string id_;
  std::string dir_;
  BenchSettings settings_;
  ValueGen values_;
  std::unique_ptr<BenchEngine> engine_;
  bool open_ = false;
  bool filled_ = false;
  uint64_t ops_ = 0;  // operations of the current workload, for CPU per op
  std::string note_;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// This process's current RSS high-water mark (MiB), before any engine ran:
// about the floor under the peakmem numbers (same binary and libraries).
double SelfHwmMiB() {
  FILE* st = std::fopen("/proc/self/status", "r");
  char line[256];
  unsigned long kb = 0;
  while (st != nullptr && std::fgets(line, sizeof(line), st) != nullptr) {
    if (std::sscanf(line, "VmHWM: %lu kB", &kb) == 1) break;
  }
  if (st != nullptr) std::fclose(st);
  return static_cast<double>(kb) / 1024.0;
}

int Main(int argc, char** argv) {
  Flags f;
  CLI::App app{"db_bench for TinyKV vs LevelDB vs RocksDB (identical settings: 16-byte keys, "
               "100-byte values, no compression, 4 MiB write buffer, 8 MiB block cache, "
               "10 bloom bits/key, WAL on without sync)"};
  app.add_option("--num", f.num, "Number of keys")->check(CLI::PositiveNumber);
  app.add_option("--reads", f.reads, "Gets in readrandom (default: --num)");
  app.add_option("--seeks", f.seeks, "Seeks in seekrandom (default: --num / 10)");
  app.add_option("--fillsync_num", f.fillsync_num, "Writes in fillsync")
      ->check(CLI::PositiveNumber);
  app.add_option("--value_size", f.value_size, "Value size in bytes")->check(CLI::PositiveNumber);
  app.add_option("--runs", f.runs, "Repeat the suite; report medians")->check(CLI::PositiveNumber);
  app.add_option("--seed", f.seed, "Key sequence seed");
  app.add_option("--engines", f.engines, "Comma-separated: tinykv,leveldb,rocksdb");
  app.add_option("--benchmarks", f.benchmarks, "Comma-separated workloads");
  app.add_option("--db_dir", f.db_dir, "Scratch directory (default /tmp/tinykv_db_bench.<pid>)");
  std::string child_mode;
  app.add_option("--child_mode", child_mode, "Internal: crash-writer or peakmem")
      ->group("");
  CLI11_PARSE(app, argc, argv);
  if (!child_mode.empty()) {
    Runner r(f, f.engines, f.db_dir);
    return r.ChildMain(child_mode);
  }
  const double floor_mib = SelfHwmMiB();

  const std::vector<std::string> benchmarks = Split(f.benchmarks);
  std::vector<std::string> engines;
  for (const std::string& e : Split(f.engines)) {
    if (!MakeEngine(e)) {
      std::fprintf(stderr, "tinykv_db_bench: engine '%s' is unknown or not built in\n",
                   e.c_str());
      return 2;
    }
    engines.push_back(e);
  }
  if (f.db_dir.empty()) f.db_dir = "/tmp/tinykv_db_bench." + std::to_string(getpid());
  fs::create_directories(f.db_dir);

  std::fprintf(stderr, "num=%" PRIu64 " value_size=%d runs=%d db_dir=%s\n", f.num, f.value_size,
               f.runs, f.db_dir.c_str());
  // results[engine][benchmark] = one value per run
  std::map<std::string, std::map<std::string, std::vector<double>>> results, cpu;
  std::map<std::string, std::string> names;
  for (int run = 0; run < f.runs; run++) {
    std::fprintf(stderr, "run %d/%d\n", run + 1, f.runs);
    for (const std::string& e : engines) {
      Runner r(f, e, (fs::path(f.db_dir) / e).string());
      std::map<std::string, double> cpu_run;
      for (auto& [b, v] : r.Run(benchmarks, &cpu_run)) results[e][b].push_back(v);
      for (auto& [b, v] : cpu_run) cpu[e][b].push_back(v);
      names[e] = r.name();
    }
  }
  fs::remove_all(f.db_dir);

  // The table: one row per workload, engines as columns, then ratios.
  std::printf("\nnum=%" PRIu64 " keys, 16-byte keys, %d-byte values, %s (%d run%s)\n", f.num,
              f.value_size, f.runs > 1 ? "median of runs" : "one run", f.runs,
              f.runs > 1 ? "s" : "");
  std::printf("%-11s %6s", "workload", "unit");
  for (const auto& e : engines) std::printf(" %13s", names[e].c_str());
  const bool have_tinykv = results.count("tinykv") > 0;
  for (const auto& e : engines) {
    if (e != "tinykv" && have_tinykv) std::printf(" %16s", ("TinyKV/" + names[e]).c_str());
  }
  std::printf("\n");
  for (const std::string& b : benchmarks) {
    std::printf("%-11s %6s", b.c_str(), Runner::Unit(b));
    for (const auto& e : engines) std::printf(" %13.1f", Median(results[e][b]));
    for (const auto& e : engines) {
      if (e == "tinykv" || !have_tinykv) continue;
      const double ratio = Median(results["tinykv"][b]) / Median(results[e][b]);
      std::printf(" %16.2f", ratio);
    }
    std::printf("\n");
  }
  // CPU per operation is far less sensitive than ops/s to other load on the
  // machine: it counts only this process's CPU (all its threads).
  std::printf("\nCPU microseconds per operation (user + sys, all threads of the process)\n");
  std::printf("%-11s %6s", "workload", "unit");
  for (const auto& e : engines) std::printf(" %13s", names[e].c_str());
  for (const auto& e : engines) {
    if (e != "tinykv" && have_tinykv) std::printf(" %16s", ("TinyKV/" + names[e]).c_str());
  }
  std::printf("\n");
  for (const std::string& b : benchmarks) {
    if (cpu[engines[0]][b].empty()) continue;
    std::printf("%-11s %6s", b.c_str(), "us/op");
    for (const auto& e : engines) std::printf(" %13.2f", Median(cpu[e][b]));
    for (const auto& e : engines) {
      if (e == "tinykv" || !have_tinykv) continue;
      std::printf(" %16.2f", Median(cpu["tinykv"][b]) / Median(cpu[e][b]));
    }
    std::printf("\n");
  }
  std::printf("(ratios: TinyKV value / other value; for ops/s higher is better, for ms, MiB and us/op "
              "lower is better. peakmem floor (this binary before any engine ran): %.1f MiB)\n",
              floor_mib);
  return 0;
}

}  // namespace
}  // namespace tinykv::bench

int main(int argc, char** argv) { return tinykv::bench::Main(argc, argv); }
