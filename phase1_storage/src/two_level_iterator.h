// TwoLevelIterator: iterates an index iterator whose values name blocks (or
// files), opening a data iterator for each in turn. Used for one SSTable
// (index block -> data blocks) and for one level (file list -> tables).
// Empty or failed data iterators are skipped; the first error is kept in
// status().
#pragma once

#include <functional>
#include <memory>

#include "tinykv/storage/iterator.h"

namespace tinykv::storage {

// Opens the data iterator for an index value (never returns nullptr).
using BlockFunction = std::function<std::unique_ptr<Iterator>(Slice index_value)>;

std::unique_ptr<Iterator> NewTwoLevelIterator(std::unique_ptr<Iterator> index_iter,
                                              BlockFunction block_function);

}  // namespace tinykv::storage
