// SimCluster; see sim_cluster.h.
#include "tinykv/raft/sim_cluster.h"

#include "tinykv/common/routing_error.h"

#include <algorithm>

#include "hostile_injector.h"
#include "invariants.h"
#include "tinykv/common/check.h"
#include "tinykv/common/coding.h"
#include "tinykv/raft/codec.h"

namespace tinykv::raft::sim {
namespace {

// The state machine image carried by snapshots: the applied payloads with
// their indexes. Format: count varint, then (index varint, data length-prefixed)*.
std::string EncodeSnapshotData(const std::vector<std::pair<uint64_t, std::string>>& applied,
                               uint64_t up_to) {
  std::string out;
  size_t n = 0;
  for (const auto& [i, d] : applied) n += i <= up_to;
  PutVarint64(&out, n);
  for (const auto& [i, d] : applied) {
    if (i > up_to) break;
    PutVarint64(&out, i);
    PutLengthPrefixedSlice(&out, d);
  }
  return out;
}

std::vector<std::pair<uint64_t, std::string>> DecodeSnapshotData(const std::string& data) {
  std::vector<std::pair<uint64_t, std::string>> out;
  if (data.empty()) return out;
  Slice in(data);
  uint64_t n = 0;
  TINYKV_CHECK(GetVarint64(&in, &n)) << "bad snapshot data";
  for (uint64_t k = 0; k < n; ++k) {
    uint64_t i;
    Slice d;
    TINYKV_CHECK(GetVarint64(&in, &i) && GetLengthPrefixedSlice(&in, &d)) << "bad snapshot data";
    out.emplace_back(i, d.ToString());
  }
  return out;
}

}  // namespace

std::string TraceEvent::ToString() const {
  std::string s = "tick=" + std::to_string(tick) + " node=" + std::to_string(node) +
                  " term=" + std::to_string(term) + " " + event;
  if (!detail.empty()) s += " " + detail;
  return s;
}

// The node's disk: a MemoryStorage holding exactly what was persisted, whose
// GetSnapshot produces a fresh snapshot at the applied index on demand.
class SimDisk final : public Storage {
 public:
  std::function<void()> refresh;  // makes mem a snapshot at the applied index if newer

  Result<InitialState> GetInitialState() const override { return mem.GetInitialState(); }
  Result<std::vector<Entry>> Entries(uint64_t lo, uint64_t hi, uint64_t max) const override {
    return mem.Entries(lo, hi, max);
  }
  Result<uint64_t> Term(uint64_t i) const override { return mem.Term(i); }
  uint64_t FirstIndex() const override { return mem.FirstIndex(); }
  uint64_t LastIndex() const override { return mem.LastIndex(); }
  Result<Snapshot> GetSnapshot() const override {
    if (refresh) refresh();
    return mem.GetSnapshot();
  }

