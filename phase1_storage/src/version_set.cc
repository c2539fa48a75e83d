#include "version_set.h"

#include <algorithm>
#include <map>
#include <string_view>

#include "filename.h"
#include "iterators.h"
#include "merging_iterator.h"
#include "tinykv/common/check.h"
#include "tinykv/common/coding.h"
#include "tinykv/common/logging.h"
#include "two_level_iterator.h"
#include "wal_reader.h"

namespace tinykv::storage {

namespace {

const InternalKeyComparator* Icmp() { return DefaultInternalComparator(); }

uint64_t TotalFileSize(const FileList& files) {
  uint64_t sum = 0;
  for (const auto& f : files) sum += f->file_size;
  return sum;
}

// First index i with files[i]->largest >= key (files disjoint, sorted).
size_t FindFile(const FileList& files, Slice internal_key) {
  size_t left = 0;
  size_t right = files.size();
  while (left < right) {
    const size_t mid = (left + right) / 2;
    if (Icmp()->Compare(Slice(files[mid]->largest), internal_key) < 0) {
      left = mid + 1;
    } else {
      right = mid;
    }
  }
  return right;
}

bool AfterFile(const Slice* user_key, const FileMetaData* f) {
  return user_key != nullptr && user_key->compare(ExtractUserKey(f->largest)) > 0;
}
bool BeforeFile(const Slice* user_key, const FileMetaData* f) {
  return user_key != nullptr && user_key->compare(ExtractUserKey(f->smallest)) < 0;
}

// Iterates the files of one level (n >= 1): key() is a file's largest key,
// value() its number and size (16 bytes), for NewTwoLevelIterator.
class LevelFileNumIterator final : public Iterator {
 public:
  LevelFileNumIterator(std::shared_ptr<Version> version, const FileList* files)
      : version_(std::move(version)), files_(files), index_(files->size()) {}
  bool Valid() const override { return index_ < files_->size(); }
  void Seek(Slice target) override { index_ = FindFile(*files_, target); }
  void SeekToFirst() override { index_ = 0; }
  void SeekToLast() override { index_ = files_->empty() ? 0 : files_->size() - 1; }
  void Next() override { ++index_; }
  void Prev() override { index_ = index_ == 0 ? files_->size() : index_ - 1; }
  Slice key() const override { return Slice((*files_)[index_]->largest); }
  Slice value() const override {
    EncodeFixed64(value_buf_, (*files_)[index_]->number);
    EncodeFixed64(value_buf_ + 8, (*files_)[index_]->file_size);
    return Slice(value_buf_, sizeof(value_buf_));
  }
  Status status() const override { return Status::OK(); }

