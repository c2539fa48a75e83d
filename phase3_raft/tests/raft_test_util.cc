#include "raft_test_util.h"

#include <gtest/gtest.h>

#include "tinykv/raft/codec.h"

namespace tinykv::raft::testing {

std::vector<Message> TestNode::Persist() {
  std::vector<Message> out;
  while (node->HasReady()) {
    Ready rd = node->GetReady();
    if (!rd.snapshot.empty()) {
      EXPECT_TRUE(storage->ApplySnapshot(rd.snapshot).ok());
    }
    EXPECT_TRUE(storage->Append(rd.entries).ok());
    if (rd.hard_state) storage->SetHardState(*rd.hard_state);
    for (auto& m : rd.messages) out.push_back(std::move(m));
    for (const Entry& e : rd.committed_entries) {
      applied.push_back(e);
      if (e.type == EntryType::kConfChangeV2) {
        auto cc = DecodeConfChange(e.data);
        EXPECT_TRUE(cc.ok());
        node->ApplyConfChange(*cc);
      }
    }
    for (auto& r : rd.read_states) reads.push_back(r);
    for (auto& f : rd.failed_reads) failed_reads.push_back(f);
    node->Advance(rd);
  }
  return out;
}

std::unique_ptr<MemoryStorage> BootStorage(const std::vector<uint64_t>& peers) {
  auto s = std::make_unique<MemoryStorage>();
  if (!peers.empty()) {
    Snapshot snap;
    snap.metadata.index = 1;
    snap.metadata.term = 1;
    snap.metadata.conf_state.voters = peers;
    EXPECT_TRUE(s->ApplySnapshot(snap).ok());
    s->SetHardState(HardState{1, 0, 1});
  }
  return s;
}

Config TestConfig(uint64_t id, MemoryStorage* s, int election, int heartbeat) {
  Config c;
  c.id = id;
  c.storage = s;
  c.election_tick = election;
  c.heartbeat_tick = heartbeat;
  c.random_seed = 42;
  c.log_transitions = false;
  c.parallel_leader_append = kParallelLeaderAppend;
  return c;
}

std::unique_ptr<TestNode> NewTestNode(uint64_t id, const std::vector<uint64_t>& peers,
                                      std::function<void(Config*)> tweak) {
  auto t = std::make_unique<TestNode>();
  t->id = id;
  t->storage = BootStorage(peers);
  Config c = TestConfig(id, t->storage.get());
  if (tweak) tweak(&c);
  auto rn = RawNode::Create(c);
  EXPECT_TRUE(rn.ok()) << rn.status().ToString();
  t->node = std::move(rn).value();
  return t;
}

std::unique_ptr<TestNode> NodeWithLog(uint64_t id, const std::vector<uint64_t>& peers,
                                      const std::vector<uint64_t>& terms, uint64_t term,
                                      uint64_t vote, uint64_t commit,
                                      std::function<void(Config*)> tweak) {
  auto t = std::make_unique<TestNode>();
  t->id = id;
  t->storage = std::make_unique<MemoryStorage>();
  ConfState cs;
  cs.voters = peers;
  t->storage->SetBootstrapConfState(cs);
  std::vector<Entry> ents;
  for (size_t i = 0; i < terms.size(); ++i)
    ents.push_back(Entry{terms[i], i + 1, EntryType::kNormal, {}});
  EXPECT_TRUE(t->storage->Append(ents).ok());
  t->storage->SetHardState(HardState{term, vote, commit});
  Config c = TestConfig(id, t->storage.get());
  c.pre_vote = false;
  c.check_quorum = false;
  if (tweak) tweak(&c);
  auto rn = RawNode::Create(c);
  EXPECT_TRUE(rn.ok()) << rn.status().ToString();
  t->node = std::move(rn).value();
  return t;
}

Message Msg(MessageType type, uint64_t from, uint64_t to, uint64_t term) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = term;
  return m;
}

std::vector<Message> Filter(const std::vector<Message>& msgs, MessageType type) {
  std::vector<Message> out;
  for (const auto& m : msgs) {
    if (m.type == type) out.push_back(m);
  }
  return out;
}

Network::Network(std::vector<uint64_t> ids, std::function<void(Config*)> tweak) {
  for (uint64_t id : ids) nodes_[id] = NewTestNode(id, ids, tweak);
}

void Network::Stabilize() {
  for (int iter = 0; iter < 100000; ++iter) {
    for (auto& [id, n] : nodes_) {
      for (auto& m : n->Persist()) queue_.push_back(std::move(m));
    }
    if (queue_.empty()) return;
    std::vector<Message> batch;
    batch.swap(queue_);
    for (const Message& m : batch) {
      if (cut_.count({m.from, m.to}) > 0) continue;
      if (drop_if && drop_if(m)) continue;
      auto it = nodes_.find(m.to);
      if (it == nodes_.end()) continue;
      counts[std::string(MessageTypeName(m.type))]++;
      delivered.push_back(m);
      it->second->node->Step(m).IgnoreError();
    }
  }
  FAIL() << "network did not stabilize";
}

void Network::Send(const Message& m) {
  queue_.push_back(m);
  Stabilize();
}

void Network::Tick(uint64_t id, int n) {
  for (int i = 0; i < n; ++i) {
    node(id)->node->Tick();
    Stabilize();
  }
}

void Network::TickAll(int n) {
  for (int i = 0; i < n; ++i) {
    for (auto& [id, nd] : nodes_) nd->node->Tick();
    Stabilize();
  }
}

void Network::Campaign(uint64_t id) {
  node(id)->node->Campaign().IgnoreError();
  Stabilize();
}

void Network::Isolate(uint64_t id) {
  for (auto& [other, n] : nodes_) {
    if (other == id) continue;
    cut_.insert({id, other});
    cut_.insert({other, id});
  }
}

void Network::Cut(uint64_t a, uint64_t b) {
  cut_.insert({a, b});
  cut_.insert({b, a});
}

void Network::Recover() {
  cut_.clear();
  drop_if = nullptr;
}

}  // namespace tinykv::raft::testing
