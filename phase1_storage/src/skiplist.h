// SkipList: the memtable's ordered index (Pugh 1990), as in LevelDB.
//
// Thread safety: one writer at a time (external synchronization) and any
// number of concurrent lock-free readers. Nodes are never deleted until the
// list dies. A node's key is immutable after insertion; next pointers are
// published with release stores and read with acquire loads, so a reader that
// sees a node also sees its fully initialized key.
#pragma once

#include <atomic>
#include <cstdint>
#include <type_traits>

#include "arena.h"
#include "tinykv/common/check.h"
#include "tinykv/common/random.h"

namespace tinykv::storage {

template <typename Key, class Cmp>
class SkipList {
  struct Node;

 public:
  // Nodes are allocated from `arena`, which must outlive the list.
  SkipList(Cmp cmp, Arena* arena);
  SkipList(const SkipList&) = delete;
  SkipList& operator=(const SkipList&) = delete;

  // REQUIRES: nothing equal to key is in the list; external writer lock.
  void Insert(const Key& key);
  bool Contains(const Key& key) const;

  // For Key = const char* (the memtable): allocates a node of random height
  // with `key_size` bytes right after it and returns those bytes, which the
  // node's key points at. The caller writes the key there, then calls
  // InsertAllocated(). A search step then finds the key in the cache lines
  // of the node it just loaded instead of taking a second miss on a
  // separately allocated entry (RocksDB's InlineSkipList does the same).
  // REQUIRES: external writer lock, held across both calls.
  char* AllocateKey(size_t key_size);
  void InsertAllocated();

  class Iterator {
   public:
    explicit Iterator(const SkipList* list) : list_(list), node_(nullptr) {}
    bool Valid() const { return node_ != nullptr; }
    const Key& key() const { return node_->key; }
    void Next() { node_ = node_->Next(0); }
    void Prev() {
      node_ = list_->FindLessThan(node_->key);
      if (node_ == list_->head_) node_ = nullptr;
    }
    void Seek(const Key& target) { node_ = list_->FindGreaterOrEqual(target, nullptr); }
    void SeekToFirst() { node_ = list_->head_->Next(0); }
    void SeekToLast() {
      node_ = list_->FindLast();
      if (node_ == list_->head_) node_ = nullptr;
    }

   private:
    const SkipList* list_;
    Node* node_;
  };

 private:
  static constexpr int kMaxHeight = 12;

  int GetMaxHeight() const { return max_height_.load(std::memory_order_relaxed); }
  Node* NewNode(const Key& key, int height);
  int RandomHeight();
  // Links a new node of the given height in key order.
  void Link(Node* x, int height);
  bool Equal(const Key& a, const Key& b) const { return compare_(a, b) == 0; }
  bool KeyIsAfterNode(const Key& key, Node* n) const {
    return n != nullptr && compare_(n->key, key) < 0;
  }
  Node* FindGreaterOrEqual(const Key& key, Node** prev) const;
  Node* FindLessThan(const Key& key) const;
  Node* FindLast() const;

  Cmp const compare_;
  Arena* const arena_;
  Node* const head_;
  std::atomic<int> max_height_;
  uint32_t rnd_;  // a cheap LCG for heights; only the writer touches it
  // Between AllocateKey and InsertAllocated (writer only).
  Node* pending_ = nullptr;
  int pending_height_ = 0;
};

template <typename Key, class Cmp>
struct SkipList<Key, Cmp>::Node {
  explicit Node(const Key& k) : key(k) {}
  Key const key;
  Node* Next(int n) { return next_[n].load(std::memory_order_acquire); }
  void SetNext(int n, Node* x) { next_[n].store(x, std::memory_order_release); }
  Node* NoBarrierNext(int n) { return next_[n].load(std::memory_order_relaxed); }
  void NoBarrierSetNext(int n, Node* x) { next_[n].store(x, std::memory_order_relaxed); }

