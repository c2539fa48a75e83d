// Writes the seed corpora of the Raft fuzz targets (run once; the output is
// committed under fuzz/corpus/, together with inputs libFuzzer found):
//   tinykv_raft_make_corpus phase3_raft/fuzz/corpus
// codec/: encodings of every message type (with entries, conf changes and a
// snapshot), of the other codec types, and truncated and flipped variants.
// step/: FuzzStepBytes scripts with the messages a follower, candidate and
// leader receive.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "raft_fuzz_bodies.h"
#include "tinykv/raft/codec.h"

using namespace tinykv::raft;

namespace {

void WriteOut(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

void Variants(const std::string& dir, const std::string& name, const std::string& data) {
  WriteOut(dir + "/" + name, data);
  if (data.size() > 6) {
    WriteOut(dir + "/" + name + ".trunc", data.substr(0, data.size() - 3));
    std::string flipped = data;
    flipped[data.size() / 2] ^= 0x41;
    WriteOut(dir + "/" + name + ".flip", flipped);
  }
}

std::string ConfChangeData(ConfChangeType t, uint64_t id) {
  ConfChangeV2 cc;
  cc.changes = {{t, id}};
  cc.context = "ctx";
  std::string s;
  EncodeConfChange(cc, &s);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s corpusdir\n", argv[0]);
    return 2;
  }
  const std::string codec = std::string(argv[1]) + "/codec";
  const std::string step = std::string(argv[1]) + "/step";

  // ---- codec ----
  for (int t = 0; t < kNumMessageTypes; ++t) {
    Message m = fuzz::MsgToNode1(static_cast<MessageType>(t), 2, 3);
    m.log_term = 2;
    m.index = 4;
    m.commit = 3;
    std::string enc;
    EncodeMessage(m, &enc);
    Variants(codec, "type" + std::to_string(t), enc);
  }
  Message app = fuzz::MsgToNode1(MessageType::kMsgApp, 2, 3);
  app.index = 4;
  app.log_term = 2;
  app.commit = 4;
  app.entries = {
      Entry{3, 5, EntryType::kNormal, "hello"},
      Entry{3, 6, EntryType::kConfChangeV2, ConfChangeData(ConfChangeType::kAddLearnerNode, 4)}};
  std::string enc;
  EncodeMessage(app, &enc);
  Variants(codec, "app_entries", enc);
  Message snap = fuzz::MsgToNode1(MessageType::kMsgSnap, 2, 3);
  snap.snapshot.metadata.index = 9;
  snap.snapshot.metadata.term = 3;
  snap.snapshot.metadata.conf_state = ConfState{{1, 2}, {4}, {1, 2, 3}, {3}, true};
  snap.snapshot.data = "image";
  enc.clear();
  EncodeMessage(snap, &enc);
  Variants(codec, "snap_joint", enc);
  Message rej = fuzz::MsgToNode1(MessageType::kMsgAppResp, 2, 3);
  rej.reject = true;
  rej.index = 7;
  rej.reject_hint = 5;
  rej.log_term = 2;
  rej.context = "ctx";
  enc.clear();
  EncodeMessage(rej, &enc);
  Variants(codec, "app_resp_reject", enc);
  Message huge = fuzz::MsgToNode1(MessageType::kMsgHeartbeat, 99, ~uint64_t{0});
  huge.commit = 1000000000;
  enc.clear();
  EncodeMessage(huge, &enc);
  Variants(codec, "heartbeat_huge", enc);
  Variants(codec, "conf_change", ConfChangeData(ConfChangeType::kRemoveNode, 3));
  enc.clear();
  EncodeHardState(HardState{5, 2, 9}, &enc);
  Variants(codec, "hard_state", enc);
  enc.clear();
  EncodeConfState(snap.snapshot.metadata.conf_state, &enc);
  Variants(codec, "conf_state", enc);
  enc.clear();
  EncodeEntry(app.entries[0], &enc);
  Variants(codec, "entry", enc);

  // ---- step ----
  // Setup bytes: pre-vote + check-quorum (3), as follower (0x00), candidate
  // (0x10) and leader (0x20); learner 4 (8); lease reads (4).
  Message hb = fuzz::MsgToNode1(MessageType::kMsgHeartbeat, 2, 3);
  hb.commit = 3;
  Message app2 = app;
  app2.index = 4;
  app2.log_term = 2;
  WriteOut(step + "/follower_heartbeat_app", fuzz::StepScript(0x03, {hb, app2, hb}));
  Message vote = fuzz::MsgToNode1(MessageType::kMsgVote, 3, 3);
  vote.index = 4;
  vote.log_term = 2;
  Message prevote = vote;
  prevote.type = MessageType::kMsgPreVote;
  WriteOut(step + "/follower_votes", fuzz::StepScript(0x03, {prevote, vote}));
  Message snap2 = snap;
  snap2.snapshot.metadata.conf_state = ConfState{{1, 2, 3}, {}, {}, {}, false};
  WriteOut(step + "/follower_snapshot", fuzz::StepScript(0x03, {snap2, hb}));
  Message vresp = fuzz::MsgToNode1(MessageType::kMsgVoteResp, 3, 3);
  WriteOut(step + "/candidate_votes", fuzz::StepScript(0x11, {vresp, hb}));
  // As leader (term 3 after the election): acks, rejections, heartbeats
  // responses, reads, transfer.
  Message ack = fuzz::MsgToNode1(MessageType::kMsgAppResp, 2, 3);
  ack.index = 5;
  Message hbr = fuzz::MsgToNode1(MessageType::kMsgHeartbeatResp, 3, 3);
  Message tl = fuzz::MsgToNode1(MessageType::kMsgTransferLeader, 2, 0);
  Message ri = fuzz::MsgToNode1(MessageType::kMsgReadIndex, 3, 0);
  ri.context = "r";
  std::string leader = fuzz::StepScript(0x23, {ack, rej, hbr, ri, tl});
  leader += std::string("\x01\x09\x02\x00\x08", 5);  // propose, propose, read, ticks
  WriteOut(step + "/leader_responses", leader);
  WriteOut(step + "/leader_lease_learner", fuzz::StepScript(0x2f, {ack, hbr, ri}));
  std::string ticks(1, '\x03');
  ticks += std::string(40, '\x18');  // many ticks: elections, check quorum
  WriteOut(step + "/ticks", ticks);
  std::printf("wrote %s and %s\n", codec.c_str(), step.c_str());
  return 0;
}