 private:
  std::shared_ptr<Version> version_;
  const FileList* files_;
  size_t index_;
  mutable char value_buf_[16];
};

}  // namespace

// ---------------------------------------------------------------- Version

Status Version::Get(const ReadOptions& options, const LookupKey& k, std::string* value,
                    bool* found, bool* deleted, GetStats* stats) {
  const Slice ikey = k.internal_key();
  const Slice user_key = k.user_key();
  TableCache* tc = vset_->table_cache();
  *found = false;
  *deleted = false;
  stats->seek_file = nullptr;
  stats->seek_file_level = -1;
  // The first file whose data block was read in vain: charged if another
  // file is probed after it (even one whose bloom filter then answers).
  const std::shared_ptr<FileMetaData>* wasted = nullptr;
  int wasted_level = -1;
  auto probe = [&](const std::shared_ptr<FileMetaData>& file, int level) -> Status {
    const FileMetaData& f = *file;
    if (wasted != nullptr && stats->seek_file == nullptr) {
      stats->seek_file = *wasted;
      stats->seek_file_level = wasted_level;
    }
    Table::GetResult r;
    TINYKV_RETURN_IF_ERROR(tc->Get(options, f.number, f.file_size, ikey, &r));
    if (!r.found && r.block_read && wasted == nullptr) {
      wasted = &file;
      wasted_level = level;
    }
    if (r.found) {
      *found = true;
      if (r.type == kTypeDeletion) {
        *deleted = true;
      } else {
        *value = std::move(r.value);
      }
    }
    return Status::OK();
  };
  // L0: newest file first.
  const FileList& l0 = files_[0];
  for (auto it = l0.rbegin(); it != l0.rend(); ++it) {
    const FileMetaData& f = **it;
    if (user_key.compare(ExtractUserKey(f.smallest)) >= 0 &&
        user_key.compare(ExtractUserKey(f.largest)) <= 0) {
      TINYKV_RETURN_IF_ERROR(probe(*it, 0));
      if (*found) return Status::OK();
    }
  }
  const int num_levels = vset_->options()->num_levels;
  for (int level = 1; level < num_levels; ++level) {
    const FileList& files = files_[level];
    if (files.empty()) continue;
    const size_t index = FindFile(files, ikey);
    if (index >= files.size()) continue;
    const FileMetaData& f = *files[index];
    if (user_key.compare(ExtractUserKey(f.smallest)) < 0) continue;
    TINYKV_RETURN_IF_ERROR(probe(files[index], level));
    if (*found) return Status::OK();
  }
  return Status::OK();
}

void Version::AddIterators(const ReadOptions& options,
                           std::vector<std::unique_ptr<Iterator>>* iters) {
  TableCache* tc = vset_->table_cache();
  for (const auto& f : files_[0]) iters->push_back(tc->NewIterator(options, f->number, f->file_size));
  std::shared_ptr<Version> self = shared_from_this();
  for (int level = 1; level < vset_->options()->num_levels; ++level) {
    if (files_[level].empty()) continue;
    iters->push_back(NewTwoLevelIterator(
        std::make_unique<LevelFileNumIterator>(self, &files_[level]),
        [tc, options](Slice file_value) {
          if (file_value.size() != 16) {
            return NewErrorIterator(Status::Corruption("bad level file value"));
          }
          return tc->NewIterator(options, DecodeFixed64(file_value.data()),
                                 DecodeFixed64(file_value.data() + 8));
        }));
  }
}

bool Version::OverlapInLevel(int level, const Slice* smallest_user_key,
                             const Slice* largest_user_key) const {
  const FileList& files = files_[level];
  if (level == 0) {
    for (const auto& f : files) {
      if (AfterFile(smallest_user_key, f.get()) || BeforeFile(largest_user_key, f.get())) continue;
      return true;
    }
    return false;
  }
  size_t index = 0;
  if (smallest_user_key != nullptr) {
    std::string small_key;
    AppendInternalKey(&small_key, *smallest_user_key, kMaxSequenceNumber, kValueTypeForSeek);
    index = FindFile(files, small_key);
  }
  if (index >= files.size()) return false;
  return !BeforeFile(largest_user_key, files[index].get());
}

void Version::GetOverlappingInputs(int level, const Slice* begin, const Slice* end,
                                   FileList* inputs) const {
  inputs->clear();
  std::string user_begin;
  std::string user_end;
  bool has_begin = begin != nullptr;
  bool has_end = end != nullptr;
  if (has_begin) user_begin = begin->ToString();
  if (has_end) user_end = end->ToString();
  const FileList& files = files_[level];
  for (size_t i = 0; i < files.size();) {
    const auto& f = files[i++];
    const Slice file_start = ExtractUserKey(f->smallest);
    const Slice file_limit = ExtractUserKey(f->largest);
    if (has_begin && file_limit.compare(user_begin) < 0) continue;
    if (has_end && file_start.compare(user_end) > 0) continue;
    inputs->push_back(f);
    if (level == 0) {
      // L0 files overlap each other: widen the range and restart if this
      // file extends it.
      if (has_begin && file_start.compare(user_begin) < 0) {
        user_begin = file_start.ToString();
        inputs->clear();
        i = 0;
      } else if (has_end && file_limit.compare(user_end) > 0) {
        user_end = file_limit.ToString();
        inputs->clear();
        i = 0;
      }
    }
  }
}

int Version::PickLevelForMemTableOutput(Slice smallest_user_key, Slice largest_user_key) const {
  // Like LevelDB: push a new file below L0 (up to L2) when it overlaps
  // nothing there, saving a compaction; but not if it would overlap too much
  // of the level below, which would make its later compaction expensive.
  constexpr int kMaxMemCompactLevel = 2;
  int level = 0;
  if (OverlapInLevel(0, &smallest_user_key, &largest_user_key)) return 0;
  const int num_levels = vset_->options()->num_levels;
  while (level < kMaxMemCompactLevel && level + 1 < num_levels) {
    if (OverlapInLevel(level + 1, &smallest_user_key, &largest_user_key)) break;
    if (level + 2 < num_levels) {
      FileList overlaps;
      GetOverlappingInputs(level + 2, &smallest_user_key, &largest_user_key, &overlaps);
      if (TotalFileSize(overlaps) > 10 * vset_->MaxFileSizeForLevel()) break;
    }
    ++level;
  }
  return level;
}

uint64_t Version::NumLevelBytes(int level) const { return TotalFileSize(files_[level]); }

std::string Version::DebugString() const {
  std::string r;
  for (int level = 0; level < vset_->options()->num_levels; ++level) {
    r += "--- level " + std::to_string(level) + " ---\n";
    for (const auto& f : files_[level]) {
      r += " " + std::to_string(f->number) + ":" + std::to_string(f->file_size) + "[" +
           Slice(f->smallest).ToEscaped() + " .. " + Slice(f->largest).ToEscaped() + "]\n";
    }
  }
  return r;
}

// ---------------------------------------------------------- VersionBuilder

// Accumulates edits on top of a base version.
class VersionBuilder {
 public:
  VersionBuilder(VersionSet* vset, const Version* base) : vset_(vset) {
    for (int level = 0; level < kMaxNumLevels; ++level) {
      for (const auto& f : base->files_[level]) files_[level][f->number] = f;
    }
  }
  Status Apply(const VersionEdit& edit) {
    for (const auto& [level, number] : edit.deleted_files_) files_[level].erase(number);
    for (const auto& [level, f] : edit.new_files_) {
      if (level >= vset_->options()->num_levels) {
        return Status::Corruption("version edit adds a file beyond num_levels");
      }
      auto meta = std::make_shared<FileMetaData>(f);
      // Seek compaction budget, as LevelDB: one wasted lookup (a data block
      // read that did not find the key, before a deeper file had to be
      // read) costs about what compacting 16 KiB does, so a file may waste
      // file_size / 16 KiB lookups (at least 100) before it is compacted.
      meta->allowed_seeks.value.store(
          std::max<int64_t>(100, static_cast<int64_t>(f.file_size / 16384)),
          std::memory_order_relaxed);
      files_[level][f.number] = std::move(meta);
    }
    return Status::OK();
  }
  Status SaveTo(Version* v) {
    std::set<uint64_t> numbers;
    for (int level = 0; level < kMaxNumLevels; ++level) {
      FileList& out = v->files_[level];
      out.clear();
      for (const auto& [number, f] : files_[level]) {
        if (!numbers.insert(number).second) {
          return Status::Corruption("table #" + std::to_string(number) + " is in two levels");
        }
        if (Icmp()->Compare(Slice(f->smallest), Slice(f->largest)) > 0) {
          return Status::Corruption("table #" + std::to_string(number) +
                                    ": smallest key after largest");
        }
        out.push_back(f);
      }
      if (level > 0) {
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
          return Icmp()->Compare(Slice(a->smallest), Slice(b->smallest)) < 0;
        });
        for (size_t i = 1; i < out.size(); ++i) {
          if (ExtractUserKey(out[i - 1]->largest).compare(ExtractUserKey(out[i]->smallest)) >= 0) {
            return Status::Corruption("overlapping files in level " + std::to_string(level));
          }
        }
      }
    }
    return Status::OK();
  }

 private:
  VersionSet* vset_;
  std::map<uint64_t, std::shared_ptr<FileMetaData>> files_[kMaxNumLevels];  // by number
};

