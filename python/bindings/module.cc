// PYBIND11_MODULE(_core): one compiled module; one submodule per phase.
// Each phase's binder lives in <phase>/bindings/<phase>_py.cc.
#include <pybind11/pybind11.h>

#include "status_py.h"

namespace py = pybind11;

namespace tinykv::python {
void BindCommon(py::module_& m);
void BindStorage(py::module_& m);
void BindNet(py::module_& m);
void BindRaft(py::module_& m);
void BindProd(py::module_& m);
void BindClient(py::module_& m);
void BindRaftNode(py::module_& m);
}  // namespace tinykv::python

PYBIND11_MODULE(_core, m) {
  m.doc() = "TinyKV's C++ core. Import the public names from the tinykv package instead.";
  tinykv::python::RegisterErrors(m);
  auto common = m.def_submodule("common");
  tinykv::python::BindCommon(common);
  auto storage = m.def_submodule("storage");
  tinykv::python::BindStorage(storage);
  auto net = m.def_submodule("net");
  tinykv::python::BindNet(net);
  auto raft = m.def_submodule("raft");
  tinykv::python::BindRaft(raft);
  auto prod = m.def_submodule("prod");
  tinykv::python::BindProd(prod);
  auto client = m.def_submodule("client");
  tinykv::python::BindClient(client);
  tinykv::python::BindRaftNode(raft);
}
