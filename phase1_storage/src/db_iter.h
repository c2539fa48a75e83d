// DBIter: turns an iterator over internal keys (the merge of memtables and
// tables) into the user-visible iterator: for each user key only the newest
// version with sequence <= the read sequence is shown, and keys whose newest
// visible version is a deletion are hidden. Supports Prev (as LevelDB's
// DBIter: in reverse, it scans back over all versions of a key).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "tinykv/storage/iterator.h"

namespace tinykv::storage {

// `cleanup` runs when the iterator is destroyed (releases memtable refs).
std::unique_ptr<Iterator> NewDBIterator(std::unique_ptr<Iterator> internal_iter,
                                        uint64_t sequence, std::function<void()> cleanup);

}  // namespace tinykv::storage