// -------------------------------------------------------------- VersionSet

VersionSet::VersionSet(std::string dbname, const Options* options, TableCache* table_cache,
                       Env* env)
    : dbname_(std::move(dbname)), options_(options), table_cache_(table_cache), env_(env) {
  AppendVersion(std::make_shared<Version>(this));
}

void VersionSet::AppendVersion(std::shared_ptr<Version> v) {
  versions_.erase(std::remove_if(versions_.begin(), versions_.end(),
                                 [](const std::weak_ptr<Version>& w) { return w.expired(); }),
                  versions_.end());
  versions_.push_back(v);
  current_ = std::move(v);
}

uint64_t VersionSet::MaxBytesForLevel(int level) const {
  double result = static_cast<double>(options_->max_bytes_for_level_base);
  while (level > 1) {
    result *= options_->max_bytes_multiplier;
    --level;
  }
  return static_cast<uint64_t>(result);
}

void VersionSet::Finalize(Version* v) {
  int best_level = -1;
  double best_score = -1;
  for (int level = 0; level < options_->num_levels - 1; ++level) {
    double score;
    if (level == 0) {
      // By file count: every L0 file is read by every lookup that misses.
      score = v->files_[0].size() / static_cast<double>(options_->level0_compaction_trigger);
    } else {
      score = static_cast<double>(v->NumLevelBytes(level)) /
              static_cast<double>(MaxBytesForLevel(level));
    }
    if (score > best_score) {
      best_level = level;
      best_score = score;
    }
  }
  v->compaction_level_ = best_level;
  v->compaction_score_ = best_score;
}

