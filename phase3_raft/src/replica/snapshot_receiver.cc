// SnapshotReceiver (snapshot_receiver.h).
#include "snapshot_receiver.h"

#include <string_view>

namespace tinykv::replica::internal {

bool SnapshotReceiver::IsValidFileName(const std::string& name) {
  // A NUL would end the name the file system sees early: "a\0x" would be
  // file "a" on disk, and "a\0x" and "a\0y" one file, each truncating the
  // other (found by fuzz/peer_protocol_fuzzer.cc).
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of(std::string_view("/\0", 2)) == std::string::npos;
}

Status SnapshotReceiver::Start() {
  if (env_->FileExists(into_.string())) {
    TINYKV_RETURN_IF_ERROR(env_->RemoveDirRecursively(into_.string()));
  }
  return env_->CreateDir(into_.string());
}

Status SnapshotReceiver::Accept(const SnapshotChunk& c) {
  if (!IsValidFileName(c.file)) return Status::Corruption("bad snapshot file name");
  Incoming& f = files_[c.file];
  if (f.done) return Status::Corruption("snapshot file " + c.file + " sent again after its end");
  if (c.offset != f.written) {
    return Status::Corruption("snapshot file " + c.file + ": chunk at offset " +
                              std::to_string(c.offset) + ", expected " + std::to_string(f.written));
  }
  if (!f.out) {
    auto out = env_->NewWritableFile((into_ / c.file).string());
    if (!out.ok()) return out.status();
    f.out = std::move(out).value();
  }
  TINYKV_RETURN_IF_ERROR(f.out->Append(c.data));
  f.written += c.data.size();
  if (c.last != 0) {
    TINYKV_RETURN_IF_ERROR(f.out->Sync());
    TINYKV_RETURN_IF_ERROR(f.out->Close());
    f.out.reset();
    f.done = true;
  }
  return Status::OK();
}

Status SnapshotReceiver::Finish() const {
  for (const auto& [name, f] : files_) {
    if (!f.done)
      return Status::Corruption("snapshot file " + name + " ended without its last chunk");
  }
  return Status::OK();
}

}  // namespace tinykv::replica::internal
