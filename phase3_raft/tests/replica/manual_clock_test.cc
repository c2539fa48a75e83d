// Real nodes on a ManualClock: elections, check-quorum and proposal deadlines
// run on the time the test moves, not on the wall clock (replica.h "Time").
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "tinykv/common/clock.h"
#include "tinykv/replica/kv_node.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::replica {
namespace {

using namespace std::chrono_literals;

constexpr int kTickMs = 20;
constexpr int kElectionTicks = 10;

class ManualCluster {
 public:
  ManualCluster() {
    for (int i = 1; i <= 3; ++i) {
      KvNodeOptions o;
      o.id = i;
      o.data_dir = dir_.path() / ("n" + std::to_string(i));
      for (int j = 1; j <= 3; ++j) o.peers[j] = "";
      o.tick_ms = kTickMs;
      o.election_ticks = kElectionTicks;
      o.sync = false;
      o.io_threads = 1;
      o.clock = &clock_;
      nodes_[i] = KvNode::Open(o).value();
    }
    for (int i = 1; i <= 3; ++i)
      for (int j = 1; j <= 3; ++j)
        if (i != j) nodes_[i]->SetPeerAddress(j, "127.0.0.1:" + std::to_string(nodes_[j]->peer_port()));
  }
  ~ManualCluster() {
    for (auto& [i, n] : nodes_) n->Stop();
  }

  // Moves the clock one tick at a time and waits until every node has taken
  // that tick (each node ticks at most once per poll of the clock).
  void AdvanceTicks(int n) {
    for (int k = 0; k < n; ++k) {
      clock_.Advance(kTickMs * 1000);
      ++ticks_;
      const auto deadline = std::chrono::steady_clock::now() + 5s;
      for (auto& [i, node] : nodes_) {
        while (node->GetStatus().ticks < ticks_) {
          ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "node " << i << " did not tick";
          std::this_thread::sleep_for(1ms);
        }
      }
      // Let the messages of this tick settle (loopback round trips).
      std::this_thread::sleep_for(2ms);
    }
  }
  int Leader() {
    for (auto& [i, n] : nodes_)
      if (n->GetStatus().role == "leader") return i;
    return 0;
  }
  KvNode* node(int i) { return nodes_[i].get(); }
  uint64_t ticks() const { return ticks_; }

 private:
  ::tinykv::testing::TempDir dir_;
  ManualClock clock_{1'000'000};
  uint64_t ticks_ = 0;
  std::map<int, std::unique_ptr<KvNode>> nodes_;
};

TEST(ReplicaManualClock, ElectionWaitsForClockTimeNotWallTime) {
  ManualCluster c;
  // No node may campaign before its election timeout of clock time.
  c.AdvanceTicks(kElectionTicks - 1);
  EXPECT_EQ(c.Leader(), 0) << "a leader after " << c.ticks() << " ticks";
  int ticks = kElectionTicks - 1;
  while (c.Leader() == 0 && ticks < 10 * kElectionTicks) {
    c.AdvanceTicks(1);
    ++ticks;
  }
  EXPECT_NE(c.Leader(), 0) << "no leader after " << ticks << " ticks";
  EXPECT_GE(ticks, kElectionTicks);
}

TEST(ReplicaManualClock, DeadlinesAndCheckQuorumRunOnTheManualClock) {
  ManualCluster c;
  int l = 0;
  for (int t = 0; t < 10 * kElectionTicks && l == 0; ++t) {
    c.AdvanceTicks(1);
    l = c.Leader();
  }
  ASSERT_NE(l, 0);
  // Cut the leader off; propose with a deadline of 30 ticks of clock time.
  for (int i = 1; i <= 3; ++i) {
    std::set<uint64_t> drop;
    for (int j = 1; j <= 3; ++j)
      if ((i == l) != (j == l)) drop.insert(j);
    c.node(i)->SetDroppedPeers(drop);
  }
  auto p = std::make_shared<std::promise<Status>>();
  auto f = p->get_future();
  KvCommand cmd;
  cmd.key = "k";
  cmd.value = "v";
  c.node(l)->Propose(cmd, std::chrono::milliseconds(30 * kTickMs),
                     [p](Result<KvCommandResult> r) { p->set_value(r.status()); });
  // Half the timeout and less than an election timeout: still leader, still pending.
  c.AdvanceTicks(kElectionTicks / 2);
  EXPECT_EQ(c.node(l)->GetStatus().role, "leader");
  EXPECT_EQ(f.wait_for(0ms), std::future_status::timeout) << "completed early";
  // Past two election timeouts without a quorum, check-quorum demotes it;
  // the proposal's outcome is still unknown, and it waits for its deadline.
  c.AdvanceTicks(2 * kElectionTicks + 1);  // 26 ticks in
  EXPECT_NE(c.node(l)->GetStatus().role, "leader");
  EXPECT_EQ(f.wait_for(0ms), std::future_status::timeout) << "completed before its deadline";
  c.AdvanceTicks(5);  // 31 ticks: past the deadline of clock time
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  Status s = f.get();
  EXPECT_TRUE(s.IsTimeout()) << s.ToString();
}

}  // namespace
}  // namespace tinykv::replica
