// tinykv._core.net: the phase 2 demo server and client, plus frame helpers
// so tests and notebooks can craft and inspect wire bytes.
//
// Every blocking call releases the GIL (py::gil_scoped_release); Status
// errors become tinykv exceptions through ThrowIfError/ValueOrThrow.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <filesystem>
#include <optional>

#include "bytes_py.h"
#include "echo_load.h"
#include "kv_service.h"
#include "status_py.h"
#include "tinykv/net/client.h"
#include "tinykv/net/frame.h"
#include "tinykv/net/server.h"

namespace py = pybind11;

namespace tinykv::python {

namespace {

using namespace tinykv::net;

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

class PyDemoServer {
 public:
  PyDemoServer(const std::string& host, uint16_t port, std::optional<std::string> data_dir,
               int io_threads, size_t max_connections, double idle_timeout) {
    ServerOptions o;
    o.host = host;
    o.port = port;
    o.io_threads = io_threads;
    o.max_connections = max_connections;
    o.idle_timeout = Millis(idle_timeout);
    if (data_dir.has_value()) {
      backend_ = std::shared_ptr<demo::KvBackend>(ValueOrThrow(demo::OpenStorageBackend(*data_dir)));
    } else {
      backend_ = std::make_shared<demo::MemoryBackend>();
    }
    server_ = ValueOrThrow(RpcServer::Create(o));
    demo::RegisterKvService(server_.get(), backend_);
    ThrowIfError(server_->Start());
    port_ = server_->port();
    address_ = server_->address();
    backend_name_ = backend_->name();
  }
  uint16_t port() const { return port_; }
  const std::string& address() const { return address_; }
  const std::string& backend() const { return backend_name_; }
  // Stops the server and closes its backend (a data_dir DB is closed, so the
  // same directory can be opened again right away).
  void Shutdown(double drain_timeout) {
    if (!server_) return;
    py::gil_scoped_release release;
    server_->Shutdown(Millis(drain_timeout));
    last_stats_ = server_->stats();
    server_.reset();
    backend_.reset();
  }
  py::dict Stats() const {
    const ServerStats s = server_ ? server_->stats() : last_stats_;
    py::dict d;
    d["connections_accepted"] = s.connections_accepted;
    d["connections_rejected"] = s.connections_rejected;
    d["connections_active"] = s.connections_active;
    d["protocol_errors"] = s.protocol_errors;
    d["idle_closed"] = s.idle_closed;
    d["connections_pending"] = s.connections_pending;
    d["pending_evicted"] = s.pending_evicted;
    d["handshake_timeouts"] = s.handshake_timeouts;
    d["slow_frames_closed"] = s.slow_frames_closed;
    d["buffered_bytes"] = s.buffered_bytes;
    d["read_waits"] = s.read_waits;
    d["calls_started"] = s.calls_started;
    d["calls_finished"] = s.calls_finished;
    d["calls_cancelled"] = s.calls_cancelled;
    return d;
  }

