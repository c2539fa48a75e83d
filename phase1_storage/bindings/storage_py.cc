// tinykv._core.storage: DB, WriteBatch, Snapshot and the scan iterator.
//
// The Python contract (tests/phase1/test_storage_api.py pins it):
//   DB.open(path, create_if_missing=True, **options) · put/get/delete ·
//   WriteBatch + write · scan(start, end, snapshot) · snapshot() · flush ·
//   compact_range · stats · close; use after close raises tinykv.Error.
//
// Lifetimes. Python objects (snapshots, scan iterators) may outlive the DB's
// close() or be collected in any order, but the C++ API requires every
// iterator to be deleted and every snapshot released before the DB. So all of
// them share one DbHandle; close() takes the handle's lock exclusively, drops
// every live iterator and snapshot, then deletes the DB. Every call holds the
// lock shared for its duration, with the GIL released (the engine is
// thread-safe, so Python threads do I/O in parallel).
//
// Lock order: GIL is never held while waiting for the handle lock (waiting
// with the GIL held could deadlock against a thread in close()).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <filesystem>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "bytes_py.h"
#include "status_py.h"
#include "tinykv/storage/db.h"
#include "tinykv/storage/iterator.h"
#include "tinykv/storage/options.h"
#include "tinykv/storage/write_batch.h"

namespace py = pybind11;

namespace tinykv::python {
namespace {

using storage::DB;

Status ClosedError() { return Status::InvalidArgument("DB is closed"); }

class ScanIterator;

// Shared state of one open DB and everything that borrows from it.
struct DbHandle {
  std::shared_mutex mu;  // shared: any call; exclusive: close()
  std::unique_ptr<DB> db;
  std::atomic<bool> closed{false};  // set by close(), readable without mu
  std::string path;
  // Live snapshots and iterators; close() frees them before the DB.
  std::set<const storage::Snapshot*> snapshots;
  std::set<ScanIterator*> iterators;
  std::mutex registry_mu;  // guards the two sets
};

// Runs fn(db) with the GIL released and the handle locked shared.
template <typename Fn>
auto WithDb(DbHandle& h, Fn&& fn) {
  py::gil_scoped_release release;
  std::shared_lock lock(h.mu);
  if (!h.db) ThrowStatus(ClosedError());
  return fn(*h.db);
}

// A Python snapshot: a read point that pins versions until released.
class PySnapshot {
 public:
  PySnapshot(std::shared_ptr<DbHandle> h, const storage::Snapshot* s)
      : handle_(std::move(h)), snap_(s), sequence_(s->sequence()) {}
  ~PySnapshot() {
    try {
      Release();
    } catch (...) {  // never throw from a destructor
    }
  }
  PySnapshot(const PySnapshot&) = delete;
  PySnapshot& operator=(const PySnapshot&) = delete;

  // Idempotent; a no-op after the DB is closed (close released it).
  void Release() {
    if (snap_ == nullptr) return;
    const storage::Snapshot* s = snap_;
    snap_ = nullptr;
    py::gil_scoped_release release;
    std::shared_lock lock(handle_->mu);
    std::lock_guard g(handle_->registry_mu);
    if (handle_->db && handle_->snapshots.erase(s) == 1) handle_->db->ReleaseSnapshot(s);
  }

  // The engine snapshot to read at. REQUIRES: handle_->mu held (shared).
  const storage::Snapshot* Get(const DbHandle* h) const {
    if (h != handle_.get()) ThrowStatus(Status::InvalidArgument("snapshot belongs to another DB"));
    std::lock_guard g(handle_->registry_mu);
    if (snap_ == nullptr || handle_->snapshots.count(snap_) == 0) {
      ThrowStatus(Status::InvalidArgument("snapshot was released"));
    }
    return snap_;
  }
  uint64_t sequence() const { return sequence_; }
  bool released() const { return snap_ == nullptr || !handle_->db; }

 private:
  std::shared_ptr<DbHandle> handle_;
  const storage::Snapshot* snap_;
  uint64_t sequence_;
};

// db.scan(...): a Python iterator of (key, value) over [start, end). Entries
// are fetched from the engine in small batches with the GIL released.
class ScanIterator {
 public:
  static constexpr size_t kBatch = 256;

