// tinykv._core.raft.KvNode: one real replicated node (KvNode) for Python.
// python/tinykv/raft.py builds LocalCluster on top. Every blocking call
// releases the GIL.
#include <pybind11/pybind11.h>

#include <vector>
#include <pybind11/stl.h>

#include "bytes_py.h"
#include "replica_status_py.h"
#include "status_py.h"
#include "tinykv/replica/kv_node.h"

namespace py = pybind11;

namespace tinykv::python {
namespace {

// Members as (id, peer_address, learner) tuples.
py::list MemberTuples(const std::vector<replica::MemberInfo>& members) {
  py::list out;
  for (const auto& mi : members) out.append(py::make_tuple(mi.id, mi.peer_address, mi.learner));
  return out;
}

using replica::KvCommand;
using replica::KvCommandResult;
using replica::KvNode;

std::chrono::milliseconds Ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

KvCommandResult Run(KvNode& n, KvCommand c, double timeout) {
  auto r = [&] {
    py::gil_scoped_release nogil;
    return n.ProposeSync(std::move(c), Ms(timeout));
  }();
  return ValueOrThrow(std::move(r));
}

py::object OptBytes(const std::optional<std::string>& v) {
  if (!v) return py::none();
  return py::bytes(*v);
}

}  // namespace

void BindRaftNode(py::module_& m) {
  py::class_<KvNode>(m, "KvNode",
                     "One real Raft node: durable log, KV state machine over the LSM engine, "
                     "peer RPC on 127.0.0.1. Writes go to the leader (NotLeaderError elsewhere).")
      .def(py::init([](uint64_t id, const std::string& data_dir,
                       std::map<uint64_t, std::string> peers, int tick_ms, int election_ticks,
                       uint64_t snapshot_threshold, bool sync, std::string peer_listen,
                       bool join_existing) {
             replica::KvNodeOptions o;
             o.id = id;
             o.data_dir = data_dir;
             o.peers = std::move(peers);
             o.tick_ms = tick_ms;
             o.election_ticks = election_ticks;
             o.snapshot_threshold = snapshot_threshold;
             o.sync = sync;
             o.peer_listen = std::move(peer_listen);
             o.join_existing = join_existing;
             o.io_threads = 1;
             KvNode* node = nullptr;
             Status s;
             {
               py::gil_scoped_release nogil;
               auto r = KvNode::Open(o);
               if (r.ok()) {
                 node = r->release();
               } else {
                 s = r.status();
               }
             }
             ThrowIfError(s);
             return std::unique_ptr<KvNode>(node);
           }),
           py::arg("id"), py::arg("data_dir"), py::arg("peers"), py::arg("tick_ms") = 50,
           py::arg("election_ticks") = 10, py::arg("snapshot_threshold") = 10000,
           py::arg("sync") = true, py::arg("peer_listen") = "127.0.0.1:0",
           py::arg("join_existing") = false)
      .def_property_readonly("peer_port", &KvNode::peer_port)
      .def("set_peer_address", &KvNode::SetPeerAddress, py::arg("id"), py::arg("address"))
      .def(
          "put",
          [](KvNode& n, const BytesArg& k, const BytesArg& v, double timeout,
             uint64_t client_id, uint64_t seq) {
            KvCommand c;
            c.op = KvCommand::Op::kPut;
            c.key = k.str();
            c.value = v.str();
            c.client_id = client_id;
            c.request_seq = seq;
            return Run(n, std::move(c), timeout).index;
          },
          py::arg("key"), py::arg("value"), py::arg("timeout") = 5.0, py::arg("client_id") = 0,
          py::arg("seq") = 0, "Replicated put; returns the raft index it applied at.")
      .def(
          "delete",
          [](KvNode& n, const BytesArg& k, double timeout, uint64_t client_id, uint64_t seq) {
            KvCommand c;
            c.op = KvCommand::Op::kDelete;
            c.key = k.str();
            c.client_id = client_id;
            c.request_seq = seq;
            return Run(n, std::move(c), timeout).index;
          },
          py::arg("key"), py::arg("timeout") = 5.0, py::arg("client_id") = 0, py::arg("seq") = 0)
      .def(
          "delete_range",
          [](KvNode& n, const BytesArg& start, const std::optional<BytesArg>& end,
             double timeout) {
            KvCommand c;
            c.op = KvCommand::Op::kDeleteRange;
            c.key = start.str();
            c.value = end ? end->str() : "";
            return Run(n, std::move(c), timeout).deleted;
          },
          py::arg("start"), py::arg("end") = py::none(), py::arg("timeout") = 5.0,
          "Deletes keys in [start, end) (end None or b'': unbounded); returns how many.")
      .def(
          "cas",
          [](KvNode& n, const BytesArg& k, const std::optional<BytesArg>& expected,
             const BytesArg& v, double timeout, uint64_t client_id, uint64_t seq) {
            KvCommand c;
            c.op = KvCommand::Op::kCas;
            c.key = k.str();
            if (expected) c.expected = expected->str();
            c.value = v.str();
            c.client_id = client_id;
            c.request_seq = seq;
            KvCommandResult r = Run(n, std::move(c), timeout);
            return py::make_tuple(r.succeeded, OptBytes(r.current));
          },
          py::arg("key"), py::arg("expected"), py::arg("new"), py::arg("timeout") = 5.0,
          py::arg("client_id") = 0, py::arg("seq") = 0,
          "Compare-and-swap; expected None = key must be absent. Returns (ok, current).")
      .def(
          "member_change",
          [](KvNode& n, const std::string& op, uint64_t id, const std::string& peer_address,
             const std::string& client_address, double timeout) {
            replica::MemberChange ch;
            if (op == "add_voter") {
              ch.type = replica::MemberChange::Type::kAddVoter;
            } else if (op == "add_learner") {
              ch.type = replica::MemberChange::Type::kAddLearner;
            } else if (op == "promote") {
              ch.type = replica::MemberChange::Type::kPromote;
            } else if (op == "remove") {
              ch.type = replica::MemberChange::Type::kRemove;
            } else {
              ThrowIfError(Status::InvalidArgument("unknown member change " + op));
            }
            ch.id = id;
            ch.peer_address = peer_address;
            ch.client_address = client_address;
            auto r = [&] {
              py::gil_scoped_release nogil;
              return n.ProposeMemberChangeSync(std::move(ch), Ms(timeout));
            }();
            replica::MemberChangeResult res = ValueOrThrow(std::move(r));
            py::dict d;
            d["index"] = res.index;
            d["members"] = MemberTuples(res.members);
            return d;
          },
          py::arg("op"), py::arg("id"), py::arg("peer_address") = "",
          py::arg("client_address") = "", py::arg("timeout") = 5.0,
          "Membership change on the leader (op: add_voter, add_learner, promote, remove); "
          "returns {index, members: [(id, peer_address, learner)]} once applied. BusyError "
          "while another change is pending.")
      .def(
          "read_barrier",
          [](KvNode& n, double timeout) {
            Status s;
            {
              py::gil_scoped_release nogil;
              s = n.ReadBarrierSync(Ms(timeout));
            }
            ThrowIfError(s);
          },
          py::arg("timeout") = 5.0, "ReadIndex: after it returns, local reads are linearizable.")
      .def(
          "get",
          [](KvNode& n, const BytesArg& k) {
            auto r = [&] {
              py::gil_scoped_release nogil;
              return n.Get(k.str());
            }();
            return OptBytes(ValueOrThrow(std::move(r)));
          },
          py::arg("key"), "Local (serializable) read of the state machine.")
      .def(
          "scan",
          [](KvNode& n, const BytesArg& start, const std::optional<BytesArg>& end,
             size_t limit) {
            auto r = [&] {
              py::gil_scoped_release nogil;
              return n.Scan(start.str(), end ? end->str() : "", limit);  // None or "": unbounded
            }();
            py::list out;
            for (auto& [k, v] : ValueOrThrow(std::move(r)))
              out.append(py::make_tuple(py::bytes(k), py::bytes(v)));
            return out;
          },
          py::arg("start") = "", py::arg("end") = py::none(), py::arg("limit") = 1000000)
      .def("status",
           [](KvNode& n) {
             replica::KvNodeStatus s;
             {
               py::gil_scoped_release nogil;
               s = n.GetStatus();
             }
             py::dict d;
             PutReplicaPosition(d, s);
             d["snapshot_index"] = s.snapshot_index;
             d["log_fsyncs"] = s.log_fsyncs;
             d["log_entries_written"] = s.log_entries_written;
             d["members"] = MemberTuples(s.members);
             d["alarm"] = s.alarm;
             d["hash_verified_index"] = s.hash_verified_index;
             return d;
           })
      .def(
          "transfer_leadership",
          [](KvNode& n, uint64_t to, double timeout) {
            Status s;
            {
              py::gil_scoped_release nogil;
              s = n.TransferLeadership(to, Ms(timeout));
            }
            ThrowIfError(s);
          },
          py::arg("to") = 0, py::arg("timeout") = 5.0)
      .def("set_dropped_peers", &KvNode::SetDroppedPeers, py::arg("peers"))
      .def("set_drop_probability", &KvNode::SetDropProbability, py::arg("p"))
      .def("stop", [](KvNode& n) {
        py::gil_scoped_release nogil;
        n.Stop();
      });
}

}  // namespace tinykv::python
