#include "merging_iterator.h"

#include "iterators.h"

namespace tinykv::storage {

namespace {

class MergingIterator final : public Iterator {
 public:
  MergingIterator(const Comparator* comparator, std::vector<std::unique_ptr<Iterator>> children)
      : comparator_(comparator), children_(std::move(children)) {}

  bool Valid() const override { return current_ != nullptr; }

  void SeekToFirst() override {
    for (auto& c : children_) c->SeekToFirst();
    FindSmallest();
    direction_ = kForward;
  }
  void SeekToLast() override {
    for (auto& c : children_) c->SeekToLast();
    FindLargest();
    direction_ = kReverse;
  }
  void Seek(Slice target) override {
    for (auto& c : children_) c->Seek(target);
    FindSmallest();
    direction_ = kForward;
  }

  void Next() override {
    // Ensure every child is positioned after key(): when moving forward that
    // already holds for all non-current children.
    if (direction_ != kForward) {
      const std::string k = key().ToString();
      for (auto& c : children_) {
        if (c.get() == current_) continue;
        c->Seek(k);
        if (c->Valid() && comparator_->Compare(Slice(k), c->key()) == 0) c->Next();
      }
      direction_ = kForward;
    }
    current_->Next();
    FindSmallest();
  }

  void Prev() override {
    if (direction_ != kReverse) {
      const std::string k = key().ToString();
      for (auto& c : children_) {
        if (c.get() == current_) continue;
        c->Seek(k);
        if (c->Valid()) {
          c->Prev();  // entry before the first >= key
        } else {
          c->SeekToLast();  // no entries >= key: the last one is < key
        }
      }
      direction_ = kReverse;
    }
    current_->Prev();
    FindLargest();
  }

  Slice key() const override { return current_->key(); }
  Slice value() const override { return current_->value(); }
  Status status() const override {
    for (const auto& c : children_) {
      Status s = c->status();
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

 private:
  enum Direction { kForward, kReverse };

  void FindSmallest() {
    Iterator* smallest = nullptr;
    for (auto& c : children_) {
      if (c->Valid() && (smallest == nullptr || comparator_->Compare(c->key(), smallest->key()) < 0)) {
        smallest = c.get();
      }
    }
    current_ = smallest;
  }
  void FindLargest() {
    Iterator* largest = nullptr;
    for (auto it = children_.rbegin(); it != children_.rend(); ++it) {
      auto& c = *it;
      if (c->Valid() && (largest == nullptr || comparator_->Compare(c->key(), largest->key()) > 0)) {
        largest = c.get();
      }
    }
    current_ = largest;
  }

  const Comparator* comparator_;
  std::vector<std::unique_ptr<Iterator>> children_;
  Iterator* current_ = nullptr;
  Direction direction_ = kForward;
};

}  // namespace

std::unique_ptr<Iterator> NewMergingIterator(const Comparator* comparator,
                                             std::vector<std::unique_ptr<Iterator>> children) {
  if (children.empty()) return NewEmptyIterator();
  if (children.size() == 1) return std::move(children[0]);
  return std::make_unique<MergingIterator>(comparator, std::move(children));
}

}  // namespace tinykv::storage
