#include "tinykv/common/logging.h"

#include <atomic>
#include <ctime>
#include <mutex>

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace tinykv::logging {
namespace {

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

// The fields of the line being logged on this thread, set by Log around its
// logger call: spdlog's loggers here are synchronous, so the sink formats
// the line on the calling thread, inside that call.
thread_local const std::initializer_list<Field>* tl_fields = nullptr;

std::atomic<bool> g_json{false};

bool IsContextField(std::string_view key) {
  for (std::string_view k : kContextFields) {
    if (k == key) return true;
  }
  return false;
}

bool IsReserved(std::string_view key) {
  return key == "ts" || key == "level" || key == "logger" || key == "msg";
}

nlohmann::ordered_json ToJson(const Field::Value& v) {
  return std::visit(
      [](const auto& x) -> nlohmann::ordered_json {
        if constexpr (std::is_same_v<std::decay_t<decltype(x)>, std::string_view>) {
          return std::string(x);
        } else {
          return x;
        }
      },
      v);
}

std::string Dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// A text value: bare when it is plain printable text, else a JSON literal.
void AppendTextValue(std::string& out, const Field::Value& v) {
  if (const auto* sv = std::get_if<std::string_view>(&v)) {
    bool bare = !sv->empty();
    for (unsigned char c : *sv) {
      if (c <= ' ' || c == '"' || c == '=' || c >= 0x7f) {
        bare = false;
        break;
      }
    }
    out += bare ? std::string(*sv) : Dump(std::string(*sv));
    return;
  }
  if (const auto* d = std::get_if<double>(&v)) {
    out += fmt::format("{:.3f}", *d);
    return;
  }
  out += Dump(ToJson(v));
}

void AppendTextField(std::string& out, const Field& f) {
  out.append(f.key());
  out += '=';
  AppendTextValue(out, f.value());
}

// Format "json": one object per line (logging.h).
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& m, spdlog::memory_buf_t& dest) override {
    const auto since_epoch = m.time.time_since_epoch();
    const std::time_t secs =
        std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count() % 1000000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    nlohmann::ordered_json j;
    j["ts"] = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900,
                          tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
    const auto level = spdlog::level::to_string_view(m.level);
    j["level"] = std::string(level.data(), level.size());
    j["logger"] = std::string(m.logger_name.data(), m.logger_name.size());
    j["msg"] = std::string(m.payload.data(), m.payload.size());
    if (tl_fields != nullptr) {
      for (const Field& f : *tl_fields) {
        std::string key(f.key());
        if (IsReserved(key)) key = "field." + key;
        j[key] = ToJson(f.value());
      }
    }
    const std::string line = Dump(j);
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

std::string RenderText(std::string_view msg, std::initializer_list<Field> fields) {
  std::string out;
  for (const Field& f : fields) {
    if (!IsContextField(f.key())) continue;
    AppendTextField(out, f);
    out += ' ';
  }
  out.append(msg);
  for (const Field& f : fields) {
    if (IsContextField(f.key())) continue;
    out += ' ';
    AppendTextField(out, f);
  }
  return out;
}

void Log(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view msg,
         std::initializer_list<Field> fields) {
  if (!logger.should_log(level)) return;
  if (!g_json.load(std::memory_order_relaxed)) {
    logger.log(level, spdlog::string_view_t(RenderText(msg, fields)));
    return;
  }
  tl_fields = &fields;
  logger.log(level, spdlog::string_view_t(msg.data(), msg.size()));
  tl_fields = nullptr;
}

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
  const bool json = options.format == "json";
  if (json) {
    sink->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        kTextPattern, spdlog::pattern_time_type::local));
  }
  State& st = GetState();
  std::lock_guard<std::mutex> lock(st.mu);
  g_json.store(json, std::memory_order_relaxed);
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
