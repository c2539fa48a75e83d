// InvariantChecker; see invariants.h.
#include "invariants.h"

#include <algorithm>

#include "tinykv/raft/sim_cluster.h"

namespace tinykv::raft::sim {

void InvariantChecker::Violation(uint64_t now, const std::string& what) {
  if (violations.size() < 100) {
    violations.push_back("seed=" + std::to_string(seed_) + " tick=" + std::to_string(now) + " " +
                         what);
  }
}

uint64_t InvariantChecker::AppliedTerm(uint64_t index) const {
  auto it = applied_.find(index);
  return it == applied_.end() ? 0 : it->second.term;
}

void InvariantChecker::OnApply(uint64_t node, const Entry& e, uint64_t now) {
  auto [it, inserted] = applied_.emplace(e.index, Applied{e.term, e.type, e.data});
  if (!inserted &&
      (it->second.term != e.term || it->second.type != e.type || it->second.data != e.data)) {
    Violation(now, "state machine safety: node=" + std::to_string(node) + " applied index=" +
                       std::to_string(e.index) + " term=" + std::to_string(e.term) +
                       " but another node applied term=" + std::to_string(it->second.term));
  }
}

void InvariantChecker::Check(SimCluster& c) {
  const uint64_t now = c.now();
  struct View {
    uint64_t id;
    NodeInfo info;
    std::vector<Entry> tail;  // entries [tail_lo, last]
    uint64_t tail_lo;
  };
  std::vector<View> views;
  for (uint64_t id : c.NodeIds()) {
    if (!c.Alive(id)) continue;
    RawNode* rn = c.raw_node(id);
    NodeInfo info = *c.Node(id);
    View v{id, info, {}, 0};
    v.tail_lo =
        std::max(info.first_index, info.last_index > kWindow ? info.last_index - kWindow : 1);
    if (v.tail_lo <= info.last_index) {
      auto ents = rn->LogEntries(v.tail_lo, info.last_index + 1);
      if (ents.ok()) v.tail = std::move(ents).value();
    }
    views.push_back(std::move(v));
  }

  // Election Safety (§5.2).
  for (const View& v : views) {
    if (v.info.role != StateRole::kLeader) continue;
    auto [it, inserted] = leader_of_term_.emplace(v.info.term, v.id);
    if (!inserted && it->second != v.id) {
      Violation(now, "election safety: term=" + std::to_string(v.info.term) + " has leaders " +
                         std::to_string(it->second) + " and " + std::to_string(v.id));
    }
  }

  // Record what leaders know to be committed, with the leader's term.
  for (const View& v : views) {
    if (v.info.role != StateRole::kLeader) continue;
    uint64_t& upto = recorded_upto_[{v.id, v.info.term}];
    RawNode* rn = c.raw_node(v.id);
    for (uint64_t i = std::max(upto + 1, v.info.first_index); i <= v.info.commit_index; ++i) {
      auto t = rn->LogTerm(i);
      if (!t.ok()) continue;
      auto [it, inserted] = committed_.emplace(i, Committed{*t, v.info.term});
      if (!inserted) {
        if (it->second.term != *t) {
          Violation(now, "committed entry changed: index=" + std::to_string(i) + " term " +
                             std::to_string(it->second.term) + " vs " + std::to_string(*t) +
                             " on leader " + std::to_string(v.id));
        }
        it->second.commit_term = std::min(it->second.commit_term, v.info.term);
      }
    }
    upto = std::max(upto, v.info.commit_index);
  }

  // Leader Completeness (§5.4): every entry committed in an earlier term is
  // in the current leader's log.
  for (const View& v : views) {
    if (v.info.role != StateRole::kLeader) continue;
    RawNode* rn = c.raw_node(v.id);
    for (auto it = committed_.lower_bound(v.info.first_index); it != committed_.end(); ++it) {
      if (it->second.commit_term >= v.info.term) continue;
      auto t = it->first <= v.info.last_index ? rn->LogTerm(it->first) : Result<uint64_t>(0);
      if (!t.ok() || *t != it->second.term) {
        Violation(now, "leader completeness: leader=" + std::to_string(v.id) +
                           " term=" + std::to_string(v.info.term) + " lacks committed index=" +
                           std::to_string(it->first) + " term=" + std::to_string(it->second.term));
        break;
      }
    }
  }

  // Log Matching (§5.3) on the recent window of every pair of logs.
  for (size_t a = 0; a < views.size(); ++a) {
    for (size_t b = a + 1; b < views.size(); ++b) {
      const View& x = views[a];
      const View& y = views[b];
      const uint64_t lo = std::max(x.tail_lo, y.tail_lo);
      const uint64_t hi = std::min(x.tail_lo + x.tail.size(), y.tail_lo + y.tail.size());
      if (lo >= hi) continue;
      // Highest index in the window where the terms agree ...
      uint64_t k = 0;
      for (uint64_t i = hi; i-- > lo;) {
        if (x.tail[i - x.tail_lo].term == y.tail[i - y.tail_lo].term) {
          k = i;
          break;
        }
      }
      if (k == 0) continue;
      // ... then everything before it in the window is identical.
      for (uint64_t i = lo; i <= k; ++i) {
        const Entry& ex = x.tail[i - x.tail_lo];
        const Entry& ey = y.tail[i - y.tail_lo];
        if (!(ex == ey)) {
          Violation(now, "log matching: nodes " + std::to_string(x.id) + " and " +
                             std::to_string(y.id) + " agree at index " + std::to_string(k) +
                             " but differ at " + std::to_string(i));
          break;
        }
      }
    }
  }
}

}  // namespace tinykv::raft::sim