 private:
  std::shared_ptr<demo::KvBackend> backend_;
  std::unique_ptr<RpcServer> server_;
  uint16_t port_ = 0;
  std::string address_;
  std::string backend_name_;
  ServerStats last_stats_;
};

class PyClient {
 public:
  PyClient(const std::string& address, double timeout, int max_attempts, size_t connections,
           int io_threads, double initial_backoff, double max_backoff, uint64_t seed)
      : address_(address) {
    ClientOptions o;
    o.io_threads = io_threads;
    o.max_connections_per_peer = connections;
    o.retry.max_attempts = max_attempts;
    o.retry.initial_backoff = Millis(initial_backoff);
    o.retry.max_backoff = Millis(max_backoff);
    o.seed = seed;
    client_ = ValueOrThrow(RpcClient::Create(o));
    defaults_.timeout = Millis(timeout);
  }
  CallOptions Options(std::optional<double> timeout) const {
    CallOptions o = defaults_;
    if (timeout.has_value()) o.timeout = Millis(*timeout);
    return o;
  }
  // Keys and values: BytesArg (bytes_py.h), copied to strings before the GIL goes.
  std::optional<py::bytes> Get(const BytesArg& key_arg, std::optional<double> timeout) {
    const std::string key = key_arg.str();
    Result<std::optional<std::string>> r = Status::Aborted("unset");
    {
      py::gil_scoped_release release;
      demo::KvClient kv(client_.get(), address_, Options(timeout));
      r = kv.Get(key);
    }
    auto v = ValueOrThrow(std::move(r));
    if (!v.has_value()) return std::nullopt;
    return py::bytes(*v);
  }
  void Put(const BytesArg& key_arg, const BytesArg& value_arg, bool sync,
           std::optional<double> timeout) {
    const std::string key = key_arg.str(), value = value_arg.str();
    Status s;
    {
      py::gil_scoped_release release;
      demo::KvClient kv(client_.get(), address_, Options(timeout));
      s = kv.Put(key, value, sync);
    }
    ThrowIfError(s);
  }
  void Delete(const BytesArg& key_arg, bool sync, std::optional<double> timeout) {
    const std::string key = key_arg.str();
    Status s;
    {
      py::gil_scoped_release release;
      demo::KvClient kv(client_.get(), address_, Options(timeout));
      s = kv.Delete(key, sync);
    }
    ThrowIfError(s);
  }
  // end None or b"": no upper bound (the same convention as every tinykv scan).
  py::list Scan(const BytesArg& start_arg, const std::optional<BytesArg>& end_arg, uint64_t limit,
                std::optional<double> timeout) {
    const std::string start = start_arg.str();
    std::optional<std::string> end;
    if (end_arg && !end_arg->empty()) end = end_arg->str();
    std::vector<demo::KeyValue> pairs;
    Status s;
    {
      py::gil_scoped_release release;
      demo::KvClient kv(client_.get(), address_, Options(timeout));
      s = kv.Scan(start, end, limit, [&pairs](demo::KeyValue kv_pair) {
        pairs.push_back(std::move(kv_pair));
        return Status::OK();
      });
    }
    ThrowIfError(s);
    py::list out;
    for (auto& p : pairs) out.append(py::make_tuple(py::bytes(p.key), py::bytes(p.value)));
    return out;
  }
  py::bytes Echo(const BytesArg& data_arg, uint32_t delay_ms, std::optional<double> timeout) {
    const std::string data = data_arg.str();
    Result<std::string> r = Status::Aborted("unset");
    {
      py::gil_scoped_release release;
      demo::KvClient kv(client_.get(), address_, Options(timeout));
      r = kv.Echo(data, delay_ms);
    }
    return py::bytes(ValueOrThrow(std::move(r)));
  }
  py::dict BenchEcho(int concurrency, uint64_t requests, size_t payload_bytes, double duration) {
    demo::EchoLoadResult res;
    {
      py::gil_scoped_release release;
      demo::EchoLoadOptions o;
      o.address = address_;
      o.concurrency = concurrency;
      o.requests = requests;
      o.payload_bytes = payload_bytes;
      o.duration = Millis(duration);
      o.timeout = defaults_.timeout;
      res = demo::RunEchoLoad(client_.get(), o);
    }
    py::dict d;
    d["calls"] = res.calls;
    d["errors"] = res.errors;
    d["seconds"] = res.seconds;
    d["throughput"] = res.throughput();
    d["latencies_us"] = res.latencies_us;
    d["first_error"] = res.first_error;
    return d;
  }
  py::dict Stats() const {
    const ClientStats s = client_->stats();
    py::dict d;
    d["calls"] = s.calls;
    d["retries"] = s.retries;
    d["connects"] = s.connects;
    d["connect_failures"] = s.connect_failures;
    d["timeouts"] = s.timeouts;
    return d;
  }
  void Close() {
    py::gil_scoped_release release;
    client_->Shutdown();
  }
  const std::string& address() const { return address_; }

