// State hash check benchmark (replica/hash_check.h): how long a check takes
// on a large state.
//
//   1. hash alone: KvStateMachine::Hash() over N user keys (16-byte keys,
//      V-byte values) -- one pass over the engine, every block checksum
//      verified -- timed R times, next to the same pass without hashing;
//   2. round trip: three KvNodes on loopback whose engines hold the same N
//      keys; CheckStateHashSync on the leader (propose the check entry,
//      commit, every replica hashes, the leader gathers and compares the
//      hashes), timed R times. The three replicas hash at the same time, on
//      however many cores the machine has.
//
// The keys are written straight into one engine (batches of 1,000, then a
// flush and a wait for compactions) and the engine is copied to the other
// two members before they open, so the benchmark does not measure 1 M Raft
// proposals.
//
//   build/ci/phase3_raft/tinykv_raft_hash_bench [--keys N] [--value-bytes V] [--repeat R]
//                                               [--dir D]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tinykv/common/logging.h"
#include "tinykv/common/random.h"
#include "tinykv/replica/data_dir.h"
#include "tinykv/replica/kv_node.h"
#include "tinykv/replica/kv_state_machine.h"
#include "tinykv/storage/db.h"
#include "tinykv/storage/write_batch.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

void Fail(const std::string& what, const tinykv::Status& s) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

// Writes N keys into the engine of KvStateMachine at `kv_dir` (its db/).
void Load(const fs::path& kv_dir, uint64_t keys, size_t value_bytes) {
  fs::create_directories(kv_dir);
  tinykv::storage::Options o;
  o.create_if_missing = true;
  auto db = tinykv::storage::DB::Open(o, kv_dir / "db");
  if (!db.ok()) Fail("open engine", db.status());
  tinykv::Random rnd(42);
  std::string value(value_bytes, '\0');
  char key[32];
  for (uint64_t i = 0; i < keys;) {
    tinykv::storage::WriteBatch batch;
    for (int j = 0; j < 1000 && i < keys; ++j, ++i) {
      std::snprintf(key, sizeof(key), "dkey%012llu", static_cast<unsigned long long>(i));
      for (char& ch : value) ch = static_cast<char>('a' + rnd.Uniform(26));
      batch.Put(tinykv::Slice(key), tinykv::Slice(value));
    }
    if (auto s = (*db)->Write(tinykv::storage::WriteOptions{}, batch); !s.ok()) Fail("write", s);
  }
  if (auto s = (*db)->Flush(); !s.ok()) Fail("flush", s);
  if (auto s = (*db)->WaitForBackgroundWork(); !s.ok()) Fail("compact", s);
}