  ScanIterator(std::shared_ptr<DbHandle> h, std::string start, std::optional<std::string> end)
      : handle_(std::move(h)), start_(std::move(start)), end_(std::move(end)) {}
  ~ScanIterator() { Close(); }
  ScanIterator(const ScanIterator&) = delete;
  ScanIterator& operator=(const ScanIterator&) = delete;

  // REQUIRES: handle mu held exclusively or shared with registry access.
  void Open(std::unique_ptr<storage::Iterator> it) {
    it_ = std::move(it);
    it_->Seek(start_);
  }

  py::tuple Next() {
    // Entries already fetched are not handed out after close() either.
    if (handle_->closed.load()) ThrowStatus(ClosedError());
    if (pos_ == buffer_.size()) {
      Fill();
      if (buffer_.empty()) throw py::stop_iteration();
    }
    auto& [k, v] = buffer_[pos_++];
    return py::make_tuple(py::bytes(k), py::bytes(v));
  }

  // Frees the engine iterator (idempotent). Entries already buffered are lost.
  void Close() {
    done_ = true;
    buffer_.clear();
    pos_ = 0;
    if (!it_) return;
    py::gil_scoped_release release;
    std::shared_lock lock(handle_->mu);
    std::lock_guard it_lock(it_mu_);
    std::lock_guard g(handle_->registry_mu);
    handle_->iterators.erase(this);
    it_.reset();
  }
  // Called by close() of the DB with the handle held exclusively.
  void Detach() {
    it_.reset();
    closed_by_db_ = true;
  }

 private:
  void Fill() {
    buffer_.clear();
    pos_ = 0;
    if (done_ && !closed_by_db_) return;
    Status error;
    {
      py::gil_scoped_release release;
      std::shared_lock lock(handle_->mu);
      std::lock_guard it_lock(it_mu_);
      if (closed_by_db_ || !it_) {
        error = ClosedError();
      } else {
        while (buffer_.size() < kBatch && it_->Valid()) {
          Slice k = it_->key();
          if (end_ && k.compare(Slice(*end_)) >= 0) break;
          buffer_.emplace_back(k.ToString(), it_->value().ToString());
          it_->Next();
        }
        const bool exhausted = buffer_.size() < kBatch;
        if (exhausted) {
          error = it_->status();
          done_ = true;
        }
      }
    }
    if (!error.ok()) {
      buffer_.clear();
      done_ = true;
      ThrowStatus(error);
    }
    if (done_) {
      // Keep what was buffered, free the engine iterator now.
      auto keep = std::move(buffer_);
      Close();
      buffer_ = std::move(keep);
    }
  }

