// tinykv._core.common: checksums and encodings, mostly so that tests and
// notebooks can decode on-disk and wire formats by hand.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>

#include "tinykv/common/coding.h"
#include "tinykv/common/crc32c.h"
#include "tinykv/common/logging.h"
#include "status_py.h"

namespace py = pybind11;

namespace tinykv::python {

void BindCommon(py::module_& m) {
  m.doc() = "Shared primitives: CRC32C and varint encoding.";
  m.def(
      "crc32c",
      [](py::bytes data, uint32_t init) {
        const std::string_view v = data;
        return crc32c::Extend(init, v.data(), v.size());
      },
      py::arg("data"), py::arg("init") = 0,
      "CRC32C (Castagnoli) of data; with init, extends a previous CRC.");
  m.def("crc32c_mask", &crc32c::Mask, py::arg("crc"), "The masked form stored next to data.");
  m.def("crc32c_unmask", &crc32c::Unmask, py::arg("masked"));
  m.def("crc32c_hardware", &crc32c::HardwareAccelerated,
        "True when the SSE4.2 instruction is used.");
  m.def(
      "encode_varint",
      [](uint64_t v) {
        std::string s;
        PutVarint64(&s, v);
        return py::bytes(s);
      },
      py::arg("value"), "LEB128 varint encoding of an unsigned 64-bit integer.");
  m.def(
      "decode_varint",
      [](py::bytes data) {
        const std::string_view v = data;
        Slice in(v);
        uint64_t out;
        if (!GetVarint64(&in, &out)) {
          ThrowStatus(Status::Corruption("truncated or overlong varint"));
        }
        return py::make_tuple(out, v.size() - in.size());
      },
      py::arg("data"), "Decodes a varint at the start of data: returns (value, bytes_used).");
  m.def(
      "configure_logging",
      [](const std::string& level, const std::string& format, std::optional<std::string> file) {
        logging::LogOptions o;
        o.level = level;
        o.format = format;
        o.file = file.value_or("");
        ThrowIfError(logging::Init(o));
      },
      py::arg("level") = "info", py::arg("format") = "text", py::arg("file") = py::none(),
      "Where the C++ core's log lines go: level (trace, debug, info, warn, error, critical, "
      "off), format (text or json), file (None: stderr; else appended to that file). "
      "Default: info, text, stderr. Call it before starting nodes or servers.");
}

}  // namespace tinykv::python
