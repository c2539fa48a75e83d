// Randomized model test: thousands of random operations against the DB and
// a std::map model, with small buffers so flushes and compactions happen.
// Prints its seed; replay with TINYKV_SEED=<seed>.
#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "tinykv/storage/db.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::storage {
namespace {

using Model = std::map<std::string, std::string>;

struct HeldSnapshot {
  const Snapshot* snapshot;
  Model model;
};

class ModelTest : public ::testing::TestWithParam<int> {
 protected:
  void Open() {
    if (db_ != nullptr) {
      // Statistics are per open: accumulate them across reopens.
      auto stats = db_->Stats();
      flushes_ += stats["flushes"];
      compactions_ += stats["compactions"] + stats["trivial-moves"];
    }
    db_.reset();
    auto r = DB::Open(options_, dir_.path() / "db");
    ASSERT_OK(r);
    db_ = std::move(r).value();
  }
  std::string RandomKey() {
    // A small key space so that overwrites and deletes hit existing keys,
    // with binary bytes and shared prefixes.
    const uint64_t n = rnd_->Uniform(400);
    std::string k = "k" + std::to_string(n);
    if (n % 7 == 0) k.push_back('\0');
    if (n % 11 == 0) k += "\xff\xfe";
    return k;
  }
  void CheckScan(const Model& model, const Snapshot* snap, const std::string& start,
                 const std::optional<std::string>& end, bool reverse) {
    ReadOptions ro;
    ro.snapshot = snap;
    auto it = db_->NewIterator(ro);
    std::vector<std::pair<std::string, std::string>> got;
    std::vector<std::pair<std::string, std::string>> want;
    for (auto m = model.lower_bound(start); m != model.end() && (!end || m->first < *end); ++m) {
      want.emplace_back(m->first, m->second);
    }
    if (!reverse) {
      for (it->Seek(start); it->Valid() && (!end || it->key().ToString() < *end); it->Next()) {
        got.emplace_back(it->key().ToString(), it->value().ToString());
      }
    } else {
      if (end) {
        it->Seek(*end);
        if (it->Valid()) {
          it->Prev();
        } else {
          it->SeekToLast();
        }
      } else {
        it->SeekToLast();
      }
      for (; it->Valid() && it->key().ToString() >= start; it->Prev()) {
        got.emplace_back(it->key().ToString(), it->value().ToString());
      }
      std::reverse(got.begin(), got.end());
    }
    ASSERT_OK(it->status());
    ASSERT_EQ(want.size(), got.size()) << "scan from " << Slice(start).ToEscaped()
                                       << (reverse ? " reverse" : "");
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(want[i].first, got[i].first);
      ASSERT_EQ(want[i].second, got[i].second);
    }
  }
  void CheckGet(const Model& model, const Snapshot* snap, const std::string& k) {
    ReadOptions ro;
    ro.snapshot = snap;
    auto r = db_->Get(ro, k);
    auto m = model.find(k);
    if (m == model.end()) {
      ASSERT_TRUE(r.status().IsNotFound()) << Slice(k).ToEscaped() << " " << r.status().ToString();
    } else {
      ASSERT_OK(r);
      ASSERT_EQ(m->second, *r) << Slice(k).ToEscaped();
    }
  }

  testing::TempDir dir_;
  Options options_;
  std::unique_ptr<DB> db_;
  std::optional<Random> rnd_;
  uint64_t flushes_ = 0;
  uint64_t compactions_ = 0;
};