  std::shared_ptr<DbHandle> handle_;
  std::string start_;
  std::optional<std::string> end_;
  std::unique_ptr<storage::Iterator> it_;
  std::mutex it_mu_;  // one Fill at a time
  std::vector<std::pair<std::string, std::string>> buffer_;
  size_t pos_ = 0;
  bool done_ = false;
  bool closed_by_db_ = false;
};

// Maps DB.open(**options) keywords onto storage::Options fields.
storage::Options OptionsFromKwargs(bool create_if_missing, const py::kwargs& kw) {
  storage::Options o;
  o.create_if_missing = create_if_missing;
  for (auto item : kw) {
    const std::string name = py::str(item.first);
    py::handle v = item.second;
    auto as_size = [&]() {
      const long long x = v.cast<long long>();
      if (x < 0) ThrowStatus(Status::InvalidArgument("option " + name + " must be >= 0"));
      return static_cast<uint64_t>(x);
    };
    if (name == "error_if_exists") {
      o.error_if_exists = v.cast<bool>();
    } else if (name == "paranoid_checks") {
      o.paranoid_checks = v.cast<bool>();
    } else if (name == "wal_recovery_mode") {
      const std::string m = v.cast<std::string>();
      if (m == "absolute_consistency") {
        o.wal_recovery_mode = storage::WalRecoveryMode::kAbsoluteConsistency;
      } else if (m == "point_in_time") {
        o.wal_recovery_mode = storage::WalRecoveryMode::kPointInTime;
      } else {
        ThrowStatus(Status::InvalidArgument(
            "wal_recovery_mode must be 'absolute_consistency' or 'point_in_time', not '" + m +
            "'"));
      }
    } else if (name == "write_buffer_size") {
      o.write_buffer_size = as_size();
    } else if (name == "target_file_size") {
      o.target_file_size = as_size();
    } else if (name == "block_size") {
      o.block_size = as_size();
    } else if (name == "block_restart_interval") {
      o.block_restart_interval = static_cast<int>(as_size());
    } else if (name == "bloom_bits_per_key") {
      o.bloom_bits_per_key = static_cast<int>(as_size());
    } else if (name == "block_cache_bytes") {
      o.block_cache_bytes = as_size();
    } else if (name == "max_open_files") {
      o.max_open_files = static_cast<int>(as_size());
    } else if (name == "level0_compaction_trigger") {
      o.level0_compaction_trigger = static_cast<int>(as_size());
    } else if (name == "level0_slowdown_writes_trigger") {
      o.level0_slowdown_writes_trigger = static_cast<int>(as_size());
    } else if (name == "level0_stop_writes_trigger") {
      o.level0_stop_writes_trigger = static_cast<int>(as_size());
    } else if (name == "max_bytes_for_level_base") {
      o.max_bytes_for_level_base = as_size();
    } else if (name == "max_bytes_multiplier") {
      o.max_bytes_multiplier = static_cast<int>(as_size());
    } else if (name == "num_levels") {
      o.num_levels = static_cast<int>(as_size());
    } else {
      ThrowStatus(Status::InvalidArgument("unknown storage option '" + name + "'"));
    }
  }
  return o;
}

// The Python DB object.
class PyDB {
 public:
  explicit PyDB(std::shared_ptr<DbHandle> h) : h_(std::move(h)) {}
  ~PyDB() {
    try {
      Close();
    } catch (...) {
    }
  }
  PyDB(const PyDB&) = delete;
  PyDB& operator=(const PyDB&) = delete;

  static std::unique_ptr<PyDB> Open(const std::filesystem::path& path, bool create_if_missing,
                                    const py::kwargs& kw) {
    storage::Options options = OptionsFromKwargs(create_if_missing, kw);
    auto h = std::make_shared<DbHandle>();
    h->path = path.string();
    {
      py::gil_scoped_release release;
      h->db = ValueOrThrow(DB::Open(options, path));
    }
    return std::make_unique<PyDB>(std::move(h));
  }

  // Keys and values arrive as BytesArg (bytes_py.h): their views stay valid
  // with the GIL released for the duration of the call.
  void Put(const BytesArg& k, const BytesArg& v, bool sync) {
    storage::WriteOptions wo;
    wo.sync = sync;
    const std::string_view key = k, value = v;
    WithDb(*h_, [&](DB& db) { ThrowIfError(db.Put(wo, key, value)); });
  }
  void Delete(const BytesArg& k, bool sync) {
    storage::WriteOptions wo;
    wo.sync = sync;
    const std::string_view key = k;
    WithDb(*h_, [&](DB& db) { ThrowIfError(db.Delete(wo, key)); });
  }
  void Write(const storage::WriteBatch& b, bool sync) {
    storage::WriteOptions wo;
    wo.sync = sync;
    WithDb(*h_, [&](DB& db) { ThrowIfError(db.Write(wo, b)); });
  }
  py::object Get(const BytesArg& k, const PySnapshot* snap) {
    const std::string_view key = k;
    std::optional<std::string> value = WithDb(*h_, [&](DB& db) -> std::optional<std::string> {
      storage::ReadOptions ro;
      if (snap != nullptr) ro.snapshot = snap->Get(h_.get());
      Result<std::string> r = db.Get(ro, key);
      if (r.status().IsNotFound()) return std::nullopt;
      return ValueOrThrow(std::move(r));
    });
    if (!value) return py::none();
    return py::bytes(*value);
  }

