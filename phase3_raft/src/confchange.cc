// Membership changes; see confchange.h. Follows etcd-io/raft confchange.go.
#include "confchange.h"

#include <algorithm>

namespace tinykv::raft {

Result<ConfigAndProgress> Changer::EnterJoint(bool auto_leave,
                                              const std::vector<ConfChangeSingle>& ccs) const {
  ConfigAndProgress c{tracker_.config, tracker_.progress};
  TINYKV_RETURN_IF_ERROR(CheckInvariants(c));
  if (c.config.joint()) return Status::InvalidArgument("config is already joint");
  if (c.config.voters.incoming.empty()) {
    return Status::InvalidArgument("can't make a zero-voter config joint");
  }
  // C_old becomes the outgoing half; the changes apply to the incoming half.
  c.config.voters.outgoing = c.config.voters.incoming;
  TINYKV_RETURN_IF_ERROR(Apply(&c, ccs));
  c.config.auto_leave = auto_leave;
  TINYKV_RETURN_IF_ERROR(CheckInvariants(c));
  return c;
}

Result<ConfigAndProgress> Changer::LeaveJoint() const {
  ConfigAndProgress c{tracker_.config, tracker_.progress};
  TINYKV_RETURN_IF_ERROR(CheckInvariants(c));
  if (!c.config.joint()) return Status::InvalidArgument("can't leave a non-joint config");
  for (uint64_t id : c.config.learners_next) {
    c.config.learners.insert(id);
    c.progress.at(id).is_learner = true;
  }
  c.config.learners_next.clear();
  for (uint64_t id : c.config.voters.outgoing.ids()) {
    const bool is_voter = c.config.voters.incoming.ids().count(id) > 0;
    const bool is_learner = c.config.learners.count(id) > 0;
    if (!is_voter && !is_learner) c.progress.erase(id);
  }
  c.config.voters.outgoing = MajorityConfig();
  c.config.auto_leave = false;
  TINYKV_RETURN_IF_ERROR(CheckInvariants(c));
  return c;
}

Result<ConfigAndProgress> Changer::Simple(const std::vector<ConfChangeSingle>& ccs) const {
  ConfigAndProgress c{tracker_.config, tracker_.progress};
  TINYKV_RETURN_IF_ERROR(CheckInvariants(c));
  if (c.config.joint()) {
    return Status::InvalidArgument("can't apply simple config change in joint config");
  }
  TINYKV_RETURN_IF_ERROR(Apply(&c, ccs));
  // §4.1: changing more than one voter at once could create disjoint majorities.
  const auto& before = tracker_.config.voters.incoming.ids();
  const auto& after = c.config.voters.incoming.ids();
  size_t diff = 0;
  for (uint64_t id : before) diff += after.count(id) == 0;
  for (uint64_t id : after) diff += before.count(id) == 0;
  if (diff > 1) {
    return Status::InvalidArgument("more than one voter changed without entering joint config");
  }
  TINYKV_RETURN_IF_ERROR(CheckInvariants(c));
  return c;
}

Result<ConfigAndProgress> Changer::Restore(const ProgressTracker& tracker, uint64_t last_index,
                                           const ConfState& cs) {
  ConfigAndProgress c;
  auto add = [&](uint64_t id, bool learner) {
    if (c.progress.count(id) == 0) {
      Progress pr = tracker.NewProgress(last_index + 1, learner);
      pr.recent_active = true;
      c.progress.emplace(id, std::move(pr));
    }
  };
  for (uint64_t id : cs.voters) {
    c.config.voters.incoming.mutable_ids().insert(id);
    add(id, false);
  }
  for (uint64_t id : cs.voters_outgoing) {
    c.config.voters.outgoing.mutable_ids().insert(id);
    add(id, false);
  }
  for (uint64_t id : cs.learners) {
    c.config.learners.insert(id);
    add(id, true);
  }
  for (uint64_t id : cs.learners_next) {
    c.config.learners_next.insert(id);
    add(id, false);
  }
  c.config.auto_leave = cs.auto_leave;
  if (c.config.voters.outgoing.empty() && cs.auto_leave) {
    return Status::InvalidArgument("auto_leave set in a non-joint ConfState");
  }
  TINYKV_RETURN_IF_ERROR(CheckInvariants(c));
  return c;
}

Status Changer::Apply(ConfigAndProgress* c, const std::vector<ConfChangeSingle>& ccs) const {
  for (const auto& cc : ccs) {
    if (cc.node_id == kNone) continue;  // etcd: a zero id is ignored
    switch (cc.type) {
      case ConfChangeType::kAddNode:
        MakeVoter(c, cc.node_id);
        break;
      case ConfChangeType::kAddLearnerNode:
        MakeLearner(c, cc.node_id);
        break;
      case ConfChangeType::kRemoveNode:
        Remove(c, cc.node_id);
        break;
    }
  }
  if (c->config.voters.incoming.empty()) return Status::InvalidArgument("removed all voters");
  return Status::OK();
}

void Changer::MakeVoter(ConfigAndProgress* c, uint64_t id) const {
  auto it = c->progress.find(id);
  if (it == c->progress.end()) {
    InitProgress(c, id, /*learner=*/false);
    return;
  }
  it->second.is_learner = false;
  c->config.learners.erase(id);
  c->config.learners_next.erase(id);
  c->config.voters.incoming.mutable_ids().insert(id);
}

void Changer::MakeLearner(ConfigAndProgress* c, uint64_t id) const {
  auto it = c->progress.find(id);
  if (it == c->progress.end()) {
    InitProgress(c, id, /*learner=*/true);
    return;
  }
  if (it->second.is_learner) return;
  Progress saved = it->second;
  Remove(c, id);
  c->progress.insert_or_assign(id, saved);
  // A voter of the outgoing half stays a voter until the joint config is
  // left; it becomes a learner then (learners_next).
  if (c->config.voters.outgoing.ids().count(id) > 0) {
    c->config.learners_next.insert(id);
  } else {
    c->progress.at(id).is_learner = true;
    c->config.learners.insert(id);
  }
}

void Changer::Remove(ConfigAndProgress* c, uint64_t id) const {
  if (c->progress.count(id) == 0) return;
  c->config.voters.incoming.mutable_ids().erase(id);
  c->config.learners.erase(id);
  c->config.learners_next.erase(id);
  // Still a voter in the outgoing half: keep its Progress until LeaveJoint.
  if (c->config.voters.outgoing.ids().count(id) == 0) c->progress.erase(id);
}

void Changer::InitProgress(ConfigAndProgress* c, uint64_t id, bool learner) const {
  if (!learner) {
    c->config.voters.incoming.mutable_ids().insert(id);
  } else {
    c->config.learners.insert(id);
  }
  // Next = last index (not last+1): the first probe is conservative, and a
  // new node typically needs a snapshot anyway. Recently active so that a
  // just-added node does not make the leader fail check-quorum at once.
  Progress pr = tracker_.NewProgress(std::max<uint64_t>(last_index_, 1), learner);
  pr.recent_active = true;
  c->progress.insert_or_assign(id, std::move(pr));
}

Status Changer::CheckInvariants(const ConfigAndProgress& c) {
  const auto& cfg = c.config;
  for (uint64_t id : cfg.voters.Ids()) {
    if (c.progress.count(id) == 0) return Status::InvalidArgument("no progress for voter");
  }
  for (uint64_t id : cfg.learners) {
    if (c.progress.count(id) == 0) return Status::InvalidArgument("no progress for learner");
    if (cfg.voters.outgoing.ids().count(id) > 0 || cfg.voters.incoming.ids().count(id) > 0) {
      return Status::InvalidArgument("learner is also a voter");
    }
    if (!c.progress.at(id).is_learner) return Status::InvalidArgument("learner not marked");
  }
  for (uint64_t id : cfg.learners_next) {
    if (c.progress.count(id) == 0) return Status::InvalidArgument("no progress for learner_next");
    if (cfg.voters.outgoing.ids().count(id) == 0) {
      return Status::InvalidArgument("learner_next is not in the outgoing config");
    }
    if (c.progress.at(id).is_learner) return Status::InvalidArgument("learner_next marked learner");
  }
  if (!cfg.joint()) {
    if (!cfg.learners_next.empty()) return Status::InvalidArgument("learners_next without joint");
    if (cfg.auto_leave) return Status::InvalidArgument("auto_leave without joint");
  }
  return Status::OK();
}

}  // namespace tinykv::raft
