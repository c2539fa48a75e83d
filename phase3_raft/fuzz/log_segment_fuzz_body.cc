// FuzzLogSegmentBytes; see replica_fuzz_bodies.h.
//
// The framed mode writes records exactly as doc/log_format.md describes them,
// independently of disk_storage.cc, so the harness doubles as a check of the
// document: a v2 segment is the magic "tkvraft2" then records
//   masked crc32c(type | payload) u32 | length u32 | type u8 |
//   masked crc32c(the 9 bytes before) u32 | payload
// and a v1 segment (older logs) the same records without the second checksum
// and without the magic.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "replica_fuzz_bodies.h"
#include "scratch_dir.h"
#include "tinykv/common/check.h"
#include "tinykv/common/coding.h"
#include "tinykv/common/crc32c.h"
#include "tinykv/common/env.h"
#include "tinykv/raft/raw_node.h"
#include "tinykv/replica/disk_storage.h"

namespace tinykv::replica::fuzz {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[] = "tkvraft2";
constexpr size_t kMaxSegments = 3;
// Small, so that saving after recovery may roll over to a new segment.
constexpr uint64_t kSegmentBytes = 4096;

void AppendRecord(uint8_t type, Slice payload, bool v1, std::string* dst) {
  char header[13];
  uint32_t crc = crc32c::Extend(crc32c::Value(reinterpret_cast<const char*>(&type), 1),
                                payload.data(), payload.size());
  EncodeFixed32(header, crc32c::Mask(crc));
  EncodeFixed32(header + 4, static_cast<uint32_t>(payload.size()));
  header[8] = static_cast<char>(type);
  EncodeFixed32(header + 9, crc32c::Mask(crc32c::Value(header, 9)));
  dst->append(header, v1 ? 9 : 13);
  dst->append(payload.data(), payload.size());
}

std::vector<std::string> ParseSegments(Slice in) {
  std::vector<std::string> segs;
  if (in.empty()) return segs;
  const uint8_t flags = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  const size_t n = 1 + flags % kMaxSegments;
  if ((flags & 4) == 0) {
    while (segs.size() + 1 < n && in.size() >= 2) {
      const size_t len = std::min<size_t>(
          static_cast<uint8_t>(in[0]) | size_t{static_cast<uint8_t>(in[1])} << 8, in.size() - 2);
      segs.emplace_back(in.data() + 2, len);
      in.remove_prefix(2 + len);
    }
    segs.emplace_back(in.data(), in.size());
    return segs;
  }
  const bool v1 = (flags & 8) != 0;
  const std::string start = v1 ? std::string() : std::string(kMagic, 8);
  segs.push_back(start);
  while (!in.empty()) {
    const uint8_t type = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    if (type == 0) {
      if (segs.size() < n) segs.push_back(start);
      continue;
    }
    uint32_t len = 0;
    if (!GetVarint32(&in, &len)) break;
    const size_t take = std::min<size_t>(len, in.size());
    AppendRecord(type, Slice(in.data(), take), v1, &segs.back());
    in.remove_prefix(take);
  }
  const size_t cut = std::min<size_t>(flags >> 4, segs.back().size());
  segs.back().resize(segs.back().size() - cut);
  return segs;
}

std::string SegmentName(uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020" PRIu64 ".log", seq);
  return buf;
}

Result<std::unique_ptr<DiskStorage>> Open(const fs::path& dir) {
  DiskStorageOptions o;
  o.segment_bytes = kSegmentBytes;
  o.sync = false;
  return DiskStorage::Open(dir, o);
}

// What a recovered log must satisfy, whatever the files held.
void CheckConsistent(const DiskStorage& st) {
  const uint64_t first = st.FirstIndex();
  const uint64_t last = st.LastIndex();
  TINYKV_CHECK(first >= 1 && first <= last + 1) << "first " << first << " last " << last;
  auto snap = st.GetSnapshot();
  TINYKV_CHECK(snap.ok()) << snap.status().ToString();
  TINYKV_CHECK(snap->metadata.index == first - 1)
      << "snapshot at " << snap->metadata.index << ", first index " << first;
  auto t = st.Term(first - 1);
  TINYKV_CHECK(t.ok() && *t == snap->metadata.term) << "term of the snapshot index";
  auto is = st.GetInitialState();
  TINYKV_CHECK(is.ok()) << is.status().ToString();
  if (last < first) return;
  const uint64_t hi = std::min(last, first + 1000) + 1;
  auto ents = st.Entries(first, hi, UINT64_MAX);
  TINYKV_CHECK(ents.ok()) << ents.status().ToString();
  TINYKV_CHECK(ents->size() == hi - first)
      << ents->size() << " entries in [" << first << ", " << hi << ")";
  for (size_t i = 0; i < ents->size(); ++i) {
    const raft::Entry& e = (*ents)[i];
    TINYKV_CHECK(e.index == first + i) << "entry " << i << " has index " << e.index;
    auto term = st.Term(e.index);
    TINYKV_CHECK(term.ok() && *term == e.term) << "Term(" << e.index << ")";
  }
}

// The node's first steps on the recovered log: create, campaign, persist.
// Returns false if RawNode refuses the log (a Status, never an abort).
bool RunNode(DiskStorage* st) {
  raft::Config c;
  c.id = 1;
  c.storage = st;
  c.random_seed = 1;
  c.log_transitions = false;
  auto node = raft::RawNode::Create(c);
  if (!node.ok()) return false;
  (void)(*node)->Campaign();
  for (int i = 0; i < 8 && (*node)->HasReady(); ++i) {
    raft::Ready rd = (*node)->GetReady();
    TINYKV_CHECK(rd.snapshot.empty()) << "a campaign produced a snapshot";
    Status s = st->Save(rd.hard_state, rd.entries, false);
    TINYKV_CHECK(s.ok()) << "Save after recovery: " << s.ToString();
    (*node)->Advance(rd);
  }
  return true;
}

}  // namespace

