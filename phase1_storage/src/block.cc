#include "block.h"

#include "iterators.h"

#include <string>

#include "tinykv/common/coding.h"

namespace tinykv::storage {

uint32_t Block::NumRestarts() const { return DecodeFixed32(data_ + size_ - 4); }

Block::Block(BlockContents contents)
    : heap_(std::move(contents.heap)),
      pinned_(std::move(contents.pinned)),
      data_(contents.data.data()),
      size_(contents.data.size()),
      restart_offset_(0),
      malformed_(false) {
  if (size_ < 4) {
    malformed_ = true;
    return;
  }
  const size_t max_restarts = (size_ - 4) / 4;
  const uint32_t n = NumRestarts();
  if (n == 0 || n > max_restarts) {
    malformed_ = true;
    return;
  }
  restart_offset_ = static_cast<uint32_t>(size_ - (1 + n) * 4);
}

namespace {

// Decodes the three varints of an entry header. Returns nullptr if malformed.
inline const char* DecodeEntry(const char* p, const char* limit, uint32_t* shared,
                               uint32_t* non_shared, uint32_t* value_length) {
  if (limit - p < 3) return nullptr;
  *shared = static_cast<unsigned char>(p[0]);
  *non_shared = static_cast<unsigned char>(p[1]);
  *value_length = static_cast<unsigned char>(p[2]);
  if ((*shared | *non_shared | *value_length) < 128) {
    p += 3;  // fast path: all three fit in one byte
  } else {
    if ((p = GetVarint32Ptr(p, limit, shared)) == nullptr) return nullptr;
    if ((p = GetVarint32Ptr(p, limit, non_shared)) == nullptr) return nullptr;
    if ((p = GetVarint32Ptr(p, limit, value_length)) == nullptr) return nullptr;
  }
  if (static_cast<uint32_t>(limit - p) < (uint64_t{*non_shared} + *value_length)) return nullptr;
  return p;
}

class BlockIterator final : public Iterator {
 public:
  BlockIterator(const Comparator* comparator, const char* data, uint32_t restarts,
                uint32_t num_restarts, std::shared_ptr<const void> pin, const std::string* fname)
      : pin_(std::move(pin)),
        fname_(fname),
        comparator_(comparator),
        data_(data),
        restarts_(restarts),
        num_restarts_(num_restarts),
        current_(restarts),
        restart_index_(num_restarts) {}

  bool Valid() const override { return current_ < restarts_; }
  Status status() const override { return status_; }
  Slice key() const override { return Slice(key_); }
  Slice value() const override { return value_; }

  void Next() override { ParseNextKey(); }

  void Prev() override {
    // Back up to a restart point before current_, then scan forward.
    const uint32_t original = current_;
    while (GetRestartPoint(restart_index_) >= original) {
      if (restart_index_ == 0) {
        current_ = restarts_;
        restart_index_ = num_restarts_;
        return;
      }
      --restart_index_;
    }
    SeekToRestartPoint(restart_index_);
    do {
      // Loop until the end of the entry before original.
    } while (ParseNextKey() && NextEntryOffset() < original);
  }

  void Seek(Slice target) override {
    // Binary search for the last restart point with a key < target.
    uint32_t left = 0;
    uint32_t right = num_restarts_ - 1;
    int current_key_compare = 0;
    if (Valid()) {
      // Use the current position to narrow the search (sequential seeks).
      current_key_compare = Compare(Slice(key_), target);
      if (current_key_compare < 0) {
        left = restart_index_;
      } else if (current_key_compare > 0) {
        right = restart_index_;
      } else {
        return;
      }
    }
    while (left < right) {
      const uint32_t mid = (left + right + 1) / 2;
      const uint32_t region_offset = GetRestartPoint(mid);
      uint32_t shared;
      uint32_t non_shared;
      uint32_t value_length;
      const char* key_ptr = region_offset < restarts_
                                ? DecodeEntry(data_ + region_offset, data_ + restarts_, &shared,
                                              &non_shared, &value_length)
                                : nullptr;
      if (key_ptr == nullptr || shared != 0) {
        CorruptionError();
        return;
      }
      if (Compare(Slice(key_ptr, non_shared), target) < 0) {
        left = mid;
      } else {
        right = mid - 1;
      }
    }
    // Linear search within the restart interval for the first key >= target.
    const bool skip_seek = left == restart_index_ && current_key_compare < 0;
    if (!skip_seek) SeekToRestartPoint(left);
    while (true) {
      if (!ParseNextKey()) return;
      if (Compare(Slice(key_), target) >= 0) return;
    }
  }

