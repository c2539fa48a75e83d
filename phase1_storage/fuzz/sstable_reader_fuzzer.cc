// libFuzzer target: SSTable open (footer, index, metaindex, bloom filter),
// iteration in both directions, seeks and point lookups; and the input as a
// raw data block. Any input must yield data or Corruption -- never a crash.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "block.h"
#include "dbformat.h"
#include "table.h"
#include "tinykv/common/check.h"
#include "tinykv/testing/memory_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tinykv::storage;
  const std::string input(reinterpret_cast<const char*>(data), size);

  // 1. The whole input as an SSTable, read with pread-style copies and as
  // a mapped file (whose blocks are verified on first use only, so every
  // traversal runs twice).
  for (const bool mapped : {false, true}) {
    TableReadOptions topts;
    auto table = Table::Open(topts, std::make_unique<tinykv::testing::MemoryRandomAccessFile>(input, mapped),
                             size, "fuzz.sst", 1);
    if (!table.ok()) {
      TINYKV_CHECK(table.status().IsCorruption()) << table.status().ToString();
      continue;
    }
    for (int pass = 0; pass < (mapped ? 2 : 1); ++pass) {
      ReadOptions ro;
      auto it = (*table)->NewIterator(ro);
      int steps = 0;
      for (it->SeekToFirst(); it->Valid() && steps < 10000; it->Next(), ++steps) {
        (void)it->key();
        (void)it->value();
      }
      steps = 0;
      for (it->SeekToLast(); it->Valid() && steps < 10000; it->Prev(), ++steps) {
      }
      for (const char* target : {"", "a", "m", "\xff\xff"}) {
        std::string ikey;
        AppendInternalKey(&ikey, target, kMaxSequenceNumber, kValueTypeForSeek);
        it->Seek(ikey);
        Table::GetResult r;
        tinykv::Status s = (*table)->Get(ro, ikey, &r);
        TINYKV_CHECK(s.ok() || s.IsCorruption()) << s.ToString();
      }
      (void)it->status();
    }
  }

  // 2. The whole input as one data block.
  BlockContents contents;
  contents.heap.reset(new char[size > 0 ? size : 1]);
  if (size > 0) std::memcpy(contents.heap.get(), data, size);
  contents.data = tinykv::Slice(contents.heap.get(), size);
  Block block(std::move(contents));
  auto bit = block.NewIterator(BytewiseComparator());
  int steps = 0;
  for (bit->SeekToFirst(); bit->Valid() && steps < 10000; bit->Next(), ++steps) {
  }
  steps = 0;
  for (bit->SeekToLast(); bit->Valid() && steps < 10000; bit->Prev(), ++steps) {
  }
  bit->Seek("k");
  return 0;
}
