// The POSIX Env: buffered writes, mmap or pread for random reads, fcntl
// locks. Error mapping (ENOSPC -> ResourceExhausted, ...) is in env.h.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <system_error>

#include "posix_error.h"
#include "tinykv/common/env.h"

namespace tinykv {

Status PosixError(const std::string& fname, const char* op, int err) {
  const char* text = std::strerror(err);
  // A full disk reads the same whatever the operation, so callers can tell it.
  if (err == ENOSPC || err == EDQUOT) return Status::ResourceExhausted(fname + ": " + text);
  std::string msg = fname + ": ";
  if (op != nullptr) msg += std::string(op) + ": ";
  msg += text;
  if (err == ENOENT) return Status::NotFound(msg);
  return Status::IOError(msg);
}

namespace {

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string fname, int fd) : fname_(std::move(fname)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }
  Status Read(size_t n, Slice* result, char* scratch) override {
    size_t done = 0;
    while (done < n) {
      const ssize_t r = ::read(fd_, scratch + done, n - done);
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError(fname_, "read", errno);
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    *result = Slice(scratch, done);
    return Status::OK();
  }
  Status Skip(uint64_t n) override {
    if (::lseek(fd_, static_cast<off_t>(n), SEEK_CUR) == static_cast<off_t>(-1)) {
      return PosixError(fname_, "lseek", errno);
    }
    return Status::OK();
  }

 private:
  std::string fname_;
  int fd_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string fname, int fd) : fname_(std::move(fname)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }
  Status Read(uint64_t offset, size_t n, Slice* result, char* scratch) const override {
    size_t done = 0;
    while (done < n) {
      const ssize_t r = ::pread(fd_, scratch + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        *result = Slice(scratch, 0);
        return PosixError(fname_, "pread", errno);
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    *result = Slice(scratch, done);
    return Status::OK();
  }

 private:
  std::string fname_;
  int fd_;
};

// Limits the number of live mappings (address space, vm.max_map_count).
std::atomic<int> g_mmap_slots{1000};

class PosixMmapReadableFile final : public RandomAccessFile {
 public:
  PosixMmapReadableFile(std::string fname, char* base, size_t length)
      : fname_(std::move(fname)), base_(base), length_(length) {}
  ~PosixMmapReadableFile() override {
    if (base_ != nullptr) ::munmap(base_, length_);
    g_mmap_slots.fetch_add(1, std::memory_order_relaxed);
  }
  Status Read(uint64_t offset, size_t n, Slice* result, char*) const override {
    // The mapping covers the file as it was when opened: reads past its end
    // come back short, as pread's would (never SIGBUS).
    if (offset >= length_) {
      *result = Slice();
      return Status::OK();
    }
    const size_t avail = length_ - static_cast<size_t>(offset);
    *result = Slice(base_ + offset, n < avail ? n : avail);
    return Status::OK();
  }
  bool zero_copy() const override { return true; }

 private:
  std::string fname_;
  char* base_;
  size_t length_;
};

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string fname, int fd) : fname_(std::move(fname)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) Close().IgnoreError();
  }
  Status Append(Slice data) override {
    const size_t copy = std::min(data.size(), kBufferSize - pos_);
    std::memcpy(buf_ + pos_, data.data(), copy);
    data.remove_prefix(copy);
    pos_ += copy;
    if (data.empty()) return Status::OK();
    TINYKV_RETURN_IF_ERROR(FlushBuffer());
    if (data.size() < kBufferSize) {
      std::memcpy(buf_, data.data(), data.size());
      pos_ = data.size();
      return Status::OK();
    }
    return WriteUnbuffered(data.data(), data.size());
  }
  Status Flush() override { return FlushBuffer(); }
  Status Sync() override {
    TINYKV_RETURN_IF_ERROR(FlushBuffer());
    if (::fdatasync(fd_) != 0) return PosixError(fname_, "fdatasync", errno);
    return Status::OK();
  }
  Status Close() override {
    Status s = FlushBuffer();
    if (::close(fd_) != 0 && s.ok()) s = PosixError(fname_, "close", errno);
    fd_ = -1;
    return s;
  }

 private:
  static constexpr size_t kBufferSize = 64 * 1024;
  Status FlushBuffer() {
    Status s = WriteUnbuffered(buf_, pos_);
    pos_ = 0;
    return s;
  }
  Status WriteUnbuffered(const char* data, size_t size) {
    while (size > 0) {
      const ssize_t r = ::write(fd_, data, size);
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError(fname_, "write", errno);
      }
      data += r;
      size -= static_cast<size_t>(r);
    }
    return Status::OK();
  }

  std::string fname_;
  int fd_;
  char buf_[kBufferSize];
  size_t pos_ = 0;
};

class PosixFileLock final : public FileLock {
 public:
  PosixFileLock(std::string fname, int fd, std::mutex* mu, std::set<std::string>* locked)
      : fname_(std::move(fname)), fd_(fd), mu_(mu), locked_(locked) {}
  ~PosixFileLock() override {
    struct flock f {};
    f.l_type = F_UNLCK;
    f.l_whence = SEEK_SET;
    ::fcntl(fd_, F_SETLK, &f);
    ::close(fd_);
    std::lock_guard<std::mutex> l(*mu_);
    locked_->erase(fname_);
  }

