// The state hash check on real nodes (3 KvNodes on loopback, real files): a
// member whose engine was altered while it was stopped is found by name,
// refuses to serve, hands leadership away, and stays flagged across a
// restart until its state agrees again; identical replicas never raise the
// alarm; without the check the altered member serves its wrong value.
#include <atomic>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "node_test_util.h"
#include "replica/peer_protocol.h"
#include "tinykv/net/client.h"
#include "tinykv/replica/data_dir.h"
#include "tinykv/replica/kv_node.h"
#include "tinykv/storage/db.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::replica {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class HashCluster : public node_test::KvNodes {
 public:
  explicit HashCluster(std::function<void(KvNodeOptions&)> tune = {})
      : KvNodes(3, [tune](int, KvNodeOptions& o) {
          if (tune) tune(o);
        }) {}
  // Moves leadership to x. Retried: a member that just restarted ignores a
  // transfer until it has replayed its configuration from the log.
  bool MakeLeader(int x) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      const int l = Leader();
      if (l == x) return true;
      if (l != 0 && node(l)->TransferLeadership(x, 1s).ok()) return true;
    }
    return false;
  }
  Result<HashCheckReport> Check() {
    return AtLeader<HashCheckReport>([](KvNode* n) { return n->CheckStateHashSync(10s); });
  }
  // A linearizable read at the leader (not `excluding`).
  Result<std::optional<std::string>> Read(const std::string& k, std::set<int> excluding = {}) {
    return AtLeader<std::optional<std::string>>(
        [&](KvNode* n) -> Result<std::optional<std::string>> {
          TINYKV_RETURN_IF_ERROR(n->ReadBarrierSync(2s));
          return n->Get(k);
        },
        std::move(excluding));
  }

  // Writes k0..k49 and waits until every member applied them.
  void Load() {
    for (int i = 0; i < 50; ++i) {
      auto r = PutAnywhere("k" + std::to_string(i), "v" + std::to_string(i));
      TINYKV_CHECK(r.ok()) << r.status().ToString();
    }
    for (int i = 1; i <= 3; ++i)
      TINYKV_CHECK(node_test::WaitValue(node(i), "k49", "v49", 10s)) << "node " << i;
  }
  // Load(), then stops a follower, sets `key` to `value` (nullopt: deletes it) directly in its
  // engine -- as damage or a stray edit would -- and restarts it. Returns
  // the altered member.
  int AlterAFollower(const std::string& key, std::optional<std::string> value) {
    Load();
    const int x = Leader() % 3 + 1;
    Stop(x);
    AlterEngine(x, key, std::move(value));
    Start(x);
    return x;
  }
  void AlterEngine(int x, const std::string& key, std::optional<std::string> value) {
    storage::Options o;
    auto db = storage::DB::Open(o, GroupDir(data_dir(x), 1) / "kv" / "db").value();
    const std::string raw = "d" + key;  // KvStateMachine's user key space (kv_state_machine.h)
    Status s = value ? db->Put(storage::WriteOptions{}, Slice(raw), Slice(*value))
                     : db->Delete(storage::WriteOptions{}, Slice(raw));
    TINYKV_CHECK(s.ok()) << s.ToString();
  }
};

bool Mentions(const Status& s, const std::string& text) {
  return s.ToString().find(text) != std::string::npos;
}

