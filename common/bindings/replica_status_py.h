// The Raft position that every status the bindings expose carries -- a
// node's own (replica::KvNodeStatus), the client protocol's StatusResponse and
// tinykv-server's admin status -- written as Python dict entries in one
// place, so the three dicts share their keys. Duck-typed: any struct with
// these fields works, and the common layer needs no Raft headers.
#pragma once

#include <pybind11/pybind11.h>

namespace tinykv::python {

template <typename ReplicaStatus>
void PutReplicaPosition(pybind11::dict& d, const ReplicaStatus& s) {
  d["id"] = s.id;
  d["leader"] = s.leader;
  d["term"] = s.term;
  d["role"] = s.role;
  d["commit_index"] = s.commit_index;
  d["applied_index"] = s.applied_index;
  d["first_index"] = s.first_index;
  d["last_index"] = s.last_index;
}

}  // namespace tinykv::python
