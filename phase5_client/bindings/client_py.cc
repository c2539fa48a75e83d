// tinykv._core.client: the C++ Client (client.h), its transactions (txn.h)
// and the in-process cluster of local_cluster.h, named EmbeddedCluster in
// Python (so that it is not mistaken for tinykv.raft.LocalCluster, which has
// no client endpoints). python/tinykv/client.py wraps them. Keys and values are BytesArg
// (bytes_py.h). Every call that waits on the network releases the GIL.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bytes_py.h"
#include "replica_status_py.h"
#include "status_py.h"
#include "tinykv/client/client.h"
#include "tinykv/client/concurrency.h"
#include "tinykv/client/lease_keep_alive.h"
#include "tinykv/client/local_cluster.h"
#include "tinykv/client/txn.h"
#include "tinykv/client/watch.h"
#include "tinykv/txn/watch_error.h"

namespace py = pybind11;

namespace tinykv::python {
namespace {

using client::CallOptions;
using client::Client;
using client::LocalCluster;

std::chrono::milliseconds Ms(double seconds) {
  if (!(seconds > 0)) throw py::value_error("timeouts must be positive seconds");
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0 + 0.5));
}

// A pause of the test hooks: zero or more seconds.
std::chrono::milliseconds PauseMs(double seconds) {
  if (!(seconds >= 0)) throw py::value_error("pauses must be zero or more seconds");
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0 + 0.5));
}

CallOptions Opts(std::optional<double> timeout, bool serializable = false,
                 uint64_t revision = 0) {
  CallOptions o;
  if (timeout) o.timeout = Ms(*timeout);
  o.serializable = serializable;
  o.revision = revision;
  return o;
}

py::object OptionalBytes(const std::optional<std::string>& v) {
  if (!v) return py::none();
  return py::bytes(*v);
}

py::list PairList(const std::vector<client::KeyValue>& kvs) {
  py::list out;
  for (const auto& kv : kvs) out.append(py::make_tuple(py::bytes(kv.key), py::bytes(kv.value)));
  return out;
}

// A pair with its metadata, as tinykv.client.KeyValue takes it: (key, value,
// create_revision, mod_revision, version, lease).
py::tuple KvTuple(const client::KeyValue& kv) {
  return py::make_tuple(py::bytes(kv.key), py::bytes(kv.value), kv.meta.create_revision,
                        kv.meta.mod_revision, kv.meta.version, kv.meta.lease);
}
py::list KvTupleList(const std::vector<client::KeyValue>& kvs) {
  py::list out;
  for (const auto& kv : kvs) out.append(KvTuple(kv));
  return out;
}
// A write's prev_kv: the one pair, or None.
py::object OptionalKvTuple(const std::vector<client::KeyValue>& kvs) {
  if (kvs.empty()) return py::none();
  return KvTuple(kvs.front());
}

// A transaction as Python holds it. txn.h allows one thread at a time, and
// its calls run with the GIL released, so every call holds `mu` (taken
// after the GIL is released: a thread waiting for it never blocks others).
struct PyTxn {
  std::unique_ptr<client::Txn> txn;
  std::mutex mu;

  // Runs f(txn) with the GIL released and `mu` held.
  template <typename F>
  auto Locked(F&& f) {
    py::gil_scoped_release nogil;
    std::lock_guard<std::mutex> l(mu);
    return f(*txn);
  }
  ~PyTxn() {
    // ~Txn may send rollbacks (a Commit that failed part-way): not under the GIL.
    py::gil_scoped_release nogil;
    txn.reset();
  }
};

// One dict per member: id, peer_address, client_address, learner, is_leader.
template <typename Members>
py::list MemberDicts(const Members& members, uint64_t leader) {
  py::list out;
  for (const auto& member : members) {
    py::dict d;
    d["id"] = member.id;
    d["peer_address"] = member.peer_address;
    d["client_address"] = member.client_address;
    d["learner"] = member.learner;
    d["is_leader"] = member.id == leader;
    out.append(d);
  }
  return out;
}

py::dict StatusDict(const client::StatusResponse& s) {
  py::dict d;
  PutReplicaPosition(d, s);
  d["client_address"] = s.client_address;
  d["leader_client_address"] = s.leader_client_address;
  d["cluster_id"] = s.cluster_id;
  d["alarm"] = s.alarm;
  d["watchers"] = s.watchers;
  d["watch_queued_bytes"] = s.watch_queued_bytes;
  d["version"] = s.version;
  return d;
}

// Runs f with the GIL released (f must not touch Python objects).
template <typename F>
auto NoGil(F&& f) {
  py::gil_scoped_release nogil;
  return f();
}

