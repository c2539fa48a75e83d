// DiskStorage: the segmented raft log. Format: phase3_raft/doc/log_format.md.
#include "tinykv/replica/disk_storage.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "tinykv/common/check.h"
#include "tinykv/common/coding.h"
#include "tinykv/common/crc32c.h"
#include "tinykv/common/logging.h"
#include "tinykv/raft/codec.h"

namespace tinykv::replica {

using namespace raft;  // NOLINT: the core's storage types throughout
namespace {

namespace fs = std::filesystem;

enum RecordType : uint8_t {
  kEntryRecord = 1,
  kHardStateRecord = 2,
  kSnapshotRecord = 3,
};

// Two record formats (doc/log_format.md). Segments written by this version
// start with kMagic and hold v2 records, whose header carries its own
// checksum, so a damaged length field is told apart from a record cut short
// by a torn write. Older segments (no magic) hold v1 records, still read.
constexpr char kMagic[] = "tkvraft2";  // 8 bytes, no terminator on disk
constexpr size_t kMagicSize = 8;
constexpr size_t kV1HeaderSize = 9;   // masked crc32c(type|payload) u32 | length u32 | type u8
constexpr size_t kV2HeaderSize = 13;  // ... v1 header ... | masked crc32c(first 9 bytes) u32

void AppendRecord(RecordType type, const std::string& payload, std::string* dst) {
  char header[kV2HeaderSize];
  uint32_t crc = crc32c::Value(reinterpret_cast<const char*>(&type), 1);
  crc = crc32c::Extend(crc, payload.data(), payload.size());
  EncodeFixed32(header, crc32c::Mask(crc));
  EncodeFixed32(header + 4, static_cast<uint32_t>(payload.size()));
  header[8] = static_cast<char>(type);
  EncodeFixed32(header + 9, crc32c::Mask(crc32c::Value(header, 9)));
  dst->append(header, kV2HeaderSize);
  dst->append(payload);
}

// What parsing one record at `off` found.
struct RecordParse {
  enum Kind { kOk, kTruncated, kBad } kind = kOk;
  std::string why;
  uint8_t type = 0;
  size_t header = 0;  // header size
  uint32_t len = 0;
};

RecordParse ParseRecord(const std::string& data, size_t off, bool v2) {
  RecordParse r;
  r.header = v2 ? kV2HeaderSize : kV1HeaderSize;
  const size_t left = data.size() - off;
  if (left < r.header) {
    r.kind = RecordParse::kTruncated;
    r.why = "truncated header";
    return r;
  }
  const char* h = data.data() + off;
  if (v2 && crc32c::Unmask(DecodeFixed32(h + 9)) != crc32c::Value(h, 9)) {
    r.kind = RecordParse::kBad;
    r.why = "header checksum mismatch";
    return r;
  }
  r.len = DecodeFixed32(h + 4);
  r.type = static_cast<uint8_t>(h[8]);
  if (left - r.header < r.len) {
    r.kind = RecordParse::kTruncated;
    r.why = "truncated record";
    return r;
  }
  const uint32_t want = crc32c::Unmask(DecodeFixed32(h));
  const uint32_t got =
      crc32c::Extend(crc32c::Value(h + 8, 1), data.data() + off + r.header, r.len);
  if (want != got) {
    r.kind = RecordParse::kBad;
    r.why = "checksum mismatch";
  }
  return r;
}

// flags: bit 0 = the snapshot replaces the whole log (installed from a leader).
std::string SnapshotPayload(const Snapshot& snap, bool replace_log) {
  std::string p;
  p.push_back(static_cast<char>(replace_log ? 1 : 0));
  EncodeSnapshotMetadata(snap.metadata, &p);
  PutLengthPrefixedSlice(&p, Slice(snap.data));
  return p;
}

std::string SegmentName(uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020" PRIu64 ".log", seq);
  return buf;
}

// Whether a whole record of either format with verifying checksums starts at
// any offset >= from.
bool HasValidRecordAfter(const std::string& data, size_t from) {
  for (size_t off = from; off + kV1HeaderSize <= data.size(); ++off) {
    for (bool v2 : {true, false}) {
      RecordParse r = ParseRecord(data, off, v2);
      if (r.kind == RecordParse::kOk && r.type >= kEntryRecord && r.type <= kSnapshotRecord)
        return true;
    }
  }
  return false;
}

bool IsSegmentName(const std::string& name) {
  return name.size() == 24 && name.substr(20) == ".log" &&
         name.find_first_not_of("0123456789") == 20;
}

}  // namespace

DiskStorage::DiskStorage(fs::path dir, DiskStorageOptions options)
    : dir_(std::move(dir)),
      options_(options),
      env_(options.env != nullptr ? options.env : Env::Default()) {}

DiskStorage::~DiskStorage() {
  if (file_) file_->Close().IgnoreError();  // every acknowledged byte was already synced
}

Result<std::unique_ptr<DiskStorage>> DiskStorage::Open(const fs::path& dir,
                                                       DiskStorageOptions options) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("create " + dir.string() + ": " + ec.message());
  std::unique_ptr<DiskStorage> s(new DiskStorage(dir, options));
  TINYKV_RETURN_IF_ERROR(s->Recover());
  return s;
}

