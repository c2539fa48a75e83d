// Logging through spdlog. One process-wide setup (level and format) and
// named loggers per component ("storage", "net", "raft", ...).
//
// Log lines for state transitions use one fixed, greppable form (docs/style.md, "Logs"),
// e.g. `node=2 term=5 became leader`.
//
// Structured lines: Log(logger, level, msg, {{"node", 2}, {"term", 5}}) attaches
// typed fields to a constant message (etcd's zap fields). Format "text" renders
// them as `key=value` around msg -- the context fields (kContextFields: node,
// group, term) before it, the others after it, in the order given:
//   node=2 term=5 became leader      node=1 group=1 stopped applied=7
// A string value with a blank, '"', '=', a control byte or invalid UTF-8 is
// written as a JSON string literal (so the line stays one line). Format "json"
// writes one JSON object per line: ts (UTC, microseconds), level, logger,
// msg, then every field with its type (integers and booleans unquoted); a
// field named like one of the first four is written as "field.<name>".
// Keys and strings are escaped by nlohmann-json, invalid UTF-8 replaced by
// U+FFFD, so every line is valid JSON whatever bytes a message or field holds.
// Plain spdlog calls (log->info("...")) work in both formats (msg only).
//
// Field names used across the code (docs/style.md, "Logs"): node, group,
// term, peer, index, took_ms, expected_ms, error, key.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include <spdlog/spdlog.h>

#include "tinykv/common/status.h"

namespace tinykv::logging {

struct LogOptions {
  std::string level = "info";   // trace, debug, info, warn, error, critical, off
  std::string format = "text";  // text or json
  std::string file;             // empty: stderr
};

// Configures every TinyKV logger, present and future. Returns InvalidArgument
// for an unknown level or format. Safe to call more than once.
Status Init(const LogOptions& options);

// The logger for a component, created on first use with the current settings.
// Thread-safe; the returned pointer stays valid for the process lifetime.
std::shared_ptr<spdlog::logger> Get(std::string_view component);

// One typed field of a structured line. Holds a view: the string a field
// names must outlive the Log call (a temporary in the call's expression does).
class Field {
 public:
  using Value = std::variant<int64_t, uint64_t, double, bool, std::string_view>;

  template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char>)
  Field(std::string_view key, T v) : key_(key) {
    if constexpr (std::is_signed_v<T>) {
      value_ = static_cast<int64_t>(v);
    } else {
      value_ = static_cast<uint64_t>(v);
    }
  }
  Field(std::string_view key, bool v) : key_(key), value_(v) {}
  Field(std::string_view key, double v) : key_(key), value_(v) {}
  Field(std::string_view key, std::string_view v) : key_(key), value_(v) {}
  Field(std::string_view key, const std::string& v) : key_(key), value_(std::string_view(v)) {}
  Field(std::string_view key, const char* v) : key_(key), value_(std::string_view(v)) {}
  // A duration, as milliseconds with a fraction (a double).
  template <class Rep, class Period>
  Field(std::string_view key, std::chrono::duration<Rep, Period> d)
      : key_(key), value_(std::chrono::duration<double, std::milli>(d).count()) {}

  std::string_view key() const { return key_; }
  const Value& value() const { return value_; }

 private:
  std::string_view key_;
  Value value_;
};

// The fields the text format writes before msg.
inline constexpr std::string_view kContextFields[] = {"node", "group", "term"};

// Writes one structured line at `level` (nothing when the logger would drop it).
void Log(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view msg,
         std::initializer_list<Field> fields);
inline void Log(const std::shared_ptr<spdlog::logger>& logger, spdlog::level::level_enum level,
                std::string_view msg, std::initializer_list<Field> fields) {
  Log(*logger, level, msg, fields);
}

// The text format's rendering of a structured line (what Log writes as the
// message in format "text"); exposed for tests.
std::string RenderText(std::string_view msg, std::initializer_list<Field> fields);

}  // namespace tinykv::logging