 private:
  // Over-allocated to the node's height: next_[0..height-1].
  std::atomic<Node*> next_[1];
};

template <typename Key, class Cmp>
typename SkipList<Key, Cmp>::Node* SkipList<Key, Cmp>::NewNode(const Key& key, int height) {
  char* const mem = arena_->AllocateAligned(sizeof(Node) +
                                            sizeof(std::atomic<Node*>) * (height - 1));
  return new (mem) Node(key);
}

template <typename Key, class Cmp>
int SkipList<Key, Cmp>::RandomHeight() {
  // Branching factor 4: each level up with probability 1/4.
  int height = 1;
  while (height < kMaxHeight) {
    rnd_ = rnd_ * 1103515245u + 12345u;
    if (((rnd_ >> 16) & 3) != 0) break;
    ++height;
  }
  return height;
}

template <typename Key, class Cmp>
typename SkipList<Key, Cmp>::Node* SkipList<Key, Cmp>::FindGreaterOrEqual(const Key& key,
                                                                           Node** prev) const {
  Node* x = head_;
  int level = GetMaxHeight() - 1;
  Node* last_bigger = nullptr;  // avoids re-comparing the same node on the way down
  while (true) {
    Node* next = x->Next(level);
    if (next != last_bigger && KeyIsAfterNode(key, next)) {
      x = next;
    } else {
      if (prev != nullptr) prev[level] = x;
      if (level == 0) return next;
      last_bigger = next;
      --level;
    }
  }
}

template <typename Key, class Cmp>
typename SkipList<Key, Cmp>::Node* SkipList<Key, Cmp>::FindLessThan(const Key& key) const {
  Node* x = head_;
  int level = GetMaxHeight() - 1;
  while (true) {
    Node* next = x->Next(level);
    if (next == nullptr || compare_(next->key, key) >= 0) {
      if (level == 0) return x;
      --level;
    } else {
      x = next;
    }
  }
}

template <typename Key, class Cmp>
typename SkipList<Key, Cmp>::Node* SkipList<Key, Cmp>::FindLast() const {
  Node* x = head_;
  int level = GetMaxHeight() - 1;
  while (true) {
    Node* next = x->Next(level);
    if (next == nullptr) {
      if (level == 0) return x;
      --level;
    } else {
      x = next;
    }
  }
}

template <typename Key, class Cmp>
SkipList<Key, Cmp>::SkipList(Cmp cmp, Arena* arena)
    : compare_(cmp), arena_(arena), head_(NewNode(Key(), kMaxHeight)), max_height_(1),
      rnd_(0xdeadbeef) {
  for (int i = 0; i < kMaxHeight; ++i) head_->SetNext(i, nullptr);
}

template <typename Key, class Cmp>
void SkipList<Key, Cmp>::Insert(const Key& key) {
  const int height = RandomHeight();
  Link(NewNode(key, height), height);
}

template <typename Key, class Cmp>
char* SkipList<Key, Cmp>::AllocateKey(size_t key_size) {
  static_assert(std::is_same_v<Key, const char*>, "AllocateKey is for byte-string keys");
  TINYKV_CHECK(pending_ == nullptr) << "AllocateKey twice without InsertAllocated";
  const int height = RandomHeight();
  const size_t node_size = sizeof(Node) + sizeof(std::atomic<Node*>) * (height - 1);
  char* const mem = arena_->AllocateAligned(node_size + key_size);
  char* const key_mem = mem + node_size;
  pending_ = new (mem) Node(key_mem);
  pending_height_ = height;
  return key_mem;
}

template <typename Key, class Cmp>
void SkipList<Key, Cmp>::InsertAllocated() {
  TINYKV_CHECK(pending_ != nullptr) << "InsertAllocated without AllocateKey";
  Node* const x = pending_;
  pending_ = nullptr;
  Link(x, pending_height_);
}

template <typename Key, class Cmp>
void SkipList<Key, Cmp>::Link(Node* x, int height) {
  Node* prev[kMaxHeight];
  Node* const next = FindGreaterOrEqual(x->key, prev);
  TINYKV_CHECK(next == nullptr || !Equal(x->key, next->key)) << "duplicate skiplist insert";
  if (height > GetMaxHeight()) {
    for (int i = GetMaxHeight(); i < height; ++i) prev[i] = head_;
    // A reader that sees the new height before the node reads nullptr from
    // head_ at those levels and just drops down: safe with relaxed order.
    max_height_.store(height, std::memory_order_relaxed);
  }
  for (int i = 0; i < height; ++i) {
    // The release store in prev[i]->SetNext publishes x with its next_ set.
    x->NoBarrierSetNext(i, prev[i]->NoBarrierNext(i));
    prev[i]->SetNext(i, x);
  }
}

template <typename Key, class Cmp>
bool SkipList<Key, Cmp>::Contains(const Key& key) const {
  Node* x = FindGreaterOrEqual(key, nullptr);
  return x != nullptr && Equal(key, x->key);
}

}  // namespace tinykv::storage