Status VersionSet::WriteSnapshot(wal::Writer* log) {
  VersionEdit edit;
  edit.SetComparatorName(Icmp()->Name());
  for (int level = 0; level < options_->num_levels; ++level) {
    if (!compact_pointer_[level].empty()) edit.SetCompactPointer(level, compact_pointer_[level]);
  }
  AddFilesTo(*current_, options_->num_levels, &edit);
  std::string record;
  edit.EncodeTo(&record);
  return log->AddRecord(record);
}

Status VersionSet::LogAndApply(VersionEdit* edit, std::unique_lock<std::mutex>* lock) {
  if (edit->has_log_number_) {
    TINYKV_CHECK(edit->log_number_ >= log_number_ && edit->log_number_ < next_file_number_);
  } else {
    edit->SetLogNumber(log_number_);
  }
  edit->SetNextFile(next_file_number_);
  edit->SetLastSequence(LastSequence());

  auto v = std::make_shared<Version>(this);
  {
    VersionBuilder builder(this, current_.get());
    TINYKV_RETURN_IF_ERROR(builder.Apply(*edit));
    TINYKV_RETURN_IF_ERROR(builder.SaveTo(v.get()));
  }
  Finalize(v.get());

  // Start a new MANIFEST (with a snapshot of the current state) if none is
  // open yet.
  std::string new_manifest_file;
  Status s;
  if (descriptor_log_ == nullptr) {
    new_manifest_file = DescriptorFileName(dbname_, manifest_file_number_);
    auto file = env_->NewWritableFile(new_manifest_file);
    if (!file.ok()) return file.status();
    descriptor_file_ = std::move(file).value();
    descriptor_log_ = std::make_unique<wal::Writer>(descriptor_file_.get());
    s = WriteSnapshot(descriptor_log_.get());
  }
  {
    // Only the (single) caller of LogAndApply touches the descriptor log, so
    // the DB mutex can be released for the slow part.
    lock->unlock();
    if (s.ok()) {
      std::string record;
      edit->EncodeTo(&record);
      s = descriptor_log_->AddRecord(record);
      if (s.ok()) s = descriptor_file_->Sync();
    }
    if (s.ok() && !new_manifest_file.empty()) {
      // The new MANIFEST must be durable in the directory before CURRENT
      // names it (SetCurrentFile also syncs the directory after renaming).
      s = env_->SyncDir(dbname_);
      if (s.ok()) s = SetCurrentFile(env_, dbname_, manifest_file_number_);
    }
    lock->lock();
  }
  if (s.ok()) {
    for (const auto& [level, key] : edit->compact_pointers_) compact_pointer_[level] = key;
    AppendVersion(std::move(v));
    log_number_ = edit->log_number_;
  } else if (!new_manifest_file.empty()) {
    descriptor_log_.reset();
    descriptor_file_.reset();
    env_->RemoveFile(new_manifest_file).IgnoreError();
  }
  return s;
}

Status VersionSet::Recover() {
  std::string current;
  Status s = ReadFileToString(env_, CurrentFileName(dbname_), &current);
  if (!s.ok()) return s;
  if (current.empty() || current.back() != '\n') {
    return Status::Corruption(CurrentFileName(dbname_) + ": does not end with a newline");
  }
  current.pop_back();
  uint64_t manifest_number = 0;
  FileType type;
  if (!ParseFileName(current, &manifest_number, &type) || type != FileType::kDescriptorFile) {
    return Status::Corruption(CurrentFileName(dbname_) + ": does not name a MANIFEST");
  }
  const std::string dscname = dbname_ + "/" + current;
  auto file = env_->NewSequentialFile(dscname);
  if (!file.ok()) {
    if (file.status().IsNotFound()) {
      return Status::Corruption("CURRENT points to a missing MANIFEST: " + dscname);
    }
    return file.status();
  }
  return RecoverFrom(file->get(), dscname, manifest_number);
}

