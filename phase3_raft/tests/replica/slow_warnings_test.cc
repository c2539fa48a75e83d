// etcd's latency warnings (slow_warnings.h), on injected time: a slow
// fdatasync (a FaultInjectionEnv whose syncs advance a ManualClock), a slow
// apply (a state machine that advances it), the heartbeat detector. Each
// reads the JSON log lines back and checks their typed fields; each has its
// negative control (under the threshold: no line).
#include "tinykv/replica/slow_warnings.h"

#include <fstream>
#include <future>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "append_log_state_machine.h"
#include "tinykv/common/clock.h"
#include "tinykv/common/fault_injection_env.h"
#include "tinykv/common/logging.h"
#include "tinykv/replica/disk_storage.h"
#include "tinykv/replica/kv_node.h"
#include "tinykv/replica/peer_host.h"
#include "tinykv/replica/replica.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::replica {
namespace {

using namespace std::chrono_literals;

// Sends the process' logs to a JSON file for the test's lifetime.
class JsonLog {
 public:
  JsonLog() : file_(dir_.path() / "log.json") {
    EXPECT_TRUE(logging::Init({.level = "info", .format = "json", .file = file_.string()}).ok());
  }
  ~JsonLog() { logging::Init({.level = "info", .format = "text"}).IgnoreError(); }
  // Every line whose msg is `msg` (each line must parse; warnings are flushed as written).
  std::vector<nlohmann::json> Lines(const std::string& msg) {
    for (auto name : {"raft.log", "raft.node"}) logging::Get(name)->flush();
    std::ifstream in(file_);
    std::vector<nlohmann::json> out;
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line);
      if (j["msg"] == msg) out.push_back(std::move(j));
    }
    return out;
  }

 private:
  ::tinykv::testing::TempDir dir_;
  std::filesystem::path file_;
};

