#include "db_iter.h"

#include <string>

#include "dbformat.h"

namespace tinykv::storage {

namespace {

class DBIter final : public Iterator {
 public:
  // Which direction we are moving, and what the internal iterator points at:
  //  kForward: at the entry yielding key()/value();
  //  kReverse: just before all entries whose user key == key(); the current
  //            key and value are saved in saved_key_/saved_value_.
  enum Direction { kForward, kReverse };

  DBIter(std::unique_ptr<Iterator> iter, uint64_t s, std::function<void()> cleanup)
      : iter_(std::move(iter)), sequence_(s), cleanup_(std::move(cleanup)) {}
  ~DBIter() override {
    iter_.reset();
    if (cleanup_) cleanup_();
  }

  bool Valid() const override { return valid_; }
  Slice key() const override {
    return direction_ == kForward ? ExtractUserKey(iter_->key()) : Slice(saved_key_);
  }
  Slice value() const override {
    return direction_ == kForward ? iter_->value() : Slice(saved_value_);
  }
  Status status() const override {
    if (!status_.ok()) return status_;
    return iter_->status();
  }

  void Next() override {
    if (direction_ == kReverse) {
      direction_ = kForward;
      // iter_ is before the entries of key(); move into them, then past.
      if (!iter_->Valid()) {
        iter_->SeekToFirst();
      } else {
        iter_->Next();
      }
      if (!iter_->Valid()) {
        valid_ = false;
        saved_key_.clear();
        return;
      }
      // saved_key_ already holds the key to skip past.
    } else {
      SaveKey(ExtractUserKey(iter_->key()), &saved_key_);
      iter_->Next();
      if (!iter_->Valid()) {
        valid_ = false;
        saved_key_.clear();
        return;
      }
    }
    FindNextUserEntry(true, &saved_key_);
  }

  void Prev() override {
    if (direction_ == kForward) {
      // iter_ is at the current entry: scan back until the user key changes.
      SaveKey(ExtractUserKey(iter_->key()), &saved_key_);
      while (true) {
        iter_->Prev();
        if (!iter_->Valid()) {
          valid_ = false;
          saved_key_.clear();
          ClearSavedValue();
          return;
        }
        if (ExtractUserKey(iter_->key()).compare(Slice(saved_key_)) < 0) break;
      }
      direction_ = kReverse;
    }
    FindPrevUserEntry();
  }

  void Seek(Slice target) override {
    direction_ = kForward;
    ClearSavedValue();
    saved_key_.clear();
    AppendInternalKey(&saved_key_, target, sequence_, kValueTypeForSeek);
    iter_->Seek(Slice(saved_key_));
    if (iter_->Valid()) {
      FindNextUserEntry(false, &saved_key_);
    } else {
      valid_ = false;
    }
  }
  void SeekToFirst() override {
    direction_ = kForward;
    ClearSavedValue();
    iter_->SeekToFirst();
    if (iter_->Valid()) {
      FindNextUserEntry(false, &saved_key_);
    } else {
      valid_ = false;
    }
  }
  void SeekToLast() override {
    direction_ = kReverse;
    ClearSavedValue();
    iter_->SeekToLast();
    FindPrevUserEntry();
  }

 private:
  void FindNextUserEntry(bool skipping, std::string* skip) {
    // Loop until we hit an acceptable entry to yield.
    do {
      ParsedInternalKey ikey;
      if (ParseKey(&ikey) && ikey.sequence <= sequence_) {
        switch (ikey.type) {
          case kTypeDeletion:
            // Hide later (older) entries for this user key.
            SaveKey(ikey.user_key, skip);
            skipping = true;
            break;
          case kTypeValue:
            if (skipping && ikey.user_key.compare(Slice(*skip)) <= 0) {
              // Hidden.
            } else {
              valid_ = true;
              saved_key_.clear();
              return;
            }
            break;
        }
      }
      iter_->Next();
    } while (iter_->Valid());
    saved_key_.clear();
    valid_ = false;
  }

  void FindPrevUserEntry() {
    ValueType value_type = kTypeDeletion;
    if (iter_->Valid()) {
      do {
        ParsedInternalKey ikey;
        if (ParseKey(&ikey) && ikey.sequence <= sequence_) {
          if (value_type != kTypeDeletion && ikey.user_key.compare(Slice(saved_key_)) < 0) {
            // A non-deleted value for saved_key_ was found: done.
            break;
          }
          value_type = ikey.type;
          if (value_type == kTypeDeletion) {
            saved_key_.clear();
            ClearSavedValue();
          } else {
            const Slice raw_value = iter_->value();
            SaveKey(ExtractUserKey(iter_->key()), &saved_key_);
            saved_value_.assign(raw_value.data(), raw_value.size());
          }
        }
        iter_->Prev();
      } while (iter_->Valid());
    }
    if (value_type == kTypeDeletion) {
      valid_ = false;
      saved_key_.clear();
      ClearSavedValue();
      direction_ = kForward;
    } else {
      valid_ = true;
    }
  }

  bool ParseKey(ParsedInternalKey* ikey) {
    if (!ParseInternalKey(iter_->key(), ikey)) {
      status_ = Status::Corruption("corrupted internal key in DBIter");
      return false;
    }
    return true;
  }
  static void SaveKey(Slice k, std::string* dst) { dst->assign(k.data(), k.size()); }
  void ClearSavedValue() {
    if (saved_value_.capacity() > 1048576) {
      std::string empty;
      saved_value_.swap(empty);
    } else {
      saved_value_.clear();
    }
  }

  std::unique_ptr<Iterator> iter_;
  const uint64_t sequence_;
  std::function<void()> cleanup_;
  Status status_;
  std::string saved_key_;    // == current key when direction_ == kReverse
  std::string saved_value_;  // == current raw value when direction_ == kReverse
  Direction direction_ = kForward;
  bool valid_ = false;
};

}  // namespace

std::unique_ptr<Iterator> NewDBIterator(std::unique_ptr<Iterator> internal_iter, uint64_t sequence,
                                        std::function<void()> cleanup) {
  return std::make_unique<DBIter>(std::move(internal_iter), sequence, std::move(cleanup));
}

}  // namespace tinykv::storage