  // end None or b"": no upper bound (no key sorts below b"", so an empty
  // bound would make every scan empty; the client protocol reads it the same).
  std::unique_ptr<ScanIterator> Scan(const BytesArg& start, const std::optional<BytesArg>& end,
                                     const PySnapshot* snap) {
    std::optional<std::string> end_s;
    if (end && !end->empty()) end_s = end->str();
    auto it = std::make_unique<ScanIterator>(h_, start.str(), std::move(end_s));
    WithDb(*h_, [&](DB& db) {
      storage::ReadOptions ro;
      if (snap != nullptr) ro.snapshot = snap->Get(h_.get());
      it->Open(db.NewIterator(ro));
      std::lock_guard g(h_->registry_mu);
      h_->iterators.insert(it.get());
    });
    return it;
  }

  std::unique_ptr<PySnapshot> Snapshot() {
    const storage::Snapshot* s = WithDb(*h_, [&](DB& db) {
      const storage::Snapshot* snap = db.GetSnapshot();
      std::lock_guard g(h_->registry_mu);
      h_->snapshots.insert(snap);
      return snap;
    });
    return std::make_unique<PySnapshot>(h_, s);
  }

  void Flush() {
    WithDb(*h_, [&](DB& db) { ThrowIfError(db.Flush()); });
  }
  void CompactRange(const std::optional<BytesArg>& begin, const std::optional<BytesArg>& end) {
    std::optional<std::string> b, e;
    if (begin) b = begin->str();
    if (end && !end->empty()) e = end->str();  // as in Scan: b"" is no bound
    WithDb(*h_, [&](DB& db) {
      std::optional<Slice> bs, es;
      if (b) bs = Slice(*b);
      if (e) es = Slice(*e);
      ThrowIfError(db.CompactRange(bs, es));
    });
  }
  void WaitForBackgroundWork() {
    WithDb(*h_, [&](DB& db) { ThrowIfError(db.WaitForBackgroundWork()); });
  }
  py::dict Stats() {
    std::map<std::string, uint64_t> m = WithDb(*h_, [&](DB& db) { return db.Stats(); });
    py::dict d;
    for (const auto& [k, v] : m) d[py::str(k)] = v;
    return d;
  }
  std::string StatsString() {
    return WithDb(*h_, [&](DB& db) { return db.StatsString(); });
  }
  void Checkpoint(const std::filesystem::path& dir) {
    WithDb(*h_, [&](DB& db) { ThrowIfError(db.Checkpoint(dir)); });
  }

  // Idempotent. Frees live iterators and snapshots, then the DB (which waits
  // for background work).
  void Close() {
    py::gil_scoped_release release;
    std::unique_lock lock(h_->mu);
    if (!h_->db) return;
    h_->closed.store(true);
    {
      std::lock_guard g(h_->registry_mu);
      for (ScanIterator* it : h_->iterators) it->Detach();
      h_->iterators.clear();
      for (const storage::Snapshot* s : h_->snapshots) h_->db->ReleaseSnapshot(s);
      h_->snapshots.clear();
    }
    h_->db.reset();
  }
  bool closed() const { return !h_->db; }
  const std::string& path() const { return h_->path; }

