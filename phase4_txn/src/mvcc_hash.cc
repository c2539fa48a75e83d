// HashKv (mvcc_hash.h).
#include "tinykv/txn/mvcc_hash.h"

#include <algorithm>
#include <string>

#include "tinykv/common/coding.h"
#include "tinykv/common/crc32c.h"
#include "tinykv/txn/mvcc_record.h"
#include "tinykv/txn/timestamp.h"
#include "tinykv/txn/txn_executor.h"
#include "tinykv/txn/watch_error.h"

namespace tinykv::txn {

Result<KvHash> HashKv(MvccReader& reader, uint64_t revision) {
  TINYKV_ASSIGN_OR_RETURN(const uint64_t compacted, ReadGcSafePoint(reader));
  if (revision != 0 && revision < compacted) return ReadCompactedError(revision, compacted);
  KvHash out;
  out.compact_revision = compacted;
  uint64_t newest = 0;
  // The key whose versions at or below C are done with: the first of them
  // (newest first) was the one a read at C sees.
  std::string done_key;
  bool has_done_key = false;
  std::string bytes;
  Status s = reader.ForEachVersion(
      Slice(), Slice(), 0, revision != 0 ? revision : kMaxTs,
      [&](Slice key, const CommitRecord& version, const std::optional<CommitRecord>&) -> Status {
        if (version.commit_ts <= compacted) {
          if (has_done_key && Slice(done_key) == key) return Status::OK();
          done_key = key.ToString();
          has_done_key = true;
          if (version.write.kind != WriteKind::kPut) return Status::OK();
        }
        bytes.clear();
        PutFixed32(&bytes, static_cast<uint32_t>(key.size()));
        bytes.append(key.data(), key.size());
        PutFixed64(&bytes, version.commit_ts);
        bytes.push_back(static_cast<char>(version.write.kind));
        if (version.write.kind == WriteKind::kPut) {
          TINYKV_ASSIGN_OR_RETURN(std::string value, reader.ValueOf(key, version));
          PutFixed32(&bytes, static_cast<uint32_t>(value.size()));
          bytes += value;
        }
        out.hash = crc32c::Extend(out.hash, bytes.data(), bytes.size());
        newest = std::max(newest, version.commit_ts);
        return Status::OK();
      });
  TINYKV_RETURN_IF_ERROR(s);
  out.hash_revision = revision != 0 ? revision : std::max(newest, compacted);
  return out;
}

}  // namespace tinykv::txn