// A client error as an exception of tinykv.errors (ThrowStatus,
// status_py.h), but a compacted one (watch_error.h: a watch, or a read,
// below the compact revision) as CompactedError with its compact_revision.
// With the GIL.
[[noreturn]] void ThrowClientStatus(const Status& s) {
  std::optional<txn::WatchError> e = txn::WatchErrorOf(s);
  if (e && e->kind == txn::WatchError::Kind::kCompacted) {
    py::object cls = py::module_::import("tinykv.errors").attr("CompactedError");
    py::object exc = cls(std::string(s.message()));
    exc.attr("compact_revision") = e->revision;
    PyErr_SetObject(cls.ptr(), exc.ptr());
    throw py::error_already_set();
  }
  ThrowStatus(s);
}

// ValueOrThrow (status_py.h) with ThrowClientStatus. With the GIL.
template <typename T>
T ClientValue(Result<T> r) {
  if (!r.ok()) ThrowClientStatus(r.status());
  return std::move(r).value();
}

// A running watch (watch.h) as Python holds it: Next from one thread at a
// time (the wrapper's iterator), cancel from any.
struct PyWatch {
  std::unique_ptr<client::WatchStream> stream;
  std::mutex next_mu;
  ~PyWatch() {
    py::gil_scoped_release nogil;  // stopping joins the stream's thread
    stream.reset();
  }
};

// A lock (concurrency.h) as Python holds it: its own session (a lease kept
// alive from a C++ thread) and the Mutex on it; the wrapper
// (python/tinykv/lock.py) acquires and releases it from one thread.
struct PyLock {
  std::unique_ptr<client::Session> session;
  std::unique_ptr<client::Mutex> mutex;
  ~PyLock() {
    py::gil_scoped_release nogil;  // closing revokes the lease and joins the keeper
    mutex.reset();
    session.reset();
  }
};

// (kind, revision, [(type, key, value, prev_value or None, revision), ...]).
py::tuple BatchTuple(const client::WatchBatch& b) {
  py::list events;
  for (const client::WatchEvent& e : b.events) {
    events.append(py::make_tuple(e.type == client::WatchEvent::Type::kPut ? "PUT" : "DELETE",
                                 py::bytes(e.key), py::bytes(e.value),
                                 OptionalBytes(e.prev_value), e.revision));
  }
  return py::make_tuple(b.kind == client::WatchBatch::Kind::kProgress ? "PROGRESS" : "EVENTS",
                        b.revision, events);
}

}  // namespace