TEST(TimeoutDetector, ReportsByHowMuchAGapExceededTheBound) {
  TimeoutDetector d(100ms);
  EXPECT_EQ(d.Observe(2, 1'000'000).count(), 0);  // first: nothing to compare
  EXPECT_EQ(d.Observe(2, 1'100'000).count(), 0);  // exactly the bound: on time
  EXPECT_EQ(d.Observe(3, 5'000'000).count(), 0);  // each peer on its own
  EXPECT_EQ(d.Observe(2, 1'350'000).count(), 150'000);
  d.Reset();
  EXPECT_EQ(d.Observe(2, 9'000'000).count(), 0);
}

TEST(SlowWarnings, SlowFdatasyncIsLoggedWithItsDurationAndCountedInTheHistogram) {
  JsonLog log;
  ::tinykv::testing::TempDir dir;
  FaultInjectionEnv env(Env::Default());
  env.SetSkipRealSyncs(true);
  ManualClock clock(1'000'000);
  LatencyHistogram hist;
  DiskStorageOptions o;
  o.env = &env;
  o.clock = &clock;
  o.fsync_histogram = &hist;
  o.node = 4;
  o.group = 9;
  auto s = DiskStorage::Open(dir.path(), o).value();
  ASSERT_TRUE(s->Bootstrap(raft::ConfState{{4}, {}, {}, {}, false}).ok());
  auto save = [&](uint64_t i) {
    return s->Save(raft::HardState{1, 4, 0}, {raft::Entry{1, i, raft::EntryType::kNormal, "x"}},
                   true);
  };
  // Negative control: 0.5 s is under etcd's 1 s.
  env.SetSyncDelay(&clock, 500'000);
  ASSERT_TRUE(save(1).ok());
  EXPECT_TRUE(log.Lines("slow fdatasync").empty());
  env.SetSyncDelay(&clock, 1'500'000);
  ASSERT_TRUE(save(2).ok());
  const auto lines = log.Lines("slow fdatasync");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["level"], "warning");
  EXPECT_EQ(lines[0]["node"], 4);
  EXPECT_EQ(lines[0]["group"], 9);
  EXPECT_DOUBLE_EQ(lines[0]["took"].get<double>(), 1500.0);
  EXPECT_DOUBLE_EQ(lines[0]["expected"].get<double>(), 1000.0);
  const auto h = hist.Read();
  EXPECT_GE(h.count, 2u);                     // the bootstrap's sync (no delay then) too
  EXPECT_EQ(h.counts[9], 1u);                 // 0.5 s: (0.256, 0.512]
  EXPECT_EQ(h.counts[11], 1u);                // 1.5 s: (1.024, 2.048]
  EXPECT_GE(h.sum_micros, 2'000'000u);
}

// AppendLogStateMachine whose Apply of "slow:<micros>" first advances the clock.
class SlowStateMachine final : public StateMachine {
 public:
  SlowStateMachine(std::unique_ptr<testing::AppendLogStateMachine> base, ManualClock* clock)
      : base_(std::move(base)), clock_(clock) {}
  uint64_t applied_index() const override { return base_->applied_index(); }
  uint64_t applied_term() const override { return base_->applied_term(); }
  std::optional<Membership> membership() const override { return base_->membership(); }
  Result<CommandOutcome> Apply(uint64_t index, uint64_t term, Slice command) override {
    const std::string c = command.ToString();
    if (c.starts_with("slow:")) clock_->Advance(std::stoull(c.substr(5)));
    return base_->Apply(index, term, command);
  }
  Status ApplyNoop(uint64_t index, uint64_t term) override { return base_->ApplyNoop(index, term); }
  Status ApplyConfChange(uint64_t index, uint64_t term, const Membership& m) override {
    return base_->ApplyConfChange(index, term, m);
  }
  Result<uint64_t> Hash() override { return base_->Hash(); }
  Status Checkpoint(const std::filesystem::path& dir) override { return base_->Checkpoint(dir); }
  Status Install(const std::filesystem::path& dir) override { return base_->Install(dir); }
  Status Reopen() override { return base_->Reopen(); }

 private:
  std::unique_ptr<testing::AppendLogStateMachine> base_;
  ManualClock* clock_;
};

TEST(SlowWarnings, ApplyRequestTookTooLongNamesTheEntryAndItsDuration) {
  JsonLog log;
  ::tinykv::testing::TempDir dir;
  ManualClock clock(1'000'000);
  PeerHostOptions ho;
  ho.node_id = 1;
  ho.io_threads = 1;
  auto host = PeerHost::Start(ho).value();
  ReplicaOptions o;
  o.dir = dir.path() / "n1";
  o.peers = {{1, host->address()}};
  o.tick_ms = 10;
  o.sync = false;
  o.clock = &clock;
  auto sm = std::make_unique<SlowStateMachine>(
      testing::AppendLogStateMachine::Open(o.dir / "log").value(), &clock);
  auto r = Replica::Open(o, host.get(), std::move(sm)).value();
  // One tick of clock time per real millisecond until the one voter leads.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (r->GetStatus().role != "leader") {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no leader";
    clock.Advance(10'000);
    std::this_thread::sleep_for(1ms);
  }
  auto propose = [&](const std::string& cmd) {
    std::promise<Result<std::string>> p;
    r->Propose(cmd, 60s, [&](Result<std::string> res) { p.set_value(std::move(res)); });
    return p.get_future().get();
  };
  ASSERT_TRUE(propose("slow:99000").ok());  // 99 ms: under the 100 ms threshold
  EXPECT_TRUE(log.Lines("apply request took too long").empty());
  ASSERT_TRUE(propose("slow:250000").ok());
  const auto lines = log.Lines("apply request took too long");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["node"], 1);
  EXPECT_EQ(lines[0]["group"], 1);
  EXPECT_EQ(lines[0]["index"], r->GetStatus().applied_index);
  EXPECT_DOUBLE_EQ(lines[0]["took"].get<double>(), 250.0);
  EXPECT_DOUBLE_EQ(lines[0]["expected"].get<double>(), 100.0);
  const auto h = r->GetStatus().backend_commit_duration;
  EXPECT_EQ(h.counts[7], 1u);  // 99 ms: (64, 128] ms
  EXPECT_EQ(h.counts[8], 1u);  // 250 ms: (128, 256] ms
  r->Stop();
  host->Stop();
}

