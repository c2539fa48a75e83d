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
    heap_.reserve(children_.size());
  }

  bool Valid() const override { return current_ != nullptr; }

  void SeekToFirst() override {
    for (auto& c : children_) c.SeekToFirst();
    BuildHeap();
  }
  void SeekToLast() override {
    for (auto& c : children_) c.SeekToLast();
    FindLargest();
    direction_ = kReverse;
  }
  void Seek(Slice target) override {
    for (auto& c : children_) c.Seek(target);
    BuildHeap();
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
      current_->Next();
      BuildHeap();
      return;
    }
    // current_ is the heap's root: advance it and restore the heap.
    current_->Next();
    if (!current_->Valid()) {
      heap_.front() = heap_.back();
      heap_.pop_back();
    }
    if (!heap_.empty()) SiftDown(0);
    current_ = heap_.empty() ? nullptr : heap_.front();
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

  // Forward iteration keeps the valid children in a binary min-heap ordered
  // by (key, child index), so Next costs O(log n) comparisons rather than n
  // (RocksDB's MergingIterator does the same; LevelDB scans linearly). The
  // child index breaks ties as the linear scan did: the earlier child (the
  // newer source) first. Reverse iteration, which is rare, scans linearly.
  bool Before(const IteratorWrapper* a, const IteratorWrapper* b) const {
    const int r = Compare(a->key(), b->key());
    return r < 0 || (r == 0 && a < b);
  }
  void SiftDown(size_t i) {
    const size_t n = heap_.size();
    IteratorWrapper* item = heap_[i];
    for (;;) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && Before(heap_[child + 1], heap_[child])) ++child;
      if (!Before(heap_[child], item)) break;
      heap_[i] = heap_[child];
      i = child;
    }
    heap_[i] = item;
  }
  void BuildHeap() {
    heap_.clear();
    for (auto& c : children_) {
      if (c.Valid()) heap_.push_back(&c);
    }
    for (size_t i = heap_.size() / 2; i-- > 0;) SiftDown(i);
    current_ = heap_.empty() ? nullptr : heap_.front();
    direction_ = kForward;
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
  std::vector<IteratorWrapper*> heap_;  // valid children; meaningful only forward
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
