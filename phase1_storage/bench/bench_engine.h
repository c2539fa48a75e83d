// BenchEngine: the few operations db_bench needs, implemented once per engine
// (TinyKV, LevelDB, RocksDB) so that every workload runs the same code path.
//
// Settings shared by every engine (BenchSettings): 4 MiB write buffer, 8 MiB
// block cache, 10 bloom bits per key, no compression, WAL on. Everything else
// is each engine's default.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace tinykv::bench {

struct BenchSettings {
  size_t write_buffer_size = 4 << 20;
  size_t block_cache_bytes = 8 << 20;
  int bloom_bits_per_key = 10;
};

class BenchIterator {
 public:
  virtual ~BenchIterator() = default;
  virtual void SeekToFirst() = 0;
  virtual void Seek(std::string_view key) = 0;
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
};

class BenchEngine {
 public:
  virtual ~BenchEngine() = default;
  // Human-readable name: "TinyKV", "LevelDB", "RocksDB".
  virtual std::string name() const = 0;
  // Opens (creating if missing) the database in dir. Returns "" or an error.
  virtual std::string Open(const std::string& dir, const BenchSettings& s) = 0;
  // Closes the database (a clean shutdown).
  virtual void Close() = 0;
  // Aborts on error: a benchmark has no sensible way to continue.
  virtual void Put(std::string_view key, std::string_view value, bool sync) = 0;
  // True if found (value stored in *value).
  virtual bool Get(std::string_view key, std::string* value) = 0;
  virtual std::unique_ptr<BenchIterator> NewIterator() = 0;
  // Removes the database directory.
  virtual void Destroy(const std::string& dir) = 0;
  // Files per level as "L0=3 L1=5 L2=40" (levels with files only), so that a
  // read result can be judged against the LSM shape the fill left behind.
  virtual std::string Shape() = 0;
};

// Formats per-level file counts, skipping empty levels; `files(level)`
// returns the count for that level.
template <typename F>
std::string FormatShape(int num_levels, F files) {
  std::string out;
  for (int level = 0; level < num_levels; ++level) {
    const uint64_t n = files(level);
    if (n == 0) continue;
    if (!out.empty()) out += ' ';
    out += "L" + std::to_string(level) + "=" + std::to_string(n);
  }
  return out.empty() ? "empty" : out;
}

std::unique_ptr<BenchEngine> NewTinyKVEngine();
std::unique_ptr<BenchEngine> NewLevelDBEngine();  // nullptr when not built with LevelDB
std::unique_ptr<BenchEngine> NewRocksDBEngine();  // nullptr when not built with RocksDB

// Prints "engine: what: detail" to stderr and exits(2).
[[noreturn]] void Die(const std::string& engine, const std::string& what,
                      const std::string& detail);

}  // namespace tinykv::bench
