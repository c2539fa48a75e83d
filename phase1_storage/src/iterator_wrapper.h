// IteratorWrapper: owns an iterator and caches its Valid() and key(), so hot
// loops (merging, two-level) avoid repeated virtual calls (as LevelDB's
// table/iterator_wrapper.h).
#pragma once

#include <memory>

#include "tinykv/storage/iterator.h"

namespace tinykv::storage {

class IteratorWrapper {
 public:
  IteratorWrapper() = default;
  explicit IteratorWrapper(std::unique_ptr<Iterator> iter) { Set(std::move(iter)); }

  Iterator* iter() const { return iter_.get(); }
  void Set(std::unique_ptr<Iterator> iter) {
    iter_ = std::move(iter);
    if (iter_ == nullptr) {
      valid_ = false;
    } else {
      Update();
    }
  }
  bool Valid() const { return valid_; }
  Slice key() const { return key_; }
  Slice value() const { return iter_->value(); }
  Status status() const { return iter_->status(); }
  void Next() {
    iter_->Next();
    Update();
  }
  void Prev() {
    iter_->Prev();
    Update();
  }
  void Seek(Slice k) {
    iter_->Seek(k);
    Update();
  }
  void SeekToFirst() {
    iter_->SeekToFirst();
    Update();
  }
  void SeekToLast() {
    iter_->SeekToLast();
    Update();
  }

 private:
  void Update() {
    valid_ = iter_->Valid();
    if (valid_) key_ = iter_->key();
  }

  std::unique_ptr<Iterator> iter_;
  bool valid_ = false;
  Slice key_;
};

}  // namespace tinykv::storage
