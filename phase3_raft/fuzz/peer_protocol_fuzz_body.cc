// FuzzPeerProtocolBytes; see replica_fuzz_bodies.h.
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "peer_protocol.h"
#include "replica_fuzz_bodies.h"
#include "scratch_dir.h"
#include "snapshot_receiver.h"
#include "tinykv/common/check.h"
#include "tinykv/common/coding.h"
#include "tinykv/common/env.h"
#include "tinykv/net/serialization.h"
#include "tinykv/raft/codec.h"
#include "tinykv/raft/message_check.h"
#include "tinykv/replica/kv_command.h"
#include "tinykv/replica/membership.h"

namespace tinykv::replica::fuzz {
namespace {

namespace fs = std::filesystem;
using namespace internal;  // NOLINT: peer protocol types

// Cereal payloads have one encoding per value: what decodes re-encodes to
// the same bytes, so nothing was dropped or invented.
template <typename T>
std::optional<T> RoundTrip(Slice in) {
  auto m = net::DecodeMessage<T>(in);
  if (!m.ok()) {
    TINYKV_CHECK(m.status().IsCorruption()) << m.status().ToString();
    return std::nullopt;
  }
  TINYKV_CHECK(net::EncodeMessage(*m) == in.ToString()) << "payload round trip changed the bytes";
  return std::move(m).value();
}

// A KV command decodes, or is Corruption; its canonical encoding decodes to
// a value with the same canonical encoding.
void CheckKvCommand(Slice in) {
  auto cmd = DecodeKvCommand(in);
  if (!cmd.ok()) {
    TINYKV_CHECK(cmd.status().IsCorruption()) << cmd.status().ToString();
    return;
  }
  const std::string enc = EncodeKvCommand(*cmd);
  auto again = DecodeKvCommand(enc);
  TINYKV_CHECK(again.ok() && EncodeKvCommand(*again) == enc) << "kv command round trip";
}

void CheckEntryPayloads(Slice in) {
  CheckKvCommand(in);
  Slice r = in;
  KvCommandResult res;
  if (DecodeKvCommandResult(&r, &res)) {
    std::string enc;
    EncodeKvCommandResult(res, &enc);
    Slice e(enc);
    KvCommandResult again;
    TINYKV_CHECK(DecodeKvCommandResult(&e, &again) && e.empty() && again == res)
        << "kv result round trip";
  }
  auto ctx = DecodeMemberContext(in);
  if (ctx.ok() && ctx->has_value()) {
    auto again = DecodeMemberContext(EncodeMemberContext(**ctx));
    TINYKV_CHECK(again.ok() && again->has_value() && (*again)->proposal_id == (*ctx)->proposal_id &&
                 (*again)->address == (*ctx)->address)
        << "member context round trip";
  } else if (!ctx.ok()) {
    TINYKV_CHECK(ctx.status().IsCorruption()) << ctx.status().ToString();
  }
  auto mem = DecodeMembership(in);
  if (mem.ok()) {
    auto again = DecodeMembership(EncodeMembership(*mem));
    TINYKV_CHECK(again.ok() && *again == *mem) << "membership round trip";
  } else {
    TINYKV_CHECK(mem.status().IsCorruption()) << mem.status().ToString();
  }
}

// What a receiving node does with a batch's messages before any replica
// sees them (peer_host.cc OnBatch), and what a replica does with an entry.
void CheckBatch(const RaftBatchRequest& b) {
  for (const GroupMessage& gm : b.messages) {
    auto m = raft::DecodeMessage(Slice(gm.message));
    if (!m.ok()) continue;  // counted and dropped; the codec fuzzer checks the rest
    raft::RejectReason reason;
    (void)raft::CheckMessageShape(*m, &reason);
    for (const raft::Entry& e : m->entries) {
      Slice data(e.data);
      uint64_t proposal_id = 0;
      if (e.type == raft::EntryType::kNormal && GetFixed64(&data, &proposal_id)) {
        CheckKvCommand(data);
      } else if (e.type == raft::EntryType::kConfChangeV2) {
        auto cc = raft::DecodeConfChange(Slice(e.data));
        if (cc.ok()) CheckEntryPayloads(Slice(cc->context));
      }
    }
  }
}

// File names for a failure message, escaped (Slice::ToEscaped).
std::string Names(const std::set<std::string>& names) {
  std::string out;
  for (const std::string& n : names)
    out += (out.empty() ? "" : ", ") + ("\"" + Slice(n).ToEscaped() + "\"");
  return "{" + out + "}";
}

std::string ReadAll(const fs::path& p) {
  std::string s;
  Status st = ReadFileToString(Env::Default(), p.string(), &s);
  TINYKV_CHECK(st.ok()) << st.ToString();
  return s;
}

// Feeds chunks to a SnapshotReceiver as raft.FetchSnapshot does (stopping at
// the first error) and checks the directory against a model of what it
// accepted: exactly those files, with exactly the bytes accepted for them,
// and nothing outside the directory.
void ReceiveChunks(const std::vector<SnapshotChunk>& chunks) {
  static ScratchDir scratch("tinykv-peer-fuzz");
  const fs::path into = scratch.root() / "snap";
  auto rx = std::make_unique<SnapshotReceiver>(Env::Default(), into);
  TINYKV_CHECK(rx->Start().ok());
  struct Model {
    std::string bytes;
    bool done = false;
  };
  std::map<std::string, Model> model;
  bool failed = false;
  for (const SnapshotChunk& c : chunks) {
    Status s = rx->Accept(c);
    if (!s.ok()) {
      // A chunk the protocol forbids is Corruption; what the file system
      // refuses (a name too long, ...) is its error.
      TINYKV_CHECK(s.IsCorruption() || s.IsIOError()) << s.ToString();
      failed = true;
      break;
    }
    TINYKV_CHECK(c.file.find('/') == std::string::npos && c.file != "." && c.file != ".." &&
                 !c.file.empty())
        << "accepted a chunk for the file name '" << c.file << "'";
    Model& m = model[c.file];
    TINYKV_CHECK(!m.done && c.offset == m.bytes.size()) << "accepted an out-of-order chunk";
    m.bytes += c.data;
    m.done = c.last != 0;
  }
  bool all_done = true;
  for (const auto& [name, m] : model) all_done = all_done && m.done;
  if (!failed) {
    TINYKV_CHECK(rx->Finish().ok() == all_done) << "Finish disagrees with the chunks' ends";
  }
  rx.reset();  // closes (flushes) the files still being written
  std::set<std::string> on_disk;
  std::set<std::string> expected;
  for (const auto& e : fs::directory_iterator(scratch.root())) {
    TINYKV_CHECK(e.path() == into)
        << "a chunk wrote outside the snapshot directory: " << e.path().string();
  }
  for (const auto& e : fs::directory_iterator(into)) on_disk.insert(e.path().filename().string());
  for (const auto& [name, m] : model) expected.insert(name);
  TINYKV_CHECK(on_disk == expected) << "the snapshot directory holds " << Names(on_disk)
                                    << ", the receiver accepted " << Names(expected);
  for (const auto& [name, m] : model) {
    if (m.done) {
      TINYKV_CHECK(ReadAll(into / name) == m.bytes)
          << "file " << name << " differs from its chunks";
    }
  }
}

}  // namespace

void FuzzPeerProtocolBytes(const uint8_t* data, size_t size) {
  const Slice in(reinterpret_cast<const char*>(data), size);
  (void)RoundTrip<PeerHello>(in);
  if (auto batch = RoundTrip<RaftBatchRequest>(in)) CheckBatch(*batch);
  (void)RoundTrip<RaftBatchResponse>(in);
  (void)RoundTrip<FetchSnapshotRequest>(in);
  (void)RoundTrip<SnapshotChunk>(in);
  CheckEntryPayloads(in);

  // The same bytes as the items of a raft.FetchSnapshot stream.
  std::vector<SnapshotChunk> chunks;
  net::BoundedInputArchive ar(in);
  while (ar.remaining() > 0 && chunks.size() < 64) {
    SnapshotChunk c;
    try {
      ar(c);
    } catch (const cereal::Exception&) {
      break;
    }
    chunks.push_back(std::move(c));
  }
  if (!chunks.empty()) ReceiveChunks(chunks);
}

}  // namespace tinykv::replica::fuzz