Status VersionSet::RecoverFrom(SequentialFile* file, const std::string& dscname,
                               uint64_t manifest_number) {
  bool have_log_number = false;
  bool have_next_file = false;
  bool have_last_sequence = false;
  uint64_t next_file = 0;
  uint64_t last_sequence = 0;
  uint64_t log_number = 0;
  VersionBuilder builder(this, current_.get());
  const auto corrupt = [&](uint64_t offset, std::string_view what) {
    return Status::Corruption(dscname + ": offset " + std::to_string(offset) + ": " +
                              std::string(what));
  };
  {
    wal::Reader reader(file, dscname);
    Slice record;
    std::string scratch;
    while (reader.ReadRecord(&record, &scratch)) {
      const uint64_t offset = reader.last_record_offset();
      VersionEdit edit;
      Status s = edit.DecodeFrom(record);
      if (!s.ok()) return corrupt(offset, s.message());
      if (edit.has_comparator_ && edit.comparator_ != Icmp()->Name()) {
        return Status::InvalidArgument(dscname + ": written with comparator " + edit.comparator_);
      }
      s = builder.Apply(edit);
      if (!s.ok()) return corrupt(offset, s.message());
      for (const auto& [level, key] : edit.compact_pointers_) compact_pointer_[level] = key;
      if (edit.has_log_number_) {
        log_number = edit.log_number_;
        have_log_number = true;
      }
      if (edit.has_next_file_number_) {
        next_file = edit.next_file_number_;
        have_next_file = true;
      }
      if (edit.has_last_sequence_) {
        last_sequence = edit.last_sequence_;
        have_last_sequence = true;
      }
    }
    // Checksum mismatches and undecodable records are Corruption here. A
    // torn last record is an edit whose LogAndApply never returned (it was
    // not synced); the state before it is used, and DBImpl::Recover checks
    // that this state is complete (its log and tables exist).
    TINYKV_RETURN_IF_ERROR(reader.status());
    manifest_torn_tail_ = reader.dropped_torn_tail();
    manifest_torn_tail_offset_ = reader.first_bad_offset();
  }
  if (!have_next_file) return Status::Corruption(dscname + ": no next-file entry");
  if (!have_log_number) return Status::Corruption(dscname + ": no log-number entry");
  if (!have_last_sequence) return Status::Corruption(dscname + ": no last-sequence entry");

  auto v = std::make_shared<Version>(this);
  Status s = builder.SaveTo(v.get());
  if (!s.ok()) return Status::Corruption(dscname + ": " + std::string(s.message()));
  // Every number the engine allocated is below next_file (LogAndApply
  // records next_file after allocating): a state that breaks this would
  // hand out a live file's number again.
  const auto below_next = [&](uint64_t number, const char* what) {
    if (number < next_file) return Status::OK();
    return Status::Corruption(dscname + ": " + what + " number " + std::to_string(number) +
                              " is not below next-file " + std::to_string(next_file));
  };
  TINYKV_RETURN_IF_ERROR(below_next(log_number, "log"));
  TINYKV_RETURN_IF_ERROR(below_next(manifest_number, "MANIFEST"));
  for (int level = 0; level < kMaxNumLevels; ++level) {
    for (const auto& f : v->files_[level]) TINYKV_RETURN_IF_ERROR(below_next(f->number, "table"));
  }
  Finalize(v.get());
  AppendVersion(std::move(v));
  next_file_number_ = std::max(next_file_number_, next_file);
  MarkFileNumberUsed(manifest_number);
  // Always continue in a fresh MANIFEST (written on the next LogAndApply).
  manifest_file_number_ = NewFileNumber();
  SetLastSequence(last_sequence);
  log_number_ = log_number;
  return Status::OK();
}

Status VersionSet::WriteManifestTo(Env* env, const std::string& dir, const Version& version,
                                   uint64_t manifest_number, uint64_t next_file,
                                   uint64_t log_number, uint64_t last_sequence) const {
  const std::string fname = DescriptorFileName(dir, manifest_number);
  TINYKV_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(fname));
  wal::Writer log(file.get());
  VersionEdit edit;
  edit.SetComparatorName(Icmp()->Name());
  AddFilesTo(version, options_->num_levels, &edit);
  edit.SetLogNumber(log_number);
  edit.SetNextFile(next_file);
  edit.SetLastSequence(last_sequence);
  std::string record;
  edit.EncodeTo(&record);
  Status s = log.AddRecord(record);
  if (s.ok()) s = file->Sync();
  if (s.ok()) s = file->Close();
  if (s.ok()) s = env->SyncDir(dir);
  if (s.ok()) s = SetCurrentFile(env, dir, manifest_number);
  return s;
}