Status DiskStorage::Recover() {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<uint64_t> seqs;
  std::vector<std::string> names;
  TINYKV_RETURN_IF_ERROR(env_->GetChildren(dir_.string(), &names));
  for (const std::string& name : names) {
    if (IsSegmentName(name)) seqs.push_back(std::stoull(name.substr(0, 20)));
  }
  std::sort(seqs.begin(), seqs.end());

  // Replay state.
  std::vector<Entry> ents;  // contiguous, all > snap_.metadata.index
  for (size_t si = 0; si < seqs.size(); ++si) {
    const bool last = si + 1 == seqs.size();
    Segment seg{seqs[si], dir_ / SegmentName(seqs[si]), 0};
    std::string data;
    TINYKV_RETURN_IF_ERROR(ReadFileToString(env_, seg.path.string(), &data));
    const bool v2 = data.compare(0, kMagicSize, kMagic, kMagicSize) == 0;
    if (last) active_v2_ = v2;
    size_t off = v2 ? kMagicSize : 0;
    auto where = [&](size_t o) { return seg.path.string() + " offset " + std::to_string(o); };
    while (off < data.size()) {
      RecordParse rec = ParseRecord(data, off, v2);
      bool torn = rec.kind == RecordParse::kTruncated;
      std::string why = rec.why;
      // Zero bytes from this record boundary to the end of the file: a tail
      // that was allocated but never written. (A real record never has an
      // all-zero header: its type byte is never 0.)
      if (rec.kind != RecordParse::kOk && !torn &&
          std::all_of(data.begin() + static_cast<ptrdiff_t>(off), data.end(),
                      [](char c) { return c == 0; })) {
        torn = true;
        why += " (zero-filled tail)";
      }
      // A record that seems cut off by the end of the file is only a torn
      // write if nothing valid follows it: a damaged length (v1 records have
      // no header checksum) or a damaged segment magic can make acknowledged
      // records look truncated, and then the intact records after give it away.
      if (torn && HasValidRecordAfter(data, off + 1)) {
        torn = false;
        why += ", but valid records follow (damage, not a torn write)";
      }
      if (rec.kind != RecordParse::kOk) {
        if (!torn || !last) return Status::Corruption(where(off) + ": " + why);
        logging::Get("raft.log")->warn("{}: torn tail ({}), truncating {} bytes", where(off), why,
                                       data.size() - off);
        TINYKV_RETURN_IF_ERROR(env_->TruncateFile(seg.path.string(), off));
        data.resize(off);
        break;
      }
      const uint32_t len = rec.len;
      const size_t header = rec.header;
      const uint8_t type = rec.type;
      Slice payload(data.data() + off + header, len);
      const size_t rec_off = off;
      off += header + len;
      switch (type) {
        case kEntryRecord: {
          Entry e;
          Status st = DecodeEntry(&payload, &e);
          if (!st.ok() || !payload.empty())
            return Status::Corruption(where(rec_off) + ": bad entry record");
          seg.max_index = std::max(seg.max_index, e.index);
          if (e.index <= snap_.metadata.index) break;
          if (!ents.empty() && e.index <= ents.back().index) {
            if (e.index < ents.front().index) {
              ents.clear();
            } else {
              ents.resize(e.index - ents.front().index);
            }
          } else if (!ents.empty() && e.index > ents.back().index + 1) {
            ents.clear();  // a gap; only acceptable if a later snapshot covers it
          }
          ents.push_back(std::move(e));
          break;
        }
        case kHardStateRecord: {
          HardState hs;
          Status st = DecodeHardState(&payload, &hs);
          if (!st.ok() || !payload.empty())
            return Status::Corruption(where(rec_off) + ": bad hard state record");
          hs_ = hs;
          break;
        }
        case kSnapshotRecord: {
          if (payload.empty()) return Status::Corruption(where(rec_off) + ": empty snapshot record");
          const bool replace = (payload[0] & 1) != 0;
          payload.remove_prefix(1);
          Snapshot snap;
          Slice sdata;
          if (!DecodeSnapshotMetadata(&payload, &snap.metadata).ok() ||
              !GetLengthPrefixedSlice(&payload, &sdata) || !payload.empty())
            return Status::Corruption(where(rec_off) + ": bad snapshot record");
          snap.data = sdata.ToString();
          bootstrapped_ = true;
          if (snap.metadata.index < snap_.metadata.index) break;  // an older copy (segment header)
          snap_ = std::move(snap);
          if (replace) {
            ents.clear();
          } else {
            auto it = std::find_if(ents.begin(), ents.end(), [&](const Entry& x) {
              return x.index > snap_.metadata.index;
            });
            ents.erase(ents.begin(), it);
          }
          break;
        }
        default:
          return Status::Corruption(where(rec_off) + ": unknown record type " +
                                    std::to_string(type));
      }
    }
    segments_.push_back(seg);
    if (last) active_size_ = data.size();
  }
  if (!ents.empty() && ents.front().index != snap_.metadata.index + 1) {
    return Status::Corruption(dir_.string() + ": log gap: snapshot at " +
                              std::to_string(snap_.metadata.index) + " but first entry " +
                              std::to_string(ents.front().index));
  }
  if (snap_.metadata.index > 0) {
    TINYKV_RETURN_IF_ERROR(mem_.ApplySnapshot(snap_));
  } else {
    mem_.SetBootstrapConfState(snap_.metadata.conf_state);
  }
  if (!ents.empty()) TINYKV_RETURN_IF_ERROR(mem_.Append(ents));
  mem_.SetHardState(hs_);
  stats_.segments = segments_.size();
  if (segments_.empty()) return OpenSegmentForAppend(1, true);
  // Never mix formats in one file: a log written by an older version goes on
  // in a new (v2) segment.
  if (!active_v2_) return OpenSegmentForAppend(segments_.back().seq + 1, true);
  return OpenSegmentForAppend(segments_.back().seq, false);
}

