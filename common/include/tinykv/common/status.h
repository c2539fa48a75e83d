// Status: the outcome of an operation that can fail for operating reasons
// (a missing file, a corrupt record, a lost leader). Errors are values in
// TinyKV (docs/style.md, "Errors"): no exception crosses a layer boundary.
//
// Shaped like leveldb::Status. An OK status holds no allocation; an error
// holds a code and a message. Statuses are cheap to copy and move.
//
// Thread safety: a const Status may be read from several threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace tinykv {

class [[nodiscard]] Status {
 public:
  // Codes are stable: the RPC layer sends them on the wire, and the Python
  // bindings map each one to an exception class (python/tinykv/errors.py).
  enum class Code : unsigned char {
    kOk = 0,
    kNotFound = 1,
    kCorruption = 2,
    kNotSupported = 3,
    kInvalidArgument = 4,
    kIOError = 5,
    kNotLeader = 6,         // this node is not the Raft leader; message may name the leader
    kTimeout = 7,           // a deadline passed
    kAborted = 8,           // the operation was abandoned (e.g. a Raft proposal dropped)
    kUnavailable = 9,       // a peer or service cannot be reached right now; retrying may help
    kCancelled = 10,        // the caller cancelled, or the component shut down
    kBusy = 11,             // temporarily refused under load (write stall, queue full)
    kAlreadyExists = 12,
    kConflict = 13,         // a transaction write conflict (phase 4)
    kResourceExhausted = 14,  // a limit was hit (frame size, uncommitted bytes, disk full)
  };

  Status() noexcept = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg) { return Status(Code::kNotFound, msg); }
  static Status Corruption(std::string_view msg) { return Status(Code::kCorruption, msg); }
  static Status NotSupported(std::string_view msg) { return Status(Code::kNotSupported, msg); }
  static Status InvalidArgument(std::string_view msg) {
    return Status(Code::kInvalidArgument, msg);
  }
  static Status IOError(std::string_view msg) { return Status(Code::kIOError, msg); }
  static Status NotLeader(std::string_view msg) { return Status(Code::kNotLeader, msg); }
  static Status Timeout(std::string_view msg) { return Status(Code::kTimeout, msg); }
  static Status Aborted(std::string_view msg) { return Status(Code::kAborted, msg); }
  static Status Unavailable(std::string_view msg) { return Status(Code::kUnavailable, msg); }
  static Status Cancelled(std::string_view msg) { return Status(Code::kCancelled, msg); }
  static Status Busy(std::string_view msg) { return Status(Code::kBusy, msg); }
  static Status AlreadyExists(std::string_view msg) { return Status(Code::kAlreadyExists, msg); }
  static Status Conflict(std::string_view msg) { return Status(Code::kConflict, msg); }
  static Status ResourceExhausted(std::string_view msg) {
    return Status(Code::kResourceExhausted, msg);
  }
  // Builds a status from a wire code. An unknown code becomes kCorruption, so
  // a peer speaking a newer protocol cannot make us misreport success.
  static Status FromCode(int code, std::string_view msg, std::string detail = {});

  bool ok() const { return rep_ == nullptr; }
  Code code() const { return rep_ ? rep_->code : Code::kOk; }
  // The message without the code's name; empty for OK.
  std::string_view message() const { return rep_ ? std::string_view(rep_->message) : ""; }

  bool IsNotFound() const { return code() == Code::kNotFound; }
  bool IsCorruption() const { return code() == Code::kCorruption; }
  bool IsNotSupported() const { return code() == Code::kNotSupported; }
  bool IsInvalidArgument() const { return code() == Code::kInvalidArgument; }
  bool IsIOError() const { return code() == Code::kIOError; }
  bool IsNotLeader() const { return code() == Code::kNotLeader; }
  bool IsTimeout() const { return code() == Code::kTimeout; }
  bool IsAborted() const { return code() == Code::kAborted; }
  bool IsUnavailable() const { return code() == Code::kUnavailable; }
  bool IsCancelled() const { return code() == Code::kCancelled; }
  bool IsBusy() const { return code() == Code::kBusy; }
  bool IsAlreadyExists() const { return code() == Code::kAlreadyExists; }
  bool IsConflict() const { return code() == Code::kConflict; }
  bool IsResourceExhausted() const { return code() == Code::kResourceExhausted; }

  // "OK", or "<CodeName>: <message>", e.g. "Corruption: 000005.log offset 4096: bad crc".
  std::string ToString() const;

  // Returns a copy with "<context>: " prepended to the message; OK stays OK.
  // The detail (below) is kept.
  Status WithContext(std::string_view context) const;

  // A machine-readable payload next to the message, e.g. where a request
  // should have gone (routing_error.h). Opaque here; its first byte names its
  // kind (StatusDetailKind). It travels with the code and message on the
  // wire, so callers read fields instead of parsing messages. OK never has one.
  Status WithDetail(std::string detail) const;
  std::string_view detail() const { return rep_ ? std::string_view(rep_->detail) : ""; }

  // Explicitly discards a status. Ignoring an error must be written out so
  // reviewers see it: `DeleteFile(tmp).IgnoreError();`.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  struct Rep {
    Code code;
    std::string message;
    std::string detail;
  };
  Status(Code code, std::string_view msg, std::string detail = {})
      : rep_(std::make_shared<const Rep>(Rep{code, std::string(msg), std::move(detail)})) {}

  // Shared and immutable: copies are a reference-count bump.
  std::shared_ptr<const Rep> rep_;
};

// The name of a code, e.g. "NotFound".
std::string_view StatusCodeName(Status::Code code);

// The first byte of a Status detail: what the rest of it encodes.
enum class StatusDetailKind : unsigned char {
  kRouting = 1,   // a RoutingError (routing_error.h)
  kKeyError = 2,  // a transaction KeyError (phase4_txn: txn/key_error.h)
  kWatch = 3,     // why a watch stream ended, and where to go on (phase4_txn: txn/watch_error.h)
};

}  // namespace tinykv

// Evaluates `expr` (a Status) and returns it from the enclosing function if not OK.
#define TINYKV_RETURN_IF_ERROR(expr)              \
  do {                                            \
    ::tinykv::Status _tinykv_status = (expr);     \
    if (!_tinykv_status.ok()) return _tinykv_status; \
  } while (0)

// The same for coroutines (Asio handlers): co_returns the status if not OK.
#define TINYKV_CO_RETURN_IF_ERROR(expr)                 \
  do {                                                  \
    ::tinykv::Status _tinykv_status = (expr);           \
    if (!_tinykv_status.ok()) co_return _tinykv_status; \
  } while (0)