TEST_P(ModelTest, RandomOperationsMatchAStdMap) {
  rnd_.emplace(testing::SeedForTest() + static_cast<uint64_t>(GetParam()));
  options_.create_if_missing = true;
  options_.write_buffer_size = 8 << 10;
  options_.target_file_size = 8 << 10;
  options_.max_bytes_for_level_base = 64 << 10;
  options_.block_size = GetParam() == 0 ? 256 : 4096;
  options_.block_restart_interval = GetParam() == 0 ? 2 : 16;
  options_.level0_compaction_trigger = 2;
  options_.bloom_bits_per_key = GetParam() == 0 ? 0 : 10;
  options_.block_cache_bytes = GetParam() == 0 ? 0 : (1 << 20);
  // Option set 0 also keeps very few tables open, so table-cache eviction
  // (and reopening evicted tables) happens constantly.
  options_.max_open_files = GetParam() == 0 ? 16 : 1000;
  Open();
  Model model;
  std::vector<HeldSnapshot> snapshots;
  constexpr int kSteps = 6000;
  for (int step = 0; step < kSteps; ++step) {
    const uint64_t op = rnd_->Uniform(1000);
    SCOPED_TRACE("step " + std::to_string(step) + " op " + std::to_string(op));
    if (op < 400) {
      const std::string k = RandomKey();
      const std::string v = rnd_->Bytes(rnd_->Uniform(200));
      ASSERT_OK(db_->Put(WriteOptions(), k, v));
      model[k] = v;
    } else if (op < 550) {
      const std::string k = RandomKey();
      ASSERT_OK(db_->Delete(WriteOptions(), k));
      model.erase(k);
    } else if (op < 600) {
      WriteBatch b;
      for (int i = 0, n = static_cast<int>(rnd_->Uniform(10)); i < n; ++i) {
        const std::string k = RandomKey();
        if (rnd_->OneIn(3)) {
          b.Delete(k);
          model.erase(k);
        } else {
          const std::string v = rnd_->Bytes(rnd_->Uniform(50));
          b.Put(k, v);
          model[k] = v;
        }
      }
      WriteOptions wo;
      wo.sync = rnd_->OneIn(20);
      ASSERT_OK(db_->Write(wo, b));
    } else if (op < 800) {
      CheckGet(model, nullptr, RandomKey());
    } else if (op < 850) {
      std::optional<std::string> end;
      if (rnd_->OneIn(2)) end = RandomKey();
      CheckScan(model, nullptr, rnd_->OneIn(4) ? std::string() : RandomKey(), end,
                rnd_->OneIn(2));
    } else if (op < 880) {
      if (snapshots.size() < 4) {
        snapshots.push_back({db_->GetSnapshot(), model});
      } else {
        const size_t i = rnd_->Uniform(snapshots.size());
        db_->ReleaseSnapshot(snapshots[i].snapshot);
        snapshots.erase(snapshots.begin() + static_cast<long>(i));
      }
    } else if (op < 930) {
      if (!snapshots.empty()) {
        const auto& s = snapshots[rnd_->Uniform(snapshots.size())];
        CheckGet(s.model, s.snapshot, RandomKey());
        if (rnd_->OneIn(4)) CheckScan(s.model, s.snapshot, "", std::nullopt, rnd_->OneIn(2));
      }
    } else if (op < 950) {
      ASSERT_OK(db_->Flush());
    } else if (op < 965) {
      std::string a = RandomKey();
      std::string b = RandomKey();
      if (b < a) std::swap(a, b);
      if (rnd_->OneIn(3)) {
        ASSERT_OK(db_->CompactRange(std::nullopt, std::nullopt));
      } else {
        ASSERT_OK(db_->CompactRange(Slice(a), Slice(b)));
      }
    } else if (op < 975) {
      // Reopen: snapshots do not survive it.
      for (auto& s : snapshots) db_->ReleaseSnapshot(s.snapshot);
      snapshots.clear();
      Open();
    } else {
      ASSERT_OK(db_->WaitForBackgroundWork());
    }
  }
  CheckScan(model, nullptr, "", std::nullopt, false);
  for (auto& s : snapshots) {
    CheckScan(s.model, s.snapshot, "", std::nullopt, true);
    db_->ReleaseSnapshot(s.snapshot);
  }
  Open();
  std::printf("flushes=%llu compactions+moves=%llu\n", static_cast<unsigned long long>(flushes_),
              static_cast<unsigned long long>(compactions_));
  EXPECT_GT(flushes_, 10u);
  EXPECT_GT(compactions_, 0u);
  CheckScan(model, nullptr, "", std::nullopt, false);
}

// Parameter 0: tiny blocks, restart interval 2, no bloom filter, no block
// cache, a tiny table cache.
// Parameter 1: default block layout with bloom filter and cache.
INSTANTIATE_TEST_SUITE_P(OptionSets, ModelTest, ::testing::Values(0, 1));

}  // namespace
}  // namespace tinykv::storage
