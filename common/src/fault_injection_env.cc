#include "tinykv/common/fault_injection_env.h"

#include "tinykv/common/check.h"

namespace tinykv {

namespace {

// The directory part of a path as the Env's users spell it ("db/000005.log"
// -> "db"), without trailing slashes, so SyncDir("db/") matches it too.
std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string StripTrailingSlashes(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

Status InjectedIOError(const std::string& fname, const char* op) {
  return Status::IOError(fname + ": " + op + ": Input/output error (injected)");
}

}  // namespace

class FaultInjectionEnv::File final : public WritableFile {
 public:
  File(FaultInjectionEnv* env, std::string fname, std::unique_ptr<WritableFile> base)
      : env_(env), fname_(std::move(fname)), base_(std::move(base)) {}
  // Unregister first: base_ (destroyed after this body) closes the real file.
  ~File() override { env_->Unregister(this); }

  Status Append(Slice data) override {
    if (dead_.load()) return Dead();
    if (env_->ShouldFailWrite(fname_)) return InjectedIOError(fname_, "write");
    Slice fits = data;
    Status full = env_->CheckAppend(fname_, &fits);
    if (!fits.empty()) TINYKV_RETURN_IF_ERROR(base_->Append(fits));
    return full;
  }
  Status Flush() override {
    if (dead_.load()) return Dead();
    if (env_->ShouldFailWrite(fname_)) return InjectedIOError(fname_, "write");
    return base_->Flush();
  }
  Status Sync() override {
    if (dead_.load()) return Dead();
    if (env_->fail_syncs()) return InjectedIOError(fname_, "fdatasync");
    env_->DelaySync();
    TINYKV_RETURN_IF_ERROR(env_->skip_real_syncs() ? base_->Flush() : base_->Sync());
    env_->RecordSync(fname_);
    return Status::OK();
  }
  Status Close() override {
    if (dead_.load()) {
      // Its buffer was flushed before the power cut; nothing more may land.
      base_->Close().IgnoreError();
      return Status::OK();
    }
    return base_->Close();
  }

  // The power is cut: hand what is buffered to the file (so that closing it
  // later writes nothing), then refuse every write. REQUIRES: env mu_.
  void Kill() {
    base_->Flush().IgnoreError();
    dead_.store(true);
  }

 private:
  Status Dead() const {
    return Status::IOError(fname_ + ": write: file was open across a simulated power cut");
  }

