// FuzzStepBytes; see raft_fuzz_bodies.h.
//
// Script grammar (after the setup byte), one command per byte c:
//   c % 8 == 0  Tick, 1 + (c >> 3) % 4 times
//   c % 8 == 1  Propose (c >> 3 selects a payload or a conf change)
//   c % 8 == 2  ReadIndex
//   c % 8 == 3  TransferLeader(c >> 3 % 5)
//   c % 8 == 4  ReportUnreachable / ReportSnapshot for node 2 or 3
//   otherwise   a message: varint length, that many bytes for DecodeMessage;
//               bit 3 set: to = 1; bit 4 set: from = 1 + (c >> 5) % 4.
// Setup byte: bit 0 pre-vote, bit 1 check-quorum, bit 2 lease reads (with
// check-quorum), bit 3 learner 4 in the configuration, (>> 4) % 3 role.
#include <string>

#include "raft_fuzz_bodies.h"
#include "tinykv/common/check.h"
#include "tinykv/common/coding.h"
#include "tinykv/raft/codec.h"
#include "tinykv/raft/raw_node.h"
#include "tinykv/raft/storage.h"

namespace tinykv::raft::fuzz {
namespace {

struct Harness {
  MemoryStorage storage;
  std::unique_ptr<RawNode> node;
  uint64_t reads = 0;

  // The Ready contract as a driver follows it. Committed conf changes are
  // not applied: a committed entry comes from a leader, and applying a
  // change that does not fit the configuration is a CHECK in
  // RawNode::ApplyConfChange (trusted input, as in etcd), which the fuzzer
  // would reach by simply forging the leader.
  void Drain() {
    for (int i = 0; i < 100 && node->HasReady(); ++i) {
      Ready rd = node->GetReady();
      if (!rd.snapshot.empty()) {
        Status s = storage.ApplySnapshot(rd.snapshot);
        TINYKV_CHECK(s.ok()) << "Ready snapshot does not apply: " << s.ToString();
      }
      Status s = storage.Append(rd.entries);
      TINYKV_CHECK(s.ok()) << "Ready entries do not append: " << s.ToString();
      if (rd.hard_state) storage.SetHardState(*rd.hard_state);
      node->Advance(rd);
    }
  }

  void StepMessage(Message m) {
    (void)node->Step(m);
    Drain();
  }
};

uint64_t Term(Harness& h) { return h.node->GetStatus().hard_state.term; }

}  // namespace

Message MsgToNode1(MessageType t, uint64_t from, uint64_t term) {
  Message m;
  m.type = t;
  m.from = from;
  m.to = 1;
  m.term = term;
  return m;
}

std::string StepScript(uint8_t setup, const std::vector<Message>& msgs) {
  std::string s(1, static_cast<char>(setup));
  for (const Message& m : msgs) {
    std::string enc;
    EncodeMessage(m, &enc);
    s.push_back(static_cast<char>(5 | 8));  // a message, to = 1, from as encoded
    PutVarint64(&s, enc.size());
    s += enc;
  }
  return s;
}

void FuzzStepBytes(const uint8_t* data, size_t size) {
  Slice in(reinterpret_cast<const char*>(data), size);
  uint8_t setup = 0;
  if (!in.empty()) {
    setup = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
  }
  Harness h;
  Snapshot boot;
  boot.metadata.index = 1;
  boot.metadata.term = 1;
  boot.metadata.conf_state.voters = {1, 2, 3};
  if (setup & 8) boot.metadata.conf_state.learners = {4};
  TINYKV_CHECK(h.storage.ApplySnapshot(boot).ok());
  TINYKV_CHECK(
      h.storage
          .Append({Entry{1, 2, EntryType::kNormal, "a"}, Entry{2, 3, EntryType::kNormal, ""},
                   Entry{2, 4, EntryType::kNormal, "b"}})
          .ok());
  h.storage.SetHardState(HardState{2, 0, 3});
  Config c;
  c.id = 1;
  c.storage = &h.storage;
  c.pre_vote = (setup & 1) != 0;
  c.check_quorum = (setup & 2) != 0;
  if (c.check_quorum && (setup & 4) != 0) c.read_only_option = ReadOnlyOption::kLeaseBased;
  c.max_msg_bytes = 64;
  c.max_inflight_msgs = 4;
  c.random_seed = 7;
  c.log_transitions = false;
  auto rn = RawNode::Create(c);
  TINYKV_CHECK(rn.ok()) << rn.status().ToString();
  h.node = std::move(rn).value();
  const int role = (setup >> 4) % 3;
  if (role >= 1) {
    (void)h.node->Campaign();
    h.Drain();
    if (c.pre_vote) {
      // Our pre-vote went out for term + 1; grant it.
      h.StepMessage(MsgToNode1(MessageType::kMsgPreVoteResp, 2, Term(h) + 1));
    }
    if (role == 2) h.StepMessage(MsgToNode1(MessageType::kMsgVoteResp, 2, Term(h)));
  }
  while (!in.empty()) {
    const uint8_t cmd = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    switch (cmd % 8) {
      case 0:
        for (int i = 0; i < 1 + (cmd >> 3) % 4; ++i) h.node->Tick();
        break;
      case 1:
        if ((cmd >> 3) % 4 == 0) {
          ConfChangeV2 cc;
          cc.changes = {{static_cast<ConfChangeType>((cmd >> 5) % 3), uint64_t{2} + (cmd >> 7)}};
          (void)h.node->ProposeConfChange(cc);
        } else {
          (void)h.node->Propose(std::string((cmd >> 3) % 8, 'p'));
        }
        break;
      case 2:
        h.node->ReadIndex("read-" + std::to_string(h.reads++));
        break;
      case 3:
        h.node->TransferLeader((cmd >> 3) % 5);
        break;
      case 4:
        if ((cmd >> 3) & 1) {
          h.node->ReportUnreachable(2 + ((cmd >> 4) & 1));
        } else {
          h.node->ReportSnapshot(2 + ((cmd >> 4) & 1), ((cmd >> 5) & 1) != 0);
        }
        break;
      default: {
        uint64_t len = 0;
        if (!GetVarint64(&in, &len)) return;
        if (len > in.size()) len = in.size();
        auto m = DecodeMessage(Slice(in.data(), len));
        in.remove_prefix(len);
        if (!m.ok()) break;
        if (cmd & 8) m->to = 1;
        if (cmd & 16) m->from = 1 + (cmd >> 5) % 4;
        h.StepMessage(std::move(m).value());
        break;
      }
    }
    h.Drain();
  }
}

}  // namespace tinykv::raft::fuzz