std::string RawLogInput(const std::vector<std::string>& segments) {
  TINYKV_CHECK(!segments.empty() && segments.size() <= kMaxSegments);
  std::string out(1, static_cast<char>(segments.size() - 1));  // raw, n segments
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    TINYKV_CHECK(segments[i].size() <= 0xffff);
    out.push_back(static_cast<char>(segments[i].size() & 0xff));
    out.push_back(static_cast<char>(segments[i].size() >> 8));
    out += segments[i];
  }
  out += segments.back();
  return out;
}

void FuzzLogSegmentBytes(const uint8_t* data, size_t size) {
  static ScratchDir scratch("tinykv-log-fuzz");
  const std::vector<std::string> segs =
      ParseSegments(Slice(reinterpret_cast<const char*>(data), size));
  if (segs.empty()) return;
  scratch.Empty();
  const fs::path dir = scratch.root() / "raft";
  TINYKV_CHECK(Env::Default()->CreateDir(dir.string()).ok());
  for (size_t i = 0; i < segs.size(); ++i) {
    Status s = WriteStringToFile(Env::Default(), segs[i], (dir / SegmentName(i + 1)).string(),
                                 /*sync=*/false);
    TINYKV_CHECK(s.ok()) << s.ToString();
  }
  auto st = Open(dir);
  if (!st.ok()) {
    TINYKV_CHECK(st.status().IsCorruption()) << st.status().ToString();
    return;
  }
  CheckConsistent(**st);
  if (!RunNode(st->get())) return;
  CheckConsistent(**st);
  const uint64_t last = (*st)->LastIndex();
  const uint64_t first = (*st)->FirstIndex();
  const raft::HardState hs = (*st)->hard_state();
  st->reset();
  // What was saved is what a restart finds.
  auto again = Open(dir);
  TINYKV_CHECK(again.ok()) << "the log does not reopen after Save: " << again.status().ToString();
  CheckConsistent(**again);
  TINYKV_CHECK((*again)->LastIndex() == last && (*again)->FirstIndex() == first)
      << "reopened [" << (*again)->FirstIndex() << ", " << (*again)->LastIndex() << "], saved ["
      << first << ", " << last << "]";
  TINYKV_CHECK((*again)->hard_state() == hs) << "the hard state changed across a reopen";
}

}  // namespace tinykv::replica::fuzz
