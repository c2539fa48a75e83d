// libFuzzer target: the WAL/MANIFEST reader, and the WriteBatch and
// VersionEdit decoders applied to every record it returns. Any input must
// end in records, a clean end, or Corruption -- never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tinykv/common/check.h"
#include "tinykv/storage/write_batch.h"
#include "tinykv/testing/memory_files.h"
#include "version_edit.h"
#include "wal_reader.h"

namespace {
class CountingHandler : public tinykv::storage::WriteBatch::Handler {
 public:
  void Put(tinykv::Slice key, tinykv::Slice value) override { bytes += key.size() + value.size(); }
  void Delete(tinykv::Slice key) override { bytes += key.size(); }
  size_t bytes = 0;
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tinykv::storage;
  tinykv::testing::MemorySequentialFile file(tinykv::Slice(reinterpret_cast<const char*>(data), size));
  wal::Reader reader(&file, "fuzz.log");
  tinykv::Slice record;
  std::string scratch;
  size_t total = 0;
  while (reader.ReadRecord(&record, &scratch)) {
    total += record.size();
    TINYKV_CHECK(total <= size) << "reader returned more bytes than it was given";
    WriteBatch batch;
    if (WriteBatch::FromContents(record, &batch).ok()) {
      CountingHandler h;
      TINYKV_CHECK(batch.Iterate(&h).ok()) << "a validated batch failed to iterate";
    }
    VersionEdit edit;
    if (edit.DecodeFrom(record).ok()) {
      std::string again;
      edit.EncodeTo(&again);
      VersionEdit edit2;
      TINYKV_CHECK(edit2.DecodeFrom(again).ok()) << "re-encoded edit does not decode";
    }
  }
  TINYKV_CHECK(reader.status().ok() || reader.status().IsCorruption())
      << reader.status().ToString();
  return 0;
}
