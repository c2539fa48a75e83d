// Small iterator helpers shared by the engine.
#pragma once

#include <memory>

#include "tinykv/common/status.h"
#include "tinykv/storage/iterator.h"

namespace tinykv::storage {

// An iterator over nothing.
std::unique_ptr<Iterator> NewEmptyIterator();
// An iterator over nothing whose status() is `s`.
std::unique_ptr<Iterator> NewErrorIterator(Status s);

}  // namespace tinykv::storage
