// libFuzzer target: MANIFEST replay -- the VersionEdit decoder and the
// checks VersionSet::RecoverFrom applies to the state the edits build.
//
// The input is a list of edit payloads, each prefixed by its length as a
// varint32 (a bad or too long length makes the rest of the input the last
// payload). They are framed as a MANIFEST with valid checksums, so inputs
// reach the decoder and the version checks rather than stopping at a
// checksum; the WAL target covers the framing itself. Any input must end
// in a version or in Corruption / InvalidArgument -- never a crash or a
// hang -- and a version that is accepted must satisfy the level invariants,
// checked here independently of version_set.cc.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "dbformat.h"
#include "tinykv/common/check.h"
#include "tinykv/common/coding.h"
#include "tinykv/storage/options.h"
#include "tinykv/testing/memory_files.h"
#include "version_edit.h"
#include "version_set.h"
#include "wal_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tinykv;
  using namespace tinykv::storage;
  std::vector<Slice> payloads;
  Slice input(reinterpret_cast<const char*>(data), size);
  while (!input.empty() && payloads.size() < 64) {
    uint32_t length = 0;
    Slice rest = input;
    if (!GetVarint32(&rest, &length) || length > rest.size()) {
      payloads.push_back(input);
      break;
    }
    payloads.emplace_back(rest.data(), length);
    rest.remove_prefix(length);
    input = rest;
  }

  // Each payload alone: a decoded edit re-encodes to bytes that decode to
  // the same encoding again.
  for (const Slice& p : payloads) {
    VersionEdit edit;
    if (!edit.DecodeFrom(p).ok()) continue;
    std::string once;
    edit.EncodeTo(&once);
    VersionEdit again;
    TINYKV_CHECK(again.DecodeFrom(once).ok()) << "a re-encoded edit does not decode";
    std::string twice;
    again.EncodeTo(&twice);
    TINYKV_CHECK(once == twice) << "re-encoding an edit is not stable";
  }

  // All of them as a MANIFEST.
  testing::StringWritableFile out;
  {
    wal::Writer writer(&out);
    for (const Slice& p : payloads) TINYKV_CHECK(writer.AddRecord(p).ok());
  }
  testing::MemorySequentialFile file(out.contents());
  Options options;
  VersionSet vset("fuzzdb", &options, /*table_cache=*/nullptr, Env::Default());
  const Status s = vset.RecoverFrom(&file, "fuzzdb/MANIFEST-000001", 1);
  if (!s.ok()) {
    TINYKV_CHECK(s.IsCorruption() || s.IsInvalidArgument()) << s.ToString();
    return 0;
  }

  const uint64_t next_file = vset.NewFileNumber();
  TINYKV_CHECK(vset.LogNumber() < next_file);
  const auto version = vset.current();
  std::set<uint64_t> numbers;
  for (int level = 0; level < kMaxNumLevels; ++level) {
    const FileList& files = version->files(level);
    TINYKV_CHECK(level < options.num_levels || files.empty()) << "a file beyond num_levels";
    for (size_t i = 0; i < files.size(); ++i) {
      const auto& f = files[i];
      TINYKV_CHECK(f->number < next_file) << "table " << f->number << " not below next-file";
      TINYKV_CHECK(numbers.insert(f->number).second) << "table " << f->number << " twice";
      TINYKV_CHECK(DefaultInternalComparator()->Compare(f->smallest, f->largest) <= 0);
      if (level > 0 && i > 0) {
        TINYKV_CHECK(ExtractUserKey(files[i - 1]->largest).compare(ExtractUserKey(f->smallest)) < 0)
            << "overlapping files in level " << level;
      }
    }
  }
  return 0;
}
