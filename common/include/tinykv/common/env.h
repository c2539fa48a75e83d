// Env: TinyKV's one seam to the file system (STYLE 16), in the manner of
// leveldb::Env. Every durable file of every layer -- the storage engine's
// WALs, SSTables, MANIFEST and CURRENT, the Raft log and its snapshots -- is
// created, written, synced, renamed and removed through an Env, so that one
// fault-injecting Env (fault_injection_env.h) can fail writes and syncs, fill
// the disk and cut the power under any layer.
//
// Errors are Status values whose message starts with the file (or
// directory) name and ends with the OS error text (strerror):
//   * ENOENT                -> NotFound("<file>: No such file or directory")
//   * ENOSPC (disk full)    -> ResourceExhausted("<file>: No space left on device");
//     EDQUOT (quota full)   -> ResourceExhausted("<file>: Disk quota exceeded").
//     So a caller can tell a full disk (free space and retry, or raise an
//     alarm) from a failing one. Note that POSIX reports ENOSPC when the
//     buffered bytes reach the kernel: from Append once the 64 KiB buffer
//     fills, otherwise from Flush, Sync or Close.
//   * anything else (EIO, EACCES, EROFS, EISDIR, ...) -> IOError, e.g.
//     IOError("<file>: write: Input/output error").
//
// Durability: data appended to a WritableFile is durable once Sync returns
// OK. A newly created (or renamed, or removed) directory entry is durable
// once SyncDir of its directory returns OK: create + Sync alone may leave a
// file that vanishes in a power cut.
//
// Thread safety: Env methods are thread-safe. A file object must be used by
// one thread at a time, except RandomAccessFile::Read, which is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tinykv/common/bytes.h"
#include "tinykv/common/result.h"
#include "tinykv/common/status.h"

namespace tinykv {

// A file read from the start to the end.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to n bytes into scratch (which must hold n bytes); *result
  // points at the bytes read: fewer than n only at the end of the file,
  // none once it is reached.
  virtual Status Read(size_t n, Slice* result, char* scratch) = 0;
  // Skips n bytes (past the end is not an error; Read then returns none).
  virtual Status Skip(uint64_t n) = 0;
};

// A file read at arbitrary offsets (SSTables).
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at offset (fewer only at the end of the file).
  // Thread-safe. *result points either into scratch or, for a memory-mapped
  // file (zero_copy() true; scratch may then be null), into the mapping,
  // valid as long as this object lives.
  virtual Status Read(uint64_t offset, size_t n, Slice* result, char* scratch) const = 0;
  virtual bool zero_copy() const { return false; }
};

// A file written at its end.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Append buffers data (it may write the buffer out when it fills); Flush
  // hands everything buffered to the OS (it then survives a process crash);
  // Sync flushes and makes the file's data durable (fdatasync: it survives
  // a power cut); Close flushes and releases the file. The destructor closes
  // an unclosed file and ignores errors: call Close to see them.
  virtual Status Append(Slice data) = 0;
  virtual Status Flush() = 0;
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
};

// Held while a LockFile lock is; destroying it releases the lock.
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
  // mappings are live (1000, as LevelDB on 64-bit POSIX), pread otherwise.
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& fname) = 0;
  // Creates fname, or truncates it to empty if it exists.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& fname) = 0;
  // Opens fname for appending: creates it if missing, keeps its contents if
  // not; every Append goes to the end. (The caller learns the starting size
  // from GetFileSize.)
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& fname) = 0;

  virtual bool FileExists(const std::string& fname) = 0;
  // The names (not paths) in dir, without "." and "..".
  virtual Status GetChildren(const std::string& dir, std::vector<std::string>* result) = 0;
  virtual Status RemoveFile(const std::string& fname) = 0;
  virtual Status CreateDir(const std::string& dirname) = 0;
  // Removes an empty directory (IOError "Directory not empty" otherwise).
  virtual Status RemoveDir(const std::string& dirname) = 0;
  // Removes dirname and everything below it (no symlinks are followed); OK
  // if it does not exist.
  virtual Status RemoveDirRecursively(const std::string& dirname) = 0;
  virtual Result<uint64_t> GetFileSize(const std::string& fname) = 0;
  // Sets the size of an existing file: cuts it, or extends it with zero
  // bytes; then fsyncs it, so the new size is durable when OK is returned.
  // REQUIRES: no WritableFile open on fname has unflushed data.
  virtual Status TruncateFile(const std::string& fname, uint64_t size) = 0;
  // Atomically replaces target (if it exists) by src.
  virtual Status RenameFile(const std::string& src, const std::string& target) = 0;
  // A hard link: target names the same file as src.
  virtual Status LinkFile(const std::string& src, const std::string& target) = 0;
  // fsyncs a directory so that creates, renames and removes in it are durable.
  virtual Status SyncDir(const std::string& dirname) = 0;
  // An exclusive advisory lock (fcntl, creating fname if needed); IOError if
  // another process, or this one, holds it.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& fname) = 0;
};

// Writes data to a new file fname (creating or truncating it), fsynced if
// `sync`. On failure the partial file is removed.
Status WriteStringToFile(Env* env, Slice data, const std::string& fname, bool sync);
// Reads the whole of fname into *data.
Status ReadFileToString(Env* env, const std::string& fname, std::string* data);

}  // namespace tinykv