  mutable MemoryStorage mem;
};

struct SimCluster::SimNode {
  uint64_t id = 0;
  SimDisk disk;                  // survives crashes
  std::unique_ptr<RawNode> raw;  // null while crashed
  // The state machine (volatile; rebuilt from the snapshot + log on restart).
  std::vector<std::pair<uint64_t, std::string>> applied;
  uint64_t applied_index = 0;
  std::vector<std::pair<uint64_t, ConfState>> conf_history;  // (index, config from then on)
  // Last observed, for trace events.
  StateRole role = StateRole::kFollower;
  uint64_t term = 0;
  uint64_t commit = 0;
};

SimCluster::SimCluster(const SimOptions& options)
    : options_(options),
      rnd_(options.seed),
      network_(&rnd_),
      checker_(std::make_unique<InvariantChecker>(options.seed)) {
  if (options_.hostile_per_tick > 0) hostile_ = std::make_unique<HostileInjector>(options_.seed);
  network_.on_drop = [this](const Message& m) {
    // The transport of the sender reports a lost snapshot (etcd ReportSnapshot).
    if (m.type != MessageType::kMsgSnap) return;
    if (SimNode* n = Find(m.from); n != nullptr && n->raw) n->raw->ReportSnapshot(m.to, true);
  };
  ConfState cs;
  for (int i = 1; i <= options_.n; ++i) cs.voters.push_back(static_cast<uint64_t>(i));
  for (int i = 1; i <= options_.n; ++i) {
    auto n = std::make_unique<SimNode>();
    n->id = static_cast<uint64_t>(i);
    // Bootstrap: every initial node starts from the same snapshot at index 1
    // holding the configuration, so later members learn it from a snapshot.
    Snapshot boot;
    boot.metadata.index = 1;
    boot.metadata.term = 1;
    boot.metadata.conf_state = cs;
    TINYKV_CHECK(n->disk.mem.ApplySnapshot(boot).ok());
    n->disk.mem.SetHardState(HardState{1, kNone, 1});
    TINYKV_CHECK(StartNode(n.get()).ok());
    nodes_.emplace(n->id, std::move(n));
  }
}

SimCluster::~SimCluster() = default;

SimCluster::SimNode* SimCluster::Find(uint64_t id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : it->second.get();
}

const std::vector<std::string>& SimCluster::violations() const { return checker_->violations; }

RawNode* SimCluster::raw_node(uint64_t id) {
  SimNode* n = Find(id);
  return n == nullptr ? nullptr : n->raw.get();
}

std::vector<uint64_t> SimCluster::NodeIds() const {
  std::vector<uint64_t> ids;
  for (const auto& [id, n] : nodes_) ids.push_back(id);
  return ids;
}

bool SimCluster::Alive(uint64_t id) const {
  SimNode* n = Find(id);
  return n != nullptr && n->raw != nullptr;
}

Status SimCluster::StartNode(SimNode* n) {
  Config c;
  c.id = n->id;
  c.election_tick = options_.election_ticks;
  c.heartbeat_tick = options_.heartbeat_ticks;
  c.storage = &n->disk;
  c.max_msg_bytes = options_.max_msg_bytes;
  c.max_inflight_msgs = options_.max_inflight_msgs;
  c.max_uncommitted_bytes = options_.max_uncommitted_bytes;
  c.check_quorum = options_.check_quorum;
  c.parallel_leader_append = options_.parallel_leader_append;
  c.pre_vote = options_.pre_vote;
  c.read_only_option = options_.read_only_option;
  c.random_seed = options_.seed + rnd_.Next();
  c.log_transitions = options_.log_transitions;
  // Rebuild the state machine from the last snapshot; the log after it is
  // re-applied as committed entries.
  auto snap = n->disk.mem.GetSnapshot();
  TINYKV_RETURN_IF_ERROR(snap.status());
  n->applied = DecodeSnapshotData(snap->data);
  n->applied_index = snap->metadata.index;
  n->conf_history.assign(1, {snap->metadata.index, snap->metadata.conf_state});
  c.applied = snap->metadata.index;
  TINYKV_ASSIGN_OR_RETURN(n->raw, RawNode::Create(c));
  n->disk.refresh = [n]() {
    if (!n->raw) return;
    auto cur = n->disk.mem.GetSnapshot();
    if (cur.ok() && cur->metadata.index >= n->applied_index) return;
    if (n->applied_index < n->disk.mem.FirstIndex()) return;
    ConfState cs = n->conf_history.back().second;
    n->disk.mem
        .CreateSnapshot(n->applied_index, cs, EncodeSnapshotData(n->applied, n->applied_index))
        .status()
        .IgnoreError();
  };
  const NodeStatus st = n->raw->GetStatus();
  n->role = st.soft_state.role;
  n->term = st.hard_state.term;
  n->commit = st.hard_state.commit;
  return Status::OK();
}

void SimCluster::Record(uint64_t node, uint64_t term, std::string event, std::string detail) {
  if (!options_.record_trace) return;
  trace_.push_back(TraceEvent{now_, node, std::move(event), term, std::move(detail)});
}

std::string SimCluster::SnapshotData(const SimNode& n) const {
  return EncodeSnapshotData(n.applied, n.applied_index);
}

void SimCluster::HandleReady(SimNode* n) {
  while (n->raw && n->raw->HasReady()) {
    Ready rd = n->raw->GetReady();
    // Trace role and term changes first, so they precede the messages they cause.
    if (rd.hard_state && rd.hard_state->term != n->term) {
      n->term = rd.hard_state->term;
      Record(n->id, n->term, "term changed");
    }
    if (rd.soft_state && rd.soft_state->role != n->role) {
      n->role = rd.soft_state->role;
      Record(n->id, n->term, std::string("became ") + StateRoleName(n->role));
    }
    // 1. Persist (synchronously: this is the "sync").
    if (!rd.snapshot.empty()) {
      Status s = n->disk.mem.ApplySnapshot(rd.snapshot);
      TINYKV_CHECK(s.ok()) << "seed=" << options_.seed << " " << s.ToString();
    }
    Status s = n->disk.mem.Append(rd.entries);
    TINYKV_CHECK(s.ok()) << "seed=" << options_.seed << " " << s.ToString();
    if (rd.hard_state) n->disk.mem.SetHardState(*rd.hard_state);
    // 2. Send.
    for (Message& m : rd.messages) {
      if (hostile_) hostile_->Observe(m);
      stats_.messages[std::string(MessageTypeName(m.type))]++;
      stats_.bytes += EncodedMessageSize(m);
      if (options_.trace_messages) {
        Record(n->id, n->term, "send " + std::string(MessageTypeName(m.type)),
               "to=" + std::to_string(m.to) + " mterm=" + std::to_string(m.term) +
                   " index=" + std::to_string(m.index) +
                   " entries=" + std::to_string(m.entries.size()) + (m.reject ? " reject" : ""));
      }
      network_.Send(std::move(m), now_);
    }
    // 3. Apply.
    if (!rd.snapshot.empty()) {
      n->applied = DecodeSnapshotData(rd.snapshot.data);
      n->applied_index = rd.snapshot.metadata.index;
      n->conf_history.assign(1, {rd.snapshot.metadata.index, rd.snapshot.metadata.conf_state});
      Record(n->id, n->term, "installed snapshot",
             "index=" + std::to_string(rd.snapshot.metadata.index));
    }
    for (const Entry& e : rd.committed_entries) {
      TINYKV_CHECK(e.index == n->applied_index + 1)
          << "seed=" << options_.seed << " node=" << n->id << " applies " << e.index << " after "
          << n->applied_index;
      if (options_.check_invariants) checker_->OnApply(n->id, e, now_);
      if (e.type == EntryType::kNormal) {
        if (!e.data.empty() && options_.record_applied) n->applied.emplace_back(e.index, e.data);
      } else {
        auto cc = DecodeConfChange(e.data);
        TINYKV_CHECK(cc.ok()) << cc.status().ToString();
        ConfState cs = n->raw->ApplyConfChange(*cc);
        n->conf_history.emplace_back(e.index, cs);
        std::string d = "voters=";
        for (uint64_t v : cs.voters) d += std::to_string(v) + ",";
        if (!cs.voters_outgoing.empty()) {
          d += " outgoing=";
          for (uint64_t v : cs.voters_outgoing) d += std::to_string(v) + ",";
        }
        if (!cs.learners.empty()) {
          d += " learners=";
          for (uint64_t v : cs.learners) d += std::to_string(v) + ",";
        }
        Record(n->id, n->term, "applied conf change", "index=" + std::to_string(e.index) + " " + d);
      }
      n->applied_index = e.index;
    }
    // 4. Reads.
    for (const ReadState& r : rd.read_states) read_results_[r.request_ctx] = r.index;
    for (const std::string& ctx : rd.failed_reads) read_failed_[ctx] = true;
    n->raw->Advance(rd);
    // Trace commit index changes.
    if (rd.hard_state && rd.hard_state->commit != n->commit) {
      n->commit = rd.hard_state->commit;
      Record(n->id, n->term, "commit", "index=" + std::to_string(n->commit));
    }
  }
}

void SimCluster::Deliver(const Message& m) {
  SimNode* to = Find(m.to);
  if (to == nullptr || !to->raw) {
    network_.on_drop(m);
    return;
  }
  to->raw->Step(m).IgnoreError();  // refused messages (unknown peer) are dropped
  if (m.type == MessageType::kMsgSnap) {
    // The sender's transport reports that the snapshot was delivered.
    if (SimNode* from = Find(m.from); from != nullptr && from->raw) {
      from->raw->ReportSnapshot(m.to, false);
    }
  }
}

void SimCluster::Settle() {
  for (int iter = 0;; ++iter) {
    TINYKV_CHECK(iter < 1000000) << "seed=" << options_.seed << " simulator livelock";
    bool progressed = false;
    const bool check = options_.check_invariants && options_.check_each_step;
    for (auto& [id, n] : nodes_) {
      if (n->raw && n->raw->HasReady()) {
        HandleReady(n.get());
        progressed = true;
        if (check) checker_->Check(*this);
      }
    }
    if (network_.HasDue(now_)) {
      for (const Message& m : network_.PopDue(now_)) {
        Deliver(m);
        if (check) checker_->Check(*this);
      }
      progressed = true;
    }
    if (!progressed) break;
  }
}

void SimCluster::InjectHostile() {
  // Targets: live nodes that are members of their own configuration (a node
  // that is not, e.g. one still joining, accepts any sender by design, see
  // step_check.cc).
  std::vector<SimNode*> targets;
  for (auto& [id, n] : nodes_) {
    if (!n->raw) continue;
    const ConfState cs = n->raw->GetStatus().conf_state;
    const uint64_t self = id;
    auto has = [self](const std::vector<uint64_t>& v) {
      return std::find(v.begin(), v.end(), self) != v.end();
    };
    if (has(cs.voters) || has(cs.learners) || has(cs.voters_outgoing)) targets.push_back(n.get());
  }
  if (targets.empty()) return;
  for (int k = 0; k < options_.hostile_per_tick; ++k) {
    SimNode* n = targets[hostile_->rnd().Uniform(targets.size())];
    std::string what;
    const Message m = hostile_->Forge(n->raw->GetStatus(), &what);
    ++stats_.hostile_injected;
    if (n->raw->Step(m).ok()) {
      ++stats_.hostile_accepted;
      if (checker_->violations.size() >= 100) continue;
      checker_->violations.push_back(
          "seed=" + std::to_string(options_.seed) + " tick=" + std::to_string(now_) + " node " +
          std::to_string(n->id) + " accepted a forged " + std::string(MessageTypeName(m.type)) +
          " from " + std::to_string(m.from) + " term=" + std::to_string(m.term) + " (" + what +
          ")");
    }
  }
}

void SimCluster::Tick(int n) {
  for (int k = 0; k < n; ++k) {
    ++now_;
    Settle();  // work queued outside a tick (proposals, reads, conf changes)
    if (hostile_) InjectHostile();
    for (auto& [id, node] : nodes_) {
      if (node->raw) node->raw->Tick();
    }
    Settle();
    if (options_.check_invariants) checker_->Check(*this);
  }
}

void SimCluster::CheckInvariants() { checker_->Check(*this); }

std::optional<uint64_t> SimCluster::Leader() const {
  std::optional<uint64_t> best;
  uint64_t best_term = 0;
  for (const auto& [id, n] : nodes_) {
    if (!n->raw) continue;
    const NodeStatus st = n->raw->GetStatus();
    if (st.soft_state.role == StateRole::kLeader && (!best || st.hard_state.term > best_term)) {
      best = id;
      best_term = st.hard_state.term;
    }
  }
  return best;
}

Result<NodeInfo> SimCluster::Node(uint64_t id) const {
  SimNode* n = Find(id);
  if (n == nullptr) return Status::NotFound("no node " + std::to_string(id));
  NodeInfo info;
  info.id = id;
  info.alive = n->raw != nullptr;
  if (n->raw) {
    const NodeStatus st = n->raw->GetStatus();
    info.role = st.soft_state.role;
    info.term = st.hard_state.term;
    info.vote = st.hard_state.vote;
    info.lead = st.soft_state.lead;
    info.commit_index = st.hard_state.commit;
    info.applied_index = n->applied_index;
    info.first_index = st.first_index;
    info.last_index = st.last_index;
  } else {
    const HardState hs = n->disk.mem.hard_state();
    info.term = hs.term;
    info.vote = hs.vote;
    info.commit_index = hs.commit;
    info.first_index = n->disk.mem.FirstIndex();
    info.last_index = n->disk.mem.LastIndex();
  }
  return info;
}

uint64_t SimCluster::LeaderOrError(std::optional<uint64_t> node, Status* st) const {
  if (node) {
    SimNode* n = Find(*node);
    if (n == nullptr || !n->raw) {
      *st = Status::Unavailable("node " + std::to_string(*node) + " is down");
      return 0;
    }
    const NodeStatus ns = n->raw->GetStatus();
    if (ns.soft_state.role != StateRole::kLeader) {
      RoutingError hint;
      hint.leader_id = ns.soft_state.lead;
      *st = NotLeaderError(hint, "node " + std::to_string(*node) + " is not the leader");
      return 0;
    }
    return *node;
  }
  auto l = Leader();
  if (!l) {
    *st = NotLeaderError(RoutingError{}, "no leader");
    return 0;
  }
  return *l;
}

Result<uint64_t> SimCluster::Propose(std::string data, std::optional<uint64_t> node) {
  Status st;
  const uint64_t id = LeaderOrError(node, &st);
  if (!st.ok()) return st;
  RawNode* rn = Find(id)->raw.get();
  TINYKV_RETURN_IF_ERROR(rn->Propose(std::move(data)));
  return rn->GetStatus().last_index;
}

Result<uint64_t> SimCluster::ReadIndex(std::optional<uint64_t> node, int max_ticks) {
  uint64_t id;
  if (node) {
    SimNode* n = Find(*node);
    if (n == nullptr || !n->raw) return Status::Unavailable("node is down");
    id = *node;
  } else {
    Status st;
    id = LeaderOrError(std::nullopt, &st);
    if (!st.ok()) return st;
  }
  const std::string ctx = "read-" + std::to_string(next_read_ctx_++);
  Find(id)->raw->ReadIndex(ctx);
  for (int t = 0;; ++t) {
    Settle();
    if (auto it = read_results_.find(ctx); it != read_results_.end()) {
      const uint64_t idx = it->second;
      read_results_.erase(it);
      return idx;
    }
    if (read_failed_.erase(ctx) > 0) {
      return Status::Unavailable("read index failed: leadership changed or unknown");
    }
    if (t >= max_ticks) break;
    Tick(1);
  }
  return Status::Timeout("read index not confirmed within " + std::to_string(max_ticks) + " ticks");
}

Status SimCluster::Campaign(uint64_t id) {
  SimNode* n = Find(id);
  if (n == nullptr || !n->raw) return Status::Unavailable("node is down");
  return n->raw->Campaign();
}

Result<std::vector<Entry>> SimCluster::Log(uint64_t id) const {
  SimNode* n = Find(id);
  if (n == nullptr) return Status::NotFound("no node " + std::to_string(id));
  if (n->raw) {
    const NodeStatus st = n->raw->GetStatus();
    if (st.last_index < st.first_index) return std::vector<Entry>{};
    return n->raw->LogEntries(st.first_index, st.last_index + 1);
  }
  const uint64_t first = n->disk.mem.FirstIndex(), last = n->disk.mem.LastIndex();
  if (last < first) return std::vector<Entry>{};
  return n->disk.mem.Entries(first, last + 1, kNoLimit);
}

Result<std::vector<std::string>> SimCluster::Applied(uint64_t id) const {
  SimNode* n = Find(id);
  if (n == nullptr) return Status::NotFound("no node " + std::to_string(id));
  std::vector<std::string> out;
  out.reserve(n->applied.size());
  for (const auto& [i, d] : n->applied) out.push_back(d);
  return out;
}

Result<ConfState> SimCluster::Members(uint64_t id) const {
  SimNode* n = Find(id);
  if (n == nullptr) return Status::NotFound("no node " + std::to_string(id));
  if (n->raw) return n->raw->GetStatus().conf_state;
  auto snap = n->disk.mem.GetSnapshot();
  TINYKV_RETURN_IF_ERROR(snap.status());
  return snap->metadata.conf_state;
}

void SimCluster::Partition(const std::vector<std::vector<uint64_t>>& groups) {
  network_.Partition(groups);
  std::string d;
  for (const auto& g : groups) {
    d += "[";
    for (uint64_t id : g) d += std::to_string(id) + ",";
    d += "]";
  }
  Record(0, 0, "partition", d);
}

void SimCluster::Heal() {
  network_.Heal();
  Record(0, 0, "heal");
}

void SimCluster::Cut(uint64_t a, uint64_t b) {
  network_.Cut(a, b);
  Record(0, 0, "cut", std::to_string(a) + "-" + std::to_string(b));
}

void SimCluster::RestoreLink(uint64_t a, uint64_t b) {
  network_.Restore(a, b);
  Record(0, 0, "restore", std::to_string(a) + "-" + std::to_string(b));
}

Status SimCluster::Crash(uint64_t id) {
  SimNode* n = Find(id);
  if (n == nullptr) return Status::NotFound("no node " + std::to_string(id));
  if (!n->raw) return Status::OK();
  // Volatile state is lost: unsent messages (still inside the RawNode), the
  // in-memory state machine, messages in flight to it. The disk stays.
  n->raw.reset();
  n->applied.clear();
  n->applied_index = 0;
  network_.DropTo(id);
  Record(id, n->term, "crash");
  return Status::OK();
}

Status SimCluster::Restart(uint64_t id) {
  SimNode* n = Find(id);
  if (n == nullptr) return Status::NotFound("no node " + std::to_string(id));
  if (n->raw) return Status::OK();
  TINYKV_RETURN_IF_ERROR(StartNode(n));
  Record(id, n->term, "restart");
  return Status::OK();
}

Result<std::pair<uint64_t, uint64_t>> SimCluster::ProposeConfChange(const ConfChangeV2& cc) {
  Status st;
  const uint64_t id = LeaderOrError(std::nullopt, &st);
  if (!st.ok()) return st;
  RawNode* rn = Find(id)->raw.get();
  TINYKV_RETURN_IF_ERROR(rn->ProposeConfChange(cc));
  const NodeStatus s = rn->GetStatus();
  return std::make_pair(s.last_index, s.hard_state.term);
}

Result<std::pair<uint64_t, uint64_t>> SimCluster::AddMember(uint64_t id, bool learner) {
  if (id == kNone) return Status::InvalidArgument("node id 0 is reserved");
  ConfChangeV2 cc;
  cc.changes.push_back({learner ? ConfChangeType::kAddLearnerNode : ConfChangeType::kAddNode, id});
  TINYKV_ASSIGN_OR_RETURN(auto r, ProposeConfChange(cc));
  if (Find(id) == nullptr) {
    // A new node starts with an empty disk and no configuration: it cannot
    // campaign, and learns the configuration from the leader's snapshot.
    auto n = std::make_unique<SimNode>();
    n->id = id;
    SimNode* p = n.get();
    nodes_.emplace(id, std::move(n));
    TINYKV_RETURN_IF_ERROR(StartNode(p));
    Record(id, 0, "created");
  }
  return r;
}

Result<std::pair<uint64_t, uint64_t>> SimCluster::Promote(uint64_t id) {
  if (auto l = Leader()) {
    const ConfState cs = Find(*l)->raw->GetStatus().conf_state;
    if (std::find(cs.learners.begin(), cs.learners.end(), id) == cs.learners.end()) {
      return Status::InvalidArgument("node " + std::to_string(id) + " is not a learner");
    }
  }
  ConfChangeV2 cc;
  cc.changes.push_back({ConfChangeType::kAddNode, id});
  return ProposeConfChange(cc);
}

Result<std::pair<uint64_t, uint64_t>> SimCluster::RemoveMember(uint64_t id) {
  if (auto l = Leader()) {
    const ConfState cs = Find(*l)->raw->GetStatus().conf_state;
    auto has = [&](const std::vector<uint64_t>& v) {
      return std::find(v.begin(), v.end(), id) != v.end();
    };
    if (!has(cs.voters) && !has(cs.learners) && !has(cs.voters_outgoing)) {
      return Status::NotFound("node " + std::to_string(id) + " is not a member");
    }
  }
  ConfChangeV2 cc;
  cc.changes.push_back({ConfChangeType::kRemoveNode, id});
  return ProposeConfChange(cc);
}

Status SimCluster::WaitApplied(uint64_t index, uint64_t term, int max_ticks) {
  for (int t = 0;; ++t) {
    Settle();
    for (const auto& [id, n] : nodes_) {
      if (!n->raw || n->applied_index < index) continue;
      uint64_t got = checker_->AppliedTerm(index);
      if (got == 0) {
        auto lt = n->raw->LogTerm(index);
        if (!lt.ok()) continue;
        got = *lt;
      }
      if (got == term) return Status::OK();
      return Status::Aborted("entry at index " + std::to_string(index) +
                             " was replaced (leader changed)");
    }
    if (t >= max_ticks) break;
    Tick(1);
  }
  return Status::Timeout("entry " + std::to_string(index) + " not applied within " +
                         std::to_string(max_ticks) + " ticks");
}

Status SimCluster::TransferLeader(uint64_t id) {
  Status st;
  const uint64_t l = LeaderOrError(std::nullopt, &st);
  if (!st.ok()) return st;
  Find(l)->raw->TransferLeader(id);
  Record(l, Find(l)->term, "transfer leader", "to=" + std::to_string(id));
  return Status::OK();
}

Status SimCluster::Compact(uint64_t id, uint64_t index) {
  SimNode* n = Find(id);
  if (n == nullptr) return Status::NotFound("no node " + std::to_string(id));
  if (!n->raw) return Status::Unavailable("node " + std::to_string(id) + " is down");
  if (index > n->applied_index) {
    return Status::InvalidArgument("compact index " + std::to_string(index) +
                                   " is beyond applied index " + std::to_string(n->applied_index));
  }
  if (index < n->disk.mem.FirstIndex()) return Status::OK();  // already compacted
  ConfState cs;
  for (const auto& [i, c] : n->conf_history) {
    if (i <= index) cs = c;
  }
  auto cur = n->disk.mem.GetSnapshot();
  if (!cur.ok() || cur->metadata.index < index) {
    TINYKV_RETURN_IF_ERROR(
        n->disk.mem.CreateSnapshot(index, cs, EncodeSnapshotData(n->applied, index)).status());
  }
  TINYKV_RETURN_IF_ERROR(n->disk.mem.Compact(index));
  Record(id, n->term, "compacted", "index=" + std::to_string(index));
  return Status::OK();
}

}  // namespace tinykv::raft::sim
