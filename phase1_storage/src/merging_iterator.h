// MergingIterator: the union of several sorted iterators, as one sorted
// iterator (used for the memtables plus every table a read may touch, and
// for compaction inputs). Duplicate keys are all yielded, in child order.
// Cost: O(children) per step (a linear scan; there are few children).
// Supports direction changes (Prev after Next and vice versa).
#pragma once

#include <memory>
#include <vector>

#include "dbformat.h"
#include "tinykv/storage/iterator.h"

namespace tinykv::storage {

std::unique_ptr<Iterator> NewMergingIterator(const Comparator* comparator,
                                             std::vector<std::unique_ptr<Iterator>> children);

}  // namespace tinykv::storage
