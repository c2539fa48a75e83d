// Writes the seed corpora of the replication layer's fuzz targets (run once;
// the output is committed under fuzz/corpus/, together with inputs libFuzzer
// found):
//   tinykv_replica_make_corpus <scratch dir> phase3_raft/fuzz/corpus
// log_segment/: logs written by DiskStorage itself (a bootstrapped group,
// normal entries, a conflicting suffix, a local snapshot with compaction
// over several segments, a snapshot from a leader), as raw inputs, plus
// framed inputs (records the harness checksums) in both record formats and
// with a torn tail. peer_protocol/: every peer RPC payload, a snapshot
// chunk stream, and the entry payloads (KV command, member context,
// membership).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "peer_protocol.h"
#include "replica_fuzz_bodies.h"
#include "tinykv/common/check.h"
#include "tinykv/common/coding.h"
#include "tinykv/common/env.h"
#include "tinykv/net/serialization.h"
#include "tinykv/raft/codec.h"
#include "tinykv/replica/disk_storage.h"
#include "tinykv/replica/kv_command.h"
#include "tinykv/replica/membership.h"

using namespace tinykv;           // NOLINT: a generator, not library code
using namespace tinykv::replica;  // NOLINT
namespace fs = std::filesystem;

namespace {

void WriteOut(const fs::path& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

std::string Envelope(uint64_t proposal_id, const std::string& command) {
  std::string s;
  PutFixed64(&s, proposal_id);
  return s + command;
}

std::string Put(const std::string& k, const std::string& v) {
  KvCommand c;
  c.key = k;
  c.value = v;
  c.client_id = 7;
  c.request_seq = 1;
  return EncodeKvCommand(c);
}

raft::Entry AddMember(uint64_t id) {
  raft::ConfChangeV2 cc;
  cc.changes = {{raft::ConfChangeType::kAddNode, id}};
  cc.context = EncodeMemberContext({0, {"127.0.0.1:" + std::to_string(2380 + id), ""}});
  raft::Entry e{1, id, raft::EntryType::kConfChangeV2, ""};
  raft::EncodeConfChange(cc, &e.data);
  return e;
}

// The segment files of the log in `dir`, oldest first (the last three).
std::vector<std::string> Segments(const fs::path& dir) {
  std::vector<fs::path> paths;
  for (const auto& e : fs::directory_iterator(dir)) paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  if (paths.size() > 3) paths.erase(paths.begin(), paths.end() - 3);
  std::vector<std::string> out;
  for (const auto& p : paths) {
    std::string s;
    TINYKV_CHECK(ReadFileToString(Env::Default(), p.string(), &s).ok());
    out.push_back(std::move(s));
  }
  return out;
}

std::unique_ptr<DiskStorage> OpenLog(const fs::path& dir, uint64_t segment_bytes = 64u << 20) {
  DiskStorageOptions o;
  o.sync = false;
  o.segment_bytes = segment_bytes;
  auto st = DiskStorage::Open(dir, o);
  TINYKV_CHECK(st.ok()) << st.status().ToString();
  return std::move(st).value();
}

// A framed input (replica_fuzz_bodies.h): flags, then (type, varint length,
// payload) records; type 0 starts the next segment.
class Framed {
 public:
  explicit Framed(uint8_t flags) : s_(1, static_cast<char>(flags | 4)) {}
  Framed& Record(uint8_t type, const std::string& payload) {
    s_.push_back(static_cast<char>(type));
    PutVarint32(&s_, static_cast<uint32_t>(payload.size()));
    s_ += payload;
    return *this;
  }
  Framed& Entry(const raft::Entry& e) {
    std::string p;
    raft::EncodeEntry(e, &p);
    return Record(1, p);
  }
  Framed& Hard(const raft::HardState& hs) {
    std::string p;
    raft::EncodeHardState(hs, &p);
    return Record(2, p);
  }
  Framed& Snap(const raft::SnapshotMetadata& m, const std::string& data, bool replace) {
    std::string p(1, replace ? 1 : 0);
    raft::EncodeSnapshotMetadata(m, &p);
    PutLengthPrefixedSlice(&p, data);
    return Record(3, p);
  }
  Framed& NextSegment() {
    s_.push_back(0);
    return *this;
  }
  const std::string& str() const { return s_; }

 private:
  std::string s_;
};

void LogCorpus(const fs::path& scratch, const fs::path& out) {
  fs::create_directories(out);
  int n = 0;
  auto fresh = [&] {
    const fs::path d = scratch / ("log" + std::to_string(n++));
    fs::remove_all(d);
    return d;
  };
  const raft::ConfState three{{1, 2, 3}, {}, {}, {}, false};
  std::vector<raft::Entry> boot = {AddMember(1), AddMember(2), AddMember(3)};

  // A bootstrapped group (log_format.md "Bootstrap").
  fs::path d = fresh();
  {
    auto st = OpenLog(d);
    TINYKV_CHECK(st->Save(raft::HardState{1, 0, 3}, boot, false).ok());
  }
  WriteOut(out / "bootstrap", fuzz::RawLogInput(Segments(d)));

  // Then an election and puts; a conflicting suffix replaced by a new leader.
  {
    auto st = OpenLog(d);
    std::vector<raft::Entry> ents = {{2, 4, raft::EntryType::kNormal, ""}};
    for (uint64_t i = 5; i <= 8; ++i) {
      ents.push_back(
          {2, i, raft::EntryType::kNormal, Envelope(i, Put("k" + std::to_string(i), "v"))});
    }
    TINYKV_CHECK(st->Save(raft::HardState{2, 1, 6}, ents, false).ok());
    TINYKV_CHECK(st->Save(raft::HardState{3, 2, 6},
                          {{3, 7, raft::EntryType::kNormal, ""},
                           {3, 8, raft::EntryType::kNormal, Envelope(9, Put("k", "w"))}},
                          false)
                     .ok());
  }
  WriteOut(out / "entries_and_conflict", fuzz::RawLogInput(Segments(d)));

  // A local snapshot and compaction over small segments.
  d = fresh();
  {
    auto st = OpenLog(d, 512);
    TINYKV_CHECK(st->Save(raft::HardState{1, 0, 3}, boot, false).ok());
    for (uint64_t i = 4; i <= 40; ++i) {
      TINYKV_CHECK(st->Save(raft::HardState{2, 1, i - 1},
                            {{2, i, raft::EntryType::kNormal,
                              Envelope(i, Put("key", std::string(20, 'x')))}},
                            false)
                       .ok());
    }
    TINYKV_CHECK(st->CreateSnapshot(30, three, "30-2", 25).ok());
  }
  WriteOut(out / "snapshot_compacted", fuzz::RawLogInput(Segments(d)));

  // A snapshot received from a leader replaces the log.
  d = fresh();
  {
    auto st = OpenLog(d);
    TINYKV_CHECK(st->Save(raft::HardState{1, 0, 3}, boot, false).ok());
    raft::Snapshot snap;
    snap.metadata = {three, 100, 7};
    snap.data = "100-7";
    TINYKV_CHECK(st->ApplySnapshot(snap).ok());
    TINYKV_CHECK(
        st->Save(raft::HardState{7, 2, 100}, {{7, 101, raft::EntryType::kNormal, ""}}, false).ok());
  }
  WriteOut(out / "leader_snapshot", fuzz::RawLogInput(Segments(d)));
  {
    std::vector<std::string> segs = Segments(d);
    segs.back().resize(segs.back().size() - 5);  // a torn tail
    WriteOut(out / "leader_snapshot_torn", fuzz::RawLogInput(segs));
    segs.back().append(64, '\0');  // a zero-filled tail
    WriteOut(out / "leader_snapshot_zero_tail", fuzz::RawLogInput(segs));
  }

  // Framed inputs: v2 and v1, one and two segments, a joint configuration,
  // the older bootstrap (a snapshot record at index 0), a torn tail.
  Framed f2(1);
  f2.Snap({three, 0, 0}, "", false).Hard({1, 0, 3});
  for (const raft::Entry& e : boot) f2.Entry(e);
  f2.NextSegment().Snap({three, 3, 1}, "3-1", false).Entry({2, 4, raft::EntryType::kNormal, ""});
  f2.Hard({2, 1, 4});
  WriteOut(out / "framed_two_segments", f2.str());
  Framed v1(8);
  for (const raft::Entry& e : boot) v1.Entry(e);
  v1.Hard({1, 0, 3});
  WriteOut(out / "framed_v1", v1.str());
  Framed joint(0);
  joint.Snap({raft::ConfState{{1, 2}, {4}, {1, 2, 3}, {3}, true}, 9, 3}, "9-3", true)
      .Hard({3, 1, 9})
      .Entry({3, 10, raft::EntryType::kNormal, Envelope(1, Put("a", "b"))});
  WriteOut(out / "framed_joint", joint.str());
  Framed torn(0x30);
  for (const raft::Entry& e : boot) torn.Entry(e);
  torn.Hard({1, 0, 3}).Entry({1, 4, raft::EntryType::kNormal, Envelope(2, Put("t", "u"))});
  WriteOut(out / "framed_torn", torn.str());
  std::printf("wrote log inputs to %s\n", out.c_str());
}

void PeerCorpus(const fs::path& out) {
  using namespace tinykv::replica::internal;  // NOLINT: peer protocol types
  fs::create_directories(out);
  WriteOut(out / "hello", net::EncodeMessage(PeerHello{kPeerHelloVersion, 42, 2}));
  raft::Message app;
  app.type = raft::MessageType::kMsgApp;
  app.from = 1;
  app.to = 2;
  app.term = 5;
  app.log_term = 5;
  app.index = 7;
  app.commit = 7;
  app.entries = {{5, 8, raft::EntryType::kNormal, Envelope(3, Put("k", "v"))}, AddMember(4)};
  app.entries[1].term = 5;
  app.entries[1].index = 9;
  raft::Message hb;
  hb.type = raft::MessageType::kMsgHeartbeat;
  hb.from = 1;
  hb.to = 2;
  hb.term = 5;
  hb.commit = 7;
  RaftBatchRequest batch{1, 2, {}};
  for (const raft::Message* m : {&app, &hb}) {
    std::string enc;
    raft::EncodeMessage(*m, &enc);
    batch.messages.push_back({1, enc});
  }
  WriteOut(out / "batch", net::EncodeMessage(batch));
  WriteOut(out / "batch_response", net::EncodeMessage(RaftBatchResponse{}));
  WriteOut(out / "fetch_snapshot", net::EncodeMessage(FetchSnapshotRequest{1, 100, 7}));
  std::string stream;
  for (const SnapshotChunk& c : {SnapshotChunk{"CURRENT", 0, "MANIFEST-000002\n", 1},
                                 SnapshotChunk{"000005.sst", 0, std::string(40, 's'), 0},
                                 SnapshotChunk{"000005.sst", 40, std::string(10, 't'), 1},
                                 SnapshotChunk{"MANIFEST-000002", 0, "m", 0}}) {
    stream += net::EncodeMessage(c);
  }
  WriteOut(out / "snapshot_chunks", stream);
  WriteOut(out / "kv_command", Put("key", "value"));
  KvCommand cas;
  cas.op = KvCommand::Op::kCas;
  cas.key = "c";
  cas.expected = "old";
  cas.value = "new";
  WriteOut(out / "kv_cas", EncodeKvCommand(cas));
  std::string res;
  EncodeKvCommandResult({false, 12, std::string("cur"), 0}, &res);
  WriteOut(out / "kv_result", res);
  WriteOut(out / "member_context", EncodeMemberContext({7, {"127.0.0.1:2384", "127.0.0.1:2383"}}));
  Membership m;
  m.conf = raft::ConfState{{1, 2, 3}, {4}, {}, {}, false};
  m.book[1] = {"127.0.0.1:2380", "127.0.0.1:2379"};
  m.book[4] = {"127.0.0.1:2384", ""};
  WriteOut(out / "membership", EncodeMembership(m));
  std::printf("wrote peer protocol inputs to %s\n", out.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s scratchdir corpusdir\n", argv[0]);
    return 2;
  }
  LogCorpus(argv[1], fs::path(argv[2]) / "log_segment");
  PeerCorpus(fs::path(argv[2]) / "peer_protocol");
  return 0;
}
