// MvccGroup: an in-process Raft group of n replicas of MvccStateMachine over
// loopback PeerHosts (one per "process"), as phase3_raft's replica tests
// build their groups. Replicas can be stopped and restarted on their data.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "tinykv/replica/peer_host.h"
#include "tinykv/replica/replica.h"
#include "tinykv/testing/test_util.h"
#include "tinykv/txn/mvcc_state_machine.h"
#include "tinykv/txn/txn_command.h"

namespace tinykv::txn::testing {

using namespace std::chrono_literals;

class MvccGroup {
 public:
  MvccGroup(const std::filesystem::path& dir, int n, uint64_t snapshot_threshold = 10000)
      : dir_(dir), threshold_(snapshot_threshold) {
    for (int i = 1; i <= n; ++i) {
      replica::PeerHostOptions o;
      o.node_id = i;
      o.io_threads = 1;
      hosts_[i] = replica::PeerHost::Start(o).value();
    }
    for (auto& [i, h] : hosts_)
      for (auto& [j, other] : hosts_)
        if (i != j) h->SetAddress(j, other->address());
    for (int i = 1; i <= n; ++i) Start(i);
  }
  ~MvccGroup() {
    for (auto& [i, r] : replicas_)
      if (r) r->Stop();
    replicas_.clear();
    for (auto& [i, h] : hosts_) h->Stop();
  }

  void Start(int i) {
    replica::ReplicaOptions o;
    o.group = 4;
    o.dir = dir_ / ("n" + std::to_string(i));
    for (auto& [j, h] : hosts_) o.peers[j] = h->address();
    o.tick_ms = 20;
    o.snapshot_threshold = threshold_;
    o.sync = false;
    auto sm = MvccStateMachine::Open(o.dir / "mvcc").value();
    sms_[i] = sm.get();
    replicas_[i] = replica::Replica::Open(o, hosts_.at(i).get(), std::move(sm)).value();
  }
  void Stop(int i) {
    replicas_.at(i)->Stop();
    replicas_[i].reset();
    sms_[i] = nullptr;
  }

  // The id of a replica that reports itself leader, 0 if none within `timeout`.
  int WaitLeader(std::chrono::milliseconds timeout = 10s) {
    int id = 0;
    ::tinykv::testing::WaitUntil(
        [&] {
          for (auto& [i, r] : replicas_)
            if (r && r->GetStatus().role == "leader") {
              id = i;
              return true;
            }
          return false;
        },
        timeout);
    return id;
  }

  // Proposes `cmd` at the leader, retrying elections; the applied outcome.
  Result<TxnCommandResult> Propose(const TxnCommand& cmd) {
    return ProposeBytes(EncodeTxnCommand(cmd));
  }
  Result<TxnCommandResult> ProposeBytes(const std::string& bytes) {
    Status last = Status::Unavailable("no leader");
    for (int attempt = 0; attempt < 100; ++attempt) {
      const int id = WaitLeader();
      if (id == 0) return Status::Unavailable("no leader");
      auto r = replicas_.at(id)->ProposeSync(bytes, 3s);
      if (r.ok()) return DecodeTxnCommandResult(Slice(*r));
      last = r.status();
      if (!(last.IsNotLeader() || last.IsAborted() || last.IsBusy())) return last;
      std::this_thread::sleep_for(20ms);
    }
    return last;
  }

  replica::Replica* replica(int i) { return replicas_.at(i).get(); }
  MvccStateMachine* sm(int i) { return sms_.at(i); }
  int size() const { return static_cast<int>(hosts_.size()); }

 private:
  std::filesystem::path dir_;
  uint64_t threshold_;
  std::map<int, std::unique_ptr<replica::PeerHost>> hosts_;
  std::map<int, std::unique_ptr<replica::Replica>> replicas_;
  std::map<int, MvccStateMachine*> sms_;
};

}  // namespace tinykv::txn::testing
