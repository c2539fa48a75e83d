#include "fault_injection_env.h"

#include <unistd.h>

namespace tinykv::storage {

namespace {

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultInjectionEnv* env, std::string fname, std::unique_ptr<WritableFile> base)
      : env_(env), fname_(std::move(fname)), base_(std::move(base)) {}
  Status Append(Slice data) override {
    if (env_->ShouldFailWrite(fname_)) return Status::IOError(fname_ + ": injected write failure");
    Status s = base_->Append(data);
    if (s.ok()) size_ += data.size();
    return s;
  }
  Status Flush() override {
    if (env_->ShouldFailWrite(fname_)) return Status::IOError(fname_ + ": injected write failure");
    return base_->Flush();
  }
  Status Sync() override {
    if (env_->fail_syncs()) return Status::IOError(fname_ + ": injected fsync failure");
    Status s = base_->Sync();
    if (s.ok()) env_->RecordSize(fname_, size_);
    return s;
  }
  Status Close() override { return base_->Close(); }

 private:
  FaultInjectionEnv* env_;
  std::string fname_;
  std::unique_ptr<WritableFile> base_;
  uint64_t size_ = 0;
};

}  // namespace

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(
    const std::string& fname) {
  if (fail_writes_.load()) return Status::IOError(fname + ": injected create failure");
  TINYKV_ASSIGN_OR_RETURN(auto base, base_->NewWritableFile(fname));
  RecordSize(fname, 0);
  return std::unique_ptr<WritableFile>(new FaultWritableFile(this, fname, std::move(base)));
}

void FaultInjectionEnv::RecordSize(const std::string& fname, uint64_t synced_size) {
  std::lock_guard<std::mutex> l(mu_);
  synced_size_[fname] = synced_size;
}

Status FaultInjectionEnv::RemoveFile(const std::string& fname) {
  {
    std::lock_guard<std::mutex> l(mu_);
    synced_size_.erase(fname);
  }
  return base_->RemoveFile(fname);
}

Status FaultInjectionEnv::RenameFile(const std::string& src, const std::string& target) {
  Status s = base_->RenameFile(src, target);
  if (s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = synced_size_.find(src);
    if (it != synced_size_.end()) {
      synced_size_[target] = it->second;
      synced_size_.erase(src);
    }
  }
  return s;
}

Status FaultInjectionEnv::DropUnsyncedData() {
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [fname, size] : synced_size_) {
    if (!base_->FileExists(fname)) continue;
    if (::truncate(fname.c_str(), static_cast<off_t>(size)) != 0) {
      return Status::IOError(fname + ": truncate failed");
    }
  }
  return Status::OK();
}

}  // namespace tinykv::storage
