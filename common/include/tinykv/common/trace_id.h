// Trace ids: one per client request, so that one request's path through the
// cluster can be read off the logs. The client picks it (NewTraceId), the
// request frame carries it (phase2_net frame.h, version 2), the server hands
// it to the handler (ServerCall::trace_id), and a write carries it inside its
// Raft entry to every member that applies it (phase4_txn txn_command.h,
// KvWriteCmd). Log lines name it in the field "trace", written as 16
// lowercase hex digits (FormatTraceId), e.g. trace=00c0ffee12345678.
//
// 0 means "no trace id" everywhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tinykv {

// A fresh random trace id, never 0. Thread-safe.
uint64_t NewTraceId();
// 16 lowercase hex digits.
std::string FormatTraceId(uint64_t id);
// The inverse of FormatTraceId (1..16 hex digits, either case); nullopt for
// anything else, and for 0.
std::optional<uint64_t> ParseTraceId(std::string_view text);

}  // namespace tinykv