std::string DiskStorage::StateRecordsLocked() const {
  std::string r;
  if (bootstrapped_) AppendRecord(kSnapshotRecord, SnapshotPayload(snap_, false), &r);
  if (!hs_.empty()) {
    std::string p;
    EncodeHardState(hs_, &p);
    AppendRecord(kHardStateRecord, p, &r);
  }
  return r;
}

Status DiskStorage::OpenSegmentForAppend(uint64_t seq, bool fresh) {
  const fs::path p = dir_ / SegmentName(seq);
  if (file_) {
    Status s = file_->Close();
    file_.reset();
    if (!s.ok()) return s;
  }
  TINYKV_ASSIGN_OR_RETURN(file_, env_->NewAppendableFile(p.string()));
  if (fresh) {
    segments_.push_back(Segment{seq, p, 0});
    stats_.segments = segments_.size();
    active_size_ = 0;
    active_v2_ = true;
    const std::string state = StateRecordsLocked();
    const std::string header = std::string(kMagic, kMagicSize) + state;
    if (!state.empty()) {
      TINYKV_RETURN_IF_ERROR(WriteLocked(header, options_.sync, 0));
    } else {
      // A brand-new log: only the magic (its sync is not one of the log's
      // record fsyncs that stats() counts).
      TINYKV_RETURN_IF_ERROR(WriteLocked(header, /*sync=*/false, 0));
      if (options_.sync) TINYKV_RETURN_IF_ERROR(file_->Sync());
    }
    // The new segment's directory entry must be durable before anything in
    // it is acknowledged.
    if (options_.sync) TINYKV_RETURN_IF_ERROR(env_->SyncDir(dir_.string()));
  }
  return Status::OK();
}

