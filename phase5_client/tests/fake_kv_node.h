// FakeKvNode: an in-memory stand-in for replica::KvNode, for testing the service
// and the client's routing and retry logic without Raft.
//
// A FakeGroup is the "cluster": one map, one applied index, one leader id
// (settable by the test), and the same dedup rule as phase 3's state machine
// (client_id -> highest request_seq and its result; a retry of that seq gets
// the remembered result, an older seq is ignored). Each FakeKvNode answers as
// a member of the group: Propose on a non-leader fails NotLeader("leader=N"),
// and callbacks run on the node's own worker thread, as in the real node.
//
// Fault knobs (FakeGroup, under its mutex):
//   lose_replies   — the next N proposals apply but answer Timeout (a lost
//                    acknowledgement: the outcome the client cannot know)
//   fail_barriers  — the next N read barriers answer Timeout
//
// Membership is modelled only as far as the CLI and the wire need it: the
// leader records every MemberChange it gets (member_changes), an add adds the
// member (AlreadyExists if present), a remove removes it, a promote clears
// its learner flag, an update replaces its addresses (NotFound if absent);
// nothing is replicated or validated further (the real
// node is tested in phase 3).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tinykv/replica/kv_node.h"

namespace tinykv::client::testing {

struct FakeGroup {
  std::mutex mu;
  std::map<std::string, std::string> data;
  uint64_t index = 0;
  uint64_t leader = 1;
  uint64_t term = 1;
  std::map<uint64_t, std::pair<uint64_t, replica::KvCommandResult>> sessions;
  std::map<std::pair<uint64_t, uint64_t>, int> executions;  // (client, seq) -> times executed
  int lose_replies = 0;
  int fail_barriers = 0;
  uint64_t proposals = 0;
  std::map<uint64_t, std::string> peer_addresses;
  std::map<uint64_t, std::string> member_client_addresses;  // as given to a member add
  std::set<uint64_t> learners;
  std::vector<replica::MemberChange> member_changes;  // what the leader was asked, in order
  // The NOSPACE alarm per member id, and whether that member's disk is still
  // full (a disarm then fails, as the replica's does).
  std::set<uint64_t> nospace, disk_full;

  // Applies under mu (held by the caller).
  replica::KvCommandResult ApplyLocked(const replica::KvCommand& cmd);
};

class FakeKvNode final : public replica::KvNode {
 public:
  FakeKvNode(uint64_t id, std::shared_ptr<FakeGroup> group);
  ~FakeKvNode() override;

  void Propose(replica::KvCommand cmd, std::chrono::milliseconds timeout,
               std::function<void(Result<replica::KvCommandResult>)> done) override;
  void ReadBarrier(std::chrono::milliseconds timeout, std::function<void(Status)> done) override;
  void ProposeMemberChange(replica::MemberChange change, std::chrono::milliseconds timeout,
                           std::function<void(Result<replica::MemberChangeResult>)> done) override;
  Result<std::optional<std::string>> Get(const std::string& key) override;
  Result<std::vector<std::pair<std::string, std::string>>> Scan(const std::string& start,
                                                                const std::string& end,
                                                                size_t limit) override;
  replica::KvNodeStatus GetStatus() override;
  replica::PeerHostStats peer_stats() const override { return {}; }
  replica::NodeIdentity identity() const override { return {id_, 1}; }
  uint16_t peer_port() const override { return 0; }
  void SetPeerAddress(uint64_t, std::string) override {}
  Status TransferLeadership(uint64_t to, std::chrono::milliseconds timeout) override;
  void SetDroppedPeers(std::set<uint64_t>) override {}
  void SetDropProbability(double) override {}
  void DisarmNoSpace(std::function<void(Status)> done) override;
  void Stop() override;

 private:
  void Post(std::function<void()> fn);
  void Run();
  // The members, as GetStatus reports them. REQUIRES: group_->mu held.
  std::vector<replica::MemberInfo> MembersLocked() const;

  const uint64_t id_;
  std::shared_ptr<FakeGroup> group_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace tinykv::client::testing