// A follower altered while stopped: the leader's check names it, it learns
// its verdict, and it refuses every read -- serializable ones too -- while
// the other two go on.
TEST(HashCheckTest, FollowerWithAnAlteredEngineIsFlaggedCorruptByName) {
  HashCluster c;
  const int x = c.AlterAFollower("k7", "altered");
  auto rep = c.Check();
  ASSERT_OK(rep.status());
  EXPECT_EQ(rep->corrupt, std::vector<uint64_t>{static_cast<uint64_t>(x)});
  ASSERT_TRUE(rep->majority.has_value());
  ASSERT_EQ(rep->hashes.size(), 3u);
  for (const auto& [m, h] : rep->hashes)
    EXPECT_EQ(h == *rep->majority, m != static_cast<uint64_t>(x)) << "member " << m;
  ASSERT_TRUE(::tinykv::testing::WaitUntil([&] { return !c.node(x)->GetStatus().alarm.empty(); },
                                           10s));
  const std::string alarm = c.node(x)->GetStatus().alarm;
  EXPECT_NE(alarm.find("state hash mismatch at index " + std::to_string(rep->index)),
            std::string::npos)
      << alarm;
  auto got = c.node(x)->Get("k1");
  ASSERT_TRUE(got.status().IsUnavailable()) << got.status().ToString();
  EXPECT_TRUE(Mentions(got.status(), "CORRUPT")) << got.status().ToString();
  EXPECT_TRUE(Mentions(got.status(), "hash mismatch")) << got.status().ToString();
  EXPECT_FALSE(c.node(x)->ReadBarrierSync(1s).ok());
  // The healthy two serve writes and linearizable reads, with the right value.
  ASSERT_OK(c.PutAnywhere("after", "1", {x}).status());
  auto v = c.Read("k7", {x});
  ASSERT_OK(v.status());
  EXPECT_EQ(*v, std::optional<std::string>("v7"));
  for (int i = 1; i <= 3; ++i) {
    if (i == x) continue;
    EXPECT_EQ(c.node(i)->GetStatus().alarm, "") << "node " << i;
  }
}

// The altered member leads when the check runs: it finds itself the odd one
// out, refuses the proposal and the read that were queued right behind the
// check (Unavailable naming the mismatch), and hands leadership away.
TEST(HashCheckTest, LeaderWithAnAlteredEngineFindsItselfOddAndHandsLeadershipAway) {
  HashCluster c;
  const int x = c.AlterAFollower("k7", std::nullopt);  // a lost key
  ASSERT_TRUE(c.MakeLeader(x));
  KvNode* nx = c.node(x);
  std::promise<Result<HashCheckReport>> report;
  std::promise<Status> write, read;
  nx->CheckStateHash(10s, [&](Result<HashCheckReport> r) {
    report.set_value(std::move(r));
    // Queued on x's driver right behind the verdict, while x still leads.
    KvCommand cmd;
    cmd.key = "during";
    nx->Propose(cmd, 2s, [&](Result<KvCommandResult> w) { write.set_value(w.status()); });
    nx->ReadBarrier(2s, [&](Status s) { read.set_value(s); });
  });
  auto rep = report.get_future().get();
  ASSERT_OK(rep.status());
  EXPECT_EQ(rep->corrupt, std::vector<uint64_t>{static_cast<uint64_t>(x)});
  const Status ws = write.get_future().get(), rs = read.get_future().get();
  EXPECT_TRUE(ws.IsUnavailable() && Mentions(ws, "hash mismatch")) << ws.ToString();
  EXPECT_TRUE(rs.IsUnavailable() && Mentions(rs, "hash mismatch")) << rs.ToString();
  EXPECT_NE(nx->GetStatus().alarm.find("the leader"), std::string::npos) << nx->GetStatus().alarm;
  // Leadership moves to a healthy member, which serves the right state.
  ASSERT_NE(c.Leader({x}), 0);
  ASSERT_OK(c.PutAnywhere("after", "1", {x}).status());
  auto v = c.Read("k7", {x});
  ASSERT_OK(v.status());
  EXPECT_EQ(*v, std::optional<std::string>("v7"));
  EXPECT_NE(nx->GetStatus().role, "leader");
}

// Negative control: the same altered member with no check (the library's
// default) leads and serves its wrong state through a linearizable read.
TEST(HashCheckTest, NegativeControlWithoutTheCheckTheAlteredLeaderServesItsWrongValue) {
  HashCluster c;
  const int x = c.AlterAFollower("k7", "altered");
  ASSERT_TRUE(c.MakeLeader(x));
  ASSERT_OK(c.node(x)->ReadBarrierSync(2s));
  EXPECT_EQ(c.node(x)->Get("k7").value(), std::optional<std::string>("altered"));
  EXPECT_EQ(c.node(x)->GetStatus().alarm, "");
}

