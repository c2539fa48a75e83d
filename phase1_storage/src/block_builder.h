// BlockBuilder: builds a sorted block with prefix-compressed keys.
//
// Entry:   shared varint32 | non_shared varint32 | value_size varint32 |
//          key_delta[non_shared] | value[value_size]
// Trailer: restarts fixed32[num_restarts] | num_restarts fixed32
// Every block_restart_interval entries a restart point stores the full key
// (shared = 0), so a reader can binary-search the restart array.
// See doc/sstable_format.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tinykv/common/bytes.h"

namespace tinykv::storage {

class BlockBuilder {
 public:
  explicit BlockBuilder(int restart_interval);
  BlockBuilder(const BlockBuilder&) = delete;
  BlockBuilder& operator=(const BlockBuilder&) = delete;

  void Reset();
  // REQUIRES: key is larger than every key added since Reset; !Finish()ed.
  void Add(Slice key, Slice value);
  // Appends the restart array; the slice is valid until Reset.
  Slice Finish();
  size_t CurrentSizeEstimate() const {
    return buffer_.size() + restarts_.size() * 4 + 4;
  }
  bool empty() const { return buffer_.empty(); }

 private:
  const int restart_interval_;
  std::string buffer_;
  std::vector<uint32_t> restarts_;
  int counter_ = 0;
  bool finished_ = false;
  std::string last_key_;
};

}  // namespace tinykv::storage