 private:
  std::string address_;
  CallOptions defaults_;
  std::unique_ptr<RpcClient> client_;
};

}  // namespace

void BindNet(py::module_& m) {
  m.doc() = "Phase 2: the RPC layer's demo KV server and client, and frame helpers.";
  m.attr("FRAME_HEADER_SIZE") = kFrameHeaderSize;
  m.attr("DEFAULT_MAX_FRAME_BYTES") = kDefaultMaxFrameBytes;
  m.attr("STORAGE_BACKEND_AVAILABLE") = demo::StorageBackendAvailable();

  m.def(
      "encode_frame",
      [](int kind, uint64_t request_id, uint32_t method_id, py::bytes payload, uint64_t trace_id) {
        if (kind < 1 || kind > kMaxFrameKind) {
          ThrowStatus(Status::InvalidArgument("frame kind must be 1..7"));
        }
        const std::string_view p = payload;
        return py::bytes(
            EncodeFrame(static_cast<FrameKind>(kind), request_id, method_id, p, trace_id));
      },
      py::arg("kind"), py::arg("request_id"), py::arg("method_id"), py::arg("payload"),
      py::arg("trace_id") = 0,
      "One frame's bytes (kinds: 1 request, 2 response, 3 stream item, 4 stream end, 5 error, "
      "6 cancel, 7 hello); a nonzero trace_id makes it a version 2 frame (32-byte header).");
  m.def(
      "decode_frames",
      [](py::bytes data) {
        FrameDecoder d;
        const std::string_view v = data;
        d.Append(v);
        py::list out;
        for (;;) {
          auto f = d.Next();
          ThrowIfError(f.status());
          if (!f->has_value()) break;
          const Frame& fr = **f;
          py::dict item;
          item["kind"] = std::string(FrameKindName(fr.header.kind));
          item["request_id"] = fr.header.request_id;
          item["method_id"] = fr.header.method_id;
          item["trace_id"] = fr.header.trace_id;
          item["payload"] = py::bytes(fr.payload);
          if (fr.header.kind == FrameKind::kError) {
            auto e = DecodeMessage<ErrorPayload>(fr.payload);
            if (e.ok()) {
              item["error"] = StatusOf(*e).ToString();
            }
          }
          out.append(item);
        }
        return out;
      },
      py::arg("data"),
      "Decodes complete frames from bytes (raises CorruptionError on a malformed one).");

  py::class_<PyDemoServer>(m, "DemoServer",
                           "The phase 2 demo KV server, running in this process on its own "
                           "I/O threads.")
      .def(py::init<const std::string&, uint16_t, std::optional<std::string>, int, size_t,
                    double>(),
           py::arg("host") = "127.0.0.1", py::arg("port") = 0, py::arg("data_dir") = py::none(),
           py::arg("io_threads") = 2, py::arg("max_connections") = 1024,
           py::arg("idle_timeout") = 300.0)
      .def_property_readonly("port", &PyDemoServer::port, "The bound port.")
      .def_property_readonly("address", &PyDemoServer::address, "\"host:port\".")
      .def_property_readonly("backend", &PyDemoServer::backend, "\"memory\" or \"tinykv-storage\".")
      .def("shutdown", &PyDemoServer::Shutdown, py::arg("drain_timeout") = 5.0,
           "Graceful shutdown: stop accepting, drain in-flight calls, close.")
      .def("stats", &PyDemoServer::Stats);

  py::class_<PyClient>(m, "Client", "A client of the demo KV server (multiplexed, pooled).")
      .def(py::init<const std::string&, double, int, size_t, int, double, double, uint64_t>(),
           py::arg("address"), py::arg("timeout") = 5.0, py::arg("max_attempts") = 4,
           py::arg("connections") = 1, py::arg("io_threads") = 1,
           py::arg("initial_backoff") = 0.01, py::arg("max_backoff") = 1.0, py::arg("seed") = 0)
      .def_property_readonly("address", &PyClient::address)
      .def("get", &PyClient::Get, py::arg("key"), py::arg("timeout") = py::none(),
           "The value, or None if the key is absent.")
      .def("put", &PyClient::Put, py::arg("key"), py::arg("value"), py::arg("sync") = false,
           py::arg("timeout") = py::none())
      .def("delete", &PyClient::Delete, py::arg("key"), py::arg("sync") = false,
           py::arg("timeout") = py::none())
      .def("scan", &PyClient::Scan, py::arg("start") = "", py::arg("end") = py::none(),
           py::arg("limit") = 0, py::arg("timeout") = py::none(),
           "[(key, value)] for start <= key < end (end None or b\"\": to the last key; streamed by "
           "the server).")
      .def("echo", &PyClient::Echo, py::arg("data"), py::arg("delay_ms") = 0,
           py::arg("timeout") = py::none(),
           "Round-trips data; delay_ms makes the server wait first.")
      .def("bench_echo", &PyClient::BenchEcho, py::arg("concurrency"), py::arg("requests") = 0,
           py::arg("payload_bytes") = 64, py::arg("duration") = 1.0,
           "Closed-loop echo load from C++ callers; returns calls, errors, throughput and "
           "per-call latencies_us.")
      .def("stats", &PyClient::Stats)
      .def("close", &PyClient::Close);
}

}  // namespace tinykv::python