// With the startup check on, nobody triggers anything: the restarted
// member asks for a check when it starts and is flagged.
TEST(HashCheckTest, StartupCheckFlagsARestartedAlteredMemberWithoutATrigger) {
  HashCluster c([](KvNodeOptions& o) { o.hash_check_at_start = true; });
  const int x = c.AlterAFollower("k3", "altered");
  ASSERT_TRUE(::tinykv::testing::WaitUntil([&] { return !c.node(x)->GetStatus().alarm.empty(); },
                                           20s));
  EXPECT_NE(c.node(x)->GetStatus().alarm.find("hash mismatch"), std::string::npos);
  for (int i = 1; i <= 3; ++i) {
    if (i == x) continue;
    EXPECT_EQ(c.node(i)->GetStatus().alarm, "") << "node " << i;
  }
  EXPECT_GT(c.node(c.Leader({x}))->GetStatus().hash_verified_index, 0u);
}

// The whole group restarts with one altered member and the startup check
// on; leadership is pushed to the altered member. No linearizable read, on
// any member, ever returns its altered value: as leader it serves nothing
// before its check, and the check flags it.
TEST(HashCheckTest, StartupCheckKeepsAnAlteredMemberFromEverServingItsState) {
  HashCluster c([](KvNodeOptions& o) { o.hash_check_at_start = true; });
  c.Load();
  const int x = c.Leader() % 3 + 1;
  c.StopAll();
  c.AlterEngine(x, "k7", "altered");
  c.StartAll();
  int served = 0;
  bool pushed = false;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline &&
         (c.node(x)->GetStatus().alarm.empty() || served < 5)) {
    const int l = c.Leader();
    if (l != 0 && l != x && !pushed) pushed = c.node(l)->TransferLeadership(x, 2s).ok();
    for (int i = 1; i <= 3; ++i) {
      if (!c.node(i)->ReadBarrierSync(500ms).ok()) continue;
      auto v = c.node(i)->Get("k7");
      if (!v.ok()) continue;
      EXPECT_EQ(*v, std::optional<std::string>("v7")) << "node " << i << " served its state";
      ++served;
    }
  }
  EXPECT_NE(c.node(x)->GetStatus().alarm, "");
  EXPECT_GE(served, 5);
}

// The alarm is persisted: a restarted CORRUPT member refuses at once, before
// any check. Once its data is repaired (here: the altered key put back), the
// next check finds it agreeing and clears the alarm.
TEST(HashCheckTest, AlarmSurvivesARestartAndClearsWhenTheStateAgreesAgain) {
  HashCluster c;
  const int x = c.AlterAFollower("k7", "altered");
  ASSERT_OK(c.Check().status());
  ASSERT_TRUE(::tinykv::testing::WaitUntil([&] { return !c.node(x)->GetStatus().alarm.empty(); },
                                           10s));
  c.Stop(x);
  c.Start(x);
  EXPECT_NE(c.node(x)->GetStatus().alarm, "");
  EXPECT_TRUE(c.node(x)->Get("k1").status().IsUnavailable());
  c.Stop(x);
  c.AlterEngine(x, "k7", "v7");  // repaired
  c.Start(x);
  ASSERT_OK(c.PutAnywhere("repaired", "1").status());
  auto rep = c.Check();
  ASSERT_OK(rep.status());
  EXPECT_TRUE(rep->corrupt.empty());
  ASSERT_TRUE(
      ::tinykv::testing::WaitUntil([&] { return c.node(x)->GetStatus().alarm.empty(); }, 10s));
  EXPECT_EQ(c.node(x)->Get("k7").value(), std::optional<std::string>("v7"));
}

