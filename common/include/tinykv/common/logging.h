// Logging through spdlog. One process-wide setup (level and format) and
// named loggers per component ("storage", "net", "raft", ...).
//
// Log lines for state transitions use one fixed, greppable form (docs/style.md, "Logs"),
// e.g. `node=2 term=5 became leader`.
//
// Format "text" is human-readable; "json" writes one JSON object per line
// with fields ts, level, logger, msg (for log shippers).
#pragma once

#include <memory>
#include <string>
#include <string_view>

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

}  // namespace tinykv::logging
