// `tinykv lock` and `tinykv elect` (concurrency_command.h) run in-process
// against a real 3-member cluster: the key printed and held until the
// interrupt, a command run holding the lock with the lock's key and
// revision in its environment and its exit status passed on, the leader
// printed by elect, and the usage errors.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "cli/output.h"
#include "local_cluster_fixture.h"
#include "tinykv/client/concurrency.h"

namespace tinykv::cli {
namespace {

using namespace std::chrono_literals;

// An output stream another thread may read while the command writes it.
class SyncBuf : public std::stringbuf {
 public:
  std::string text() {
    std::lock_guard<std::recursive_mutex> l(mu_);
    return str();
  }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    std::lock_guard<std::recursive_mutex> l(mu_);
    return std::stringbuf::xsputn(s, n);
  }
  int_type overflow(int_type c) override {
    std::lock_guard<std::recursive_mutex> l(mu_);
    return std::stringbuf::overflow(c);
  }

 private:
  std::recursive_mutex mu_;  // xsputn may call overflow
};

struct Ran {
  int code = -1;
  std::string out, err;
};

class ConcurrencyCliTest : public client::LocalClusterTest {
 protected:
  // `tinykv --endpoints ... ARGS`, stopped by setting `*stop` (as SIGINT does).
  Ran Tinykv(std::vector<std::string> args, std::atomic<bool>* stop = nullptr,
             SyncBuf* live_out = nullptr) {
    std::string endpoints;
    for (const std::string& e : cluster_->endpoints()) endpoints += (endpoints.empty() ? "" : ",") + e;
    args.insert(args.begin(), {"--endpoints", endpoints, "--command-timeout", "10s"});
    CliInterrupt interrupt;
    interrupt.arm = [] {};
    interrupt.interrupted = stop;
    std::istringstream in;
    std::ostringstream own_out, err;
    std::ostream live(live_out);
    std::ostream& out = live_out != nullptr ? live : own_out;
    Ran r;
    r.code = RunCli(args, {}, in, out, err, false, stop != nullptr ? &interrupt : nullptr);
    r.out = live_out != nullptr ? live_out->text() : own_out.str();
    r.err = err.str();
    return r;
  }
  std::vector<client::KeyValue> Queue(const std::string& name) {
    return client_->Scan(name + "/", client::PrefixEnd(name + "/")).value();
  }
  template <typename F>
  bool WaitFor(F done) {
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(20ms);
    }
    return true;
  }
  void SetUp() override {
    LocalClusterTest::SetUp();
    if (!HasFatalFailure()) client_ = NewClient();
  }
  std::unique_ptr<client::Client> client_;
};

TEST_F(ConcurrencyCliTest, LockPrintsItsKeyHoldsItUntilInterruptedThenUnlocks) {
  std::atomic<bool> stop{false};
  auto run = std::async(std::launch::async, [&] { return Tinykv({"lock", "job"}, &stop); });
  ASSERT_TRUE(WaitFor([&] { return Queue("job").size() == 1; }));
  const client::KeyValue held = Queue("job").front();
  EXPECT_NE(held.meta.lease, 0u);  // attached to the session's lease
  // Another session cannot take it meanwhile.
  auto s = client::Session::Create(client_.get(), {.ttl_s = 30});
  ASSERT_OK(s);
  client::Mutex other(**s, "job");
  EXPECT_TRUE(other.TryLock().IsBusy());
  stop = true;
  ASSERT_EQ(run.wait_for(30s), std::future_status::ready);
  Ran r = run.get();
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, held.key + "\n");
  EXPECT_TRUE(Queue("job").empty());
  EXPECT_TRUE(client_->LeaseTimeToLive(held.meta.lease).status().IsNotFound());  // revoked
  ASSERT_OK(other.TryLock());
}

TEST_F(ConcurrencyCliTest, LockRunsACommandWithTheKeyAndRevisionAndPassesItsStatusOn) {
  tinykv::testing::TempDir dir;
  const std::string file = (dir.path() / "env").string();
  Ran r = Tinykv({"lock", "--ttl", "5", "job", "--", "sh", "-c",
                  "echo \"$ETCD_LOCK_KEY $ETCD_LOCK_REV $TINYKV_LOCK_KEY $TINYKV_LOCK_REV\" > " +
                      file + "; exit 7"});
  EXPECT_EQ(r.code, 7) << r.err;
  std::ifstream in(file);
  std::string key, rev, tkey, trev;
  in >> key >> rev >> tkey >> trev;
  EXPECT_EQ(key.rfind("job/", 0), 0u) << key;
  EXPECT_GT(std::stoull(rev), 0u);
  EXPECT_EQ(tkey, key);
  EXPECT_EQ(trev, rev);
  EXPECT_TRUE(Queue("job").empty());  // unlocked after the command
  r = Tinykv({"lock", "job", "--", "true"});
  EXPECT_EQ(r.code, 0) << r.err;
  r = Tinykv({"lock", "job", "--", "/nonexistent/command"});
  EXPECT_NE(r.code, 0);
  EXPECT_TRUE(Queue("job").empty());
}

TEST_F(ConcurrencyCliTest, ElectPrintsTheLeaderResignsWhenInterruptedAndListenSeesEach) {
  std::atomic<bool> stop{false}, stop_listen{false};
  auto run = std::async(std::launch::async, [&] { return Tinykv({"elect", "pick", "me"}, &stop); });
  ASSERT_TRUE(WaitFor([&] { return Queue("pick").size() == 1; }));
  const client::KeyValue leader = Queue("pick").front();
  EXPECT_EQ(leader.value, "me");
  // A listener started now prints the leader at once, then each next one.
  SyncBuf listened;
  auto listen = std::async(std::launch::async, [&] {
    return Tinykv({"elect", "-l", "pick"}, &stop_listen, &listened);
  });
  const std::string first = leader.key + "\nme\n";
  ASSERT_TRUE(WaitFor([&] { return listened.text() == first; })) << listened.text();

  stop = true;
  ASSERT_EQ(run.wait_for(30s), std::future_status::ready);
  Ran r = run.get();
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, first);
  EXPECT_TRUE(Queue("pick").empty());  // resigned

  std::atomic<bool> stop_next{false};
  auto next = std::async(std::launch::async, [&] { return Tinykv({"elect", "pick", "you"}, &stop_next); });
  ASSERT_TRUE(WaitFor([&] { return Queue("pick").size() == 1; }));
  const std::string second = Queue("pick").front().key + "\nyou\n";
  ASSERT_TRUE(WaitFor([&] { return listened.text() == first + second; })) << listened.text();
  stop_next = true;
  stop_listen = true;
  ASSERT_EQ(next.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(next.get().code, kExitOk);
  ASSERT_EQ(listen.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(listen.get().code, kExitOk);

  r = Tinykv({"elect", "pick"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("PROPOSAL"), std::string::npos) << r.err;
  EXPECT_EQ(Tinykv({"elect", "pick", "x", "-l"}).code, kExitUsage);
  EXPECT_EQ(Tinykv({"lock"}).code, kExitUsage);
}

}  // namespace
}  // namespace tinykv::cli
