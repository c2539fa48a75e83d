// HostileInjector; see hostile_injector.h. Every branch of Forge names the
// rule of message_check.h / step_check.cc that refuses what it builds.
#include "hostile_injector.h"

#include <algorithm>

namespace tinykv::raft::sim {
namespace {

constexpr size_t kRecent = 64;

}  // namespace

void HostileInjector::Observe(const Message& m) {
  if (recent_.size() < kRecent) {
    recent_.push_back(m);
  } else {
    recent_[next_] = m;
    next_ = (next_ + 1) % kRecent;
  }
}

uint64_t HostileInjector::ForeignId() {
  switch (rnd_.Uniform(3)) {
    case 0:
      return ~uint64_t{0};
    case 1:
      return kMaxIndex + 7;
    default:
      return kFirstForeignId + rnd_.Uniform(1000);
  }
}

uint64_t HostileInjector::MemberId(const NodeStatus& st) {
  std::vector<uint64_t> ids = st.conf_state.voters;
  ids.insert(ids.end(), st.conf_state.learners.begin(), st.conf_state.learners.end());
  if (ids.empty()) return st.id;
  return ids[rnd_.Uniform(ids.size())];
}

uint64_t HostileInjector::HugeTerm() {
  switch (rnd_.Uniform(4)) {
    case 0:
      return kMaxTerm + 1;
    case 1:
      return kMaxTerm + 1 + rnd_.Uniform(kMaxTerm);
    case 2:
      return uint64_t{1} << 63;
    default:
      return ~uint64_t{0};
  }
}

Message HostileInjector::Template(const NodeStatus& st) {
  Message m;
  if (!recent_.empty() && rnd_.OneIn(2)) {
    m = recent_[rnd_.Uniform(recent_.size())];
  } else {
    m.type = MessageType::kMsgHeartbeat;
    m.term = std::max<uint64_t>(st.hard_state.term, 1);
    m.commit = std::min(st.hard_state.commit, st.last_index);
  }
  m.from = MemberId(st);
  m.to = st.id;
  return m;
}

void HostileInjector::BadEntries(Message* m, std::string* what) {
  // An AppendEntries from a member in its term whose entries break
  // CheckEntries (consecutive after index, terms in [log_term, term], >= 1).
  m->type = MessageType::kMsgApp;
  m->snapshot = Snapshot();
  m->reject = false;
  m->reject_hint = 0;
  m->term = std::max<uint64_t>(m->term, 1);
  const uint64_t t = m->term;
  m->index = m->index > 2 ? m->index - rnd_.Uniform(3) : m->index;
  m->log_term = 0;
  auto entry = [&](uint64_t term, uint64_t index) {
    return Entry{term, index, EntryType::kNormal, "forged"};
  };
  m->entries.clear();
  switch (rnd_.Uniform(7)) {
    case 0:
      *what = "entries with a gap";
      m->entries = {entry(t, m->index + 1), entry(t, m->index + 3)};
      break;
    case 1:
      *what = "entries not starting at index+1";
      m->entries = {entry(t, m->index + (rnd_.OneIn(2) ? 0 : 2))};
      break;
    case 2:
      *what = "entry terms decreasing";
      m->entries = {entry(t, m->index + 1), entry(t - 1, m->index + 2)};  // t-1 may be 0: also bad
      break;
    case 3:
      *what = "entry term above the message term";
      m->entries = {entry(t + 1, m->index + 1)};
      break;
    case 4:
      *what = "index + entries overflows";
      m->index = rnd_.OneIn(2) ? ~uint64_t{0} - 1 : kMaxIndex - 1;
      m->entries = {entry(t, m->index + 1), entry(t, m->index + 2), entry(t, m->index + 3)};
      break;
    case 5:
      *what = "undecodable conf change entry";
      m->entries = {Entry{t, m->index + 1, EntryType::kConfChangeV2, std::string("\x07", 1)}};
      break;
    default:
      *what = "entry term below prevLogTerm";
      m->log_term = t;
      m->entries = {entry(t - 1, m->index + 1)};
      break;
  }
}

void HostileInjector::BadSnapshot(Message* m, std::string* what) {
  m->type = MessageType::kMsgSnap;
  m->entries.clear();
  m->term = std::max<uint64_t>(m->term, 1);
  Snapshot s;
  s.metadata.index = m->commit + 1 + rnd_.Uniform(100);
  s.metadata.term = m->term;
  s.metadata.conf_state.voters = {1, 2, 3};
  s.data = "forged";
  ConfState& cs = s.metadata.conf_state;
  switch (rnd_.Uniform(10)) {
    case 0:
      *what = "snapshot at index 0";
      s.metadata.index = 0;
      break;
    case 1:
      *what = "snapshot index above the maximum";
      s.metadata.index = kMaxIndex + 1 + rnd_.Uniform(1000);
      break;
    case 2:
      *what = "snapshot term 0";
      s.metadata.term = 0;
      break;
    case 3:
      *what = "snapshot term above the message term";
      s.metadata.term = m->term + 1;
      break;
    case 4:
      *what = "snapshot voter twice";
      cs.voters = {1, 2, 2};
      break;
    case 5:
      *what = "snapshot without voters";
      cs.voters.clear();
      cs.learners = {m->to};
      break;
    case 6:
      *what = "snapshot learner is also a voter";
      cs.learners = {2};
      break;
    case 7:
      *what = "snapshot voter 0";
      cs.voters = {0, 1, 2};
      break;
    case 8:
      *what = "snapshot learners_next outside the outgoing voters";
      cs.voters_outgoing = {1, 2};
      cs.learners_next = {3};
      break;
    default:
      *what = "snapshot auto_leave outside a joint configuration";
      cs.auto_leave = true;
      break;
  }
  m->snapshot = std::move(s);
}

Message HostileInjector::Forge(const NodeStatus& st, std::string* what) {
  Message m = Template(st);
  const uint64_t term = st.hard_state.term;
  switch (rnd_.Uniform(13)) {
    case 0:
      // Membership (step_check.cc): any content from an id of no group.
      *what = "sender not a member";
      m.from = ForeignId();
      if (rnd_.OneIn(2)) m.term = term + 1 + rnd_.Uniform(5);
      if (rnd_.OneIn(3)) m.commit = st.last_index + rnd_.Uniform(10);
      break;
    case 1:
      *what = "no sender";
      m.from = kNone;
      break;
    case 2:
      *what = "addressed to another node";
      m.to = st.id + kFirstForeignId;
      break;
    case 3:
      *what = "term above kMaxTerm";
      m.term = HugeTerm();
      break;
    case 4: {
      *what = "local message type";
      constexpr MessageType kLocal[] = {MessageType::kMsgHup,        MessageType::kMsgBeat,
                                        MessageType::kMsgProp,       MessageType::kMsgUnreachable,
                                        MessageType::kMsgSnapStatus, MessageType::kMsgCheckQuorum};
      m.type = kLocal[rnd_.Uniform(6)];
      if (m.type == MessageType::kMsgProp && rnd_.OneIn(2)) m.entries.clear();  // used to abort
      break;
    }
    case 5:
      *what = "unknown message type";
      m.type = static_cast<MessageType>(
          kNumMessageTypes + rnd_.Uniform(256 - static_cast<uint64_t>(kNumMessageTypes)));
      break;
    case 6:
      BadEntries(&m, what);
      break;
    case 7:
      // step_check.cc: a heartbeat never commits beyond the receiver's log.
      *what = "heartbeat commit beyond the log";
      m = Message();
      m.type = MessageType::kMsgHeartbeat;
      m.from = MemberId(st);
      m.to = st.id;
      m.term = std::max<uint64_t>(term, 1) + rnd_.Uniform(2);
      m.commit = st.last_index + 1 + rnd_.Skewed(40);
      if (m.commit > kMaxIndex) m.commit = kMaxIndex;
      break;
    case 8:
      *what = "index or commit above kMaxIndex";
      (rnd_.OneIn(2) ? m.index : m.commit) = kMaxIndex + 1 + rnd_.Uniform(kMaxIndex);
      break;
    case 9:
      BadSnapshot(&m, what);
      if (rnd_.OneIn(4)) {
        *what = "snapshot on a heartbeat";
        m.type = MessageType::kMsgHeartbeat;
        m.snapshot.metadata = SnapshotMetadata{{{1, 2, 3}, {}, {}, {}, false}, 5, 1};
      }
      break;
    case 10:
      *what = "entries on a type that carries none";
      m.type = rnd_.OneIn(2) ? MessageType::kMsgHeartbeat : MessageType::kMsgVote;
      m.snapshot = Snapshot();
      m.term = std::max<uint64_t>(m.term, 1);
      m.entries = {Entry{m.term, m.index + 1, EntryType::kNormal, "forged"}};
      break;
    case 11:
      if (rnd_.OneIn(2)) {
        *what = "term 0 on a message that needs one";
        m.type = rnd_.OneIn(2) ? MessageType::kMsgApp : MessageType::kMsgHeartbeat;
        m.term = 0;
      } else {
        *what = "term on a forwarded request";
        m.type = rnd_.OneIn(2) ? MessageType::kMsgReadIndex : MessageType::kMsgTransferLeader;
        m.term = 1 + rnd_.Uniform(term + 1);
      }
      m.entries.clear();
      m.snapshot = Snapshot();
      break;
    default:
      m = Message();
      m.type = MessageType::kMsgAppResp;
      m.from = MemberId(st);
      m.to = st.id;
      m.term = std::max<uint64_t>(term, 1);
      if (st.soft_state.role == StateRole::kLeader) {
        // step_check.cc: a follower never acknowledges more than the leader has.
        *what = "acknowledges entries beyond the leader's log";
        m.index = st.last_index + 1 + rnd_.Uniform(1000);
      } else {
        *what = "rejection hint above the rejected index";
        m.reject = true;
        m.index = rnd_.Uniform(st.last_index + 1);
        m.reject_hint = m.index + 1 + rnd_.Uniform(1000);
      }
      break;
  }
  return m;
}

}  // namespace tinykv::raft::sim
