#include "merging_iterator.h"

#include "iterator_wrapper.h"
#include "iterators.h"

namespace tinykv::storage {

namespace {

class MergingIterator final : public Iterator {
 public:
  MergingIterator(const Comparator* comparator, std::vector<std::unique_ptr<Iterator>> children)
      : comparator_(comparator),
        icmp_(comparator == DefaultInternalComparator() ? DefaultInternalComparator() : nullptr),
        children_(children.size()) {
    for (size_t i = 0; i < children.size(); ++i) children_[i].Set(std::move(children[i]));
  }

  bool Valid() const override { return current_ != nullptr; }

  void SeekToFirst() override {
    for (auto& c : children_) c.SeekToFirst();
    FindSmallest();
    direction_ = kForward;
  }
  void SeekToLast() override {
    for (auto& c : children_) c.SeekToLast();
    FindLargest();
    direction_ = kReverse;
  }
  void Seek(Slice target) override {
    for (auto& c : children_) c.Seek(target);
    FindSmallest();
    direction_ = kForward;
  }

  void Next() override {
    // Ensure every child is positioned after key(): when moving forward that
    // already holds for all non-current children.
    if (direction_ != kForward) {
      const std::string k = key().ToString();
      for (auto& c : children_) {
        if (&c == current_) continue;
        c.Seek(k);
        if (c.Valid() && Compare(Slice(k), c.key()) == 0) c.Next();
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
        if (&c == current_) continue;
        c.Seek(k);
        if (c.Valid()) {
          c.Prev();  // the entry before the first >= key
        } else {
          c.SeekToLast();  // no entries >= key: the last one is < key
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
      Status s = c.status();
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

 private:
  enum Direction { kForward, kReverse };

  // The internal-key comparator is final: calling it directly lets the
  // compiler inline the hot comparison.
  int Compare(Slice a, Slice b) const {
    return icmp_ != nullptr ? icmp_->Compare(a, b) : comparator_->Compare(a, b);
  }

  void FindSmallest() {
    IteratorWrapper* smallest = nullptr;
    for (auto& c : children_) {
      if (c.Valid() && (smallest == nullptr || Compare(c.key(), smallest->key()) < 0)) {
        smallest = &c;
      }
    }
    current_ = smallest;
  }
  void FindLargest() {
    IteratorWrapper* largest = nullptr;
    for (auto it = children_.rbegin(); it != children_.rend(); ++it) {
      if (it->Valid() && (largest == nullptr || Compare(it->key(), largest->key()) > 0)) {
        largest = &*it;
      }
    }
    current_ = largest;
  }

  const Comparator* comparator_;
  const InternalKeyComparator* icmp_;
  std::vector<IteratorWrapper> children_;
  IteratorWrapper* current_ = nullptr;
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
