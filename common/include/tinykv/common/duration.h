// Durations as operators write them on command lines and in config files.
//
//   "500ms", "2s", "1.5s", "1m", "72h", "100us"
//
// A number followed by one unit (us, ms, s, m, h), no space. A bare number
// is in `bare_unit`: seconds for the CLI's timeouts (etcdctl's), hours for
// --auto-compaction-retention (etcd's). nullopt for anything else, and for
// durations beyond about 30 years.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace tinykv {

std::optional<std::chrono::milliseconds> ParseDuration(
    std::string_view s, std::chrono::milliseconds bare_unit = std::chrono::seconds(1));

}  // namespace tinykv
