// ProgressTracker; see tracker.h.
#include "tracker.h"

namespace tinykv::raft {

ConfState ProgressTracker::GetConfState() const {
  ConfState cs;
  cs.voters.assign(config.voters.incoming.ids().begin(), config.voters.incoming.ids().end());
  cs.voters_outgoing.assign(config.voters.outgoing.ids().begin(),
                            config.voters.outgoing.ids().end());
  cs.learners.assign(config.learners.begin(), config.learners.end());
  cs.learners_next.assign(config.learners_next.begin(), config.learners_next.end());
  cs.auto_leave = config.auto_leave;
  return cs;
}

uint64_t ProgressTracker::Committed() const {
  return config.voters.CommittedIndex([this](uint64_t id, uint64_t* idx) {
    auto it = progress.find(id);
    if (it == progress.end()) return false;
    *idx = it->second.match;
    return true;
  });
}

bool ProgressTracker::QuorumActive() const {
  std::map<uint64_t, bool> active;
  for (const auto& [id, pr] : progress) {
    if (pr.is_learner) continue;
    active[id] = pr.recent_active;
  }
  return config.voters.Vote(active) == VoteResult::kWon;
}

bool ProgressTracker::IsVoter(uint64_t id) const {
  return config.voters.incoming.ids().count(id) > 0 || config.voters.outgoing.ids().count(id) > 0;
}

VoteResult ProgressTracker::TallyVotes(int* granted, int* rejected) const {
  *granted = 0;
  *rejected = 0;
  for (const auto& [id, pr] : progress) {
    if (pr.is_learner) continue;
    auto it = votes.find(id);
    if (it == votes.end()) continue;
    if (it->second) {
      ++*granted;
    } else {
      ++*rejected;
    }
  }
  return config.voters.Vote(votes);
}

}  // namespace tinykv::raft
