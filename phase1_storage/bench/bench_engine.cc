#include "bench_engine.h"

#include <cstdio>
#include <cstdlib>

namespace tinykv::bench {

void Die(const std::string& engine, const std::string& what, const std::string& detail) {
  std::fprintf(stderr, "tinykv_db_bench: %s: %s: %s\n", engine.c_str(), what.c_str(),
               detail.c_str());
  std::exit(2);
}

#ifndef TINYKV_BENCH_HAVE_LEVELDB
std::unique_ptr<BenchEngine> NewLevelDBEngine() { return nullptr; }
#endif
#ifndef TINYKV_BENCH_HAVE_ROCKSDB
std::unique_ptr<BenchEngine> NewRocksDBEngine() { return nullptr; }
#endif

}  // namespace tinykv::bench
