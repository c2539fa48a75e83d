// The tinykv CLI's global flags (etcdctl's): the ones every command takes,
// before or after the command, and each also read from the environment as
// etcdctl reads ETCDCTL_<FLAG>:
//
//   --endpoints        TINYKV_ENDPOINTS        (default 127.0.0.1:2379)
//   --cacert           TINYKV_CACERT
//   --cert             TINYKV_CERT
//   --key              TINYKV_KEY
//   --dial-timeout     TINYKV_DIAL_TIMEOUT     (2s)
//   --command-timeout  TINYKV_COMMAND_TIMEOUT  (5s)
//   -w, --write-out    TINYKV_WRITE_OUT        (simple)
//   --bytes            TINYKV_BYTES            (auto)
//
// The variable is TINYKV_ and the flag's long name upper-cased with '-' as
// '_' (EnvName), the rule tinykv-server's variables follow too. A flag on
// the command line wins over its variable; an empty variable counts as
// unset. A variable's value is checked as the flag's would be, and the
// error names the variable (ApplyEnvironment).
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tinykv/common/status.h"

namespace tinykv::cli {

// The environment the CLI reads, by variable name (main passes the
// process's TINYKV_* variables; tests pass their own).
using CliEnv = std::map<std::string, std::string>;

struct GlobalFlags {
  std::string endpoints = "127.0.0.1:2379";
  std::string cacert, cert, key;  // TLS files (PEM)
  std::string dial_timeout = "2s";
  std::string command_timeout = "5s";
  std::string write_out = "simple";  // one of kWriteOutFormats
  std::string bytes = "auto";        // auto | base64
};

// -w's values, as etcdctl names them (no protobuf).
inline const std::vector<std::string> kWriteOutFormats = {"simple", "json", "table", "fields"};

// "TINYKV_" + `long_name` ("dial-timeout") upper-cased, '-' -> '_'.
std::string EnvName(std::string_view long_name);

// Adds the global flags to the root `app`, bound to `flags`; each one's
// help names its variable.
void AddGlobalFlags(CLI::App& app, GlobalFlags& flags);

// After app.parse(): every global flag not given on the command line takes
// its variable's value from `env` when set. InvalidArgument
// "TINYKV_WRITE_OUT=yaml: ..." for a value its flag would refuse (and for a
// TLS file that cannot be opened).
[[nodiscard]] Status ApplyEnvironment(const CLI::App& app, const CliEnv& env, GlobalFlags& flags);

// "a, b,c" -> {"a", "b", "c"}: items trimmed of blanks, empty ones dropped.
std::vector<std::string> SplitEndpoints(const std::string& s);

}  // namespace tinykv::cli
