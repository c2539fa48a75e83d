#include "version_edit.h"

#include "tinykv/common/coding.h"

namespace tinykv::storage {

namespace {
enum Tag : uint32_t {
  kComparator = 1,
  kLogNumber = 2,
  kNextFileNumber = 3,
  kLastSequence = 4,
  kCompactPointer = 5,
  kDeletedFile = 6,
  kNewFile = 7,
};

bool GetLevel(Slice* input, int* level) {
  uint32_t v;
  if (GetVarint32(input, &v) && v < static_cast<uint32_t>(kMaxNumLevels)) {
    *level = static_cast<int>(v);
    return true;
  }
  return false;
}

bool GetInternalKey(Slice* input, std::string* dst) {
  Slice str;
  if (GetLengthPrefixedSlice(input, &str) && str.size() >= 8) {
    dst->assign(str.data(), str.size());
    return true;
  }
  return false;
}
}  // namespace

void VersionEdit::EncodeTo(std::string* dst) const {
  if (has_comparator_) {
    PutVarint32(dst, kComparator);
    PutLengthPrefixedSlice(dst, comparator_);
  }
  if (has_log_number_) {
    PutVarint32(dst, kLogNumber);
    PutVarint64(dst, log_number_);
  }
  if (has_next_file_number_) {
    PutVarint32(dst, kNextFileNumber);
    PutVarint64(dst, next_file_number_);
  }
  if (has_last_sequence_) {
    PutVarint32(dst, kLastSequence);
    PutVarint64(dst, last_sequence_);
  }
  for (const auto& [level, key] : compact_pointers_) {
    PutVarint32(dst, kCompactPointer);
    PutVarint32(dst, static_cast<uint32_t>(level));
    PutLengthPrefixedSlice(dst, key);
  }
  for (const auto& [level, number] : deleted_files_) {
    PutVarint32(dst, kDeletedFile);
    PutVarint32(dst, static_cast<uint32_t>(level));
    PutVarint64(dst, number);
  }
  for (const auto& [level, f] : new_files_) {
    PutVarint32(dst, kNewFile);
    PutVarint32(dst, static_cast<uint32_t>(level));
    PutVarint64(dst, f.number);
    PutVarint64(dst, f.file_size);
    PutLengthPrefixedSlice(dst, f.smallest);
    PutLengthPrefixedSlice(dst, f.largest);
  }
}

Status VersionEdit::DecodeFrom(Slice src) {
  Clear();
  Slice input = src;
  const char* msg = nullptr;
  uint32_t tag;
  int level;
  uint64_t number;
  Slice str;
  while (msg == nullptr && GetVarint32(&input, &tag)) {
    switch (tag) {
      case kComparator:
        if (GetLengthPrefixedSlice(&input, &str)) {
          comparator_ = str.ToString();
          has_comparator_ = true;
        } else {
          msg = "comparator name";
        }
        break;
      case kLogNumber:
        if (GetVarint64(&input, &log_number_)) {
          has_log_number_ = true;
        } else {
          msg = "log number";
        }
        break;
      case kNextFileNumber:
        if (GetVarint64(&input, &next_file_number_)) {
          has_next_file_number_ = true;
        } else {
          msg = "next file number";
        }
        break;
      case kLastSequence:
        if (GetVarint64(&input, &last_sequence_)) {
          has_last_sequence_ = true;
        } else {
          msg = "last sequence number";
        }
        break;
      case kCompactPointer: {
        std::string key;
        if (GetLevel(&input, &level) && GetInternalKey(&input, &key)) {
          compact_pointers_.emplace_back(level, std::move(key));
        } else {
          msg = "compaction pointer";
        }
        break;
      }
      case kDeletedFile:
        if (GetLevel(&input, &level) && GetVarint64(&input, &number)) {
          deleted_files_.emplace(level, number);
        } else {
          msg = "deleted file";
        }
        break;
      case kNewFile: {
        FileMetaData f;
        if (GetLevel(&input, &level) && GetVarint64(&input, &f.number) &&
            GetVarint64(&input, &f.file_size) && GetInternalKey(&input, &f.smallest) &&
            GetInternalKey(&input, &f.largest)) {
          new_files_.emplace_back(level, std::move(f));
        } else {
          msg = "new-file entry";
        }
        break;
      }
      default:
        msg = "unknown tag";
        break;
    }
  }
  if (msg == nullptr && !input.empty()) msg = "invalid tag";
  if (msg != nullptr) return Status::Corruption(std::string("version edit: bad ") + msg);
  return Status::OK();
}

std::string VersionEdit::DebugString() const {
  std::string r = "VersionEdit {";
  if (has_comparator_) r += "\n  comparator: " + comparator_;
  if (has_log_number_) r += "\n  log_number: " + std::to_string(log_number_);
  if (has_next_file_number_) r += "\n  next_file: " + std::to_string(next_file_number_);
  if (has_last_sequence_) r += "\n  last_seq: " + std::to_string(last_sequence_);
  for (const auto& [level, key] : compact_pointers_) {
    r += "\n  compact_pointer: L" + std::to_string(level) + " " + Slice(key).ToEscaped();
  }
  for (const auto& [level, number] : deleted_files_) {
    r += "\n  delete: L" + std::to_string(level) + " #" + std::to_string(number);
  }
  for (const auto& [level, f] : new_files_) {
    r += "\n  add: L" + std::to_string(level) + " #" + std::to_string(f.number) + " " +
         std::to_string(f.file_size) + " bytes [" + Slice(f.smallest).ToEscaped() + " .. " +
         Slice(f.largest).ToEscaped() + "]";
  }
  r += "\n}\n";
  return r;
}

}  // namespace tinykv::storage
