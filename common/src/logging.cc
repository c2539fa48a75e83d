#include "tinykv/common/logging.h"

#include <mutex>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace tinykv::logging {
namespace {

// One JSON object per line; msg is escaped by the %v formatter only for
// quotes we add ourselves, so callers keep messages free of raw quotes.
constexpr const char* kJsonPattern =
    R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","logger":"%n","msg":"%v"})";
constexpr const char* kTextPattern = "%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v";

struct State {
  std::mutex mu;
  spdlog::sink_ptr sink;
  spdlog::level::level_enum level = spdlog::level::info;
};

State& GetState() {
  static State* s = [] {
    auto* st = new State();
    st->sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    st->sink->set_pattern(kTextPattern);
    return st;
  }();
  return *s;
}

}  // namespace

Status Init(const LogOptions& options) {
  const auto level = spdlog::level::from_str(options.level);
  if (level == spdlog::level::off && options.level != "off") {
    return Status::InvalidArgument("unknown log level '" + options.level +
                                   "' (want trace, debug, info, warn, error, critical or off)");
  }
  if (options.format != "text" && options.format != "json") {
    return Status::InvalidArgument("unknown log format '" + options.format + "' (want text or json)");
  }
  spdlog::sink_ptr sink;
  if (options.file.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  } else {
    try {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file);
    } catch (const spdlog::spdlog_ex& e) {
      return Status::IOError("cannot open log file " + options.file + ": " + e.what());
    }
  }
  sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
      options.format == "json" ? kJsonPattern : kTextPattern,
      options.format == "json" ? spdlog::pattern_time_type::utc
                               : spdlog::pattern_time_type::local));
  State& st = GetState();
  std::lock_guard<std::mutex> lock(st.mu);
  st.sink = sink;
  st.level = level;
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) {
    l->sinks().clear();
    l->sinks().push_back(sink);
    l->set_level(level);
  });
  return Status::OK();
}

std::shared_ptr<spdlog::logger> Get(std::string_view component) {
  State& st = GetState();
  std::lock_guard<std::mutex> lock(st.mu);
  const std::string name(component);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = std::make_shared<spdlog::logger>(name, st.sink);
  logger->set_level(st.level);
  logger->flush_on(spdlog::level::warn);
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace tinykv::logging
