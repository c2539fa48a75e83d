#include "fake_kv_node.h"

#include "tinykv/common/routing_error.h"

namespace tinykv::client::testing {

replica::KvCommandResult FakeGroup::ApplyLocked(const replica::KvCommand& cmd) {
  replica::KvCommandResult res;
  res.index = ++index;
  if (cmd.client_id != 0) {
    auto it = sessions.find(cmd.client_id);
    if (it != sessions.end() && cmd.request_seq <= it->second.first) {
      if (cmd.request_seq == it->second.first) return it->second.second;
      res.succeeded = false;
      return res;
    }
    executions[{cmd.client_id, cmd.request_seq}]++;
  }
  switch (cmd.op) {
    case replica::KvCommand::Op::kPut:
      data[cmd.key] = cmd.value;
      break;
    case replica::KvCommand::Op::kDelete:
      data.erase(cmd.key);
      break;
    case replica::KvCommand::Op::kCas: {
      auto it = data.find(cmd.key);
      std::optional<std::string> cur;
      if (it != data.end()) cur = it->second;
      if (cur == cmd.expected) {
        data[cmd.key] = cmd.value;
      } else {
        res.succeeded = false;
        res.current = cur;
      }
      break;
    }
    case replica::KvCommand::Op::kDeleteRange: {
      auto it = data.lower_bound(cmd.key);
      while (it != data.end() && (cmd.value.empty() || it->first < cmd.value)) {
        it = data.erase(it);
        res.deleted++;
      }
      break;
    }
  }
  if (cmd.client_id != 0) sessions[cmd.client_id] = {cmd.request_seq, res};
  return res;
}

FakeKvNode::FakeKvNode(uint64_t id, std::shared_ptr<FakeGroup> group)
    : id_(id), group_(std::move(group)), worker_([this] { Run(); }) {}

FakeKvNode::~FakeKvNode() { Stop(); }

void FakeKvNode::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void FakeKvNode::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> l(mu_);
    queue_.push_back(std::move(fn));
  }
  cv_.notify_one();
}

void FakeKvNode::Run() {
  while (true) {
    std::function<void()> fn;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, queue drained
      fn = std::move(queue_.front());
      queue_.pop_front();
    }
    fn();
  }
}

void FakeKvNode::Propose(replica::KvCommand cmd, std::chrono::milliseconds,
                         std::function<void(Result<replica::KvCommandResult>)> done) {
  Post([this, cmd = std::move(cmd), done = std::move(done)] {
    std::unique_lock<std::mutex> l(group_->mu);
    if (group_->leader != id_) {
      uint64_t leader = group_->leader;
      l.unlock();
      // Like KvNode: the hint names the leader's PEER address, which the
      // service must not pass on as a client address.
      done(NotLeaderError(
          RoutingError{1, leader, "127.0.0.1:" + std::to_string(7000 + leader)}));
      return;
    }
    group_->proposals++;
    replica::KvCommandResult res = group_->ApplyLocked(cmd);
    bool lose = group_->lose_replies > 0;
    if (lose) group_->lose_replies--;
    l.unlock();
    if (lose) {
      done(Status::Timeout("fake: reply lost"));
    } else {
      done(res);
    }
  });
}

void FakeKvNode::ReadBarrier(std::chrono::milliseconds, std::function<void(Status)> done) {
  Post([this, done = std::move(done)] {
    std::unique_lock<std::mutex> l(group_->mu);
    uint64_t leader = group_->leader;
    bool fail = group_->fail_barriers > 0;
    if (fail) group_->fail_barriers--;
    l.unlock();
    if (leader != id_) {
      done(NotLeaderError(RoutingError{1, leader, ""}));
    } else if (fail) {
      done(Status::Timeout("fake: read index timed out"));
    } else {
      done(Status::OK());
    }
  });
}

