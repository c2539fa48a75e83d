// tinykv._core.prod: the admin RPC of tinykv-server from Python, for
// tinykv.testing.Cluster (leader discovery, partition/heal). One RpcClient
// per process, created on first use; the GIL is released while waiting.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "replica_status_py.h"
#include "status_py.h"
#include "tinykv/net/client.h"
#include "tinykv/prod/admin_protocol.h"

namespace py = pybind11;

namespace tinykv::python {
namespace {

// One client per TLS setting (cacert, cert, key; all empty: plaintext).
using TlsFiles = std::tuple<std::string, std::string, std::string>;

net::RpcClient& AdminClient(const TlsFiles& tls) {
  static std::mutex mu;
  // Leaked on purpose: the clients outlive interpreter teardown.
  static auto* clients = new std::map<TlsFiles, std::unique_ptr<net::RpcClient>>();
  std::lock_guard<std::mutex> lock(mu);
  auto& client = (*clients)[tls];
  if (!client) {
    net::ClientOptions options;
    options.connect_timeout = std::chrono::milliseconds(1000);
    const auto& [ca, cert, key] = tls;
    options.tls.enabled = !ca.empty() || !cert.empty() || !key.empty();
    options.tls.ca_file = ca;
    options.tls.cert_file = cert;
    options.tls.key_file = key;
    client = ValueOrThrow(net::RpcClient::Create(options));
  }
  return *client;
}

net::CallOptions Deadline(double timeout_s) {
  net::CallOptions o;
  o.timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  o.max_attempts = 1;
  return o;
}

}  // namespace

void BindProd(py::module_& m) {
  m.doc() = "tinykv-server's admin RPC (status, test-only fault injection)";
  m.def(
      "admin_status",
      [](const std::string& endpoint, double timeout, const std::string& cacert,
         const std::string& cert, const std::string& key) {
        net::RpcClient& client = AdminClient({cacert, cert, key});
        Result<prod::AdminStatusResponse> r = [&] {
          py::gil_scoped_release release;
          return client.CallSync<prod::AdminStatusMethod>(endpoint, {}, Deadline(timeout));
        }();
        const prod::AdminStatusResponse s = ValueOrThrow(std::move(r));
        py::list members;
        for (const auto& mem : s.members) {
          py::dict d;
          d["id"] = mem.id;
          d["peer_address"] = mem.peer_address;
          d["learner"] = mem.learner;
          members.append(d);
        }
        py::dict d;
        PutReplicaPosition(d, s);
        d["members"] = members;
        d["client_address"] = s.client_address;
        d["peer_address"] = s.peer_address;
        d["fault_injection"] = s.fault_injection;
        d["pid"] = s.pid;
        d["snapshot_index"] = s.snapshot_index;
        d["log_fsyncs"] = s.log_fsyncs;
        d["log_entries_written"] = s.log_entries_written;
        d["rejected_messages"] = s.rejected_messages;
        d["peer_messages_refused"] = s.peer_messages_refused;
        d["alarm"] = s.alarm;
        d["hash_verified_index"] = s.hash_verified_index;
        return d;
      },
      py::arg("endpoint"), py::arg("timeout") = 2.0, py::arg("cacert") = "",
      py::arg("cert") = "", py::arg("key") = "",
      "The node's Raft status as a dict (id, leader, term, role, commit_index, applied_index,\n"
      "first_index, last_index, members, client_address, peer_address, fault_injection, pid,\n"
      "snapshot_index, log_fsyncs, log_entries_written, rejected_messages,\n"
      "peer_messages_refused, alarm (non-empty: CORRUPT), hash_verified_index).\n"
      "cacert/cert/key: TLS files (PEM paths) for a server with TLS on its client port.");
  m.def(
      "admin_set_faults",
      [](const std::string& endpoint, std::vector<uint64_t> dropped_peers, double drop_probability,
         double timeout, const std::string& cacert, const std::string& cert,
         const std::string& key) {
        prod::AdminSetFaultsRequest req{std::move(dropped_peers), drop_probability};
        net::RpcClient& client = AdminClient({cacert, cert, key});
        Result<prod::AdminSetFaultsResponse> r = [&] {
          py::gil_scoped_release release;
          return client.CallSync<prod::AdminSetFaultsMethod>(endpoint, req, Deadline(timeout));
        }();
        ValueOrThrow(std::move(r));
      },
      py::arg("endpoint"), py::arg("dropped_peers"), py::arg("drop_probability") = 0.0,
      py::arg("timeout") = 2.0, py::arg("cacert") = "", py::arg("cert") = "",
      py::arg("key") = "",
      "Makes the node drop all traffic to and from `dropped_peers` (replacing the previous\n"
      "set) and each other message with `drop_probability`. Needs --enable-fault-injection\n"
      "(NotSupportedError otherwise). cacert/cert/key: as for admin_status.");
}

}  // namespace tinykv::python
