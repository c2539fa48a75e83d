#include "status_py.h"

#include <string>

#include "tinykv/common/routing_error.h"

namespace py = pybind11;

namespace tinykv::python {
namespace {

// Class names in tinykv.errors, by Status code.
const char* ErrorClassName(Status::Code code) {
  switch (code) {
    case Status::Code::kNotFound: return "NotFoundError";
    case Status::Code::kCorruption: return "CorruptionError";
    case Status::Code::kNotSupported: return "NotSupportedError";
    case Status::Code::kInvalidArgument: return "InvalidArgumentError";
    case Status::Code::kIOError: return "IOError";
    case Status::Code::kNotLeader: return "NotLeaderError";
    case Status::Code::kTimeout: return "TimeoutError";
    case Status::Code::kAborted: return "AbortedError";
    case Status::Code::kUnavailable: return "UnavailableError";
    case Status::Code::kCancelled: return "CancelledError";
    case Status::Code::kBusy: return "BusyError";
    case Status::Code::kAlreadyExists: return "AlreadyExistsError";
    case Status::Code::kConflict: return "TxnConflictError";
    case Status::Code::kResourceExhausted: return "ResourceExhaustedError";
    case Status::Code::kOk: break;
  }
  return "Error";
}

}  // namespace

void RegisterErrors(py::module_& /*m*/) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const StatusException& e) {
      py::object errors = py::module_::import("tinykv.errors");
      py::object cls = errors.attr(ErrorClassName(e.status().code()));
      const std::string msg(e.status().message());
      py::object exc = cls(msg);
      // Typed routing fields (routing_error.h): where the request should
      // have gone. NotLeaderError.leader / .leader_address / .group read them.
      if (auto r = RoutingErrorOf(e.status())) {
        py::dict d;
        d["group"] = r->group;
        d["leader"] = r->leader_id;
        d["leader_address"] = r->leader_address;
        if (r->has_range) {
          d["range_id"] = r->range_id;
          d["range_start"] = py::bytes(r->range_start);
          d["range_end"] = py::bytes(r->range_end);
          d["range_epoch"] = r->range_epoch;
        }
        exc.attr("routing") = d;
      }
      PyErr_SetObject(cls.ptr(), exc.ptr());
    }
  });
}

}  // namespace tinykv::python
