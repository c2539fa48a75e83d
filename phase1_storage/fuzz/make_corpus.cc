// Writes the seed corpus for the fuzz targets (run once; the output is
// committed under fuzz/corpus/): WALs and SSTables made by the engine's own
// writers, plus truncated and byte-flipped variants; and MANIFEST edit lists
// (manifest_fuzzer.cc's input format) from a real database and by hand.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "filename.h"
#include "table_builder.h"
#include "tinykv/common/coding.h"
#include "tinykv/common/env.h"
#include "tinykv/storage/db.h"
#include "tinykv/storage/write_batch.h"
#include "version_edit.h"
#include "wal_reader.h"
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

// manifest_fuzzer.cc's input: each payload prefixed by its varint32 length.
std::string EditList(const std::vector<std::string>& payloads) {
  std::string out;
  for (const auto& p : payloads) {
    PutVarint32(&out, static_cast<uint32_t>(p.size()));
    out += p;
  }
  return out;
}

std::string Encode(const VersionEdit& e) {
  std::string r;
  e.EncodeTo(&r);
  return r;
}

std::string IKey(const std::string& user_key, uint64_t seq) {
  std::string k;
  AppendInternalKey(&k, user_key, seq, kTypeValue);
  return k;
}

// The records of the live MANIFEST of a database the engine wrote.
std::vector<std::string> ManifestRecords(const std::string& dbdir) {
  std::string current = ReadAll(CurrentFileName(dbdir));
  current.pop_back();
  auto file = Env::Default()->NewSequentialFile(dbdir + "/" + current).value();
  wal::Reader reader(file.get(), current);
  std::vector<std::string> records;
  Slice record;
  std::string scratch;
  while (reader.ReadRecord(&record, &scratch)) records.push_back(record.ToString());
  TINYKV_CHECK(reader.status().ok()) << reader.status().ToString();
  return records;
}

void ManifestSeeds(const std::string& tmp, const std::string& out) {
  // A real one: flushes, compactions (adds, deletes, compaction pointers).
  const std::string dbdir = tmp + "/db";
  {
    Options o;
    o.create_if_missing = true;
    o.write_buffer_size = 8 << 10;
    o.target_file_size = 8 << 10;
    auto db = DB::Open(o, dbdir).value();
    for (int i = 0; i < 3000; ++i) {
      TINYKV_CHECK(db->Put(WriteOptions(), "key" + std::to_string(i % 700),
                           std::string(static_cast<size_t>(20 + i % 13), 'v'))
                       .ok());
    }
    TINYKV_CHECK(db->Flush().ok());
    TINYKV_CHECK(db->CompactRange(std::nullopt, std::nullopt).ok());
  }
  const auto real = ManifestRecords(dbdir);
  std::filesystem::create_directories(out + "/manifest");
  WriteOut(out + "/manifest/db", EditList(real));
  TINYKV_CHECK(DestroyDB(dbdir).ok());

  // By hand: a snapshot, then one edit with every tag, then edits that the
  // replay must reject (overlap in L1, a table in two levels, a number not
  // below next-file, a level beyond num_levels, an unknown tag).
  VersionEdit snap;
  snap.SetComparatorName("tinykv.InternalKeyComparator");
  snap.SetLogNumber(3);
  snap.SetNextFile(20);
  snap.SetLastSequence(100);
  snap.AddFile(1, 5, 1000, IKey("a", 10), IKey("f", 11));
  VersionEdit all;
  all.SetLogNumber(4);
  all.SetNextFile(21);
  all.SetLastSequence(140);
  all.SetCompactPointer(1, IKey("c", 12));
  all.RemoveFile(1, 5);
  all.AddFile(1, 7, 1000, IKey("a", 5), IKey("c", 6));
  all.AddFile(2, 8, 2000, IKey("d", 5), IKey("z", 6));
  all.AddFile(0, 9, 300, IKey("b", 50), IKey("y", 60));
  const std::string good = Encode(snap);
  WriteOut(out + "/manifest/all_tags", EditList({good, Encode(all)}));
  const auto adding = [&](const char* name, int level, uint64_t number, const char* smallest,
                          const char* largest) {
    VersionEdit e;
    e.AddFile(level, number, 10, IKey(smallest, 1), IKey(largest, 1));
    WriteOut(out + "/manifest/" + name, EditList({good, Encode(e)}));
  };
  adding("overlap", 1, 10, "e", "g");
  adding("two_levels", 2, 5, "a", "f");
  adding("next_file", 3, 25, "a", "b");
  adding("deep_level", 9, 11, "a", "b");
  WriteOut(out + "/manifest/unknown_tag", EditList({good, std::string("\x09\x01", 2)}));
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
  ManifestSeeds(tmp, out);
  return 0;
}