  void SeekToFirst() override {
    SeekToRestartPoint(0);
    ParseNextKey();
  }

  void SeekToLast() override {
    SeekToRestartPoint(num_restarts_ - 1);
    while (ParseNextKey() && NextEntryOffset() < restarts_) {
    }
  }

 private:
  int Compare(Slice a, Slice b) const {
    // The internal-key comparator is final: call it directly (inlined).
    if (comparator_ == DefaultInternalComparator()) {
      return DefaultInternalComparator()->Compare(a, b);
    }
    return comparator_->Compare(a, b);
  }
  uint32_t NextEntryOffset() const {
    return static_cast<uint32_t>((value_.data() + value_.size()) - data_);
  }
  uint32_t GetRestartPoint(uint32_t index) const {
    return DecodeFixed32(data_ + restarts_ + index * 4);
  }
  void SeekToRestartPoint(uint32_t index) {
    key_.clear();
    restart_index_ = index;
    // current_ is fixed by ParseNextKey; value_ marks where it starts.
    uint32_t offset = GetRestartPoint(index);
    if (offset > restarts_) offset = restarts_;  // corrupt restart array: end of block
    value_ = Slice(data_ + offset, 0);
  }
  void CorruptionError() {
    current_ = restarts_;
    restart_index_ = num_restarts_;
    status_ = Status::Corruption(fname_ != nullptr ? *fname_ + ": bad entry in block"
                                                   : std::string("bad entry in block"));
    key_.clear();
    value_ = Slice();
  }
  bool ParseNextKey() {
    current_ = NextEntryOffset();
    const char* p = data_ + current_;
    const char* limit = data_ + restarts_;
    if (p >= limit) {
      current_ = restarts_;
      restart_index_ = num_restarts_;
      return false;
    }
    uint32_t shared;
    uint32_t non_shared;
    uint32_t value_length;
    p = DecodeEntry(p, limit, &shared, &non_shared, &value_length);
    if (p == nullptr || key_.size() < shared) {
      CorruptionError();
      return false;
    }
    key_.resize(shared);
    key_.append(p, non_shared);
    value_ = Slice(p + non_shared, value_length);
    while (restart_index_ + 1 < num_restarts_ && GetRestartPoint(restart_index_ + 1) < current_) {
      ++restart_index_;
    }
    return true;
  }

  std::shared_ptr<const void> pin_;
  const std::string* fname_;
  const Comparator* const comparator_;
  const char* const data_;
  const uint32_t restarts_;      // offset of the restart array
  const uint32_t num_restarts_;
  uint32_t current_;             // offset of the current entry; >= restarts_ if invalid
  uint32_t restart_index_;       // restart block holding current_
  std::string key_;
  Slice value_;
  Status status_;
};

class ErrorIterator final : public Iterator {
 public:
  explicit ErrorIterator(Status s) : status_(std::move(s)) {}
  bool Valid() const override { return false; }
  void SeekToFirst() override {}
  void SeekToLast() override {}
  void Seek(Slice) override {}
  void Next() override {}
  void Prev() override {}
  Slice key() const override { return Slice(); }
  Slice value() const override { return Slice(); }
  Status status() const override { return status_; }

 private:
  Status status_;
};

}  // namespace

std::unique_ptr<Iterator> Block::NewIterator(const Comparator* comparator,
                                             std::shared_ptr<const void> pin,
                                             const std::string* fname) const {
  if (malformed_) {
    return std::make_unique<ErrorIterator>(Status::Corruption(
        fname != nullptr ? *fname + ": bad block contents" : std::string("bad block contents")));
  }
  return std::make_unique<BlockIterator>(comparator, data_, restart_offset_, NumRestarts(),
                                         std::move(pin), fname);
}

Status Block::SeekFirstAtLeast(const Comparator* comparator, Slice target, bool* found,
                               std::string* key, Slice* value, const std::string* fname) const {
  *found = false;
  if (malformed_) {
    return Status::Corruption(fname != nullptr ? *fname + ": bad block contents"
                                               : std::string("bad block contents"));
  }
  BlockIterator it(comparator, data_, restart_offset_, NumRestarts(), nullptr, fname);
  it.Seek(target);
  if (it.Valid()) {
    *found = true;
    const Slice k = it.key();
    key->assign(k.data(), k.size());
    *value = it.value();
    return Status::OK();
  }
  return it.status();
}

std::unique_ptr<Iterator> NewErrorIterator(Status s) {
  return std::make_unique<ErrorIterator>(std::move(s));
}
std::unique_ptr<Iterator> NewEmptyIterator() {
  return std::make_unique<ErrorIterator>(Status::OK());
}

}  // namespace tinykv::storage
