// The tinykv CLI's global flags and their TINYKV_* variables (global_flags.h).
#include "cli/global_flags.h"

#include <cctype>
#include <sstream>

#include "cli/output.h"
#include "tinykv/client/client.h"
#include "tinykv/common/env.h"

namespace tinykv::cli {
namespace {

// What a flag's value must be. A variable's value passes the same check as
// the command line's; kFile is checked for variables only, because on the
// command line Client::Create judges the TLS files, after its own checks of
// how they combine with the endpoints' schemes.
enum class Check { kEndpoints, kFile, kDuration, kWriteOut, kBytes };

struct FlagSpec {
  const char* names;      // CLI11's spelling
  const char* long_name;  // the first long name: EnvName's and the lookup's
  std::string GlobalFlags::*value;
  const char* description;
  Check check;
};

const FlagSpec kFlags[] = {
    {"--endpoints", "endpoints", &GlobalFlags::endpoints,
     "comma-separated client endpoints host:port or https://host:port", Check::kEndpoints},
    {"--cacert", "cacert", &GlobalFlags::cacert,
     "TLS: verify the servers' certificates with this CA bundle (PEM); turns TLS on", Check::kFile},
    {"--cert", "cert", &GlobalFlags::cert,
     "TLS: this client's certificate (PEM), for --client-cert-auth", Check::kFile},
    {"--key", "key", &GlobalFlags::key, "TLS: the key of --cert (PEM)", Check::kFile},
    {"--dial-timeout", "dial-timeout", &GlobalFlags::dial_timeout,
     "connection timeout, e.g. 2s, 500ms", Check::kDuration},
    {"--command-timeout", "command-timeout", &GlobalFlags::command_timeout,
     "deadline of a command, all retries", Check::kDuration},
    {"-w,--write-out", "write-out", &GlobalFlags::write_out, "output format", Check::kWriteOut},
    {"--bytes", "bytes", &GlobalFlags::bytes,
     "JSON keys/values: auto = text when valid UTF-8 else base64 (key_base64), "
     "base64 = always base64",
     Check::kBytes},
};

std::string CheckEndpoints(std::string& text) {
  const std::vector<std::string> endpoints = SplitEndpoints(text);
  if (endpoints.empty()) return "no endpoints";
  for (const std::string& e : endpoints) {
    Result<std::string> address = client::ParseEndpoint(e);
    if (!address.ok()) return std::string(address.status().message());
  }
  return "";
}

std::string CheckDuration(std::string& text) {
  std::optional<std::chrono::milliseconds> d = ParseDuration(text);
  if (d && d->count() > 0) return "";
  return "bad duration '" + text + "' (use e.g. 500ms, 2s)";
}

// nullopt: no command-line check.
std::optional<CLI::Validator> ValidatorFor(Check check) {
  switch (check) {
    case Check::kEndpoints:
      return CLI::Validator(CheckEndpoints, "HOST:PORT,...");
    case Check::kDuration:
      return CLI::Validator(CheckDuration, "DURATION");
    case Check::kWriteOut:
      return CLI::IsMember(kWriteOutFormats);
    case Check::kBytes:
      return CLI::IsMember(std::vector<std::string>{"auto", "base64"});
    case Check::kFile:
      break;
  }
  return std::nullopt;
}

}  // namespace

std::string EnvName(std::string_view long_name) {
  std::string env = "TINYKV_";
  for (char ch : long_name) {
    env += ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  }
  return env;
}

std::vector<std::string> SplitEndpoints(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    // Schemes (http://, https:// turning TLS on) are Client::Create's to
    // judge: client::ParseEndpoint.
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

void AddGlobalFlags(CLI::App& app, GlobalFlags& flags) {
  for (const FlagSpec& spec : kFlags) {
    std::string& value = flags.*spec.value;
    CLI::Option* o =
        app.add_option(spec.names, value,
                       std::string(spec.description) + " (env " + EnvName(spec.long_name) + ")");
    if (!value.empty()) o->capture_default_str();
    if (std::optional<CLI::Validator> v = ValidatorFor(spec.check)) o->check(*v);
  }
}

Status ApplyEnvironment(const CLI::App& app, const CliEnv& env, GlobalFlags& flags) {
  for (const FlagSpec& spec : kFlags) {
    const std::string name = EnvName(spec.long_name);
    const auto it = env.find(name);
    if (it == env.end() || it->second.empty()) continue;
    const CLI::Option* o = app.get_option_no_throw(std::string("--") + spec.long_name);
    if (o != nullptr && o->count() > 0) continue;  // the command line wins
    std::string value = it->second;
    std::string why;
    if (std::optional<CLI::Validator> v = ValidatorFor(spec.check)) {
      why = (*v)(value);
    } else if (spec.check == Check::kFile) {
      auto file = Env::Default()->NewSequentialFile(value);
      if (!file.ok()) why = "cannot open it: " + file.status().ToString();
    }
    if (!why.empty()) {
      return Status::InvalidArgument(name + "=" + it->second + ": " + why + " (the variable of --" +
                                     spec.long_name + ")");
    }
    flags.*spec.value = std::move(value);
  }
  return Status::OK();
}

}  // namespace tinykv::cli
