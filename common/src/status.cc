#include "tinykv/common/status.h"

namespace tinykv {

std::string_view StatusCodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return "OK";
    case Status::Code::kNotFound: return "NotFound";
    case Status::Code::kCorruption: return "Corruption";
    case Status::Code::kNotSupported: return "NotSupported";
    case Status::Code::kInvalidArgument: return "InvalidArgument";
    case Status::Code::kIOError: return "IOError";
    case Status::Code::kNotLeader: return "NotLeader";
    case Status::Code::kTimeout: return "Timeout";
    case Status::Code::kAborted: return "Aborted";
    case Status::Code::kUnavailable: return "Unavailable";
    case Status::Code::kCancelled: return "Cancelled";
    case Status::Code::kBusy: return "Busy";
    case Status::Code::kAlreadyExists: return "AlreadyExists";
    case Status::Code::kConflict: return "Conflict";
    case Status::Code::kResourceExhausted: return "ResourceExhausted";
  }
  return "Unknown";
}

Status Status::FromCode(int code, std::string_view msg, std::string detail) {
  if (code == 0) return OK();
  if (code < 0 || code > static_cast<int>(Code::kResourceExhausted)) {
    return Corruption("unknown status code " + std::to_string(code) + ": " + std::string(msg));
  }
  return Status(static_cast<Code>(code), msg, std::move(detail));
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(StatusCodeName(rep_->code));
  if (!rep_->message.empty()) {
    out += ": ";
    out += rep_->message;
  }
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string msg(context);
  msg += ": ";
  msg += rep_->message;
  return Status(rep_->code, msg, rep_->detail);
}

Status Status::WithDetail(std::string detail) const {
  if (ok()) return *this;
  return Status(rep_->code, rep_->message, std::move(detail));
}

}  // namespace tinykv
