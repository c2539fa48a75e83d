// Helpers shared by the KvNode test fixtures (kv_node_test.cc,
// kv_node_member_test.cc, replica_fault_test.cc, hash_check_test.cc).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "tinykv/common/check.h"
#include "tinykv/common/result.h"
#include "tinykv/common/status.h"
#include "tinykv/replica/kv_node.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::replica::node_test {
using namespace raft;  // NOLINT: core types in tests

// Runs attempt(node) at the node leader() names (nullptr: none, which is
// Unavailable) until it returns anything but a transient refusal
// (transient(status): an election in progress and the like), at most `tries`
// times 20 ms apart; returns the last outcome.
template <typename T, typename LeaderFn, typename Attempt, typename Transient>
Result<T> RetryAtLeader(LeaderFn leader, Attempt attempt, Transient transient, int tries) {
  Status last = Status::Unavailable("no attempt made");
  for (int i = 0; i < tries; ++i) {
    auto* node = leader();
    if (node == nullptr) return Status::Unavailable("no leader");
    Result<T> r = attempt(node);
    if (r.ok() || !transient(r.status())) return r;
    last = r.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return last;
}

// Waits until node's applied state holds `value` for `key` (nullopt: absent).
inline bool WaitValue(KvNode* node, const std::string& key,
                      const std::optional<std::string>& value,
                      std::chrono::milliseconds timeout) {
  return ::tinykv::testing::WaitUntil(
      [&] {
        auto r = node->Get(key);
        return r.ok() && *r == value;
      },
      timeout);
}

// Refusals a client retries at the leader: an election or a transfer in
// progress, a full tail, a member that cannot serve.
inline bool TransientRefusal(const Status& s) {
  return s.IsNotLeader() || s.IsAborted() || s.IsBusy() || s.IsUnavailable() ||
         s.IsResourceExhausted();  // a full disk, until space returns
}

// n KvNodes of group 1 in this process on loopback (OS-assigned peer
// ports, data dirs <temp>/n<i>, 20 ms ticks, no fsync unless `tune` says so);
// `tune` adjusts a node's options before it opens. Every started node knows
// the others' peer ports.
class KvNodes {
 public:
  using Tune = std::function<void(int id, KvNodeOptions&)>;
  explicit KvNodes(int n, Tune tune = {}, bool start = true) : n_(n), tune_(std::move(tune)) {
    if (start) StartAll();
  }
  ~KvNodes() { StopAll(); }
  void StartAll() {
    for (int i = 1; i <= n_; ++i) Start(i);
  }
  void StopAll() {
    for (auto& [i, nd] : nodes_)
      if (nd) Stop(i);
  }
  void Start(int i) {
    KvNodeOptions o;
    o.id = i;
    o.data_dir = data_dir(i);
    for (int j = 1; j <= n_; ++j) o.peers[j] = "";
    o.tick_ms = 20;
    o.sync = false;
    o.io_threads = 1;
    if (tune_) tune_(i, o);
    auto r = KvNode::Open(o);
    TINYKV_CHECK(r.ok()) << r.status().ToString();
    nodes_[i] = std::move(r).value();
    for (auto& [j, a] : nodes_) {
      if (!a) continue;
      for (auto& [k, b] : nodes_)
        if (b && j != k) a->SetPeerAddress(k, "127.0.0.1:" + std::to_string(b->peer_port()));
    }
  }
  void Stop(int i) {
    nodes_[i]->Stop();
    nodes_[i].reset();
  }
  KvNode* node(int i) { return nodes_[i].get(); }
  std::filesystem::path data_dir(int i) const { return dir_.path() / ("n" + std::to_string(i)); }
  // Waits for a leader among the running nodes but `excluding`.
  int Leader(std::set<int> excluding = {},
             std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      for (auto& [i, nd] : nodes_)
        if (nd && !excluding.count(i) && nd->GetStatus().role == "leader") return i;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return 0;
  }
  KvNode* LeaderNode(std::set<int> excluding = {}) {
    const int l = Leader(std::move(excluding));
    return l == 0 ? nullptr : nodes_[l].get();
  }
  // attempt(leader) until it returns anything but a TransientRefusal.
  template <typename T, typename Attempt>
  Result<T> AtLeader(Attempt attempt, std::set<int> excluding = {}, int tries = 200) {
    return RetryAtLeader<T>([&] { return LeaderNode(excluding); }, attempt, TransientRefusal,
                            tries);
  }
  Result<KvCommandResult> Propose(const KvCommand& c, std::set<int> excluding = {}) {
    return AtLeader<KvCommandResult>(
        [&](KvNode* n) { return n->ProposeSync(c, std::chrono::seconds(2)); },
        std::move(excluding));
  }
  Result<KvCommandResult> PutAnywhere(const std::string& k, const std::string& v,
                                      std::set<int> excluding = {}) {
    KvCommand c;
    c.key = k;
    c.value = v;
    return Propose(c, std::move(excluding));
  }

 private:
  ::tinykv::testing::TempDir dir_;
  int n_;
  Tune tune_;
  std::map<int, std::unique_ptr<KvNode>> nodes_;
};

}  // namespace tinykv::replica::node_test
