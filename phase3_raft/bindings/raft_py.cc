#include <pybind11/pybind11.h>
namespace tinykv::python { void BindRaft(pybind11::module_&) {} }