 private:
  std::string fname_;
  int fd_;
  std::mutex* mu_;
  std::set<std::string>* locked_;
};

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& fname) override {
    const int fd = ::open(fname.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError(fname, nullptr, errno);
    return std::unique_ptr<SequentialFile>(new PosixSequentialFile(fname, fd));
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& fname) override {
    const int fd = ::open(fname.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError(fname, nullptr, errno);
    if (g_mmap_slots.fetch_sub(1, std::memory_order_relaxed) > 0) {
      struct stat st {};
      if (::fstat(fd, &st) == 0 && st.st_size > 0) {
        const auto length = static_cast<size_t>(st.st_size);
        void* base = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, 0);
        if (base != MAP_FAILED) {
          ::close(fd);
          return std::unique_ptr<RandomAccessFile>(
              new PosixMmapReadableFile(fname, static_cast<char*>(base), length));
        }
      }
    }
    g_mmap_slots.fetch_add(1, std::memory_order_relaxed);
    return std::unique_ptr<RandomAccessFile>(new PosixRandomAccessFile(fname, fd));
  }
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& fname) override {
    const int fd = ::open(fname.c_str(), O_TRUNC | O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError(fname, nullptr, errno);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(fname, fd));
  }
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& fname) override {
    const int fd = ::open(fname.c_str(), O_APPEND | O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError(fname, nullptr, errno);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(fname, fd));
  }
  bool FileExists(const std::string& fname) override { return ::access(fname.c_str(), F_OK) == 0; }
  Status GetChildren(const std::string& dir, std::vector<std::string>* result) override {
    result->clear();
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return PosixError(dir, nullptr, errno);
    while (struct dirent* entry = ::readdir(d)) {
      if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
      result->emplace_back(entry->d_name);
    }
    ::closedir(d);
    return Status::OK();
  }
  Status RemoveFile(const std::string& fname) override {
    if (::unlink(fname.c_str()) != 0) return PosixError(fname, "unlink", errno);
    return Status::OK();
  }
  Status CreateDir(const std::string& dirname) override {
    if (::mkdir(dirname.c_str(), 0755) != 0) return PosixError(dirname, "mkdir", errno);
    return Status::OK();
  }
  Status RemoveDir(const std::string& dirname) override {
    if (::rmdir(dirname.c_str()) != 0) return PosixError(dirname, "rmdir", errno);
    return Status::OK();
  }
  Status RemoveDirRecursively(const std::string& dirname) override {
    std::error_code ec;
    std::filesystem::remove_all(dirname, ec);  // symlinks are removed, not followed
    if (ec) return PosixError(dirname, "remove", ec.value());
    return Status::OK();
  }
  Result<uint64_t> GetFileSize(const std::string& fname) override {
    struct stat st {};
    if (::stat(fname.c_str(), &st) != 0) return PosixError(fname, nullptr, errno);
    return static_cast<uint64_t>(st.st_size);
  }
  Status TruncateFile(const std::string& fname, uint64_t size) override {
    const int fd = ::open(fname.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return PosixError(fname, nullptr, errno);
    Status s;
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      s = PosixError(fname, "ftruncate", errno);
    } else if (::fsync(fd) != 0) {
      s = PosixError(fname, "fsync", errno);
    }
    ::close(fd);
    return s;
  }
  Status RenameFile(const std::string& src, const std::string& target) override {
    if (::rename(src.c_str(), target.c_str()) != 0) {
      return PosixError(src, ("rename to " + target).c_str(), errno);
    }
    return Status::OK();
  }
  Status LinkFile(const std::string& src, const std::string& target) override {
    if (::link(src.c_str(), target.c_str()) != 0) {
      return PosixError(src, ("link to " + target).c_str(), errno);
    }
    return Status::OK();
  }
  Status SyncDir(const std::string& dirname) override {
    const int fd = ::open(dirname.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError(dirname, nullptr, errno);
    Status s;
    if (::fsync(fd) != 0) s = PosixError(dirname, "fsync", errno);
    ::close(fd);
    return s;
  }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& fname) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!locked_.insert(fname).second) {
        return Status::IOError(fname + ": lock: already held by this process");
      }
    }
    const int fd = ::open(fname.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      Status s = PosixError(fname, nullptr, errno);
      std::lock_guard<std::mutex> l(mu_);
      locked_.erase(fname);
      return s;
    }
    struct flock f {};
    f.l_type = F_WRLCK;
    f.l_whence = SEEK_SET;
    if (::fcntl(fd, F_SETLK, &f) != 0) {
      Status s = PosixError(fname, "lock (is another process using it?)", errno);
      ::close(fd);
      std::lock_guard<std::mutex> l(mu_);
      locked_.erase(fname);
      return s;
    }
    return std::unique_ptr<FileLock>(new PosixFileLock(fname, fd, &mu_, &locked_));
  }

 private:
  std::mutex mu_;
  std::set<std::string> locked_;
};

}  // namespace

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv();
  return env;
}

Status WriteStringToFile(Env* env, Slice data, const std::string& fname, bool sync) {
  TINYKV_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(fname));
  Status s = file->Append(data);
  if (s.ok() && sync) s = file->Sync();
  if (s.ok()) s = file->Close();
  if (!s.ok()) env->RemoveFile(fname).IgnoreError();
  return s;
}

Status ReadFileToString(Env* env, const std::string& fname, std::string* data) {
  data->clear();
  TINYKV_ASSIGN_OR_RETURN(auto file, env->NewSequentialFile(fname));
  static constexpr size_t kBufferSize = 8192;
  std::unique_ptr<char[]> space(new char[kBufferSize]);
  while (true) {
    Slice fragment;
    TINYKV_RETURN_IF_ERROR(file->Read(kBufferSize, &fragment, space.get()));
    data->append(fragment.data(), fragment.size());
    if (fragment.empty()) break;
  }
  return Status::OK();
}

}  // namespace tinykv
