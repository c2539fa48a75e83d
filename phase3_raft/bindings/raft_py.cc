// tinykv._core.raft: the deterministic simulator (SimCluster) and the codec,
// for pytest and notebooks. Semantics are pinned in docs/architecture.md
// ("Simulator semantics"); python/tinykv/raft.py re-exports these names.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "status_py.h"
#include "tinykv/raft/codec.h"
#include "tinykv/raft/sim_cluster.h"

namespace py = pybind11;

namespace tinykv::python {
namespace {

using raft::sim::SimCluster;

py::list Ids(const std::vector<uint64_t>& ids) {
  py::list l;
  for (uint64_t id : ids) l.append(id);
  return l;
}

py::dict MembersDict(const raft::ConfState& cs) {
  py::dict d;
  d["voters"] = Ids(cs.voters);
  d["learners"] = Ids(cs.learners);
  d["voters_outgoing"] = Ids(cs.voters_outgoing);
  d["learners_next"] = Ids(cs.learners_next);
  return d;
}

// Runs until the (index, term) entry is applied somewhere; returns index.
uint64_t WaitConf(SimCluster& c, Result<std::pair<uint64_t, uint64_t>> r, int max_ticks) {
  auto p = ValueOrThrow(std::move(r));
  ThrowIfError(c.WaitApplied(p.first, p.second, max_ticks));
  return p.first;
}

}  // namespace

void BindRaft(py::module_& m) {
  m.doc() = "Raft: the deterministic cluster simulator (SimCluster) and the message codec.";

  py::class_<raft::sim::NodeInfo>(m, "NodeInfo", "A snapshot of one simulated node's Raft state.")
      .def_readonly("id", &raft::sim::NodeInfo::id)
      .def_readonly("alive", &raft::sim::NodeInfo::alive)
      .def_property_readonly(
          "role", [](const raft::sim::NodeInfo& n) { return raft::StateRoleName(n.role); },
          "'follower', 'candidate', 'pre_candidate' or 'leader' (a crashed node: 'follower').")
      .def_readonly("term", &raft::sim::NodeInfo::term)
      .def_readonly("vote", &raft::sim::NodeInfo::vote, "votedFor (0: none)")
      .def_readonly("lead", &raft::sim::NodeInfo::lead, "the leader it believes in (0: none)")
      .def_readonly("commit_index", &raft::sim::NodeInfo::commit_index)
      .def_readonly("applied_index", &raft::sim::NodeInfo::applied_index)
      .def_readonly("first_index", &raft::sim::NodeInfo::first_index)
      .def_readonly("last_index", &raft::sim::NodeInfo::last_index)
      .def("__repr__", [](const raft::sim::NodeInfo& n) {
        return "<NodeInfo id=" + std::to_string(n.id) + " role=" + raft::StateRoleName(n.role) +
               " term=" + std::to_string(n.term) + " commit=" + std::to_string(n.commit_index) +
               " last=" + std::to_string(n.last_index) + (n.alive ? "" : " crashed") + ">";
      });

  py::class_<SimCluster>(m, "SimCluster", R"doc(
A deterministic simulated Raft cluster (virtual time in ticks, one seed).

The same seed and the same calls give the identical trace(). Node ids are
1..n. Roles are the strings 'follower', 'candidate', 'pre_candidate' and
'leader'. docs/architecture.md ("Simulator semantics") pins the behaviour.
)doc")
      .def(py::init([](int n, uint64_t seed, int election_ticks, int heartbeat_ticks, bool pre_vote,
                       bool check_quorum, uint64_t max_uncommitted_bytes, int max_inflight_msgs,
                       uint64_t max_msg_bytes, bool lease_reads, bool check_invariants,
                       bool trace_messages, bool check_each_step) {
             if (n < 1) ThrowStatus(Status::InvalidArgument("n must be >= 1"));
             if (election_ticks <= heartbeat_ticks || heartbeat_ticks <= 0) {
               ThrowStatus(Status::InvalidArgument("need 0 < heartbeat_ticks < election_ticks"));
             }
             if (max_inflight_msgs <= 0 || max_msg_bytes == 0) {
               ThrowStatus(Status::InvalidArgument("flow control limits must be positive"));
             }
             if (lease_reads && !check_quorum) {
               ThrowStatus(Status::InvalidArgument("lease_reads requires check_quorum"));
             }
             raft::sim::SimOptions o;
             o.n = n;
             o.seed = seed;
             o.election_ticks = election_ticks;
             o.heartbeat_ticks = heartbeat_ticks;
             o.pre_vote = pre_vote;
             o.check_quorum = check_quorum;
             o.max_uncommitted_bytes = max_uncommitted_bytes;
             o.max_inflight_msgs = max_inflight_msgs;
             o.max_msg_bytes = max_msg_bytes;
             o.read_only_option =
                 lease_reads ? raft::ReadOnlyOption::kLeaseBased : raft::ReadOnlyOption::kSafe;
             o.check_invariants = check_invariants;
             o.trace_messages = trace_messages;
             o.check_each_step = check_each_step;
             return std::make_unique<SimCluster>(o);
           }),
           py::arg("n") = 3, py::arg("seed") = 1, py::arg("election_ticks") = 10,
           py::arg("heartbeat_ticks") = 1, py::arg("pre_vote") = true,
           py::arg("check_quorum") = true, py::arg("max_uncommitted_bytes") = 0,
           py::arg("max_inflight_msgs") = 256, py::arg("max_msg_bytes") = 1 << 20,
           py::arg("lease_reads") = false, py::arg("check_invariants") = true,
           py::arg("trace_messages") = false, py::arg("check_each_step") = false)
      .def_property_readonly("now", &SimCluster::now, "Virtual time in ticks.")
      .def_property_readonly("seed", [](const SimCluster& c) { return c.options().seed; })
      .def("nodes", &SimCluster::NodeIds, "Ids of every node ever created.")
      .def("alive", &SimCluster::Alive, py::arg("i"))
      .def(
          "tick", [](SimCluster& c, int n) { c.Tick(n); }, py::arg("n") = 1,
          "Advances virtual time by n ticks, delivering messages and processing Ready.")
      .def(
          "run_until",
          [](SimCluster& c, const std::function<bool()>& pred, int max_ticks) {
            for (int i = 0; i < max_ticks; ++i) {
              if (pred()) return true;
              c.Tick(1);
            }
            return pred();
          },
          py::arg("predicate"), py::arg("max_ticks") = 1000,
          "Ticks until predicate() is true (checked before each tick); False if max_ticks pass.")
      .def("leader", &SimCluster::Leader,
           "Among live nodes whose role is leader, the one with the highest term; else None.")
      .def(
          "node", [](const SimCluster& c, uint64_t i) { return ValueOrThrow(c.Node(i)); },
          py::arg("i"))
      .def(
          "propose",
          [](SimCluster& c, py::bytes data, std::optional<uint64_t> node) {
            return ValueOrThrow(c.Propose(std::string(data), node));
          },
          py::arg("data"), py::arg("node") = py::none(),
          "Proposes data on the leader (or on `node`, which must be it); returns the entry's "
          "index. Raises NotLeaderError where there is no leader, ResourceExhaustedError when "
          "the uncommitted tail is full.")
      .def(
          "read_index",
          [](SimCluster& c, std::optional<uint64_t> node, std::optional<int> max_ticks) {
            return ValueOrThrow(
                c.ReadIndex(node, max_ticks.value_or(10 * c.options().election_ticks)));
          },
          py::arg("node") = py::none(), py::arg("max_ticks") = py::none(),
          "Linearizable read point: runs until confirmed; raises NotLeaderError (no leader), "
          "UnavailableError (read failed by a leader change) or TimeoutError.")
      .def(
          "campaign", [](SimCluster& c, uint64_t i) { ThrowIfError(c.Campaign(i)); }, py::arg("i"),
          "Makes node i start an election now.")
      .def(
          "log",
          [](const SimCluster& c, uint64_t i) {
            py::list out;
            for (const auto& e : ValueOrThrow(c.Log(i))) {
              out.append(py::make_tuple(e.index, e.term, py::bytes(e.data)));
            }
            return out;
          },
          py::arg("i"), "Entries first_index..last_index as (index, term, data) tuples.")
      .def(
          "log_types",
          [](const SimCluster& c, uint64_t i) {
            py::list out;
            for (const auto& e : ValueOrThrow(c.Log(i))) {
              out.append(e.type == raft::EntryType::kNormal ? "normal" : "conf_change");
            }
            return out;
          },
          py::arg("i"), "The type of every entry of log(i): 'normal' or 'conf_change'.")
      .def(
          "applied",
          [](const SimCluster& c, uint64_t i) {
            py::list out;
            for (const auto& d : ValueOrThrow(c.Applied(i))) out.append(py::bytes(d));
            return out;
          },
          py::arg("i"), "Every non-empty payload node i applied, in order.")
      .def(
          "members",
          [](const SimCluster& c, uint64_t i) { return MembersDict(ValueOrThrow(c.Members(i))); },
          py::arg("i"))
      .def("partition", &SimCluster::Partition, py::arg("groups"),
           "Replaces any partition; a node in no group is alone.")
      .def("heal", &SimCluster::Heal, "Removes partitions and cut links.")
      .def("cut", &SimCluster::Cut, py::arg("a"), py::arg("b"))
      .def("restore", &SimCluster::RestoreLink, py::arg("a"), py::arg("b"))
      .def(
          "set_faults",
          [](SimCluster& c, double drop, double duplicate, std::pair<uint64_t, uint64_t> delay,
             bool reorder) {
            if (drop < 0 || drop > 1 || duplicate < 0 || duplicate > 1 ||
                delay.first > delay.second) {
              ThrowStatus(Status::InvalidArgument("bad fault parameters"));
            }
            c.SetFaults(raft::sim::Faults{drop, duplicate, delay.first, delay.second, reorder});
          },
          py::arg("drop") = 0.0, py::arg("duplicate") = 0.0,
          py::arg("delay") = std::pair<uint64_t, uint64_t>{0, 0}, py::arg("reorder") = false,
          "Message faults; delay=(lo, hi) in ticks.")
      .def(
          "crash", [](SimCluster& c, uint64_t i) { ThrowIfError(c.Crash(i)); }, py::arg("i"))
      .def(
          "restart", [](SimCluster& c, uint64_t i) { ThrowIfError(c.Restart(i)); }, py::arg("i"))
      .def(
          "add_member",
          [](SimCluster& c, uint64_t i, bool learner, int max_ticks) {
            return WaitConf(c, c.AddMember(i, learner), max_ticks);
          },
          py::arg("i"), py::arg("learner") = false, py::arg("max_ticks") = 200,
          "Creates node i and adds it (as a learner if asked); returns when the change is "
          "applied (the conf change's index). BusyError if a change is pending.")
      .def(
          "promote",
          [](SimCluster& c, uint64_t i, int max_ticks) {
            return WaitConf(c, c.Promote(i), max_ticks);
          },
          py::arg("i"), py::arg("max_ticks") = 200)
      .def(
          "remove_member",
          [](SimCluster& c, uint64_t i, int max_ticks) {
            return WaitConf(c, c.RemoveMember(i), max_ticks);
          },
          py::arg("i"), py::arg("max_ticks") = 200,
          "Removes i; the node keeps running (until crash(i)) and must not disrupt the cluster.")
      .def(
          "change_members",
          [](SimCluster& c, std::vector<uint64_t> add, std::vector<uint64_t> remove,
             std::vector<uint64_t> add_learners, int max_ticks) {
            raft::ConfChangeV2 cc;
            cc.transition = raft::ConfChangeTransition::kJointImplicit;
            for (uint64_t i : add) cc.changes.push_back({raft::ConfChangeType::kAddNode, i});
            for (uint64_t i : remove) cc.changes.push_back({raft::ConfChangeType::kRemoveNode, i});
            for (uint64_t i : add_learners) {
              cc.changes.push_back({raft::ConfChangeType::kAddLearnerNode, i});
            }
            return WaitConf(c, c.ProposeConfChange(cc), max_ticks);
          },
          py::arg("add") = std::vector<uint64_t>{}, py::arg("remove") = std::vector<uint64_t>{},
          py::arg("add_learners") = std::vector<uint64_t>{}, py::arg("max_ticks") = 200,
          "Joint consensus (C_old,new, left automatically). Nodes must exist (add_member as "
          "learners first). Returns when the enter-joint entry is applied.")
      .def(
          "transfer_leader",
          [](SimCluster& c, uint64_t i, int max_ticks) {
            ThrowIfError(c.TransferLeader(i));
            for (int t = 0; t < max_ticks; ++t) {
              if (c.Leader() == i) return true;
              c.Tick(1);
            }
            return c.Leader() == i;
          },
          py::arg("i"), py::arg("max_ticks") = 50,
          "Asks the leader to hand over to i; True once i leads (False if the transfer was "
          "aborted after an election timeout or max_ticks passed).")
      .def(
          "compact",
          [](SimCluster& c, uint64_t i, uint64_t index) { ThrowIfError(c.Compact(i, index)); },
          py::arg("i"), py::arg("index"),
          "Snapshot of node i's state machine at index (<= applied) and log truncation.")
      .def(
          "stats",
          [](const SimCluster& c) {
            py::dict d, msgs;
            for (const auto& [k, v] : c.stats().messages) msgs[py::str(k)] = v;
            d["messages"] = msgs;
            d["bytes"] = c.stats().bytes;
            return d;
          },
          "{'messages': {etcd type name: count sent}, 'bytes': encoded bytes sent}")
      .def("reset_stats", &SimCluster::ResetStats)
      .def(
          "trace",
          [](const SimCluster& c) {
            py::list out;
            for (const auto& e : c.trace()) {
              py::dict d;
              d["tick"] = e.tick;
              d["node"] = e.node;
              d["term"] = e.term;
              d["event"] = e.event;
              d["detail"] = e.detail;
              out.append(d);
            }
            return out;
          },
          "Events as dicts: tick, node (0: the network), term, event, detail.")
      .def("trace_lines",
           [](const SimCluster& c) {
             std::vector<std::string> out;
             for (const auto& e : c.trace()) out.push_back(e.ToString());
             return out;
           })
      .def("violations", &SimCluster::violations,
           "Safety violations found by the invariant checker (empty when all is well).");

  m.def(
      "encode_message_size",
      [](const std::string& type, uint64_t entries, uint64_t entry_bytes) {
        raft::Message msg;
        for (int t = 0; t < raft::kNumMessageTypes; ++t) {
          if (raft::MessageTypeName(static_cast<raft::MessageType>(t)) == type) {
            msg.type = static_cast<raft::MessageType>(t);
          }
        }
        msg.entries.resize(entries);
        for (auto& e : msg.entries) e.data.assign(entry_bytes, 'x');
        return raft::EncodedMessageSize(msg);
      },
      py::arg("type"), py::arg("entries") = 0, py::arg("entry_bytes") = 0,
      "Encoded size of a message of this type carrying entries of entry_bytes each.");
}

}  // namespace tinykv::python
