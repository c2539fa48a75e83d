// ParseDuration: see duration.h.
#include "tinykv/common/duration.h"

#include <cctype>
#include <cstdint>
#include <string>

namespace tinykv {

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view s,
                                                       std::chrono::milliseconds bare_unit) {
  if (s.empty()) return std::nullopt;
  size_t unit_at = 0;
  while (unit_at < s.size() &&
         (std::isdigit(static_cast<unsigned char>(s[unit_at])) || s[unit_at] == '.')) {
    ++unit_at;
  }
  if (unit_at == 0) return std::nullopt;
  double value = 0;
  try {
    size_t used = 0;
    value = std::stod(std::string(s.substr(0, unit_at)), &used);
    if (used != unit_at) return std::nullopt;
  } catch (...) {
    return std::nullopt;
  }
  const std::string_view unit = s.substr(unit_at);
  double ms;
  if (unit.empty()) {
    ms = value * static_cast<double>(bare_unit.count());
  } else if (unit == "s") {
    ms = value * 1000;
  } else if (unit == "ms") {
    ms = value;
  } else if (unit == "us") {
    ms = value / 1000;
  } else if (unit == "m") {
    ms = value * 60000;
  } else if (unit == "h") {
    ms = value * 3600000;
  } else {
    return std::nullopt;
  }
  if (ms > 1e12) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(ms + 0.5));
}

}  // namespace tinykv