void Summary(const char* what, std::vector<double> ms, uint64_t keys, double mb) {
  std::sort(ms.begin(), ms.end());
  const double med = ms[ms.size() / 2];
  std::printf("%-34s min %8.1f ms  median %8.1f ms  max %8.1f ms  (%.2f M keys/s, %.0f MB/s at "
              "the median)\n",
              what, ms.front(), med, ms.back(), keys / med / 1000.0, mb / (med / 1000.0));
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir = fs::temp_directory_path() / ("tinykv-hash-bench-" + std::to_string(::getpid()));
  uint64_t keys = 1000000;
  size_t value_bytes = 100;
  int repeat = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--dir") dir = argv[i + 1];
    else if (a == "--keys") keys = std::stoull(argv[i + 1]);
    else if (a == "--value-bytes") value_bytes = std::stoul(argv[i + 1]);
    else if (a == "--repeat") repeat = std::max(1, std::stoi(argv[i + 1]));
  }
  for (const char* name : {"raft", "raft.node", "raft.peer", "net", "storage"})
    tinykv::logging::Get(name)->set_level(spdlog::level::warn);
  fs::remove_all(dir);
  const double mb = keys * (16.0 + value_bytes) / 1e6;
  const fs::path kv1 = tinykv::replica::GroupDir(dir / "n1", 1) / "kv";
  const auto load_start = Clock::now();
  Load(kv1, keys, value_bytes);
  std::printf("loaded %llu keys (%zu-byte values, %.0f MB of keys and values) in %.1f s, %s\n",
              static_cast<unsigned long long>(keys), value_bytes, mb,
              Ms(Clock::now() - load_start) / 1000.0, dir.c_str());

  {
    // What the hash costs over reading: the same pass without hashing.
    tinykv::storage::Options o;
    auto db = tinykv::storage::DB::Open(o, kv1 / "db");
    if (!db.ok()) Fail("open engine", db.status());
    tinykv::storage::ReadOptions ro;
    ro.verify_checksums = true;
    ro.fill_cache = false;
    std::vector<double> ms;
    for (int r = 0; r < repeat; ++r) {
      const auto t = Clock::now();
      auto it = (*db)->NewIterator(ro);
      uint64_t bytes = 0;
      for (it->SeekToFirst(); it->Valid(); it->Next()) bytes += it->key().size() + it->value().size();
      ms.push_back(Ms(Clock::now() - t));
      if (!it->status().ok() || bytes == 0) Fail("scan", it->status());
    }
    Summary("engine scan alone (no hashing)", ms, keys, mb);
  }

  uint64_t expected = 0;
  {
    auto sm = tinykv::replica::KvStateMachine::Open(kv1);
    if (!sm.ok()) Fail("open state machine", sm.status());
    std::vector<double> ms;
    for (int r = 0; r < repeat; ++r) {
      const auto t = Clock::now();
      auto h = (*sm)->Hash();
      ms.push_back(Ms(Clock::now() - t));
      if (!h.ok()) Fail("hash", h.status());
      expected = *h;
    }
    Summary("state machine Hash()", ms, keys, mb);
  }

  for (int i = 2; i <= 3; ++i) {
    const fs::path to = tinykv::replica::GroupDir(dir / ("n" + std::to_string(i)), 1) / "kv";
    fs::create_directories(to);
    fs::copy(kv1 / "db", to / "db", fs::copy_options::recursive);
  }
  std::vector<std::unique_ptr<tinykv::replica::KvNode>> nodes;
  for (int i = 1; i <= 3; ++i) {
    tinykv::replica::KvNodeOptions o;
    o.id = i;
    o.data_dir = dir / ("n" + std::to_string(i));
    for (int j = 1; j <= 3; ++j) o.peers[j] = "";
    o.tick_ms = 50;
    // 1-2 s: three replicas hashing on few cores must not look like a dead leader.
    o.election_ticks = 20;
    o.io_threads = 1;
    o.hash_check_timeout_ms = 120000;
    auto n = tinykv::replica::KvNode::Open(o);
    if (!n.ok()) Fail("open node", n.status());
    nodes.push_back(std::move(n).value());
  }
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      if (i != j)
        nodes[i]->SetPeerAddress(j + 1, "127.0.0.1:" + std::to_string(nodes[j]->peer_port()));
  std::vector<double> ms;
  for (int r = 0; r < repeat; ++r) {
    tinykv::replica::KvNode* leader = nullptr;
    while (leader == nullptr) {
      for (auto& n : nodes)
        if (n->GetStatus().role == "leader") leader = n.get();
      if (leader == nullptr) std::this_thread::sleep_for(10ms);
    }
    const auto t = Clock::now();
    auto rep = leader->CheckStateHashSync(120s);
    ms.push_back(Ms(Clock::now() - t));
    if (!rep.ok()) Fail("check", rep.status());
    if (rep->hashes.size() != 3 || !rep->majority || !rep->corrupt.empty()) {
      std::fprintf(stderr, "check %d at index %llu: %zu hashes, %zu corrupt\n", r,
                   static_cast<unsigned long long>(rep->index), rep->hashes.size(),
                   rep->corrupt.size());
      return 1;
    }
    if (r == 0) {
      // The hash at the check entry also covers the applied index and the
      // configuration, so it differs from the bare engine's above.
      std::printf("check at index %llu: 3 of 3 agree on %016llx (engine alone: %016llx)\n",
                  static_cast<unsigned long long>(rep->index),
                  static_cast<unsigned long long>(*rep->majority),
                  static_cast<unsigned long long>(expected));
    }
  }
  Summary("full check, 3 replicas (round trip)", ms, keys, mb);
  for (auto& n : nodes) n->Stop();
  nodes.clear();
  fs::remove_all(dir);
  return 0;
}
