// BytesArg: how every binding takes a key or a value from Python.
//
// Accepted: bytes, bytearray, memoryview or any other C-contiguous buffer
// (its raw bytes), and str (encoded as UTF-8). Anything else -- an int, a
// list, None where a key is required -- fails the argument conversion, so
// pybind11 raises TypeError naming the expected types. (pybind11's own
// std::string conversion also takes bytes and str but not memoryview, and
// py::bytes takes only bytes; `bytes(x)` in Python would turn 5 into five
// zero bytes and [1, 2] into b"\x01\x02".)
//
// Zero copy for bytes and str: the view points into the Python object's
// immutable buffer, which the caster keeps alive for the call, so it stays
// valid with the GIL released. Mutable buffers (bytearray, memoryview) are
// copied while the GIL is held: another thread may change them meanwhile.
//
//   m.def("put", [](BytesArg key, BytesArg value) {
//     std::string_view k = key, v = value;   // with the GIL released too
//   });
#pragma once

#include <pybind11/pybind11.h>

#include <optional>
#include <string>
#include <string_view>

namespace tinykv::python {

// Hidden visibility, like pybind11's own types: it holds a py::object.
class __attribute__((visibility("hidden"))) BytesArg {
 public:
  BytesArg() = default;
  // The bytes; valid while this BytesArg lives.
  std::string_view view() const { return owner_ ? borrowed_ : std::string_view(copy_); }
  operator std::string_view() const { return view(); }  // NOLINT: implicit by design
  std::string str() const { return std::string(view()); }
  size_t size() const { return view().size(); }
  bool empty() const { return view().empty(); }

  // Loads from a Python object; false when it is not bytes-like or str.
  bool Load(pybind11::handle src) {
    PyObject* o = src.ptr();
    if (PyBytes_Check(o)) {
      return Borrow(
          src, std::string_view(PyBytes_AS_STRING(o), static_cast<size_t>(PyBytes_GET_SIZE(o))));
    }
    if (PyUnicode_Check(o)) {
      Py_ssize_t n = 0;
      const char* utf8 = PyUnicode_AsUTF8AndSize(o, &n);  // cached in the str object
      if (utf8 == nullptr) {                              // lone surrogates: not encodable
        PyErr_Clear();
        return false;
      }
      return Borrow(src, std::string_view(utf8, static_cast<size_t>(n)));
    }
    if (PyObject_CheckBuffer(o)) {
      Py_buffer buf;
      if (PyObject_GetBuffer(o, &buf, PyBUF_C_CONTIGUOUS) != 0) {
        PyErr_Clear();
        return false;
      }
      copy_.assign(static_cast<const char*>(buf.buf), static_cast<size_t>(buf.len));
      PyBuffer_Release(&buf);
      owner_ = pybind11::object();
      return true;
    }
    return false;
  }

 private:
  bool Borrow(pybind11::handle src, std::string_view v) {
    owner_ = pybind11::reinterpret_borrow<pybind11::object>(src);
    borrowed_ = v;
    return true;
  }

  pybind11::object owner_;  // set: borrowed_ points into it
  std::string_view borrowed_;
  std::string copy_;  // the bytes of a mutable buffer
};

}  // namespace tinykv::python

namespace pybind11::detail {

template <>
struct type_caster<tinykv::python::BytesArg> {
  PYBIND11_TYPE_CASTER(tinykv::python::BytesArg,
                       const_name("bytes | bytearray | memoryview | str"));
  bool load(handle src, bool /*convert*/) { return value.Load(src); }
  static handle cast(const tinykv::python::BytesArg& b, return_value_policy, handle) {
    return bytes(b.view().data(), b.view().size()).release();
  }
};

}  // namespace pybind11::detail