// Healthy replicas under concurrent writes of every kind (puts with dedup
// ids, deletes, CAS, delete-range), with snapshots and log compaction, and
// periodic checks every 30 ms besides the ones asked for: never an alarm,
// every check finds all three hashes equal.
TEST(HashCheckTest, IdenticalReplicasNeverRaiseTheAlarmUnderConcurrentWrites) {
  HashCluster c([](KvNodeOptions& o) {
    o.hash_check_interval_ms = 30;
    o.snapshot_threshold = 300;
  });
  std::atomic<bool> stop{false};
  std::atomic<int> writes{0};
  struct Writers : std::vector<std::thread> {
    std::atomic<bool>* stop;
    ~Writers() {
      *stop = true;
      for (auto& t : *this) t.join();
    }
  } writers;
  writers.stop = &stop;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&, w] {
      Random rnd(::tinykv::TestSeed() + w);
      uint64_t seq = 0;
      while (!stop) {
        KvCommand cmd;
        cmd.key = "w" + std::to_string(rnd.Uniform(200));
        cmd.value = std::to_string(rnd.Next());
        cmd.client_id = 100 + w;
        cmd.request_seq = ++seq;
        switch (rnd.Uniform(10)) {
          case 0: cmd.op = KvCommand::Op::kDelete; break;
          case 1: cmd.op = KvCommand::Op::kCas; cmd.expected = std::nullopt; break;
          case 2: cmd.op = KvCommand::Op::kDeleteRange; cmd.value = cmd.key + "5"; break;
          default: cmd.op = KvCommand::Op::kPut; break;
        }
        if (c.Propose(cmd).ok()) ++writes;
      }
    });
  }
  int checks = 0;
  for (; checks < 25; ++checks) {
    auto rep = c.Check();
    ASSERT_OK(rep.status()) << "check " << checks;
    EXPECT_TRUE(rep->corrupt.empty()) << "check " << checks;
    ASSERT_TRUE(rep->majority.has_value()) << "check " << checks;
    EXPECT_EQ(rep->hashes.size(), 3u) << "check " << checks << ", missing: "
                                      << (rep->missing.empty() ? "" : rep->missing.begin()->second);
  }
  stop = true;
  for (auto& t : writers) t.join();
  writers.clear();
  EXPECT_GT(writes.load(), 100);
  for (int i = 1; i <= 3; ++i) {
    const auto st = c.node(i)->GetStatus();
    EXPECT_EQ(st.alarm, "") << "node " << i;
    EXPECT_GT(st.hash_verified_index, 0u) << "node " << i;
    EXPECT_GT(st.snapshot_index, 0u) << "node " << i;
  }
}

// raft.StateHash is checked like every peer message: a verdict from a node
// that is not a member, or for a group not hosted there, changes nothing.
TEST(HashCheckTest, StateHashFromANonMemberOrForAnotherGroupIsRefused) {
  HashCluster c;
  ASSERT_OK(c.PutAnywhere("k1", "v1").status());
  net::ClientOptions co;
  co.hello = net::EncodeMessage(internal::PeerHello{internal::kPeerHelloVersion, 0, 9});
  auto rpc = net::RpcClient::Create(co).value();
  const std::string addr = "127.0.0.1:" + std::to_string(c.node(1)->peer_port());
  StateHashRequest verdict;
  verdict.kind = static_cast<uint8_t>(StateHashKind::kVerdict);
  verdict.group = 1;
  verdict.index = 5;
  verdict.corrupt = 1;
  auto r = rpc->CallSync<internal::StateHashMethod>(addr, verdict);
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  verdict.group = 42;
  r = rpc->CallSync<internal::StateHashMethod>(addr, verdict);
  EXPECT_TRUE(r.status().IsNotFound()) << r.status().ToString();
  ASSERT_OK(c.PutAnywhere("still", "fine").status());
  EXPECT_EQ(c.node(1)->GetStatus().alarm, "");
  EXPECT_OK(c.node(1)->Get("k1").status());
}

}  // namespace
}  // namespace tinykv::replica