// Three KvNodes on one ManualClock (heartbeat every tick). The clock moves
// one tick at a time, each node taking it before the next; or jumps, as a
// leader stalled by a slow disk sees time jump (it takes one tick per poll).
class ManualGroup {
 public:
  static constexpr int kTickMs = 20;
  ManualGroup() {
    for (int i = 1; i <= 3; ++i) {
      KvNodeOptions o;
      o.id = i;
      o.data_dir = dir_.path() / ("n" + std::to_string(i));
      for (int j = 1; j <= 3; ++j) o.peers[j] = "";
      o.tick_ms = kTickMs;
      o.election_ticks = 10;
      o.heartbeat_ticks = 1;
      o.sync = false;
      o.io_threads = 1;
      o.clock = &clock_;
      nodes_[i] = KvNode::Open(o).value();
    }
    for (auto& [i, n] : nodes_)
      for (auto& [j, m] : nodes_)
        if (i != j) n->SetPeerAddress(j, "127.0.0.1:" + std::to_string(m->peer_port()));
  }
  ~ManualGroup() {
    for (auto& [i, n] : nodes_) n->Stop();
  }
  // Moves the clock by `micros` and waits until every node took a tick.
  void Step(uint64_t micros) {
    std::map<int, uint64_t> before;
    for (auto& [i, n] : nodes_) before[i] = n->GetStatus().ticks;
    clock_.Advance(micros);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (auto& [i, n] : nodes_) {
      while (n->GetStatus().ticks <= before[i]) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "node " << i << " did not tick";
        std::this_thread::sleep_for(1ms);
      }
    }
    std::this_thread::sleep_for(2ms);  // the tick's messages settle (loopback)
  }
  int Leader() {
    for (auto& [i, n] : nodes_)
      if (n->GetStatus().role == "leader") return i;
    return 0;
  }

 private:
  ::tinykv::testing::TempDir dir_;
  ManualClock clock_{1'000'000};
  std::map<int, std::unique_ptr<KvNode>> nodes_;
};

TEST(SlowWarnings, ALeaderWhoseHeartbeatsComeLateSaysSoNamingThePeer) {
  JsonLog log;
  ManualGroup g;
  const std::string late =
      "leader failed to send out heartbeat on time; took too long, leader is overloaded likely "
      "from slow disk";
  for (int k = 0; k < 200 && g.Leader() == 0; ++k) g.Step(ManualGroup::kTickMs * 1000);
  const int leader = g.Leader();
  ASSERT_NE(leader, 0);
  // Negative control: a heartbeat every tick is on time.
  for (int k = 0; k < 10; ++k) g.Step(ManualGroup::kTickMs * 1000);
  EXPECT_TRUE(log.Lines(late).empty());
  // Ten ticks of time pass at once (one tick taken): 200 ms between heartbeats.
  g.Step(10 * ManualGroup::kTickMs * 1000);
  ASSERT_EQ(g.Leader(), leader);
  const auto lines = log.Lines(late);
  ASSERT_EQ(lines.size(), 2u);  // one per follower
  for (const auto& j : lines) {
    EXPECT_EQ(j["node"], leader);
    EXPECT_NE(j["peer"], leader);
    EXPECT_DOUBLE_EQ(j["heartbeat_interval"].get<double>(), 20.0);
    EXPECT_DOUBLE_EQ(j["expected"].get<double>(), 40.0);
    EXPECT_GE(j["exceeded"].get<double>(), 140.0);  // 200 ms - 40 ms, give or take a tick
  }
  EXPECT_NE(lines[0]["peer"], lines[1]["peer"]);
}

}  // namespace
}  // namespace tinykv::replica
