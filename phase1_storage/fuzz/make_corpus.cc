// Writes the seed corpus for the fuzz targets (run once; the output is
// committed under fuzz/corpus/): WALs and SSTables made by the engine's own
// writers, plus truncated and byte-flipped variants.
#include <cstdio>
#include <fstream>
#include <string>

#include "table_builder.h"
#include "tinykv/common/env.h"
#include "tinykv/storage/write_batch.h"
#include "version_edit.h"
#include "wal_writer.h"
#include "write_batch_internal.h"

using namespace tinykv;
using namespace tinykv::storage;

namespace {

std::string ReadAll(const std::string& path) {
  std::string s;
  TINYKV_CHECK(ReadFileToString(Env::Default(), path, &s).ok());
  return s;
}
void WriteOut(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}
void Variants(const std::string& dir, const std::string& name, const std::string& data) {
  WriteOut(dir + "/" + name, data);
  if (data.size() > 10) {
    WriteOut(dir + "/" + name + ".trunc", data.substr(0, data.size() - 7));
    std::string flipped = data;
    flipped[data.size() / 2] ^= 0x20;
    WriteOut(dir + "/" + name + ".flip", flipped);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s tmpdir corpusdir\n", argv[0]);
    return 2;
  }
  const std::string tmp = argv[1];
  const std::string out = argv[2];
  Env* env = Env::Default();
  {
    const std::string f = tmp + "/w.log";
    auto file = env->NewWritableFile(f).value();
    wal::Writer w(file.get());
    for (int i = 0; i < 20; ++i) {
      WriteBatch b;
      b.Put("key" + std::to_string(i), std::string(static_cast<size_t>(i * 50), 'v'));
      if (i % 3 == 0) b.Delete("old" + std::to_string(i));
      WriteBatchInternal::SetSequence(&b, 100 + static_cast<uint64_t>(i) * 2);
      TINYKV_CHECK(w.AddRecord(b.Contents()).ok());
    }
    VersionEdit e;
    e.SetComparatorName("tinykv.InternalKeyComparator");
    e.SetLogNumber(3);
    e.SetNextFile(9);
    e.SetLastSequence(140);
    std::string k1, k2;
    AppendInternalKey(&k1, "a", 5, kTypeValue);
    AppendInternalKey(&k2, "z", 6, kTypeDeletion);
    e.AddFile(1, 7, 1000, k1, k2);
    e.RemoveFile(0, 4);
    std::string rec;
    e.EncodeTo(&rec);
    TINYKV_CHECK(w.AddRecord(rec).ok());
    TINYKV_CHECK(w.AddRecord(std::string(40000, 'x')).ok());  // spans blocks
    TINYKV_CHECK(file->Close().ok());
    Variants(out + "/wal", "wal", ReadAll(f));
  }
  for (int bits : {0, 10}) {
    const std::string f = tmp + "/t.sst";
    auto file = env->NewWritableFile(f).value();
    TableBuildOptions o;
    o.block_size = 256;
    o.block_restart_interval = 4;
    o.bloom_bits_per_key = bits;
    TableBuilder b(o, file.get());
    for (int i = 0; i < 60; ++i) {
      std::string k;
      AppendInternalKey(&k, "key" + std::to_string(100 + i), 1000 - static_cast<uint64_t>(i),
                        i % 5 == 0 ? kTypeDeletion : kTypeValue);
      b.Add(k, std::string(static_cast<size_t>(i % 17), 'v'));
    }
    TINYKV_CHECK(b.Finish().ok());
    TINYKV_CHECK(file->Close().ok());
    Variants(out + "/sstable", "table" + std::to_string(bits), ReadAll(f));
  }
  return 0;
}