Status DiskStorage::RepairAfterFailedWriteLocked(const Status& why) {
  const std::string path = segments_.back().path.string();
  logging::Get("raft.log")->warn("{}: write failed ({}); cutting the segment back to {} bytes",
                                 path, why.ToString(), active_size_);
  if (file_) file_->Close().IgnoreError();  // the failure is what we report
  file_.reset();
  Status s = env_->TruncateFile(path, active_size_);
  if (s.ok()) {
    auto f = env_->NewAppendableFile(path);
    if (f.ok()) {
      file_ = std::move(f).value();
    } else {
      s = f.status();
    }
  }
  if (!s.ok()) {
    broken_ = why.WithContext("raft log " + path + " could not be repaired after a failed write (" +
                              s.ToString() + ")");
  }
  return why;
}

Status DiskStorage::WriteLocked(const std::string& records, bool sync, uint64_t max_index) {
  if (!broken_.ok()) return broken_;
  // Flush: the bytes reach the OS before Save returns, so a process crash
  // (not a power cut) never loses them, synced or not.
  Status s = file_->Append(Slice(records));
  if (s.ok()) s = file_->Flush();
  if (s.ok() && sync && options_.sync) {
    s = TimedSyncLocked();
    if (s.ok()) ++stats_.fsyncs;
  }
  if (!s.ok()) {
    // After a failed fsync the state of the page cache is unknown: the
    // caller must not acknowledge anything (the Replica stops). A failed
    // write is undone so the log stays well-formed for a later retry.
    return RepairAfterFailedWriteLocked(s);
  }
  active_size_ += records.size();
  stats_.bytes_written += records.size();
  segments_.back().max_index = std::max(segments_.back().max_index, max_index);
  return Status::OK();
}

Status DiskStorage::TimedSyncLocked() {
  Clock* clock = options_.clock != nullptr ? options_.clock : Clock::Real();
  const uint64_t start = clock->NowMicros();
  Status s = file_->Sync();
  const std::chrono::microseconds took(clock->NowMicros() - start);
  if (options_.fsync_histogram != nullptr) options_.fsync_histogram->Observe(took);
  if (took > options_.warn_sync_duration) {
    logging::Log(logging::Get("raft.log"), spdlog::level::warn, "slow fdatasync",
                 {{"node", options_.node},
                  {"group", options_.group},
                  {"took", took},
                  {"expected", options_.warn_sync_duration}});
  }
  return s;
}

Status DiskStorage::MaybeRollLocked() {
  if (active_size_ < options_.segment_bytes) return Status::OK();
  return OpenSegmentForAppend(segments_.back().seq + 1, true);
}

void DiskStorage::RemoveObsoleteSegmentsLocked() {
  while (segments_.size() > 1 && segments_.front().max_index <= snap_.metadata.index) {
    Status s = env_->RemoveFile(segments_.front().path.string());
    if (!s.ok()) {
      logging::Get("raft.log")->warn("removing an obsolete segment: {}", s.ToString());
      return;
    }
    segments_.erase(segments_.begin());
    ++stats_.segments_removed;
  }
  stats_.segments = segments_.size();
}

Result<InitialState> DiskStorage::GetInitialState() const { return mem_.GetInitialState(); }
Result<std::vector<Entry>> DiskStorage::Entries(uint64_t lo, uint64_t hi,
                                                uint64_t max_size) const {
  return mem_.Entries(lo, hi, max_size);
}
Result<uint64_t> DiskStorage::Term(uint64_t i) const { return mem_.Term(i); }
uint64_t DiskStorage::FirstIndex() const { return mem_.FirstIndex(); }
uint64_t DiskStorage::LastIndex() const { return mem_.LastIndex(); }
Result<Snapshot> DiskStorage::GetSnapshot() const { return mem_.GetSnapshot(); }

