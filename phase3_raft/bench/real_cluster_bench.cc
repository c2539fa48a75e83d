// Real-cluster write benchmark: three members in this process on loopback TCP
// with real files and fsync on; closed-loop clients (each waits for its write
// to apply on the leader before sending the next) writing 256-byte values.
// Prints, per concurrency level, throughput, p50 and p99 latency, log entries
// per fdatasync on the leader(s), the fdatasyncs per second of all replicas,
// and the machine's raw fsync rate measured in the same directory (4 KiB
// write + fdatasync).
//
// --groups G (default 1) runs G Raft groups over three shared PeerHosts (three
// "processes", each hosting one replica of every group); the clients of a
// level are spread round-robin over the groups' leaders, and the throughput is
// the aggregate. With G = 1 each node has its own host, as tinykv-server does.
//
//   build/ci/phase3_raft/tinykv_raft_real_bench [--dir D] [--seconds S] [--clients 1,16,64,256]
//                                               [--groups G]
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fsync_probe.h"
#include "tinykv/common/logging.h"
#include "tinykv/replica/kv_node.h"
#include "tinykv/replica/peer_host.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using tinykv::replica::KvCommand;
using tinykv::replica::KvCommandResult;
using tinykv::bench::FsyncProbe;
using tinykv::bench::RawFsyncRate;
using tinykv::replica::KvNode;

namespace {

struct Row {
  int clients;
  double ops_per_sec;
  double p50_ms, p99_ms;
  double entries_per_fsync;
  double fsyncs_per_sec;  // all replicas of all groups
  uint64_t ops, errors;
};

// One group's members.
using Group = std::vector<std::unique_ptr<KvNode>>;

KvNode* WaitLeader(Group& nodes) {
  for (;;) {
    for (auto& n : nodes)
      if (n->GetStatus().role == "leader") return n.get();
    std::this_thread::sleep_for(10ms);
  }
}

uint64_t AllFsyncs(std::vector<Group>& groups) {
  uint64_t n = 0;
  for (auto& g : groups)
    for (auto& node : g) n += node->GetStatus().log_fsyncs;
  return n;
}

Row RunLevel(std::vector<Group>& groups, int clients, double seconds) {
  std::vector<KvNode*> leaders;
  for (auto& g : groups) leaders.push_back(WaitLeader(g));
  std::mutex mu;
  std::condition_variable cv;
  std::vector<double> lat;
  lat.reserve(1 << 20);
  std::atomic<uint64_t> errors{0};
  std::atomic<bool> stop{false};
  int running = clients;
  const std::string value(256, 'v');
  std::vector<tinykv::replica::KvNodeStatus> before;
  for (KvNode* l : leaders) before.push_back(l->GetStatus());
  const uint64_t fsyncs_before = AllFsyncs(groups);
  const auto t0 = Clock::now();
  const auto t_end = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::function<void(int, uint64_t)> issue = [&](int c, uint64_t n) {
    KvCommand cmd;
    cmd.key = "c" + std::to_string(c) + "-" + std::to_string(n % 1000);
    cmd.value = value;
    auto start = Clock::now();
    KvNode* l = leaders[static_cast<size_t>(c) % leaders.size()];
    l->Propose(std::move(cmd), 10s, [&, c, n, start](tinykv::Result<KvCommandResult> r) {
      auto now = Clock::now();
      {
        std::lock_guard<std::mutex> g(mu);
        if (r.ok()) {
          lat.push_back(std::chrono::duration<double, std::milli>(now - start).count());
        } else {
          ++errors;
        }
      }
      if (now >= t_end || stop) {
        std::lock_guard<std::mutex> g(mu);
        if (--running == 0) cv.notify_all();
        return;
      }
      issue(c, n + 1);
    });
  };
  for (int c = 0; c < clients; ++c) issue(c, 0);
  {
    std::unique_lock<std::mutex> g(mu);
    cv.wait(g, [&] { return running == 0; });
  }
  const double el = std::chrono::duration<double>(Clock::now() - t0).count();
  const uint64_t fsyncs_after = AllFsyncs(groups);
  std::sort(lat.begin(), lat.end());
  Row row{};
  row.clients = clients;
  row.ops = lat.size();
  row.errors = errors;
  row.ops_per_sec = lat.size() / el;
  row.p50_ms = lat.empty() ? 0 : lat[lat.size() / 2];
  row.p99_ms = lat.empty() ? 0 : lat[std::min(lat.size() - 1, lat.size() * 99 / 100)];
  double fsyncs = 0, entries = 0;
  for (size_t i = 0; i < leaders.size(); ++i) {
    const auto after = leaders[i]->GetStatus();
    fsyncs += static_cast<double>(after.log_fsyncs - before[i].log_fsyncs);
    entries += static_cast<double>(after.log_entries_written - before[i].log_entries_written);
  }
  row.entries_per_fsync = fsyncs > 0 ? entries / fsyncs : 0;
  row.fsyncs_per_sec = static_cast<double>(fsyncs_after - fsyncs_before) / el;
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir = fs::temp_directory_path() / ("tinykv-raft-bench-" + std::to_string(::getpid()));
  double seconds = 5;
  std::vector<int> levels = {1, 16, 64, 256};
  int ngroups = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--dir") dir = argv[i + 1];
    else if (a == "--groups") ngroups = std::max(1, std::stoi(argv[i + 1]));
    else if (a == "--seconds") seconds = std::stod(argv[i + 1]);
    else if (a == "--clients") {
      levels.clear();
      std::stringstream ss(argv[i + 1]);
      std::string t;
      while (std::getline(ss, t, ',')) levels.push_back(std::stoi(t));
    }
  }
  tinykv::logging::Get("raft")->set_level(spdlog::level::warn);
  tinykv::logging::Get("raft.node")->set_level(spdlog::level::warn);
  tinykv::logging::Get("net")->set_level(spdlog::level::warn);
  fs::remove_all(dir);
  fs::create_directories(dir);

