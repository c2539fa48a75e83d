// Env: the engine's seam to the file system (docs/style.md, "Determinism and seams"), in the manner of
// leveldb::Env. Every OS call the engine makes goes through here, so tests can
// substitute a fault-injecting Env (fault_injection_env.h).
//
// Errors are Status values whose message names the file and the OS error.
// Thread safety: Env methods are thread-safe; a file object must be used by
// one thread at a time, except RandomAccessFile::Read, which is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tinykv/common/bytes.h"
#include "tinykv/common/result.h"
#include "tinykv/common/status.h"

namespace tinykv::storage {

class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to n bytes into scratch; *result points at the bytes read
  // (possibly fewer than n at end of file).
  virtual Status Read(size_t n, Slice* result, char* scratch) = 0;
  virtual Status Skip(uint64_t n) = 0;
};

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at offset. Thread-safe. *result points either into
  // scratch or, for a memory-mapped file (zero_copy() true, scratch may then
  // be null), into the mapping, valid as long as this object lives.
  virtual Status Read(uint64_t offset, size_t n, Slice* result, char* scratch) const = 0;
  virtual bool zero_copy() const { return false; }
};

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Buffers data; Flush hands it to the OS; Sync makes it durable.
  virtual Status Append(Slice data) = 0;
  virtual Status Flush() = 0;
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
};

class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;
  // The process-wide POSIX Env (never deleted).
  static Env* Default();

  virtual Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& fname) = 0;
  // Read-only files (SSTables): memory-mapped while fewer than a limit of
  // mappings are live (as LevelDB on 64-bit POSIX), pread otherwise.
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& fname) = 0;
  // Creates or truncates.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& fname) = 0;

  virtual bool FileExists(const std::string& fname) = 0;
  virtual Status GetChildren(const std::string& dir, std::vector<std::string>* result) = 0;
  virtual Status RemoveFile(const std::string& fname) = 0;
  virtual Status CreateDir(const std::string& dirname) = 0;
  virtual Result<uint64_t> GetFileSize(const std::string& fname) = 0;
  virtual Status RenameFile(const std::string& src, const std::string& target) = 0;
  virtual Status LinkFile(const std::string& src, const std::string& target) = 0;
  // fsyncs a directory so that creates/renames/deletes in it are durable.
  virtual Status SyncDir(const std::string& dirname) = 0;
  // An exclusive advisory lock (fcntl); IOError if another process holds it.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& fname) = 0;
};

// Convenience helpers built on an Env.
Status WriteStringToFile(Env* env, Slice data, const std::string& fname, bool sync);
Status ReadFileToString(Env* env, const std::string& fname, std::string* data);

}  // namespace tinykv::storage
