#include "db_impl.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>

#include "db_iter.h"
#include "filename.h"
#include "iterators.h"
#include "merging_iterator.h"
#include "table_builder.h"
#include "tinykv/common/check.h"
#include "tinykv/common/logging.h"
#include "wal_reader.h"
#include "write_batch_internal.h"

namespace tinykv::storage {

namespace {

std::shared_ptr<spdlog::logger> Log() {
  static auto logger = logging::Get("storage");
  return logger;
}

template <class T>
void ClipToRange(T* ptr, T minvalue, T maxvalue) {
  if (*ptr > maxvalue) *ptr = maxvalue;
  if (*ptr < minvalue) *ptr = minvalue;
}

Options SanitizeOptions(const Options& src) {
  Options r = src;
  ClipToRange<int>(&r.num_levels, 2, kMaxNumLevels);
  ClipToRange<size_t>(&r.write_buffer_size, 4 << 10, size_t{1} << 30);
  ClipToRange<size_t>(&r.target_file_size, 4 << 10, size_t{1} << 30);
  ClipToRange<size_t>(&r.block_size, 256, 4 << 20);
  ClipToRange<int>(&r.block_restart_interval, 1, 1 << 16);
  ClipToRange<int>(&r.bloom_bits_per_key, 0, 64);
  ClipToRange<int>(&r.max_open_files, 16, 1 << 20);
  ClipToRange<int>(&r.level0_compaction_trigger, 1, 1 << 10);
  ClipToRange<int>(&r.level0_slowdown_writes_trigger, r.level0_compaction_trigger, 1 << 10);
  ClipToRange<int>(&r.level0_stop_writes_trigger, r.level0_slowdown_writes_trigger, 1 << 10);
  ClipToRange<int>(&r.max_bytes_multiplier, 2, 1000);
  if (r.max_bytes_for_level_base < (64 << 10)) r.max_bytes_for_level_base = 64 << 10;
  return r;
}

}  // namespace

struct DBImpl::Writer {
  WriteBatch* batch = nullptr;
  bool sync = false;
  bool done = false;
  Status status;
  std::condition_variable cv;
};

struct DBImpl::ManualCompaction {
  int level = 0;
  const Slice* begin = nullptr;
  const Slice* end = nullptr;
  bool done = false;
  Status status;
};

class DBImpl::SnapshotImpl final : public Snapshot {
 public:
  explicit SnapshotImpl(uint64_t seq) : seq_(seq) {}
  ~SnapshotImpl() override = default;
  uint64_t sequence() const override { return seq_; }
  std::list<std::unique_ptr<SnapshotImpl>>::iterator self;