void VersionSet::AddFilesTo(const Version& v, int num_levels, VersionEdit* edit) {
  for (int level = 0; level < num_levels; ++level) {
    for (const auto& f : v.files_[level]) {
      edit->AddFile(level, f->number, f->file_size, f->smallest, f->largest);
    }
  }
}

void VersionSet::AddLiveFiles(std::set<uint64_t>* live) {
  for (const auto& w : versions_) {
    auto v = w.lock();
    if (!v) continue;
    for (int level = 0; level < kMaxNumLevels; ++level) {
      for (const auto& f : v->files_[level]) live->insert(f->number);
    }
  }
}

void VersionSet::GetRange(const FileList& inputs, std::string* smallest, std::string* largest) {
  TINYKV_CHECK(!inputs.empty());
  *smallest = inputs[0]->smallest;
  *largest = inputs[0]->largest;
  for (const auto& f : inputs) {
    if (Icmp()->Compare(Slice(f->smallest), Slice(*smallest)) < 0) *smallest = f->smallest;
    if (Icmp()->Compare(Slice(f->largest), Slice(*largest)) > 0) *largest = f->largest;
  }
}

bool Version::ChargeSeek(const GetStats& stats) {
  // Stays true after the budget runs out, until the file is compacted: the
  // first reader to see it may find another file already chosen.
  return stats.seek_file != nullptr &&
         stats.seek_file->allowed_seeks.value.fetch_sub(1, std::memory_order_relaxed) <= 1;
}

bool Version::ArmSeekCompaction(const GetStats& stats, bool is_current) {
  if (!is_current || file_to_compact_ != nullptr) {
    seek_armed_.store(true, std::memory_order_release);
    return false;
  }
  seek_armed_.store(true, std::memory_order_release);
  file_to_compact_ = stats.seek_file;
  file_to_compact_level_ = stats.seek_file_level;
  return true;
}

std::unique_ptr<Compaction> VersionSet::PickCompaction() {
  // Size (and L0 file count) first; then a file that wasted too many lookups.
  const bool size_compaction = current_->compaction_score_ >= 1;
  const bool seek_compaction = !size_compaction && current_->file_to_compact_ != nullptr;
  if (!size_compaction && !seek_compaction) return nullptr;
  const int level =
      size_compaction ? current_->compaction_level_ : current_->file_to_compact_level_;
  TINYKV_CHECK(level >= 0 && level + 1 < options_->num_levels);
  std::unique_ptr<Compaction> c(new Compaction(options_, level, current_));
  if (seek_compaction) {
    ++seek_compactions_;
    c->inputs_[0].push_back(current_->file_to_compact_);
  } else {
    // Round robin: the first file after the last compaction's end key.
    for (const auto& f : current_->files_[level]) {
      if (compact_pointer_[level].empty() ||
          Icmp()->Compare(Slice(f->largest), Slice(compact_pointer_[level])) > 0) {
        c->inputs_[0].push_back(f);
        break;
      }
    }
    if (c->inputs_[0].empty() && !current_->files_[level].empty()) {
      c->inputs_[0].push_back(current_->files_[level][0]);  // wrap around
    }
  }
  if (c->inputs_[0].empty()) return nullptr;
  if (level == 0) {
    // L0 files overlap: take every one overlapping the chosen range.
    std::string smallest;
    std::string largest;
    GetRange(c->inputs_[0], &smallest, &largest);
    const Slice begin = ExtractUserKey(smallest);
    const Slice end = ExtractUserKey(largest);
    current_->GetOverlappingInputs(0, &begin, &end, &c->inputs_[0]);
  }
  SetupOtherInputs(c.get());
  return c;
}