  // The disk may be shared and noisy: probe before and after the cluster runs
  // and compare against the mean.
  const FsyncProbe before = RawFsyncRate(dir, 2.0);
  std::printf("raw fsync rate in %s before: %.0f fdatasync/s, p50 %.2f ms, p99 %.2f ms "
              "(4 KiB write + fdatasync loop, 2 s)\n",
              dir.c_str(), before.per_sec, before.p50_ms, before.p99_ms);
  double raw = before.per_sec;

  // G > 1: three shared hosts, one replica of every group on each.
  std::vector<std::unique_ptr<tinykv::replica::PeerHost>> hosts;
  std::map<uint64_t, std::string> peers;
  if (ngroups > 1) {
    for (int i = 1; i <= 3; ++i) {
      tinykv::replica::PeerHostOptions ho;
      ho.node_id = i;
      ho.io_threads = 1;
      auto h = tinykv::replica::PeerHost::Start(ho);
      if (!h.ok()) {
        std::fprintf(stderr, "peer host %d: %s\n", i, h.status().ToString().c_str());
        return 1;
      }
      peers[i] = (*h)->address();
      hosts.push_back(std::move(h).value());
    }
    for (auto& h : hosts)
      for (const auto& [id, addr] : peers)
        if (id != h->node_id()) h->SetAddress(id, addr);
  }
  std::vector<Group> groups(ngroups);
  for (int g = 1; g <= ngroups; ++g) {
    for (int i = 1; i <= 3; ++i) {
      tinykv::replica::KvNodeOptions o;
      o.id = i;
      o.group = g;
      o.data_dir = dir / ("n" + std::to_string(i));
      for (int j = 1; j <= 3; ++j) o.peers[j] = ngroups > 1 ? peers[j] : "";
      if (ngroups > 1) o.host = hosts[i - 1].get();
      o.tick_ms = 50;
      o.sync = true;
      o.io_threads = 1;
      auto r = KvNode::Open(o);
      if (!r.ok()) {
        std::fprintf(stderr, "open node %d of group %d: %s\n", i, g, r.status().ToString().c_str());
        return 1;
      }
      groups[g - 1].push_back(std::move(r).value());
    }
  }
  if (ngroups == 1) {
    Group& nodes = groups[0];
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        if (i != j) nodes[i]->SetPeerAddress(j + 1, "127.0.0.1:" + std::to_string(nodes[j]->peer_port()));
  } else {
    // Spread the leaders: group g led by node (g - 1) % 3 + 1.
    for (int g = 1; g <= ngroups; ++g) {
      KvNode* l = WaitLeader(groups[g - 1]);
      const uint64_t want = static_cast<uint64_t>((g - 1) % 3 + 1);
      if (l->GetStatus().id != want) (void)l->TransferLeadership(want, 5s);
    }
  }

  std::vector<Row> rows;
  for (int c : levels) rows.push_back(RunLevel(groups, c, seconds));
  for (auto& g : groups)
    for (auto& n : g) n->Stop();
  groups.clear();
  for (auto& h : hosts) h->Stop();
  const FsyncProbe after = RawFsyncRate(dir, 2.0);
  std::printf("raw fsync rate after: %.0f fdatasync/s, p50 %.2f ms, p99 %.2f ms\n",
              after.per_sec, after.p50_ms, after.p99_ms);
  raw = (before.per_sec + after.per_sec) / 2;
  std::printf("ratio column: writes/s divided by the mean raw rate %.0f fdatasync/s\n\n", raw);
  std::printf("groups: %d (3 replicas each%s)\n\n", ngroups,
              ngroups > 1 ? ", over 3 shared peer hosts, leaders spread" : "");
  std::printf("| clients | writes/s | p50 ms | p99 ms | entries/fsync (leader) | fsyncs/s (all replicas) "
              "| writes/s vs raw fsync/s | errors |\n");
  std::printf("|--:|--:|--:|--:|--:|--:|--:|--:|\n");
  for (const Row& r : rows) {
    std::printf("| %d | %.0f | %.2f | %.2f | %.1f | %.0f | %.2fx | %llu |\n", r.clients,
                r.ops_per_sec, r.p50_ms, r.p99_ms, r.entries_per_fsync, r.fsyncs_per_sec,
                raw > 0 ? r.ops_per_sec / raw : 0, static_cast<unsigned long long>(r.errors));
  }
  fs::remove_all(dir);
  return 0;
}