void FakeKvNode::ProposeMemberChange(
    replica::MemberChange ch, std::chrono::milliseconds,
    std::function<void(Result<replica::MemberChangeResult>)> done) {
  Post([this, ch = std::move(ch), done = std::move(done)] {
    std::unique_lock<std::mutex> l(group_->mu);
    if (group_->leader != id_) {
      const uint64_t leader = group_->leader;
      l.unlock();
      done(NotLeaderError(RoutingError{1, leader, ""}));
      return;
    }
    group_->member_changes.push_back(ch);
    const bool present = group_->peer_addresses.count(ch.id) > 0;
    using Type = replica::MemberChange::Type;
    Status s;
    if (ch.type == Type::kAddVoter || ch.type == Type::kAddLearner) {
      if (present) {
        s = Status::AlreadyExists("member " + std::to_string(ch.id) + " exists");
      } else {
        group_->peer_addresses[ch.id] = ch.peer_address;
        group_->member_client_addresses[ch.id] = ch.client_address;
        if (ch.type == Type::kAddLearner) group_->learners.insert(ch.id);
      }
    } else if (!present) {
      s = Status::NotFound("member " + std::to_string(ch.id) + " is not in the configuration");
    } else if (ch.type == Type::kUpdate) {
      group_->peer_addresses[ch.id] = ch.peer_address;
      if (!ch.client_address.empty()) group_->member_client_addresses[ch.id] = ch.client_address;
    } else if (ch.type == Type::kRemove) {
      group_->peer_addresses.erase(ch.id);
      group_->member_client_addresses.erase(ch.id);
      group_->learners.erase(ch.id);
    } else {
      group_->learners.erase(ch.id);
    }
    replica::MemberChangeResult res;
    res.index = ++group_->index;
    res.members = MembersLocked();
    l.unlock();
    if (s.ok()) {
      done(std::move(res));
    } else {
      done(s);
    }
  });
}

std::vector<replica::MemberInfo> FakeKvNode::MembersLocked() const {
  std::vector<replica::MemberInfo> out;
  for (const auto& [id, addr] : group_->peer_addresses) {
    auto client = group_->member_client_addresses.find(id);
    out.push_back({id, addr, group_->learners.count(id) > 0,
                   client == group_->member_client_addresses.end() ? "" : client->second});
  }
  return out;
}

Result<std::optional<std::string>> FakeKvNode::Get(const std::string& key) {
  std::lock_guard<std::mutex> l(group_->mu);
  auto it = group_->data.find(key);
  if (it == group_->data.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Result<std::vector<std::pair<std::string, std::string>>> FakeKvNode::Scan(const std::string& start,
                                                                          const std::string& end,
                                                                          size_t limit) {
  std::lock_guard<std::mutex> l(group_->mu);
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = group_->data.lower_bound(start); it != group_->data.end(); ++it) {
    if (!end.empty() && it->first >= end) break;
    if (limit != 0 && out.size() >= limit) break;
    out.emplace_back(it->first, it->second);
  }
  return out;
}

replica::KvNodeStatus FakeKvNode::GetStatus() {
  std::lock_guard<std::mutex> l(group_->mu);
  replica::KvNodeStatus st;
  st.id = id_;
  st.leader = group_->leader;
  st.term = group_->term;
  st.role = group_->leader == id_ ? "leader" : "follower";
  st.commit_index = group_->index;
  st.applied_index = group_->index;
  st.first_index = 1;
  st.last_index = group_->index;
  st.members = MembersLocked();
  st.nospace = group_->nospace.count(id_) > 0;
  if (st.nospace) st.error = "append: no space left on device";
  return st;
}

void FakeKvNode::DisarmNoSpace(std::function<void(Status)> done) {
  std::unique_lock<std::mutex> l(group_->mu);
  if (group_->nospace.count(id_) && group_->disk_full.count(id_)) {
    l.unlock();
    done(Status::ResourceExhausted("NOSPACE alarm of node " + std::to_string(id_) +
                                   " stays raised: its disk still has no room"));
    return;
  }
  group_->nospace.erase(id_);
  l.unlock();
  done(Status::OK());
}

Status FakeKvNode::TransferLeadership(uint64_t to, std::chrono::milliseconds) {
  std::lock_guard<std::mutex> l(group_->mu);
  group_->leader = to;
  group_->term++;
  return Status::OK();
}

}  // namespace tinykv::client::testing