 private:
  std::shared_ptr<DbHandle> h_;
};

}  // namespace

void BindStorage(py::module_& m) {
  m.doc() =
      "TinyKV's LSM-tree storage engine (phase 1): a persistent ordered map of bytes to "
      "bytes. Import it as tinykv.storage.";

  py::class_<storage::WriteBatch>(m, "WriteBatch",
                                  "A group of puts and deletes applied atomically by "
                                  "DB.write: readers see all of them or none.")
      .def(py::init<>())
      .def(
          "put",
          [](storage::WriteBatch& b, const BytesArg& k, const BytesArg& v) {
            b.Put(k.view(), v.view());
          },
          py::arg("key"), py::arg("value"))
      .def(
          "delete", [](storage::WriteBatch& b, const BytesArg& k) { b.Delete(k.view()); },
          py::arg("key"))
      .def("clear", &storage::WriteBatch::Clear)
      .def("__len__", &storage::WriteBatch::Count, "Number of operations.")
      .def_property_readonly("approximate_size", &storage::WriteBatch::ApproximateSize,
                             "Encoded size in bytes (what the WAL will write).");

  py::class_<PySnapshot>(m, "Snapshot",
                         "A consistent read point. While held, compaction keeps every version "
                         "it can see; release() it (or use it as a context manager).")
      .def("release", &PySnapshot::Release, "Releases the read point; idempotent.")
      .def_property_readonly("sequence", &PySnapshot::sequence)
      .def_property_readonly("released", &PySnapshot::released)
      .def("__enter__", [](PySnapshot& s) -> PySnapshot& { return s; },
           py::return_value_policy::reference_internal)
      .def("__exit__", [](PySnapshot& s, const py::args&) { s.Release(); });

  py::class_<ScanIterator>(m, "ScanIterator",
                           "Iterator of (key, value) tuples in key order, as of one consistent "
                           "read point. Raises CorruptionError if a block fails its checksum.")
      .def("__iter__", [](ScanIterator& it) -> ScanIterator& { return it; },
           py::return_value_policy::reference_internal)
      .def("__next__", &ScanIterator::Next)
      .def("close", &ScanIterator::Close, "Frees the engine iterator early.");

  py::class_<PyDB>(m, "DB",
                   "An open database directory. All methods are thread-safe and release the "
                   "GIL during I/O. Use after close() raises tinykv.InvalidArgumentError "
                   "(a tinykv.Error).")
      .def_static("open", &PyDB::Open, py::arg("path"), py::arg("create_if_missing") = true,
                  "Opens (or creates) the database in path. Keyword options map onto the C++ "
                  "Options fields: write_buffer_size, target_file_size, block_size, "
                  "block_restart_interval, bloom_bits_per_key, block_cache_bytes, "
                  "max_open_files, level0_compaction_trigger, level0_slowdown_writes_trigger, "
                  "level0_stop_writes_trigger, max_bytes_for_level_base, max_bytes_multiplier, "
                  "num_levels, error_if_exists, paranoid_checks, wal_recovery_mode "
                  "('absolute_consistency' or 'point_in_time').")
      .def("put", &PyDB::Put, py::arg("key"), py::arg("value"), py::arg("sync") = false,
           "sync=False survives a process crash; sync=True survives power loss.")
      .def("get", &PyDB::Get, py::arg("key"), py::arg("snapshot") = nullptr,
           "The value of key as bytes, or None.")
      .def("delete", &PyDB::Delete, py::arg("key"), py::arg("sync") = false)
      .def("write", &PyDB::Write, py::arg("batch"), py::arg("sync") = false,
           "Applies a WriteBatch atomically.")
      .def("scan", &PyDB::Scan, py::arg("start") = py::bytes(""), py::arg("end") = py::none(),
           py::arg("snapshot") = nullptr,
           "Iterator of (key, value) over [start, end); end None (or b\"\"): to the last key.")
      .def("snapshot", &PyDB::Snapshot)
      .def("flush", &PyDB::Flush, "Writes the memtable to a level-0 SSTable and waits.")
      .def("compact_range", &PyDB::CompactRange, py::arg("start") = py::none(),
           py::arg("end") = py::none(),
           "Compacts [start, end) down the levels and waits (None: unbounded; end b\"\" too).")
      .def("wait_for_background_work", &PyDB::WaitForBackgroundWork,
           "Waits for pending flushes and compactions.")
      .def("stats", &PyDB::Stats, "Engine statistics as {name: int}.")
      .def("stats_string", &PyDB::StatsString, "A human-readable summary of levels and files.")
      .def("checkpoint", &PyDB::Checkpoint, py::arg("dir"),
           "Writes an openable copy of the database into dir (which must not exist).")
      .def("close", &PyDB::Close, "Closes the database; idempotent.")
      .def_property_readonly("closed", &PyDB::closed)
      .def_property_readonly("path", &PyDB::path)
      .def(
          "__enter__", [](PyDB& d) -> PyDB& { return d; },
          py::return_value_policy::reference_internal)
      .def("__exit__", [](PyDB& d, const py::args&) { d.Close(); });

  m.def(
      "destroy",
      [](const std::filesystem::path& path) {
        py::gil_scoped_release release;
        ThrowIfError(storage::DestroyDB(path));
      },
      py::arg("path"), "Deletes the database in path and everything in it.");
}

}  // namespace tinykv::python