void VersionSet::SetupOtherInputs(Compaction* c) {
  const int level = c->level();
  std::string smallest;
  std::string largest;
  GetRange(c->inputs_[0], &smallest, &largest);
  {
    const Slice begin = ExtractUserKey(smallest);
    const Slice end = ExtractUserKey(largest);
    current_->GetOverlappingInputs(level + 1, &begin, &end, &c->inputs_[1]);
  }
  FileList all = c->inputs_[0];
  all.insert(all.end(), c->inputs_[1].begin(), c->inputs_[1].end());
  std::string all_start;
  std::string all_limit;
  GetRange(all, &all_start, &all_limit);
  if (level + 2 < options_->num_levels) {
    const Slice begin = ExtractUserKey(all_start);
    const Slice end = ExtractUserKey(all_limit);
    current_->GetOverlappingInputs(level + 2, &begin, &end, &c->grandparents_);
  }
  // The next size compaction of this level starts after this range. Applied
  // to compact_pointer_ when the edit is installed.
  c->edit_.SetCompactPointer(level, largest);
}

std::unique_ptr<Compaction> VersionSet::CompactRange(int level, const Slice* begin,
                                                     const Slice* end) {
  FileList inputs;
  current_->GetOverlappingInputs(level, begin, end, &inputs);
  if (inputs.empty()) return nullptr;
  std::unique_ptr<Compaction> c(new Compaction(options_, level, current_));
  c->inputs_[0] = std::move(inputs);
  SetupOtherInputs(c.get());
  return c;
}

std::unique_ptr<Iterator> VersionSet::MakeInputIterator(Compaction* c) {
  ReadOptions options;
  options.verify_checksums = options_->paranoid_checks;
  options.fill_cache = false;  // compaction reads must not evict the working set
  // L0 files overlap: one iterator each. A deeper level's files are disjoint
  // and sorted: one concatenating iterator for the whole list, so the merge
  // compares only a few children per key.
  std::vector<std::unique_ptr<Iterator>> list;
  TableCache* tc = table_cache_;
  for (int which = 0; which < 2; ++which) {
    if (c->inputs_[which].empty()) continue;
    if (c->level() + which == 0) {
      for (const auto& f : c->inputs_[which]) {
        list.push_back(tc->NewIterator(options, f->number, f->file_size));
      }
    } else {
      list.push_back(NewTwoLevelIterator(
          std::make_unique<LevelFileNumIterator>(nullptr, &c->inputs_[which]),
          [tc, options](Slice file_value) {
            if (file_value.size() != 16) {
              return NewErrorIterator(Status::Corruption("bad level file value"));
            }
            return tc->NewIterator(options, DecodeFixed64(file_value.data()),
                                   DecodeFixed64(file_value.data() + 8));
          }));
    }
  }
  return NewMergingIterator(Icmp(), std::move(list));
}

// -------------------------------------------------------------- Compaction

Compaction::Compaction(const Options* options, int level, std::shared_ptr<Version> input_version)
    : level_(level),
      max_output_file_size_(options->target_file_size),
      num_levels_(options->num_levels),
      input_version_(std::move(input_version)) {}

bool Compaction::IsTrivialMove() const {
  return num_input_files(0) == 1 && num_input_files(1) == 0 &&
         TotalFileSize(grandparents_) <= 10 * max_output_file_size_;
}

void Compaction::AddInputDeletions(VersionEdit* edit) {
  for (int which = 0; which < 2; ++which) {
    for (const auto& f : inputs_[which]) edit->RemoveFile(level_ + which, f->number);
  }
}

bool Compaction::IsBaseLevelForKey(Slice user_key) {
  for (int lvl = level_ + 2; lvl < num_levels_; ++lvl) {
    const FileList& files = input_version_->files_[lvl];
    while (level_ptrs_[lvl] < files.size()) {
      const FileMetaData* f = files[level_ptrs_[lvl]].get();
      if (user_key.compare(ExtractUserKey(f->largest)) <= 0) {
        if (user_key.compare(ExtractUserKey(f->smallest)) >= 0) return false;
        break;
      }
      ++level_ptrs_[lvl];
    }
  }
  return true;
}

bool Compaction::ShouldStopBefore(Slice internal_key) {
  while (grandparent_index_ < grandparents_.size() &&
         Icmp()->Compare(internal_key, Slice(grandparents_[grandparent_index_]->largest)) > 0) {
    if (seen_key_) overlapped_bytes_ += grandparents_[grandparent_index_]->file_size;
    ++grandparent_index_;
  }
  seen_key_ = true;
  if (overlapped_bytes_ > 10 * max_output_file_size_) {
    overlapped_bytes_ = 0;
    return true;
  }
  return false;
}

uint64_t Compaction::InputBytes() const {
  return TotalFileSize(inputs_[0]) + TotalFileSize(inputs_[1]);
}

}  // namespace tinykv::storage