void BindClient(py::module_& m) {
  m.attr("MAX_REQUEST_BYTES") = client::kMaxRequestBytes;
  m.def(
      "prefix_end",
      [](const BytesArg& prefix) { return py::bytes(client::PrefixEnd(prefix.view())); },
      py::arg("prefix"),
      "The smallest key above every key with this prefix (b\"\": none, scan to the end).");
  py::class_<PyTxn>(m, "Txn",
                    "A transaction at snapshot isolation (txn.h), made by Client.txn(). One "
                    "thread at a time runs it; calls release the GIL.")
      .def_property_readonly("start_ts", [](PyTxn& t) { return t.txn->start_ts(); })
      .def(
          "get",
          [](PyTxn& t, const BytesArg& key) {
            const std::string k = key.str();
            auto r = t.Locked([&](client::Txn& txn) { return txn.Get(k); });
            return OptionalBytes(ClientValue(std::move(r)));
          },
          py::arg("key"))
      .def(
          "scan",
          [](PyTxn& t, const BytesArg& start_arg, const std::optional<BytesArg>& end_arg,
             uint64_t limit) {
            const std::string start = start_arg.str(), end = end_arg ? end_arg->str() : "";
            auto r = t.Locked([&](client::Txn& txn) { return txn.Scan(start, end, limit); });
            return PairList(ClientValue(std::move(r)));
          },
          py::arg("start") = "", py::arg("end") = py::none(), py::arg("limit") = 0)
      .def(
          "put",
          [](PyTxn& t, const BytesArg& key, const BytesArg& value) {
            const std::string k = key.str(), v = value.str();
            ThrowIfError(t.Locked([&](client::Txn& txn) { return txn.Put(k, v); }));
          },
          py::arg("key"), py::arg("value"))
      .def(
          "delete",
          [](PyTxn& t, const BytesArg& key) {
            const std::string k = key.str();
            ThrowIfError(t.Locked([&](client::Txn& txn) { return txn.Delete(k); }));
          },
          py::arg("key"))
      .def(
          "commit",
          [](PyTxn& t) {
            return ClientValue(t.Locked([](client::Txn& txn) { return txn.Commit(); }));
          },
          "Returns the commit timestamp.")
      .def("rollback", [](PyTxn& t) {
        ThrowIfError(t.Locked([](client::Txn& txn) { return txn.Rollback(); }));
      });

  py::class_<PyLock>(m, "Lock",
                     "A distributed lock (concurrency.h Mutex) on its own session, made by "
                     "Client.lock_session(); python/tinykv/lock.py wraps it.")
      .def(
          "acquire",
          [](PyLock& l, std::optional<double> timeout) {
            // Lock runs on a helper thread; this one waits in slices with the
            // GIL released and looks for signals between them (Ctrl-C cancels
            // the wait, and Lock then leaves the queue).
            if (timeout && !(*timeout >= 0)) throw py::value_error("timeout must be >= 0 seconds");
            std::atomic<bool> cancel{false};
            client::WaitOptions wait;
            wait.cancelled = &cancel;
            if (timeout) {
              wait.timeout = std::chrono::milliseconds(static_cast<int64_t>(*timeout * 1e3));
            }
            std::future<Status> done = std::async(std::launch::async, [&] { return l.mutex->Lock(wait); });
            for (;;) {
              const bool ready = NoGil([&] {
                return done.wait_for(std::chrono::milliseconds(100)) == std::future_status::ready;
              });
              if (ready) break;
              if (PyErr_CheckSignals() != 0) {
                cancel = true;
                NoGil([&] { done.wait(); });
                throw py::error_already_set();
              }
            }
            Status s = done.get();
            if (!s.ok()) ThrowClientStatus(s);
            return l.mutex->revision();
          },
          py::arg("timeout") = py::none(),
          "Blocks until held (TimeoutError after timeout seconds); returns the fencing revision.")
      .def(
          "release",
          [](PyLock& l) {
            Status s = NoGil([&] { return l.mutex->Unlock(); });
            if (!s.ok()) ThrowClientStatus(s);
          },
          "Unlocks (deletes this session's key).")
      .def(
          "close",
          [](PyLock& l) {
            Status s = NoGil([&] { return l.session->Close(); });
            if (!s.ok()) ThrowClientStatus(s);
          },
          "Revokes the session's lease (and with it the key, if held).")
      .def_property_readonly("key", [](const PyLock& l) { return py::bytes(l.mutex->key()); })
      .def_property_readonly("revision", [](const PyLock& l) { return l.mutex->revision(); })
      .def_property_readonly("lease", [](const PyLock& l) { return l.session->lease(); });

  py::class_<PyWatch>(m, "Watch",
                      "A running watch (watch.h), made by Client.watch(). next() from one "
                      "thread at a time; cancel() from any.")
      .def(
          "next",
          [](PyWatch& w, std::optional<double> timeout) -> py::object {
            // Waits in short slices with the GIL released and looks for
            // signals between them, so Ctrl-C interrupts a wait for ever.
            using SteadyClock = std::chrono::steady_clock;
            if (timeout && !(*timeout >= 0)) throw py::value_error("timeout must be >= 0 seconds");
            const auto deadline =
                timeout ? SteadyClock::now() + std::chrono::microseconds(
                                                   static_cast<int64_t>(*timeout * 1e6))
                        : SteadyClock::time_point::max();
            for (;;) {
              auto slice = std::chrono::milliseconds(100);
              if (timeout) {
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - SteadyClock::now());
                slice = std::clamp(left, std::chrono::milliseconds(0), slice);
              }
              Result<client::WatchBatch> b = NoGil([&] {
                std::lock_guard<std::mutex> l(w.next_mu);
                return w.stream->Next(slice);
              });
              if (b.ok()) return BatchTuple(*b);
              if (!b.status().IsTimeout()) ThrowClientStatus(b.status());
              if (PyErr_CheckSignals() != 0) throw py::error_already_set();
              if (timeout && SteadyClock::now() >= deadline) return py::none();
            }
          },
          py::arg("timeout") = py::none(),
          "The next batch (kind, revision, events), None when none came within timeout "
          "seconds (None: wait until one comes); raises when the watch ended.")
      .def(
          "request_progress",
          [](PyWatch& w) { ThrowIfError(NoGil([&] { return w.stream->RequestProgress(); })); },
          "Asks the server for a PROGRESS batch covering every write acknowledged before "
          "(watch.h RequestProgress).")
      .def(
          "cancel", [](PyWatch& w) { w.stream->Cancel(); },
          py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("next_revision",
                             [](PyWatch& w) { return w.stream->next_revision(); })
      .def("stats", [](PyWatch& w) {
        const client::WatchStats st = w.stream->stats();
        py::dict d;
        d["streams"] = st.streams;
        d["resumes"] = st.resumes;
        d["last_resume_error"] = st.last_resume_error;
        d["next_revision"] = st.next_revision;
        return d;
      });
  py::class_<client::LeaseKeepAlive>(m, "LeaseKeeper",
                                     "Renews one lease every ttl/3 from a C++ thread "
                                     "(lease_keep_alive.h); made by Client.lease_keeper().")
      .def_property_readonly("id", &client::LeaseKeepAlive::id)
      .def_property_readonly("ttl", &client::LeaseKeepAlive::ttl_s)
      .def_property_readonly("renewals", &client::LeaseKeepAlive::renewals)
      .def("check", [](client::LeaseKeepAlive& k) { ThrowIfError(k.status()); },
           "Raises the error of the last renewal, if it failed.")
      .def("stop", &client::LeaseKeepAlive::Stop, py::call_guard<py::gil_scoped_release>());

  py::class_<Client>(m, "Client",
                     "A TinyKV client: leader discovery, retries with backoff, exactly-once "
                     "writes. Thread-safe; blocking calls release the GIL.")
      .def(py::init([](std::vector<std::string> endpoints, double timeout, double dial_timeout,
                       double attempt_timeout, uint64_t seed, std::string cacert,
                       std::string cert, std::string key) {
             client::ClientOptions o;
             o.endpoints = std::move(endpoints);
             o.timeout = Ms(timeout);
             o.dial_timeout = Ms(dial_timeout);
             o.attempt_timeout = Ms(attempt_timeout);
             o.seed = seed;
             o.ca_file = std::move(cacert);
             o.cert_file = std::move(cert);
             o.key_file = std::move(key);
             return ClientValue(Client::Create(std::move(o)));
           }),
           py::arg("endpoints"), py::arg("timeout") = 5.0, py::arg("dial_timeout") = 2.0,
           py::arg("attempt_timeout") = 2.0, py::arg("seed") = 0, py::arg("cacert") = "",
           py::arg("cert") = "", py::arg("key") = "")
      .def(
          "put",
          [](Client& c, const BytesArg& key, const BytesArg& value, std::optional<double> t,
             uint64_t lease, uint64_t trace_id) {
            const std::string k = key.str(), v = value.str();
            client::CallOptions o = Opts(t);
            o.trace_id = trace_id;
            auto r = NoGil([&] { return c.PutWithLease(k, v, lease, o); });
            return ClientValue(std::move(r)).revision;
          },
          py::arg("key"), py::arg("value"), py::arg("timeout") = py::none(),
          py::arg("lease") = 0, py::arg("trace_id") = 0,
          "Returns the write's revision. lease: attach the key (0: none). trace_id: the "
          "request's (0: a fresh one).")
      .def(
          "get",
          [](Client& c, const BytesArg& key, bool serializable, std::optional<double> t,
             uint64_t revision) -> py::object {
            const std::string k = key.str();
            auto r = NoGil([&] { return c.Get(k, Opts(t, serializable, revision)); });
            return OptionalBytes(ClientValue(std::move(r)));
          },
          py::arg("key"), py::arg("serializable") = false, py::arg("timeout") = py::none(),
          py::arg("revision") = 0)
      .def(
          "put_prev",
          [](Client& c, const BytesArg& key, const BytesArg& value, std::optional<double> t,
             uint64_t lease) {
            const std::string k = key.str(), v = value.str();
            auto r =
                NoGil([&] { return c.PutWith(k, v, client::WriteOptions{lease, true}, Opts(t)); });
            client::WriteResponse w = ClientValue(std::move(r));
            return py::make_tuple(w.revision, OptionalKvTuple(w.prev_kvs));
          },
          py::arg("key"), py::arg("value"), py::arg("timeout") = py::none(),
          py::arg("lease") = 0,
          "put with prev_kv: returns (revision, (key, value, create, mod, version, lease) of "
          "the key before, or None).")
      .def(
          "get_kv",
          [](Client& c, const BytesArg& key, bool serializable, std::optional<double> t,
             uint64_t revision) -> py::object {
            const std::string k = key.str();
            auto r = NoGil([&] { return c.GetWithRevision(k, Opts(t, serializable, revision)); });
            client::GetResponse resp = ClientValue(std::move(r));
            if (!resp.found) return py::none();
            return KvTuple(client::KeyValue{k, std::move(resp.value), resp.meta});
          },
          py::arg("key"), py::arg("serializable") = false, py::arg("timeout") = py::none(),
          py::arg("revision") = 0,
          "Returns (key, value, create_revision, mod_revision, version, lease) or None.")
      .def(
          "get_with_revision",
          [](Client& c, const BytesArg& key, bool serializable, std::optional<double> t,
             uint64_t revision) {
            const std::string k = key.str();
            auto r = NoGil([&] { return c.GetWithRevision(k, Opts(t, serializable, revision)); });
            client::GetResponse resp = ClientValue(std::move(r));
            py::object v = resp.found ? py::object(py::bytes(resp.value)) : py::none();
            return py::make_tuple(v, resp.revision);
          },
          py::arg("key"), py::arg("serializable") = false, py::arg("timeout") = py::none(),
          py::arg("revision") = 0,
          "Returns (value or None, the revision the read was made at).")
      .def(
          "delete",
          [](Client& c, const BytesArg& key, std::optional<double> t) {
            const std::string k = key.str();
            auto s = NoGil([&] { return c.Delete(k, Opts(t)); });
            ThrowIfError(s);
          },
          py::arg("key"), py::arg("timeout") = py::none())
      .def(
          "delete_prev",
          [](Client& c, const BytesArg& key, std::optional<double> t) {
            const std::string k = key.str();
            auto r = NoGil([&] { return c.DeleteWith(k, client::WriteOptions{0, true}, Opts(t)); });
            return OptionalKvTuple(ClientValue(std::move(r)).prev_kvs);
          },
          py::arg("key"), py::arg("timeout") = py::none(),
          "delete with prev_kv: the deleted (key, value, create, mod, version, lease) or None.")
      .def(
          "delete_range_prev",
          [](Client& c, const BytesArg& start_arg, const std::optional<BytesArg>& end_arg,
             std::optional<double> t) {
            const std::string start = start_arg.str(), end = end_arg ? end_arg->str() : "";
            auto r = NoGil([&] {
              return c.DeleteRangeWith(start, end, client::WriteOptions{0, true}, Opts(t));
            });
            client::DeleteRangeResponse d = ClientValue(std::move(r));
            return py::make_tuple(d.deleted, KvTupleList(d.prev_kvs), d.prev_kvs_truncated);
          },
          py::arg("start"), py::arg("end") = py::none(), py::arg("timeout") = py::none(),
          "delete_range with prev_kv: (count, [(key, value, create, mod, version, lease)], "
          "truncated).")
      .def(
          "delete_range",
          [](Client& c, const BytesArg& start_arg, const std::optional<BytesArg>& end_arg,
             std::optional<double> t) {
            const std::string start = start_arg.str(), end = end_arg ? end_arg->str() : "";
            auto r = NoGil([&] { return c.DeleteRange(start, end, Opts(t)); });
            return ClientValue(std::move(r));
          },
          py::arg("start"), py::arg("end") = py::none(), py::arg("timeout") = py::none())
      .def(
          "scan",
          [](Client& c, const BytesArg& start_arg, const std::optional<BytesArg>& end_arg,
             uint64_t limit, bool keys_only, bool serializable, std::optional<double> t,
             uint64_t revision, bool metadata) {
            const std::string start = start_arg.str(), end = end_arg ? end_arg->str() : "";
            auto r = NoGil([&] {
              return c.Scan(start, end, limit, Opts(t, serializable, revision), keys_only);
            });
            std::vector<client::KeyValue> kvs = ClientValue(std::move(r));
            return metadata ? KvTupleList(kvs) : PairList(kvs);
          },
          py::arg("start") = "", py::arg("end") = py::none(), py::arg("limit") = 0,
          py::arg("keys_only") = false, py::arg("serializable") = false,
          py::arg("timeout") = py::none(), py::arg("revision") = 0, py::arg("metadata") = false,
          "[(key, value), ...]; with metadata [(key, value, create, mod, version, lease), ...].")
      .def(
          "cas",
          [](Client& c, const BytesArg& key, const std::optional<BytesArg>& expected_arg,
             const BytesArg& value, std::optional<double> t) {
            const std::string k = key.str(), v = value.str();
            std::optional<std::string> expected;
            if (expected_arg) expected = expected_arg->str();
            auto r = NoGil([&] { return c.Cas(k, expected, v, Opts(t)); });
            client::CasResult res = ClientValue(std::move(r));
            py::object current = res.current ? py::object(py::bytes(*res.current)) : py::none();
            return py::make_tuple(res.succeeded, current);
          },
          py::arg("key"), py::arg("expected"), py::arg("new"), py::arg("timeout") = py::none(),
          "Returns (succeeded, current value when it failed or None).")
      .def(
          "timestamp",
          [](Client& c, std::optional<double> t) {
            auto r = NoGil([&] { return c.Timestamps(1, Opts(t)); });
            return ClientValue(std::move(r));
          },
          py::arg("timeout") = py::none(), "A fresh timestamp from the leader's oracle.")
      .def(
          "txn",
          [](Client& c, double lock_ttl, std::optional<double> t, double pause_after_prewrite,
             double pause_after_primary) {
            client::TxnOptions o;
            o.lock_ttl = Ms(lock_ttl);
            if (t) o.timeout = Ms(*t);
            o.TEST_pause_after_prewrite = PauseMs(pause_after_prewrite);
            o.TEST_pause_after_primary = PauseMs(pause_after_primary);
            auto out = std::make_unique<PyTxn>();
            // (Not Result<unique_ptr> across the lambda: GCC 12 warns, as below.)
            Status s = NoGil([&] {
              auto r = client::Txn::Begin(c, o);
              if (!r.ok()) return r.status();
              out->txn = std::move(r).value();
              return Status::OK();
            });
            ThrowIfError(s);
            return out;
          },
          py::arg("lock_ttl") = 3.0, py::arg("timeout") = py::none(),
          py::arg("pause_after_prewrite") = 0.0, py::arg("pause_after_primary") = 0.0,
          py::keep_alive<0, 1>(),  // the transaction uses the client
          "Begins a transaction (txn.h): its start_ts comes from the oracle. The pauses are "
          "test hooks (seconds to stop after the prewrites / the primary's commit).")
      .def(
          "watch",
          [](Client& c, const BytesArg& key, const std::optional<BytesArg>& range_end, bool prefix,
             uint64_t start_revision, bool prev_kv, bool progress_notify,
             double progress_interval, uint64_t buffer_bytes, std::optional<double> t) {
            client::WatchOptions o;
            o.key = key.str();
            if (range_end) o.range_end = range_end->str();
            o.prefix = prefix;
            o.start_revision = start_revision;
            o.prev_kv = prev_kv;
            o.progress_notify = progress_notify;
            o.progress_interval = Ms(progress_interval);
            o.max_buffered_bytes = static_cast<size_t>(buffer_bytes);
            if (t) o.create_timeout = Ms(*t);
            auto out = std::make_unique<PyWatch>();
            Status s = NoGil([&] {
              auto r = c.Watch(o);
              if (!r.ok()) return r.status();
              out->stream = std::move(r).value();
              return Status::OK();
            });
            if (!s.ok()) ThrowClientStatus(s);
            return out;
          },
          py::arg("key"), py::arg("range_end") = py::none(), py::arg("prefix") = false,
          py::arg("start_revision") = 0, py::arg("prev_kv") = false,
          py::arg("progress_notify") = false, py::arg("progress_interval") = 1.0,
          py::arg("buffer_bytes") = uint64_t{16} << 20, py::arg("timeout") = py::none(),
          py::keep_alive<0, 1>(),  // the watch routes through the client
          "Starts a watch (watch.h); returns once the leader created it.")
      .def(
          "endpoint_status",
          [](Client& c, const std::string& endpoint, std::optional<double> t) {
            auto r = NoGil([&] {
              return c.EndpointStatus(endpoint, t ? std::optional(Ms(*t)) : std::nullopt);
            });
            return StatusDict(ClientValue(std::move(r)));
          },
          py::arg("endpoint"), py::arg("timeout") = py::none())
      .def(
          "members",
          [](Client& c, std::optional<double> t) {
            auto r = NoGil([&] { return c.MemberList(Opts(t)); });
            client::MemberListResponse ml = ClientValue(std::move(r));
            return MemberDicts(ml.members, ml.leader);
          },
          py::arg("timeout") = py::none())
      .def(
          "member_change",
          [](Client& c, const std::string& op, uint64_t id, const std::string& peer,
             const std::string& client_addr, bool learner, std::optional<double> t, bool force) {
            auto r = NoGil([&]() -> Result<client::MemberChangeResponse> {
              if (op == "add") return c.MemberAdd(id, peer, client_addr, learner, force, Opts(t));
              if (op == "promote") return c.MemberPromote(id, Opts(t));
              if (op == "remove") return c.MemberRemove(id, Opts(t));
              if (op == "update") return c.MemberUpdate(id, peer, client_addr, Opts(t));
              return Status::InvalidArgument("unknown member op " + op);
            });
            client::MemberChangeResponse resp = ClientValue(std::move(r));
            py::dict out;
            out["index"] = resp.index;
            out["leader"] = resp.leader;
            out["members"] = MemberDicts(resp.members, resp.leader);
            return out;
          },
          py::arg("op"), py::arg("id"), py::arg("peer_address") = "",
          py::arg("client_address") = "", py::arg("learner") = false,
          py::arg("timeout") = py::none(), py::arg("force") = false,
          "Membership change (op: add, promote, remove, update); returns {index, leader, members}. "
          "force: skip the strict reconfiguration check of a voter add.")
      .def(
          "health",
          [](Client& c, const std::string& endpoint, std::optional<double> t) {
            client::HealthReport h;
            {
              py::gil_scoped_release nogil;
              h = c.Health(endpoint, t ? std::optional(Ms(*t)) : std::nullopt);
            }
            py::dict d;
            d["endpoint"] = h.endpoint;
            d["healthy"] = h.healthy;
            d["took"] = static_cast<double>(h.took.count()) / 1e6;
            d["error"] = h.error;
            return d;
          },
          py::arg("endpoint"), py::arg("timeout") = py::none())
      .def_property_readonly("endpoints", &Client::endpoints)
      .def_property_readonly("leader_endpoint", &Client::leader_endpoint)
      // Leases (lease_protocol.h); python/tinykv/lease.py wraps them.
      .def(
          "lease_grant",
          [](Client& c, uint64_t ttl, uint64_t id, std::optional<double> t) {
            auto r = NoGil([&] { return c.LeaseGrant(ttl, id, Opts(t)); });
            client::LeaseGrantResponse g = ClientValue(std::move(r));
            return py::make_tuple(g.id, g.ttl_s);
          },
          py::arg("ttl"), py::arg("id") = 0, py::arg("timeout") = py::none(),
          "Returns (id, ttl).")
      .def(
          "lease_revoke",
          [](Client& c, uint64_t id, std::optional<double> t) {
            auto r = NoGil([&] { return c.LeaseRevoke(id, Opts(t)); });
            client::LeaseRevokeResponse v = ClientValue(std::move(r));
            return py::make_tuple(v.revision, v.deleted);
          },
          py::arg("id"), py::arg("timeout") = py::none(), "Returns (revision, keys deleted).")
      .def(
          "lease_keep_alive",
          [](Client& c, uint64_t id, std::optional<double> t) {
            auto r = NoGil([&] { return c.LeaseKeepAliveOnce(id, Opts(t)); });
            return ClientValue(std::move(r)).ttl_s;
          },
          py::arg("id"), py::arg("timeout") = py::none(), "One renewal; returns the TTL.")
      .def(
          "lease_time_to_live",
          [](Client& c, uint64_t id, bool keys, std::optional<double> t) {
            auto r = NoGil([&] { return c.LeaseTimeToLive(id, keys, Opts(t)); });
            client::LeaseTimeToLiveResponse v = ClientValue(std::move(r));
            py::list ks;
            for (const std::string& k : v.keys) ks.append(py::bytes(k));
            return py::make_tuple(v.id, v.granted_ttl_s, v.ttl_s, ks);
          },
          py::arg("id"), py::arg("keys") = false, py::arg("timeout") = py::none(),
          "Returns (id, granted ttl, remaining ttl, [keys]).")
      .def(
          "leases",
          [](Client& c, std::optional<double> t) {
            auto r = NoGil([&] { return c.Leases(Opts(t)); });
            return ClientValue(std::move(r));
          },
          py::arg("timeout") = py::none())
      .def(
          "lease_keeper",
          [](Client& c, uint64_t id) {
            std::unique_ptr<client::LeaseKeepAlive> k;
            Status s = NoGil([&] {
              auto r = client::LeaseKeepAlive::Start(&c, id);
              if (!r.ok()) return r.status();
              k = std::move(r).value();
              return Status::OK();
            });
            ThrowIfError(s);
            return k;
          },
          py::arg("id"), py::keep_alive<0, 1>(),  // the keeper uses the client
          "Starts renewing lease id every ttl/3 in the background (lease_keep_alive.h).")
      .def(
          "lock_session",
          [](Client& c, const BytesArg& name, uint64_t ttl) {
            auto l = std::make_unique<PyLock>();
            const std::string prefix = name.str();
            Status s = NoGil([&] {
              auto r = client::Session::Create(&c, {.ttl_s = ttl});
              if (!r.ok()) return r.status();
              l->session = std::move(r).value();
              l->mutex = std::make_unique<client::Mutex>(*l->session, prefix);
              return Status::OK();
            });
            if (!s.ok()) ThrowClientStatus(s);
            return l;
          },
          py::arg("name"), py::arg("ttl") = 10, py::keep_alive<0, 1>(),  // uses the client
          "A lock on name with a session of its own (a lease of ttl seconds, kept alive).")
      // Compaction and defragmentation (maintenance_protocol.h).
      .def(
          "compact",
          [](Client& c, uint64_t revision, bool physical, std::optional<double> t) {
            auto r = NoGil([&] { return c.Compact(revision, physical, Opts(t)); });
            client::CompactResponse v = ClientValue(std::move(r));
            return py::make_tuple(v.compact_revision, v.removed);
          },
          py::arg("revision"), py::arg("physical") = false, py::arg("timeout") = py::none(),
          "Returns (compact revision, records removed).")
      .def(
          "defragment",
          [](Client& c, const std::string& endpoint, std::optional<double> t) {
            auto r = NoGil([&] {
              return c.EndpointDefragment(endpoint, t ? std::optional(Ms(*t)) : std::nullopt);
            });
            client::DefragmentResponse v = ClientValue(std::move(r));
            py::dict d;
            d["endpoint"] = endpoint;
            d["member_id"] = v.member_id;
            d["bytes_before"] = v.bytes_before;
            d["bytes_after"] = v.bytes_after;
            return d;
          },
          py::arg("endpoint"), py::arg("timeout") = py::none(),
          "Defragments one endpoint's engine; returns {endpoint, member_id, bytes_before, "
          "bytes_after}.")
      .def(
          "move_leader",
          [](Client& c, uint64_t target, std::optional<double> t) {
            auto r = NoGil([&] { return c.MoveLeader(target, Opts(t)); });
            client::MoveLeaderResponse v = ClientValue(std::move(r));
            return py::make_tuple(v.from, v.to);
          },
          py::arg("target"), py::arg("timeout") = py::none(),
          "Hands the leadership to voter `target`; returns (leader before, leader after).")
      .def(
          "hash_kv",
          [](Client& c, const std::string& endpoint, uint64_t revision, std::optional<double> t) {
            auto r = NoGil([&] {
              return c.EndpointHashKv(endpoint, revision,
                                      t ? std::optional(Ms(*t)) : std::nullopt);
            });
            client::HashKvResponse v = ClientValue(std::move(r));
            py::dict d;
            d["endpoint"] = endpoint;
            d["member_id"] = v.member_id;
            d["hash"] = v.hash;
            d["hash_revision"] = v.hash_revision;
            d["compact_revision"] = v.compact_revision;
            return d;
          },
          py::arg("endpoint"), py::arg("revision") = 0, py::arg("timeout") = py::none(),
          "One endpoint's hash of its key space as of `revision` (0: all it applied); returns "
          "{endpoint, member_id, hash, hash_revision, compact_revision}.")
      .def("stats",
           [](Client& c) {
             client::ClientStats s = c.stats();
             py::dict d;
             d["calls"] = s.calls;
             d["attempts"] = s.attempts;
             d["retries"] = s.retries;
             d["redirects"] = s.redirects;
             d["discoveries"] = s.discoveries;
             d["write_sessions"] = s.write_sessions;
             return d;
           })
      .def("close", [](Client& c) {
        py::gil_scoped_release nogil;
        c.Close();
      });

  py::class_<LocalCluster>(m, "EmbeddedCluster",
                           "n real Raft members in this process, each serving the client "
                           "protocol on 127.0.0.1 (port 0).")
      .def(py::init([](int n, const std::string& data_dir, int tick_ms, int election_ticks,
                       bool sync, uint64_t snapshot_threshold) {
             client::LocalClusterOptions o;
             o.n = n;
             o.data_dir = data_dir;
             o.tick_ms = tick_ms;
             o.election_ticks = election_ticks;
             o.sync = sync;
             o.snapshot_threshold = snapshot_threshold;
             // (Not Result<unique_ptr> across the lambda: GCC 12 warns
             // maybe-uninitialized on that move.)
             std::unique_ptr<LocalCluster> cluster;
             Status s = NoGil([&] {
               auto r = LocalCluster::Start(std::move(o));
               if (!r.ok()) return r.status();
               cluster = std::move(r).value();
               return Status::OK();
             });
             ThrowIfError(s);
             return cluster;
           }),
           py::arg("n"), py::arg("data_dir"), py::arg("tick_ms") = 20,
           py::arg("election_ticks") = 10, py::arg("sync") = true,
           py::arg("snapshot_threshold") = 10000)
      .def_property_readonly("endpoints", &LocalCluster::endpoints)
      .def("endpoint", &LocalCluster::endpoint, py::arg("id"))
      .def("leader",
           [](LocalCluster& c) -> py::object {
             uint64_t l;
             {
               py::gil_scoped_release nogil;
               l = c.Leader();
             }
             if (l == 0) return py::none();
             return py::int_(l);
           })
      .def(
          "wait_for_leader",
          [](LocalCluster& c, double timeout) {
            auto r = NoGil([&] { return c.WaitForLeader(Ms(timeout)); });
            return ClientValue(std::move(r));
          },
          py::arg("timeout") = 10.0)
      .def("running", &LocalCluster::Running)
      .def(
          "stop_node",
          [](LocalCluster& c, uint64_t id) {
            auto s = NoGil([&] { return c.StopNode(id); });
            ThrowIfError(s);
          },
          py::arg("id"))
      .def(
          "start_node",
          [](LocalCluster& c, uint64_t id) {
            auto s = NoGil([&] { return c.StartNode(id); });
            ThrowIfError(s);
          },
          py::arg("id"))
      .def(
          "add_node",
          [](LocalCluster& c, uint64_t id) {
            auto s = NoGil([&] { return c.AddNode(id); });
            ThrowIfError(s);
          },
          py::arg("id"), "Starts new member id that joins (no configuration yet).")
      .def(
          "compact",
          [](LocalCluster& c, uint64_t safe_point, double timeout) {
            auto s = NoGil([&] { return c.Compact(safe_point, Ms(timeout)); });
            ThrowIfError(s);
          },
          py::arg("revision"), py::arg("timeout") = 5.0,
          "GC through the leader at this safe point (TxnNode::ProposeGc).")
      .def("peer_address", &LocalCluster::PeerAddress, py::arg("id"))
      .def("partition", &LocalCluster::Partition, py::arg("groups"),
           py::call_guard<py::gil_scoped_release>())
      .def("heal", &LocalCluster::Heal, py::call_guard<py::gil_scoped_release>())
      .def("close", &LocalCluster::Close, py::call_guard<py::gil_scoped_release>());
}

}  // namespace tinykv::python
