#include "file_dump.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <vector>

#include "dbformat.h"
#include "filename.h"
#include "table.h"
#include "tinykv/common/coding.h"
#include "tinykv/common/env.h"
#include "tinykv/storage/write_batch.h"
#include "version_edit.h"
#include "wal_reader.h"

namespace tinykv::storage::tool {
namespace {

std::string Show(Slice s, bool hex) { return hex ? "0x" + s.ToHex() : "'" + s.ToEscaped() + "'"; }

class BatchPrinter final : public WriteBatch::Handler {
 public:
  BatchPrinter(std::ostream& out, bool hex, bool print) : out_(out), hex_(hex), print_(print) {}
  void Put(Slice key, Slice value) override {
    if (print_) out_ << "    put " << Show(key, hex_) << " => " << Show(value, hex_) << "\n";
  }
  void Delete(Slice key) override {
    if (print_) out_ << "    del " << Show(key, hex_) << "\n";
  }

 private:
  std::ostream& out_;
  bool hex_;
  bool print_;
};

// A WAL or MANIFEST: both use the wal record framing.
Status DumpLog(const std::string& path, bool manifest, const DumpOptions& o, std::ostream& out,
               FileSummary* summary) {
  Env* env = Env::Default();
  auto file = env->NewSequentialFile(path);
  if (!file.ok()) return file.status();
  wal::Reader reader(file.value().get(), path);
  Slice record;
  std::string scratch;
  while (reader.ReadRecord(&record, &scratch)) {
    summary->records++;
    const uint64_t offset = reader.last_record_offset();
    if (manifest) {
      VersionEdit edit;
      Status s = edit.DecodeFrom(record);
      if (!s.ok()) {
        return Status::Corruption(path + ": offset " + std::to_string(offset) +
                                  ": bad version edit: " + std::string(s.message()));
      }
      if (o.print_entries) out << "@" << offset << " " << edit.DebugString() << "\n";
    } else {
      if (record.size() < 12) {
        return Status::Corruption(path + ": offset " + std::to_string(offset) +
                                  ": write batch shorter than its 12-byte header");
      }
      const uint64_t seq = DecodeFixed64(record.data());
      const uint32_t count = DecodeFixed32(record.data() + 8);
      WriteBatch batch;
      Status s = WriteBatch::FromContents(record, &batch);
      if (s.ok()) {
        if (o.print_entries) {
          out << "@" << offset << " seq " << seq << " count " << count << " size "
              << record.size() << "\n";
        }
        BatchPrinter printer(out, o.hex, o.print_entries);
        s = batch.Iterate(&printer);
      }
      if (!s.ok()) {
        return Status::Corruption(path + ": offset " + std::to_string(offset) +
                                  ": bad write batch: " + std::string(s.message()));
      }
    }
  }
  summary->torn_tail = reader.dropped_torn_tail();
  if (!reader.status().ok()) return reader.status();
  if (summary->torn_tail && o.print_entries) {
    out << "(torn tail at offset " << reader.first_bad_offset()
        << ": an incomplete last record, dropped as a crash leaves it)\n";
  }
  return Status::OK();
}

Status DumpTable(const std::string& path, const DumpOptions& o, std::ostream& out,
                 FileSummary* summary) {
  Env* env = Env::Default();
  auto file = env->NewRandomAccessFile(path);
  if (!file.ok()) return file.status();
  TableReadOptions topts;
  topts.paranoid_checks = true;
  auto table = Table::Open(topts, std::move(file).value(), summary->bytes, path, 0);
  if (!table.ok()) return table.status();
  ReadOptions ro;
  ro.verify_checksums = true;
  ro.fill_cache = false;
  auto it = table.value()->NewIterator(ro);
  std::string prev;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    summary->records++;
    ParsedInternalKey k;
    if (!ParseInternalKey(it->key(), &k)) {
      return Status::Corruption(path + ": malformed internal key " + it->key().ToEscaped() +
                                " at entry " + std::to_string(summary->records));
    }
    if (!prev.empty() && DefaultInternalComparator()->Compare(Slice(prev), it->key()) >= 0) {
      return Status::Corruption(path + ": keys out of order at entry " +
                                std::to_string(summary->records));
    }
    prev = it->key().ToString();
    if (o.print_entries) {
      out << Show(k.user_key, o.hex) << " @ " << k.sequence << " : "
          << (k.type == kTypeValue ? "put" : "del");
      if (k.type == kTypeValue) out << " => " << Show(it->value(), o.hex);
      out << "\n";
    }
  }
  return it->status();
}

}  // namespace

Status DumpFile(const std::string& path, const DumpOptions& o, std::ostream& out,
                FileSummary* summary) {
  *summary = FileSummary();
  TINYKV_ASSIGN_OR_RETURN(const uint64_t size, Env::Default()->GetFileSize(path));
  summary->bytes = size;
  const std::string base = std::filesystem::path(path).filename().string();
  uint64_t number = 0;
  FileType type;
  if (!ParseFileName(base, &number, &type)) {
    return Status::InvalidArgument(path +
                                   ": not a TinyKV file name (NNNNNN.log, NNNNNN.sst, "
                                   "MANIFEST-NNNNNN)");
  }
  switch (type) {
    case FileType::kLogFile: return DumpLog(path, false, o, out, summary);
    case FileType::kDescriptorFile: return DumpLog(path, true, o, out, summary);
    case FileType::kTableFile: return DumpTable(path, o, out, summary);
    default:
      return Status::InvalidArgument(path + ": only WAL, MANIFEST and SSTable files can be dumped");
  }
}

Status CheckDatabase(const std::string& dir, std::ostream& out) {
  Env* env = Env::Default();
  std::vector<std::string> children;
  TINYKV_RETURN_IF_ERROR(env->GetChildren(dir, &children));
  std::sort(children.begin(), children.end());
  Status first;
  auto note = [&](const Status& s) {
    if (first.ok() && !s.ok()) first = s;
  };
  // CURRENT must name an existing MANIFEST.
  std::string current;
  Status s = ReadFileToString(env, CurrentFileName(dir), &current);
  if (!s.ok()) {
    out << "CURRENT: " << s.ToString() << "\n";
    note(s);
  } else if (current.empty() || current.back() != '\n' ||
             !env->FileExists(dir + "/" + current.substr(0, current.size() - 1))) {
    Status bad = Status::Corruption(CurrentFileName(dir) + ": does not name an existing MANIFEST");
    out << "CURRENT: " << bad.ToString() << "\n";
    note(bad);
  } else {
    out << "CURRENT: OK -> " << current.substr(0, current.size() - 1) << "\n";
  }
  int files = 0;
  for (const std::string& name : children) {
    uint64_t number;
    FileType type;
    if (!ParseFileName(name, &number, &type)) continue;
    if (type != FileType::kLogFile && type != FileType::kDescriptorFile &&
        type != FileType::kTableFile) {
      continue;
    }
    files++;
    FileSummary summary;
    DumpOptions o;
    o.print_entries = false;
    std::ostream null_out(nullptr);
    Status fs = DumpFile(dir + "/" + name, o, null_out, &summary);
    if (fs.ok()) {
      out << name << ": OK (" << summary.records << " records, " << summary.bytes << " bytes"
          << (summary.torn_tail ? ", torn tail dropped" : "") << ")\n";
    } else {
      out << name << ": " << fs.ToString() << "\n";
      note(fs);
    }
  }
  if (files == 0 && first.ok()) {
    first = Status::NotFound(dir + ": no TinyKV database files here");
  }
  return first;
}

}  // namespace tinykv::storage::tool
