#include "two_level_iterator.h"

#include <string>

#include "iterator_wrapper.h"

namespace tinykv::storage {

namespace {

class TwoLevelIterator final : public Iterator {
 public:
  TwoLevelIterator(std::unique_ptr<Iterator> index_iter, BlockFunction block_function)
      : block_function_(std::move(block_function)), index_iter_(std::move(index_iter)) {}

  bool Valid() const override { return data_iter_.Valid(); }
  Slice key() const override { return data_iter_.key(); }
  Slice value() const override { return data_iter_.value(); }
  Status status() const override {
    if (!index_iter_.status().ok()) return index_iter_.status();
    if (data_iter_.iter() != nullptr && !data_iter_.status().ok()) return data_iter_.status();
    return status_;
  }

  void Seek(Slice target) override {
    index_iter_.Seek(target);
    InitDataBlock();
    if (data_iter_.iter() != nullptr) data_iter_.Seek(target);
    SkipEmptyDataBlocksForward();
  }
  void SeekToFirst() override {
    index_iter_.SeekToFirst();
    InitDataBlock();
    if (data_iter_.iter() != nullptr) data_iter_.SeekToFirst();
    SkipEmptyDataBlocksForward();
  }
  void SeekToLast() override {
    index_iter_.SeekToLast();
    InitDataBlock();
    if (data_iter_.iter() != nullptr) data_iter_.SeekToLast();
    SkipEmptyDataBlocksBackward();
  }
  void Next() override {
    data_iter_.Next();
    SkipEmptyDataBlocksForward();
  }
  void Prev() override {
    data_iter_.Prev();
    SkipEmptyDataBlocksBackward();
  }

 private:
  void SaveError(const Status& s) {
    if (status_.ok() && !s.ok()) status_ = s;
  }
  void SetDataIterator(std::unique_ptr<Iterator> it) {
    if (data_iter_.iter() != nullptr) SaveError(data_iter_.status());
    data_iter_.Set(std::move(it));
  }
  void SkipEmptyDataBlocksForward() {
    while (data_iter_.iter() == nullptr || !data_iter_.Valid()) {
      if (data_iter_.iter() != nullptr && !data_iter_.status().ok()) {
        // Stop at an error instead of silently skipping a corrupt block.
        return;
      }
      if (!index_iter_.Valid()) {
        SetDataIterator(nullptr);
        return;
      }
      index_iter_.Next();
      InitDataBlock();
      if (data_iter_.iter() != nullptr) data_iter_.SeekToFirst();
    }
  }
  void SkipEmptyDataBlocksBackward() {
    while (data_iter_.iter() == nullptr || !data_iter_.Valid()) {
      if (data_iter_.iter() != nullptr && !data_iter_.status().ok()) return;
      if (!index_iter_.Valid()) {
        SetDataIterator(nullptr);
        return;
      }
      index_iter_.Prev();
      InitDataBlock();
      if (data_iter_.iter() != nullptr) data_iter_.SeekToLast();
    }
  }
  void InitDataBlock() {
    if (!index_iter_.Valid()) {
      SetDataIterator(nullptr);
      return;
    }
    Slice handle = index_iter_.value();
    if (data_iter_.iter() != nullptr && handle == Slice(data_block_handle_)) return;  // already open
    SetDataIterator(block_function_(handle));
    data_block_handle_.assign(handle.data(), handle.size());
  }

  BlockFunction block_function_;
  IteratorWrapper index_iter_;
  IteratorWrapper data_iter_;
  std::string data_block_handle_;
  Status status_;
};

}  // namespace

std::unique_ptr<Iterator> NewTwoLevelIterator(std::unique_ptr<Iterator> index_iter,
                                              BlockFunction block_function) {
  return std::make_unique<TwoLevelIterator>(std::move(index_iter), std::move(block_function));
}

}  // namespace tinykv::storage