  FaultInjectionEnv* const env_;
  const std::string fname_;
  std::unique_ptr<WritableFile> base_;
  std::atomic<bool> dead_{false};
};

FaultInjectionEnv::~FaultInjectionEnv() {
  std::lock_guard<std::mutex> l(mu_);
  TINYKV_CHECK(open_.empty()) << open_.size() << " file(s) still open on a FaultInjectionEnv";
}

void FaultInjectionEnv::SetFailWritesToSuffix(const std::string& suffix) {
  std::lock_guard<std::mutex> l(mu_);
  fail_suffix_ = suffix;
}

void FaultInjectionEnv::SetDiskFull(bool full) {
  std::lock_guard<std::mutex> l(mu_);
  space_left_ = full ? 0 : UINT64_MAX;
}

void FaultInjectionEnv::SetDiskFullAfterBytes(uint64_t budget) {
  std::lock_guard<std::mutex> l(mu_);
  space_left_ = budget;
}

bool FaultInjectionEnv::disk_full() const {
  std::lock_guard<std::mutex> l(mu_);
  return space_left_ == 0;
}

bool FaultInjectionEnv::ShouldFailWrite(const std::string& fname) {
  if (fail_writes_.load()) return true;
  std::lock_guard<std::mutex> l(mu_);
  return !fail_suffix_.empty() && fname.size() >= fail_suffix_.size() &&
         fname.compare(fname.size() - fail_suffix_.size(), fail_suffix_.size(), fail_suffix_) == 0;
}

Status FaultInjectionEnv::CheckAppend(const std::string& fname, Slice* data) {
  std::lock_guard<std::mutex> l(mu_);
  if (space_left_ == UINT64_MAX || data->size() <= space_left_) {
    if (space_left_ != UINT64_MAX) space_left_ -= data->size();
    return Status::OK();
  }
  *data = Slice(data->data(), static_cast<size_t>(space_left_));
  space_left_ = 0;
  return Status::ResourceExhausted(fname + ": No space left on device");
}

void FaultInjectionEnv::RecordSync(const std::string& fname) {
  sync_count_.fetch_add(1);
  // The file was just flushed and synced: its size on disk is its durable size.
  auto size = base_->GetFileSize(fname);
  if (!size.ok()) return;
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(fname);
  if (it != files_.end()) it->second.synced_size = *size;
}

void FaultInjectionEnv::Register(File* f) {
  std::lock_guard<std::mutex> l(mu_);
  open_.insert(f);
}

void FaultInjectionEnv::Unregister(File* f) {
  std::lock_guard<std::mutex> l(mu_);
  open_.erase(f);
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::Wrap(const std::string& fname,
                                                              std::unique_ptr<WritableFile> base) {
  auto file = std::make_unique<File>(this, fname, std::move(base));
  Register(file.get());
  return std::unique_ptr<WritableFile>(std::move(file));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(
    const std::string& fname) {
  if (fail_writes_.load()) return InjectedIOError(fname, "open");
  const bool existed = base_->FileExists(fname);
  TINYKV_ASSIGN_OR_RETURN(auto base, base_->NewWritableFile(fname));
  {
    std::lock_guard<std::mutex> l(mu_);
    auto [it, inserted] = files_.try_emplace(fname);
    if (inserted) it->second.entry_durable = existed;
    it->second.synced_size = 0;  // the truncation is taken as durable (not modelled)
  }
  return Wrap(fname, std::move(base));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewAppendableFile(
    const std::string& fname) {
  if (fail_writes_.load()) return InjectedIOError(fname, "open");
  const bool existed = base_->FileExists(fname);
  uint64_t size = 0;
  if (existed) {
    auto r = base_->GetFileSize(fname);
    if (r.ok()) size = *r;
  }
  TINYKV_ASSIGN_OR_RETURN(auto base, base_->NewAppendableFile(fname));
  {
    std::lock_guard<std::mutex> l(mu_);
    // A file already tracked keeps its state: reopening does not make an
    // unsynced tail durable.
    files_.try_emplace(fname, FileState{size, existed});
  }
  return Wrap(fname, std::move(base));
}

Status FaultInjectionEnv::RemoveFile(const std::string& fname) {
  TINYKV_RETURN_IF_ERROR(base_->RemoveFile(fname));
  std::lock_guard<std::mutex> l(mu_);
  files_.erase(fname);
  return Status::OK();
}

Status FaultInjectionEnv::RemoveDir(const std::string& dirname) {
  return base_->RemoveDir(dirname);  // empty: nothing tracked in it
}

Status FaultInjectionEnv::RemoveDirRecursively(const std::string& dirname) {
  TINYKV_RETURN_IF_ERROR(base_->RemoveDirRecursively(dirname));
  const std::string prefix = StripTrailingSlashes(dirname) + "/";
  std::lock_guard<std::mutex> l(mu_);
  for (auto it = files_.lower_bound(prefix);
       it != files_.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
    it = files_.erase(it);
  }
  return Status::OK();
}

Status FaultInjectionEnv::TruncateFile(const std::string& fname, uint64_t size) {
  if (fail_writes_.load()) return InjectedIOError(fname, "ftruncate");
  if (fail_syncs_.load()) return InjectedIOError(fname, "fsync");
  TINYKV_RETURN_IF_ERROR(base_->TruncateFile(fname, size));
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(fname);
  if (it != files_.end()) it->second.synced_size = size;  // the base fsynced it
  return Status::OK();
}

Status FaultInjectionEnv::RenameFile(const std::string& src, const std::string& target) {
  const bool target_existed = base_->FileExists(target);
  TINYKV_RETURN_IF_ERROR(base_->RenameFile(src, target));
  std::lock_guard<std::mutex> l(mu_);
  auto old_target = files_.find(target);
  // The name `target` is durable only if it was before (it now names other
  // contents, which is not undone by a power cut: see the header).
  const bool target_durable =
      target_existed && (old_target == files_.end() || old_target->second.entry_durable);
  auto it = files_.find(src);
  if (it == files_.end()) {
    files_.erase(target);  // foreign contents: leave them alone
    return Status::OK();
  }
  FileState st = it->second;
  files_.erase(it);
  st.entry_durable = target_durable;
  files_[target] = st;
  return Status::OK();
}

Status FaultInjectionEnv::LinkFile(const std::string& src, const std::string& target) {
  TINYKV_RETURN_IF_ERROR(base_->LinkFile(src, target));
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(src);
  if (it != files_.end()) files_[target] = FileState{it->second.synced_size, false};
  return Status::OK();
}

Status FaultInjectionEnv::SyncDir(const std::string& dirname) {
  if (fail_syncs_.load()) return InjectedIOError(dirname, "fsync");
  if (!skip_real_syncs_.load()) TINYKV_RETURN_IF_ERROR(base_->SyncDir(dirname));
  dir_sync_count_.fetch_add(1);
  const std::string dir = StripTrailingSlashes(dirname);
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [name, st] : files_) {
    if (DirName(name) == dir) st.entry_durable = true;
  }
  return Status::OK();
}

Status FaultInjectionEnv::DropUnsyncedData() {
  std::lock_guard<std::mutex> l(mu_);
  return DropLocked(nullptr);
}

Status FaultInjectionEnv::DropUnsyncedData(Random* rnd) {
  TINYKV_CHECK(rnd != nullptr);
  std::lock_guard<std::mutex> l(mu_);
  return DropLocked(rnd);
}

Status FaultInjectionEnv::DropLocked(Random* rnd) {
  for (File* f : open_) f->Kill();
  open_.clear();
  for (auto it = files_.begin(); it != files_.end();) {
    const std::string& name = it->first;
    FileState& st = it->second;
    if (!base_->FileExists(name)) {
      it = files_.erase(it);
      continue;
    }
    const bool vanish = !st.entry_durable && (rnd == nullptr || rnd->OneIn(2));
    if (vanish) {
      TINYKV_RETURN_IF_ERROR(base_->RemoveFile(name));
      it = files_.erase(it);
      continue;
    }
    TINYKV_ASSIGN_OR_RETURN(const uint64_t size, base_->GetFileSize(name));
    uint64_t new_size = size;
    if (size > st.synced_size) {
      const uint64_t keep = rnd != nullptr ? rnd->Uniform(size - st.synced_size + 1) : 0;
      const bool zeros = rnd != nullptr && keep > 0 && rnd->OneIn(4);
      new_size = st.synced_size + keep;
      if (zeros) {
        // Cut to the durable size, then extend with zero bytes.
        TINYKV_RETURN_IF_ERROR(base_->TruncateFile(name, st.synced_size));
      }
      TINYKV_RETURN_IF_ERROR(base_->TruncateFile(name, new_size));
    }
    // What survived the cut is on disk now.
    st.synced_size = new_size;
    st.entry_durable = true;
    ++it;
  }
  return Status::OK();
}

}  // namespace tinykv