bool DiskStorage::IsEmpty() const {
  std::lock_guard<std::mutex> l(mu_);
  return !bootstrapped_ && hs_.empty() && mem_.LastIndex() == 0;
}

Status DiskStorage::Bootstrap(const ConfState& cs) {
  std::lock_guard<std::mutex> l(mu_);
  if (bootstrapped_) return Status::InvalidArgument("raft log already bootstrapped");
  snap_.metadata.conf_state = cs;
  bootstrapped_ = true;
  std::string r;
  AppendRecord(kSnapshotRecord, SnapshotPayload(snap_, false), &r);
  TINYKV_RETURN_IF_ERROR(WriteLocked(r, true, 0));
  mem_.SetBootstrapConfState(cs);
  return Status::OK();
}

Status DiskStorage::Save(const std::optional<HardState>& hs, const std::vector<Entry>& entries,
                         bool sync) {
  std::lock_guard<std::mutex> l(mu_);
  std::string r;
  uint64_t max_index = 0;
  for (const Entry& e : entries) {
    std::string p;
    EncodeEntry(e, &p);
    AppendRecord(kEntryRecord, p, &r);
    max_index = std::max(max_index, e.index);
  }
  if (hs) {
    std::string p;
    EncodeHardState(*hs, &p);
    AppendRecord(kHardStateRecord, p, &r);
  }
  if (r.empty()) return Status::OK();
  TINYKV_RETURN_IF_ERROR(WriteLocked(r, sync, max_index));
  stats_.entries_written += entries.size();
  if (!entries.empty()) TINYKV_RETURN_IF_ERROR(mem_.Append(entries));
  if (hs) {
    hs_ = *hs;
    mem_.SetHardState(*hs);
  }
  return MaybeRollLocked();
}

Status DiskStorage::ApplySnapshot(const Snapshot& snap) {
  std::lock_guard<std::mutex> l(mu_);
  if (snap.metadata.index <= snap_.metadata.index)
    return Status::InvalidArgument("raft: snapshot out of date");
  std::string r;
  AppendRecord(kSnapshotRecord, SnapshotPayload(snap, true), &r);
  TINYKV_RETURN_IF_ERROR(WriteLocked(r, true, 0));
  TINYKV_RETURN_IF_ERROR(mem_.ApplySnapshot(snap));
  snap_ = snap;
  bootstrapped_ = true;
  // Every segment written before now holds only entries the snapshot replaced.
  for (auto& s : segments_) s.max_index = std::min(s.max_index, snap.metadata.index);
  TINYKV_RETURN_IF_ERROR(OpenSegmentForAppend(segments_.back().seq + 1, true));
  RemoveObsoleteSegmentsLocked();
  return Status::OK();
}

Status DiskStorage::CreateSnapshot(uint64_t i, const ConfState& cs, std::string data,
                                   uint64_t compact_index) {
  std::lock_guard<std::mutex> l(mu_);
  if (i <= snap_.metadata.index) return Status::OK();
  TINYKV_ASSIGN_OR_RETURN(Snapshot snap, mem_.CreateSnapshot(i, cs, std::move(data)));
  std::string r;
  AppendRecord(kSnapshotRecord, SnapshotPayload(snap, false), &r);
  TINYKV_RETURN_IF_ERROR(WriteLocked(r, true, 0));
  snap_ = std::move(snap);
  compact_index = std::min(compact_index, i);
  if (compact_index >= mem_.FirstIndex()) TINYKV_RETURN_IF_ERROR(mem_.Compact(compact_index));
  TINYKV_RETURN_IF_ERROR(MaybeRollLocked());
  RemoveObsoleteSegmentsLocked();
  return Status::OK();
}

HardState DiskStorage::hard_state() const {
  std::lock_guard<std::mutex> l(mu_);
  return hs_;
}

DiskStorageStats DiskStorage::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

}  // namespace tinykv::replica