 private:
  uint64_t seq_;
};

struct DBImpl::CompactionState {
  explicit CompactionState(std::unique_ptr<Compaction> c) : compaction(std::move(c)) {}
  struct Output {
    uint64_t number;
    uint64_t file_size;
    std::string smallest;
    std::string largest;
  };
  std::unique_ptr<Compaction> compaction;
  uint64_t smallest_snapshot = 0;
  std::vector<Output> outputs;
  std::unique_ptr<WritableFile> outfile;
  std::unique_ptr<TableBuilder> builder;
  uint64_t total_bytes = 0;
  Output* current_output() { return &outputs.back(); }
};

// ---------------------------------------------------------------- lifecycle

DBImpl::DBImpl(const Options& options, std::string dbname, Env* env)
    : options_(SanitizeOptions(options)),
      dbname_(std::move(dbname)),
      env_(env),
      tmp_batch_(std::make_unique<WriteBatch>()) {
  block_cache_ = std::make_unique<BlockCache>(options_.block_cache_bytes);
  TableReadOptions topts;
  topts.block_cache = block_cache_.get();
  topts.paranoid_checks = options_.paranoid_checks;
  topts.bloom_useful = &stat_bloom_useful_;
  topts.bytes_read = &stat_bytes_read_;
  table_cache_ = std::make_unique<TableCache>(dbname_, env_, topts, options_.max_open_files - 10);
  versions_ = std::make_unique<VersionSet>(dbname_, &options_, table_cache_.get(), env_);
}

DBImpl::~DBImpl() {
  {
    std::unique_lock<std::mutex> l(mutex_);
    shutting_down_.store(true, std::memory_order_release);
    bg_work_cv_.notify_all();
  }
  if (bg_thread_.joinable()) bg_thread_.join();
  if (log_ != nullptr) {
    log_.reset();
    logfile_->Close().IgnoreError();
  }
  if (imm_logfile_ != nullptr) imm_logfile_->Close().IgnoreError();
  if (mem_ != nullptr) mem_->Unref();
  if (imm_ != nullptr) imm_->Unref();
  versions_.reset();
  table_cache_.reset();
  db_lock_.reset();
}

Result<std::unique_ptr<DB>> DB::Open(const Options& options, const std::filesystem::path& path) {
  return DBImpl::OpenWithEnv(options, path, options.env != nullptr ? options.env : Env::Default());
}

Result<std::unique_ptr<DB>> DBImpl::OpenWithEnv(const Options& options,
                                                const std::filesystem::path& path, Env* env) {
  auto impl = std::make_unique<DBImpl>(options, path.string(), env);
  TINYKV_RETURN_IF_ERROR(impl->Recover());
  return std::unique_ptr<DB>(std::move(impl));
}

Status DBImpl::NewDB() {
  VersionEdit new_db;
  new_db.SetComparatorName(DefaultInternalComparator()->Name());
  new_db.SetLogNumber(0);
  new_db.SetNextFile(2);
  new_db.SetLastSequence(0);
  const std::string manifest = DescriptorFileName(dbname_, 1);
  TINYKV_ASSIGN_OR_RETURN(auto file, env_->NewWritableFile(manifest));
  Status s;
  {
    wal::Writer log(file.get());
    std::string record;
    new_db.EncodeTo(&record);
    s = log.AddRecord(record);
    if (s.ok()) s = file->Sync();
    if (s.ok()) s = file->Close();
  }
  if (s.ok()) s = env_->SyncDir(dbname_);
  if (s.ok()) s = SetCurrentFile(env_, dbname_, 1);
  if (!s.ok()) env_->RemoveFile(manifest).IgnoreError();
  return s;
}

Status DBImpl::Recover() {
  Status s = env_->CreateDir(dbname_);
  if (!s.ok() && !env_->FileExists(dbname_)) return s;
  TINYKV_ASSIGN_OR_RETURN(db_lock_, env_->LockFile(LockFileName(dbname_)));

  std::unique_lock<std::mutex> l(mutex_);
  if (!env_->FileExists(CurrentFileName(dbname_))) {
    if (!options_.create_if_missing) {
      return Status::InvalidArgument(dbname_ + ": does not exist (create_if_missing is false)");
    }
    TINYKV_RETURN_IF_ERROR(NewDB());
  } else if (options_.error_if_exists) {
    return Status::InvalidArgument(dbname_ + ": exists (error_if_exists is true)");
  }
  TINYKV_RETURN_IF_ERROR(versions_->Recover());
  if (versions_->manifest_torn_tail()) {
    ++recovery_torn_tails_;
    Log()->info("recovery: MANIFEST ends in a torn record at offset {}: dropped",
                versions_->manifest_torn_tail_offset());
  }

  // The recovered state must be complete -- whether or not a torn MANIFEST
  // tail was dropped: every table it names exists, and so does the log it
  // names as the oldest live one (that log is created, and its directory
  // entry synced, before any MANIFEST edit names it; it is deleted only once
  // a later edit names a newer one). A state missing either has lost writes.
  std::vector<std::string> filenames;
  TINYKV_RETURN_IF_ERROR(env_->GetChildren(dbname_, &filenames));
  std::set<uint64_t> expected;
  versions_->AddLiveFiles(&expected);
  const uint64_t min_log = versions_->LogNumber();
  std::vector<uint64_t> logs;
  for (const auto& name : filenames) {
    uint64_t number;
    FileType type;
    if (!ParseFileName(name, &number, &type)) continue;
    if (type == FileType::kTableFile) expected.erase(number);
    if (type == FileType::kLogFile && number >= min_log) logs.push_back(number);
  }
  if (!expected.empty()) {
    return Status::Corruption(TableFileName(dbname_, *expected.begin()) +
                              ": missing (named by the MANIFEST); " +
                              std::to_string(expected.size()) + " table file(s) missing");
  }
  std::sort(logs.begin(), logs.end());
  // Log number 0: a new database whose first Open did not finish; no log yet.
  if (min_log != 0 && (logs.empty() || logs.front() != min_log)) {
    return Status::Corruption(LogFileName(dbname_, min_log) +
                              ": missing (named by the MANIFEST as the oldest live log)");
  }
  VersionEdit edit;
  uint64_t max_sequence = 0;
  uint64_t next_sequence = 0;
  bool stop = false;
  for (size_t i = 0; i < logs.size() && !stop; ++i) {
    // A log counts as the newest if every later one is empty: a crash during
    // an earlier recovery (or right after a WAL switch) leaves an empty newer
    // log behind, and the torn tail of the log before it is still just a torn
    // write.
    bool newest = true;
    for (size_t j = i + 1; j < logs.size() && newest; ++j) {
      auto size = env_->GetFileSize(LogFileName(dbname_, logs[j]));
      newest = size.ok() && *size == 0;
    }
    TINYKV_RETURN_IF_ERROR(
        RecoverLogFile(logs[i], newest, &stop, &max_sequence, &next_sequence, &edit, &l));
    versions_->MarkFileNumberUsed(logs[i]);
  }
  for (uint64_t number : logs) versions_->MarkFileNumberUsed(number);
  if (versions_->LastSequence() < max_sequence) versions_->SetLastSequence(max_sequence);

  // Start a fresh WAL; everything recovered is in L0 tables now.
  const uint64_t new_log_number = versions_->NewFileNumber();
  TINYKV_ASSIGN_OR_RETURN(logfile_, env_->NewWritableFile(LogFileName(dbname_, new_log_number)));
  logfile_number_ = new_log_number;
  log_ = std::make_unique<wal::Writer>(logfile_.get());
  TINYKV_RETURN_IF_ERROR(env_->SyncDir(dbname_));
  edit.SetLogNumber(new_log_number);
  TINYKV_RETURN_IF_ERROR(versions_->LogAndApply(&edit, &l));
  mem_ = new MemTable(DefaultInternalComparator());
  mem_->Ref();
  RemoveObsoleteFiles(&l);
  bg_thread_ = std::thread([this] { BackgroundThreadMain(); });
  MaybeScheduleCompaction();
  return Status::OK();
}

Status DBImpl::RecoverLogFile(uint64_t log_number, bool last_log, bool* stop,
                              uint64_t* max_sequence, uint64_t* next_sequence, VersionEdit* edit,
                              std::unique_lock<std::mutex>* lock) {
  const std::string fname = LogFileName(dbname_, log_number);
  TINYKV_ASSIGN_OR_RETURN(auto file, env_->NewSequentialFile(fname));
  wal::Reader reader(file.get(), fname);
  std::string scratch;
  Slice record;
  WriteBatch batch;
  MemTable* mem = nullptr;
  Status status;
  auto flush = [&]() -> Status {
    Status fs = WriteLevel0Table(mem, edit, nullptr, lock);
    mem->Unref();
    mem = nullptr;
    return fs;
  };
  const auto corrupt = [&](const std::string& what) {
    return Status::Corruption(fname + ": offset " + std::to_string(reader.last_record_offset()) +
                              ": " + what);
  };
  while (reader.ReadRecord(&record, &scratch)) {
    if (record.size() < kWriteBatchHeaderSize) {
      status = corrupt("record shorter than a batch header");
      break;
    }
    status = WriteBatch::FromContents(record, &batch);
    if (!status.ok()) {
      status = corrupt(std::string(status.message()));
      break;
    }
    // Sequence numbers run on without a gap from record to record and from
    // one log to the next (each group takes the next Count() numbers): a
    // gap means a record or a whole log is missing.
    const uint64_t first_seq = WriteBatchInternal::Sequence(batch);
    if (*next_sequence != 0 && first_seq != *next_sequence) {
      status = corrupt("batch sequence " + std::to_string(first_seq) + " where " +
                       std::to_string(*next_sequence) + " was due (a record or log is missing)");
      break;
    }
    *next_sequence = first_seq + WriteBatchInternal::Count(batch);
    if (mem == nullptr) {
      mem = new MemTable(DefaultInternalComparator());
      mem->Ref();
    }
    TINYKV_RETURN_IF_ERROR(WriteBatchInternal::InsertInto(batch, mem));
    const uint64_t last_seq = first_seq + WriteBatchInternal::Count(batch) - 1;
    if (WriteBatchInternal::Count(batch) > 0 && last_seq > *max_sequence) *max_sequence = last_seq;
    if (mem->ApproximateMemoryUsage() > options_.write_buffer_size) {
      status = flush();
      if (!status.ok()) return status;
    }
  }
  if (status.ok()) status = reader.status();
  if (status.ok() && reader.dropped_torn_tail() && !last_log) {
    // Only the newest log may end in a torn write: an older one was complete
    // before the next log was started, so the state before its tear is not.
    status = Status::Corruption(fname + ": offset " + std::to_string(reader.first_bad_offset()) +
                                ": incomplete record at the end of a log that is not the newest");
  }
  if (reader.dropped_torn_tail() && status.ok()) {
    ++recovery_torn_tails_;
    Log()->info("recovery: {} ends in a torn record at offset {}: dropped", fname,
                reader.first_bad_offset());
  }
  if (!status.ok()) {
    if (status.IsCorruption() && options_.wal_recovery_mode == WalRecoveryMode::kPointInTime) {
      ++recovery_point_in_time_stops_;
      Log()->warn("recovery: point-in-time: keeping the records before, dropping the rest of "
                  "this log and every newer one: {}",
                  status.ToString());
      *stop = true;
      status = Status::OK();
    } else {
      if (mem != nullptr) mem->Unref();
      return status;
    }
  }
  if (mem != nullptr) status = flush();
  return status;
}

// ---------------------------------------------------------------- building tables

Status DBImpl::BuildTable(Iterator* iter, FileMetaData* meta) {
  const std::string fname = TableFileName(dbname_, meta->number);
  meta->file_size = 0;
  iter->SeekToFirst();
  if (!iter->Valid()) return iter->status();
  TINYKV_ASSIGN_OR_RETURN(auto file, env_->NewWritableFile(fname));
  TableBuildOptions bopts;
  bopts.block_size = options_.block_size;
  bopts.block_restart_interval = options_.block_restart_interval;
  bopts.bloom_bits_per_key = options_.bloom_bits_per_key;
  TableBuilder builder(bopts, file.get());
  meta->smallest = iter->key().ToString();
  Slice last_key;
  for (; iter->Valid(); iter->Next()) {
    last_key = iter->key();
    builder.Add(last_key, iter->value());
  }
  meta->largest = last_key.ToString();
  Status s = iter->status();
  if (s.ok()) {
    s = builder.Finish();
  } else {
    builder.Abandon();
  }
  if (s.ok()) s = file->Sync();
  if (s.ok()) s = file->Close();
  if (s.ok()) meta->file_size = builder.FileSize();
  if (!s.ok()) env_->RemoveFile(fname).IgnoreError();
  return s;
}

Status DBImpl::WriteLevel0Table(MemTable* mem, VersionEdit* edit, const Version* base,
                                std::unique_lock<std::mutex>* lock) {
  const auto start = std::chrono::steady_clock::now();
  FileMetaData meta;
  meta.number = versions_->NewFileNumber();
  pending_outputs_.insert(meta.number);
  auto iter = mem->NewIterator();
  Status s;
  lock->unlock();
  s = BuildTable(iter.get(), &meta);
  // The new file's directory entry must be durable before a MANIFEST names it.
  if (s.ok() && meta.file_size > 0) s = env_->SyncDir(dbname_);
  lock->lock();
  pending_outputs_.erase(meta.number);
  int level = 0;
  if (s.ok() && meta.file_size > 0) {
    if (base != nullptr) {
      level = base->PickLevelForMemTableOutput(ExtractUserKey(meta.smallest),
                                               ExtractUserKey(meta.largest));
    }
    edit->AddFile(level, meta.number, meta.file_size, meta.smallest, meta.largest);
    stat_flush_bytes_.fetch_add(meta.file_size, std::memory_order_relaxed);
    stat_flushes_.fetch_add(1, std::memory_order_relaxed);
  }
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
  Log()->debug("flush: table={} level={} bytes={} entries={} micros={} status={}", meta.number,
               level, meta.file_size, mem->num_entries(), micros, s.ToString());
  return s;
}

// ---------------------------------------------------------------- writes

Status DBImpl::Put(const WriteOptions& options, Slice key, Slice value) {
  WriteBatch batch;
  batch.Put(key, value);
  return WriteImpl(options, &batch);
}

Status DBImpl::Delete(const WriteOptions& options, Slice key) {
  WriteBatch batch;
  batch.Delete(key);
  return WriteImpl(options, &batch);
}

Status DBImpl::Write(const WriteOptions& options, const WriteBatch& batch) {
  // The leader may rewrite the header (sequence) of a batch it writes alone,
  // so hand it a private copy.
  WriteBatch copy = batch;
  return WriteImpl(options, &copy);
}

Status DBImpl::WriteImpl(const WriteOptions& options, WriteBatch* batch) {
  Writer w;
  w.batch = batch;
  w.sync = options.sync;
  std::unique_lock<std::mutex> l(mutex_);
  writers_.push_back(&w);
  while (!w.done && &w != writers_.front()) w.cv.wait(l);
  if (w.done) return w.status;

  // This thread is the leader.
  Status status = MakeRoomForWrite(batch == nullptr, &l);
  if (status.ok() && w.sync) {
    // Recovery accepts a torn tail only in the newest log (an older one is
    // complete). So nothing may be acknowledged as durable while an older
    // log could still lose its unsynced tail in a power cut.
    while (imm_logfile_ != nullptr && !imm_log_synced_ && bg_error_.ok()) bg_done_cv_.wait(l);
    status = bg_error_;
  }
  uint64_t last_sequence = versions_->LastSequence();
  Writer* last_writer = &w;
  if (status.ok() && batch != nullptr) {
    WriteBatch* group = BuildBatchGroup(&last_writer);
    WriteBatchInternal::SetSequence(group, last_sequence + 1);
    last_sequence += WriteBatchInternal::Count(*group);
    const bool sync = w.sync;
    stat_write_groups_.fetch_add(1, std::memory_order_relaxed);
    {
      // Only the leader touches log_ and mem_'s write side, so the mutex can
      // be released: followers wait on their condition variables.
      l.unlock();
      const Slice contents = WriteBatchInternal::Contents(*group);
      status = log_->AddRecord(contents);
      stat_wal_bytes_.fetch_add(contents.size(), std::memory_order_relaxed);
      if (status.ok() && sync) {
        status = logfile_->Sync();
        stat_wal_syncs_.fetch_add(1, std::memory_order_relaxed);
      }
      if (status.ok()) status = WriteBatchInternal::InsertInto(*group, mem_);
      l.lock();
      if (!status.ok()) {
        // The WAL may now hold a partial record: later writes could not be
        // recovered in order. Fail every write until reopen.
        RecordBackgroundError(status);
      }
    }
    if (group == tmp_batch_.get()) tmp_batch_->Clear();
    versions_->SetLastSequence(last_sequence);
  }

  while (true) {
    Writer* ready = writers_.front();
    writers_.pop_front();
    if (ready != &w) {
      ready->status = status;
      ready->done = true;
      ready->cv.notify_one();
    }
    if (ready == last_writer) break;
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();
  return status;
}

WriteBatch* DBImpl::BuildBatchGroup(Writer** last_writer) {
  Writer* first = writers_.front();
  WriteBatch* result = first->batch;
  size_t size = WriteBatchInternal::ByteSize(*first->batch);
  stat_writes_.fetch_add(1, std::memory_order_relaxed);
  stat_user_bytes_.fetch_add(size, std::memory_order_relaxed);
  // Bound the group, but keep small writes from waiting behind big ones.
  size_t max_size = 1 << 20;
  if (size <= (128 << 10)) max_size = size + (128 << 10);
  *last_writer = first;
  auto iter = writers_.begin();
  ++iter;
  for (; iter != writers_.end(); ++iter) {
    Writer* w = *iter;
    // Never fold a sync write into a group whose leader will not sync.
    if (w->sync && !first->sync) break;
    if (w->batch == nullptr) break;  // a Flush request: handled by its own leader
    const size_t bsize = WriteBatchInternal::ByteSize(*w->batch);
    size += bsize;
    if (size > max_size) break;
    if (result == first->batch) {
      result = tmp_batch_.get();
      result->Clear();
      result->Append(*first->batch);
    }
    result->Append(*w->batch);
    stat_writes_.fetch_add(1, std::memory_order_relaxed);
    stat_user_bytes_.fetch_add(bsize, std::memory_order_relaxed);
    *last_writer = w;
  }
  return result;
}

Status DBImpl::MakeRoomForWrite(bool force, std::unique_lock<std::mutex>* lock) {
  bool allow_delay = !force;
  while (true) {
    const int l0_files = versions_->NumLevelFiles(0);
    if (!bg_error_.ok()) {
      return bg_error_;
    } else if (allow_delay && l0_files >= options_.level0_slowdown_writes_trigger) {
      // Too many L0 files: give compaction CPU time by delaying each write
      // by 1 ms, once per write, instead of stopping for seconds later.
      stat_write_stalls_.fetch_add(1, std::memory_order_relaxed);
      lock->unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      allow_delay = false;
      lock->lock();
    } else if (!force && (mem_->ApproximateMemoryUsage() <= options_.write_buffer_size ||
                          mem_->num_entries() == 0)) {
      break;
    } else if (imm_ != nullptr) {
      // The previous memtable is still being flushed.
      stat_write_stops_.fetch_add(1, std::memory_order_relaxed);
      bg_done_cv_.wait(*lock);
    } else if (l0_files >= options_.level0_stop_writes_trigger) {
      stat_write_stops_.fetch_add(1, std::memory_order_relaxed);
      Log()->info("write stop: {} L0 files, waiting for compaction", l0_files);
      MaybeScheduleCompaction();
      bg_done_cv_.wait(*lock);
    } else {
      // Switch to a new memtable and WAL; flush the old memtable.
      if (force && mem_->num_entries() == 0) break;  // nothing to flush
      const uint64_t new_log_number = versions_->NewFileNumber();
      auto file = env_->NewWritableFile(LogFileName(dbname_, new_log_number));
      if (!file.ok()) return file.status();
      Status s = env_->SyncDir(dbname_);
      if (!s.ok()) {
        RecordBackgroundError(s);
        return s;
      }
      // The old log stays open until imm_ is flushed; the background thread
      // syncs it first (CompactMemTable), and sync writes wait for that.
      imm_logfile_ = std::move(logfile_);
      imm_log_synced_ = false;
      logfile_ = std::move(file).value();
      logfile_number_ = new_log_number;
      log_ = std::make_unique<wal::Writer>(logfile_.get());
      imm_ = mem_;
      has_imm_.store(true, std::memory_order_release);
      mem_ = new MemTable(DefaultInternalComparator());
      mem_->Ref();
      force = false;
      MaybeScheduleCompaction();
    }
  }
  return Status::OK();
}

void DBImpl::RecordBackgroundError(const Status& s) {
  if (bg_error_.ok() && !s.ok()) {
    bg_error_ = s;
    Log()->error("background error (writes now fail until reopen): {}", s.ToString());
    bg_done_cv_.notify_all();
  }
}

// ---------------------------------------------------------------- reads

DBImpl::ReadState DBImpl::PinReadState(const ReadOptions& options) {
  std::lock_guard<std::mutex> l(mutex_);
  ReadState rs{options.snapshot != nullptr ? options.snapshot->sequence()
                                           : versions_->LastSequence(),
               mem_, imm_, versions_->current()};
  rs.mem->Ref();
  if (rs.imm != nullptr) rs.imm->Ref();
  return rs;
}

Result<std::string> DBImpl::Get(const ReadOptions& options, Slice key) {
  stat_gets_.fetch_add(1, std::memory_order_relaxed);
  auto [snapshot, mem, imm, current] = PinReadState(options);
  LookupKey lkey(key, snapshot);
  std::string value;
  Status s;
  bool done = false;
  if (mem->Get(lkey, &value, &s)) {
    done = true;
  } else if (imm != nullptr && imm->Get(lkey, &value, &s)) {
    done = true;
  }
  mem->Unref();
  if (imm != nullptr) imm->Unref();
  if (!done) {
    bool found = false;
    bool deleted = false;
    Version::GetStats stats;
    s = current->Get(options, lkey, &value, &found, &deleted, &stats);
    if (s.ok() && (!found || deleted)) s = Status::NotFound(key.ToEscaped());
    if (Version::ChargeSeek(stats) && !current->seek_armed()) {
      // At most one lookup per version gets here after a budget runs out.
      std::lock_guard<std::mutex> l(mutex_);
      if (current->ArmSeekCompaction(stats, current == versions_->current())) {
        MaybeScheduleCompaction();
      }
    }
  }
  if (!s.ok()) {
    if (s.IsNotFound() && s.message().empty()) return Status::NotFound(key.ToEscaped());
    return s;
  }
  return value;
}

std::unique_ptr<Iterator> DBImpl::NewIterator(const ReadOptions& options) {
  std::vector<std::unique_ptr<Iterator>> list;
  auto [sequence, mem, imm, current] = PinReadState(options);
  list.push_back(mem->NewIterator());
  if (imm != nullptr) list.push_back(imm->NewIterator());
  current->AddIterators(options, &list);
  auto internal = NewMergingIterator(DefaultInternalComparator(), std::move(list));
  // Captured by copy under new names: clang before 16 cannot capture
  // structured bindings.
  return NewDBIterator(std::move(internal), sequence, [m = mem, i = imm] {
    m->Unref();
    if (i != nullptr) i->Unref();
  });
}

const Snapshot* DBImpl::GetSnapshot() {
  std::lock_guard<std::mutex> l(mutex_);
  snapshots_.push_back(std::make_unique<SnapshotImpl>(versions_->LastSequence()));
  snapshots_.back()->self = std::prev(snapshots_.end());
  return snapshots_.back().get();
}

void DBImpl::ReleaseSnapshot(const Snapshot* snapshot) {
  if (snapshot == nullptr) return;
  std::lock_guard<std::mutex> l(mutex_);
  const auto* impl = static_cast<const SnapshotImpl*>(snapshot);
  snapshots_.erase(impl->self);
}

uint64_t DBImpl::SmallestSnapshot() const {
  // Snapshots are appended in sequence order, so the front is the oldest.
  return snapshots_.empty() ? versions_->LastSequence() : snapshots_.front()->sequence();
}

// ---------------------------------------------------------------- background work

void DBImpl::MaybeScheduleCompaction() {
  // REQUIRES: mutex_ held. The background thread re-checks the conditions.
  bg_work_cv_.notify_one();
}

void DBImpl::BackgroundThreadMain() {
  std::unique_lock<std::mutex> l(mutex_);
  while (true) {
    bg_work_cv_.wait(l, [this] {
      return shutting_down_.load(std::memory_order_acquire) ||
             (bg_error_.ok() &&
              (imm_ != nullptr || manual_compaction_ != nullptr || versions_->NeedsCompaction()));
    });
    if (shutting_down_.load(std::memory_order_acquire)) break;
    bg_busy_ = true;
    BackgroundCompaction(&l);
    bg_busy_ = false;
    bg_done_cv_.notify_all();
  }
  bg_done_cv_.notify_all();
}

void DBImpl::BackgroundCompaction(std::unique_lock<std::mutex>* lock) {
  if (imm_ != nullptr) {
    CompactMemTable(lock);
    return;
  }
  std::unique_ptr<Compaction> c;
  ManualCompaction* manual = manual_compaction_;
  if (manual != nullptr) {
    c = versions_->CompactRange(manual->level, manual->begin, manual->end);
    if (c == nullptr) {
      manual->done = true;
      manual_compaction_ = nullptr;
      return;
    }
  } else {
    c = versions_->PickCompaction();
    if (c == nullptr) return;
  }
  Status status;
  if (manual == nullptr && c->IsTrivialMove()) {
    // Move the file down a level: only the MANIFEST changes.
    const auto& f = c->input(0, 0);
    c->edit()->RemoveFile(c->level(), f->number);
    c->edit()->AddFile(c->level() + 1, f->number, f->file_size, f->smallest, f->largest);
    status = versions_->LogAndApply(c->edit(), lock);
    stat_trivial_moves_.fetch_add(1, std::memory_order_relaxed);
    if (!status.ok()) RecordBackgroundError(status);
    Log()->debug("compaction: moved table={} to level {}", f->number, c->level() + 1);
  } else {
    {
      CompactionState compact(std::move(c));
      status = DoCompactionWork(&compact, lock);
      if (!status.ok()) RecordBackgroundError(status);
      CleanupCompaction(&compact);
      // Leaving this scope drops the compaction's reference to its input
      // version, so the input files are no longer live.
    }
    RemoveObsoleteFiles(lock);
  }
  if (manual != nullptr) {
    manual->status = status;
    manual->done = true;
    manual_compaction_ = nullptr;
  }
}

void DBImpl::CompactMemTable(std::unique_lock<std::mutex>* lock) {
  TINYKV_CHECK(imm_ != nullptr);
  if (imm_logfile_ != nullptr && !imm_log_synced_) {
    // Make imm_'s log durable before anything is written to a newer log
    // with sync (WriteImpl waits for this): only the newest log may end torn.
    // Done here rather than at the switch, so that writers do not wait for
    // it. Only this thread touches imm_logfile_ while imm_ is set.
    lock->unlock();
    Status ss = imm_logfile_->Sync();
    lock->lock();
    if (!ss.ok()) {
      RecordBackgroundError(ss);
      return;
    }
    imm_log_synced_ = true;
    bg_done_cv_.notify_all();
  }
  VersionEdit edit;
  std::shared_ptr<Version> base = versions_->current();
  // While a compaction is writing outputs (this flush preempted it), its
  // output files are not in `base` yet: a flushed table pushed below L0 could
  // overlap them. Keep it in L0 then.
  Status s = WriteLevel0Table(imm_, &edit, compaction_running_ ? nullptr : base.get(), lock);
  if (s.ok() && shutting_down_.load(std::memory_order_acquire)) {
    s = Status::Cancelled("shutting down during a memtable flush");
  }
  if (s.ok()) {
    // WALs older than the current one hold nothing that is not in a table.
    edit.SetLogNumber(logfile_number_);
    s = versions_->LogAndApply(&edit, lock);
  }
  if (s.ok()) {
    imm_->Unref();
    imm_ = nullptr;
    has_imm_.store(false, std::memory_order_release);
    // Its contents are in the table now; the file is obsolete.
    if (imm_logfile_ != nullptr) imm_logfile_->Close().IgnoreError();
    imm_logfile_.reset();
    RemoveObsoleteFiles(lock);
  } else if (!s.IsCancelled()) {
    RecordBackgroundError(s);
  }
}

Status DBImpl::OpenCompactionOutputFile(CompactionState* compact,
                                        std::unique_lock<std::mutex>* lock) {
  uint64_t file_number;
  {
    lock->lock();
    file_number = versions_->NewFileNumber();
    pending_outputs_.insert(file_number);
    compact->outputs.push_back(CompactionState::Output{file_number, 0, "", ""});
    lock->unlock();
  }
  TINYKV_ASSIGN_OR_RETURN(compact->outfile,
                          env_->NewWritableFile(TableFileName(dbname_, file_number)));
  TableBuildOptions bopts;
  bopts.block_size = options_.block_size;
  bopts.block_restart_interval = options_.block_restart_interval;
  bopts.bloom_bits_per_key = options_.bloom_bits_per_key;
  compact->builder = std::make_unique<TableBuilder>(bopts, compact->outfile.get());
  return Status::OK();
}

Status DBImpl::FinishCompactionOutputFile(CompactionState* compact, Iterator* input) {
  Status s = input->status();
  if (s.ok()) {
    s = compact->builder->Finish();
  } else {
    compact->builder->Abandon();
  }
  const uint64_t current_bytes = compact->builder->FileSize();
  compact->current_output()->file_size = current_bytes;
  compact->total_bytes += current_bytes;
  compact->builder.reset();
  if (s.ok()) s = compact->outfile->Sync();
  if (s.ok()) s = compact->outfile->Close();
  compact->outfile.reset();
  stat_compaction_bytes_written_.fetch_add(current_bytes, std::memory_order_relaxed);
  return s;
}

Status DBImpl::InstallCompactionResults(CompactionState* compact,
                                        std::unique_lock<std::mutex>* lock) {
  Compaction* c = compact->compaction.get();
  c->AddInputDeletions(c->edit());
  for (const auto& out : compact->outputs) {
    c->edit()->AddFile(c->level() + 1, out.number, out.file_size, out.smallest, out.largest);
  }
  return versions_->LogAndApply(c->edit(), lock);
}

void DBImpl::CleanupCompaction(CompactionState* compact) {
  if (compact->builder != nullptr) {
    compact->builder->Abandon();
    compact->builder.reset();
  }
  compact->outfile.reset();
  for (const auto& out : compact->outputs) pending_outputs_.erase(out.number);
}

Status DBImpl::DoCompactionWork(CompactionState* compact, std::unique_lock<std::mutex>* lock) {
  const auto start = std::chrono::steady_clock::now();
  Compaction* c = compact->compaction.get();
  Log()->debug("compaction: level {} ({} files) + level {} ({} files)", c->level(),
               c->num_input_files(0), c->level() + 1, c->num_input_files(1));
  compact->smallest_snapshot = SmallestSnapshot();
  compaction_running_ = true;
  std::unique_ptr<Iterator> input = versions_->MakeInputIterator(c);
  stat_compaction_bytes_read_.fetch_add(c->InputBytes(), std::memory_order_relaxed);
  lock->unlock();

  input->SeekToFirst();
  Status status;
  std::string current_user_key;
  bool has_current_user_key = false;
  uint64_t last_sequence_for_key = kMaxSequenceNumber;
  std::string last_output_user_key;
  while (input->Valid() && !shutting_down_.load(std::memory_order_acquire)) {
    // A pending memtable flush goes first: writers may be waiting for it.
    if (has_imm_.load(std::memory_order_acquire)) {
      lock->lock();
      if (imm_ != nullptr) {
        CompactMemTable(lock);
        bg_done_cv_.notify_all();
      }
      lock->unlock();
    }
    const Slice key = input->key();
    bool drop = false;
    ParsedInternalKey ikey;
    if (!ParseInternalKey(key, &ikey)) {
      status = Status::Corruption("compaction input holds a malformed internal key");
      break;
    }
    if (!has_current_user_key || ikey.user_key != Slice(current_user_key)) {
      current_user_key.assign(ikey.user_key.data(), ikey.user_key.size());
      has_current_user_key = true;
      last_sequence_for_key = kMaxSequenceNumber;
    }
    if (last_sequence_for_key <= compact->smallest_snapshot) {
      // Hidden by a newer entry for the same key that every snapshot sees.
      drop = true;
    } else if (ikey.type == kTypeDeletion && ikey.sequence <= compact->smallest_snapshot &&
               c->IsBaseLevelForKey(ikey.user_key)) {
      // No older data for this key below, and no snapshot needs the
      // tombstone: it has nothing left to hide. Older entries of the key in
      // this compaction are dropped by the rule above.
      drop = true;
    }
    last_sequence_for_key = ikey.sequence;

    if (!drop) {
      // Cut output files only between user keys (see version_set.h).
      if (compact->builder != nullptr &&
          ikey.user_key != Slice(last_output_user_key) &&
          (compact->builder->FileSize() >= c->MaxOutputFileSize() ||
           c->ShouldStopBefore(key))) {
        status = FinishCompactionOutputFile(compact, input.get());
        if (!status.ok()) break;
      }
      if (compact->builder == nullptr) {
        status = OpenCompactionOutputFile(compact, lock);
        if (!status.ok()) break;
      }
      if (compact->builder->NumEntries() == 0) compact->current_output()->smallest.assign(
          key.data(), key.size());
      compact->current_output()->largest.assign(key.data(), key.size());
      last_output_user_key.assign(ikey.user_key.data(), ikey.user_key.size());
      compact->builder->Add(key, input->value());
    }
    input->Next();
  }
  if (status.ok() && shutting_down_.load(std::memory_order_acquire)) {
    status = Status::Cancelled("shutting down during compaction");
  }
  if (status.ok() && compact->builder != nullptr) {
    status = FinishCompactionOutputFile(compact, input.get());
  }
  if (status.ok()) status = input->status();
  input.reset();
  if (status.ok() && !compact->outputs.empty()) status = env_->SyncDir(dbname_);
  lock->lock();
  if (status.ok()) status = InstallCompactionResults(compact, lock);
  compaction_running_ = false;
  if (status.ok()) stat_compactions_.fetch_add(1, std::memory_order_relaxed);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
  Log()->debug("compaction: level {} -> {}: {} input bytes, {} output files, {} bytes, {} us: {}",
               c->level(), c->level() + 1, c->InputBytes(), compact->outputs.size(),
               compact->total_bytes, micros, status.ToString());
  if (status.IsCancelled()) return Status::OK();  // not an error: retried after reopen
  return status;
}

void DBImpl::RemoveObsoleteFiles(std::unique_lock<std::mutex>* lock) {
  if (!bg_error_.ok()) return;  // the state on disk may be needed to diagnose
  std::set<uint64_t> live = pending_outputs_;
  versions_->AddLiveFiles(&live);
  std::vector<std::string> filenames;
  if (!env_->GetChildren(dbname_, &filenames).ok()) return;
  const uint64_t log_number = versions_->LogNumber();
  const uint64_t manifest_number = versions_->ManifestFileNumber();
  std::vector<std::string> to_delete;
  for (const auto& name : filenames) {
    uint64_t number;
    FileType type;
    if (!ParseFileName(name, &number, &type)) continue;
    bool keep = true;
    switch (type) {
      case FileType::kLogFile:
        // A running Checkpoint copies the logs it listed after releasing the
        // mutex: none of them may go away under it.
        keep = number >= log_number || number == logfile_number_ || checkpoints_running_ > 0;
        break;
      case FileType::kDescriptorFile:
        keep = number >= manifest_number;
        break;
      case FileType::kTableFile:
      case FileType::kTempFile:
        keep = live.count(number) > 0;
        break;
      case FileType::kCurrentFile:
      case FileType::kLockFile:
        keep = true;
        break;
    }
    if (!keep) {
      to_delete.push_back(name);
      if (type == FileType::kTableFile) table_cache_->Evict(number);
    }
  }
  lock->unlock();
  for (const auto& name : to_delete) env_->RemoveFile(dbname_ + "/" + name).IgnoreError();
  lock->lock();
}

// ---------------------------------------------------------------- admin

Status DBImpl::Flush() {
  // A null batch forces a memtable switch through the writer queue, so it is
  // ordered with concurrent writes.
  Status s = WriteImpl(WriteOptions(), nullptr);
  if (!s.ok()) return s;
  std::unique_lock<std::mutex> l(mutex_);
  MaybeScheduleCompaction();
  while (imm_ != nullptr && bg_error_.ok()) bg_done_cv_.wait(l);
  return bg_error_;
}

Status DBImpl::RunManualCompaction(int level, const Slice* begin, const Slice* end) {
  ManualCompaction manual;
  manual.level = level;
  manual.begin = begin;
  manual.end = end;
  std::unique_lock<std::mutex> l(mutex_);
  while (!manual.done && !shutting_down_.load() && bg_error_.ok()) {
    if (manual_compaction_ == nullptr) {
      manual_compaction_ = &manual;
      MaybeScheduleCompaction();
    }
    bg_done_cv_.wait(l);
  }
  if (manual_compaction_ == &manual) manual_compaction_ = nullptr;
  if (!bg_error_.ok()) return bg_error_;
  return manual.status;
}

Status DBImpl::CompactRange(std::optional<Slice> begin, std::optional<Slice> end) {
  TINYKV_RETURN_IF_ERROR(Flush());
  // [begin, end) is widened to [begin, end] at file granularity: compacting a
  // little more than asked is harmless.
  const Slice* b = begin ? &*begin : nullptr;
  const Slice* e = end ? &*end : nullptr;
  int max_level_with_files = 0;
  {
    std::lock_guard<std::mutex> l(mutex_);
    auto base = versions_->current();
    for (int level = 0; level < options_.num_levels; ++level) {
      if (base->OverlapInLevel(level, b, e)) max_level_with_files = level;
    }
  }
  // Compact every level holding the range, including the deepest one (into
  // the level below it), so tombstones and old versions there are dropped.
  const int last = std::min(max_level_with_files, options_.num_levels - 2);
  for (int level = 0; level <= last; ++level) {
    TINYKV_RETURN_IF_ERROR(RunManualCompaction(level, b, e));
  }
  return Status::OK();
}

Status DBImpl::WaitForBackgroundWork() {
  std::unique_lock<std::mutex> l(mutex_);
  while (bg_error_.ok() && !shutting_down_.load() &&
         (bg_busy_ || imm_ != nullptr || manual_compaction_ != nullptr ||
          versions_->NeedsCompaction())) {
    bg_work_cv_.notify_one();
    bg_done_cv_.wait(l);
  }
  return bg_error_;
}

std::map<std::string, uint64_t> DBImpl::Stats() {
  std::map<std::string, uint64_t> m;
  std::lock_guard<std::mutex> l(mutex_);
  auto current = versions_->current();
  uint64_t live_bytes = 0;
  uint64_t live_files = 0;
  for (int level = 0; level < options_.num_levels; ++level) {
    m["num-files-at-level" + std::to_string(level)] = current->NumFiles(level);
    m["bytes-at-level" + std::to_string(level)] = current->NumLevelBytes(level);
    live_bytes += current->NumLevelBytes(level);
    live_files += current->NumFiles(level);
  }
  auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  m["num-levels"] = static_cast<uint64_t>(options_.num_levels);
  m["live-sst-files"] = live_files;
  m["live-sst-bytes"] = live_bytes;
  m["memtable-bytes"] = mem_->ApproximateMemoryUsage();
  m["memtable-entries"] = mem_->num_entries();
  m["immutable-memtables"] = imm_ != nullptr ? 1 : 0;
  m["immutable-memtable-bytes"] = imm_ != nullptr ? imm_->ApproximateMemoryUsage() : 0;
  m["compactions"] = get(stat_compactions_);
  m["trivial-moves"] = get(stat_trivial_moves_);
  m["seek-compactions"] = versions_->seek_compactions();
  m["flushes"] = get(stat_flushes_);
  m["user-bytes-written"] = get(stat_user_bytes_);
  m["wal-bytes-written"] = get(stat_wal_bytes_);
  m["flush-bytes-written"] = get(stat_flush_bytes_);
  m["compaction-bytes-written"] = get(stat_compaction_bytes_written_);
  m["compaction-bytes-read"] = get(stat_compaction_bytes_read_);
  // SSTable bytes written by flushes and compactions (the WAL is counted
  // separately in wal-bytes-written).
  m["bytes-written"] = get(stat_flush_bytes_) + get(stat_compaction_bytes_written_);
  // SSTable bytes read from disk (cache misses and compaction inputs).
  m["bytes-read"] = get(stat_bytes_read_);
  m["write-stalls"] = get(stat_write_stalls_);
  m["write-stops"] = get(stat_write_stops_);
  m["wal-syncs"] = get(stat_wal_syncs_);
  m["write-groups"] = get(stat_write_groups_);
  m["writes"] = get(stat_writes_);
  m["gets"] = get(stat_gets_);
  m["block-cache-hits"] = block_cache_->hits();
  m["block-cache-misses"] = block_cache_->misses();
  m["block-cache-bytes"] = block_cache_->TotalCharge();
  m["bloom-useful"] = get(stat_bloom_useful_);
  m["sequence"] = versions_->LastSequence();
  m["num-snapshots"] = snapshots_.size();
  m["background-errors"] = bg_error_.ok() ? 0 : 1;
  m["wal-number"] = logfile_number_;
  m["recovery-torn-tails"] = recovery_torn_tails_;
  m["recovery-point-in-time-stops"] = recovery_point_in_time_stops_;
  return m;
}

std::string DBImpl::StatsString() {
  auto m = Stats();
  std::string r;
  char buf[256];
  r += "Level  Files    Size(MiB)\n";
  r += "-------------------------\n";
  for (int level = 0; level < options_.num_levels; ++level) {
    const uint64_t files = m["num-files-at-level" + std::to_string(level)];
    const uint64_t bytes = m["bytes-at-level" + std::to_string(level)];
    std::snprintf(buf, sizeof(buf), "   L%d %6" PRIu64 " %12.2f\n", level, files,
                  static_cast<double>(bytes) / 1048576.0);
    r += buf;
  }
  const double user = static_cast<double>(std::max<uint64_t>(1, m["user-bytes-written"]));
  std::snprintf(buf, sizeof(buf),
                "memtable: %.2f MiB (%" PRIu64 " entries), immutable: %" PRIu64
                "\nflushes: %" PRIu64 ", compactions: %" PRIu64 " (+%" PRIu64
                " trivial moves)\nwrite amplification (WAL + tables) / user bytes: %.2f\nwrite stalls: %" PRIu64
                ", stops: %" PRIu64 "\nblock cache: %" PRIu64 " hits, %" PRIu64
                " misses\nbloom filter useful: %" PRIu64 "\nsequence: %" PRIu64 "\n",
                static_cast<double>(m["memtable-bytes"]) / 1048576.0, m["memtable-entries"],
                m["immutable-memtables"], m["flushes"], m["compactions"], m["trivial-moves"],
                static_cast<double>(m["bytes-written"] + m["wal-bytes-written"]) / user,
                m["write-stalls"],
                m["write-stops"], m["block-cache-hits"], m["block-cache-misses"],
                m["bloom-useful"], m["sequence"]);
  r += buf;
  return r;
}

Status DBImpl::Checkpoint(const std::filesystem::path& dir_path) {
  const std::string dir = dir_path.string();
  if (env_->FileExists(dir)) return Status::AlreadyExists(dir + ": checkpoint target exists");
  TINYKV_RETURN_IF_ERROR(env_->CreateDir(dir));
  std::shared_ptr<Version> version;
  std::vector<uint64_t> logs;
  uint64_t manifest_number;
  uint64_t next_file;
  uint64_t log_number;
  uint64_t last_sequence;
  {
    std::unique_lock<std::mutex> l(mutex_);
    if (!bg_error_.ok()) return bg_error_;
    // The version (kept alive by this shared_ptr, so its files are not
    // deleted) plus every WAL it does not cover is a consistent state.
    version = versions_->current();
    log_number = versions_->LogNumber();
    manifest_number = versions_->NewFileNumber();
    next_file = manifest_number + 1;
    versions_->MarkFileNumberUsed(next_file);
    last_sequence = versions_->LastSequence();
    std::vector<std::string> filenames;
    TINYKV_RETURN_IF_ERROR(env_->GetChildren(dbname_, &filenames));
    for (const auto& name : filenames) {
      uint64_t number;
      FileType type;
      if (ParseFileName(name, &number, &type) && type == FileType::kLogFile &&
          number >= log_number) {
        logs.push_back(number);
      }
    }
    ++checkpoints_running_;  // released below, after the logs are copied
  }
  Status s;
  for (int level = 0; level < options_.num_levels && s.ok(); ++level) {
    for (const auto& f : version->files(level)) {
      const std::string src = TableFileName(dbname_, f->number);
      const std::string dst = TableFileName(dir, f->number);
      s = env_->LinkFile(src, dst);
      if (!s.ok()) {
        // Different file system: copy instead.
        std::string contents;
        s = ReadFileToString(env_, src, &contents);
        if (s.ok()) s = WriteStringToFile(env_, contents, dst, /*sync=*/true);
      }
      if (!s.ok()) break;
    }
  }
  // The WALs are copied as they are now: the newest may end in a partly
  // written record, which recovery treats as a torn tail (a clean end).
  for (uint64_t number : logs) {
    if (!s.ok()) break;
    std::string contents;
    s = ReadFileToString(env_, LogFileName(dbname_, number), &contents);
    if (s.ok()) s = WriteStringToFile(env_, contents, LogFileName(dir, number), /*sync=*/true);
  }
  if (s.ok()) {
    s = versions_->WriteManifestTo(env_, dir, *version, manifest_number, next_file, log_number,
                                   last_sequence);
  }
  {
    std::lock_guard<std::mutex> l(mutex_);
    --checkpoints_running_;
  }
  if (!s.ok()) {
    Status ds = DestroyDB(dir);
    ds.IgnoreError();
  }
  return s;
}

Status DestroyDB(const std::filesystem::path& path) {
  Env* env = Env::Default();
  const std::string dbname = path.string();
  std::vector<std::string> filenames;
  Status s = env->GetChildren(dbname, &filenames);
  if (!s.ok()) return s.IsNotFound() ? Status::OK() : s;
  const std::string lockname = LockFileName(dbname);
  TINYKV_ASSIGN_OR_RETURN(auto lock, env->LockFile(lockname));
  Status result;
  for (const auto& name : filenames) {
    uint64_t number;
    FileType type;
    if (ParseFileName(name, &number, &type) && type != FileType::kLockFile) {
      Status del = env->RemoveFile(dbname + "/" + name);
      if (result.ok() && !del.ok()) result = del;
    }
  }
  lock.reset();
  env->RemoveFile(lockname).IgnoreError();
  env->RemoveDir(dbname).IgnoreError();  // only if empty: foreign files are kept
  return result;
}

}  // namespace tinykv::storage
