// The tinykv CLI's etcdctl parity, in-process (RunCli): cobra's unknown
// command error and per-command help with the global flags; TINYKV_<FLAG>
// variables; get/del of a range, --from-key, --print-value-only,
// --count-only; -w fields; the completion scripts. The commands that talk to
// a cluster run against a real 3-member LocalCluster (MVCC nodes).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/output.h"
#include "local_cluster_fixture.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::cli {
namespace {

struct CliRun {
  int code = -1;
  std::string out, err;
};

CliRun RunWith(const std::vector<std::string>& args, const CliEnv& env = {},
               const std::string& stdin_text = "") {
  std::istringstream in(stdin_text);
  std::ostringstream out, err;
  const int code = RunCli(args, env, in, out, err);
  return {code, out.str(), err.str()};
}

size_t Lines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

// ---- 5. unknown commands and help ----

TEST(CliUsage, UnknownCommandIsCobrasErrorAndExitsTwo) {
  CliRun r = RunWith({"foo"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err, "Error: unknown command \"foo\" for \"tinykv\"\n");
  EXPECT_EQ(r.out, "");
  // After global flags, with their values (which are not commands).
  r = RunWith({"-w", "json", "--endpoints=127.0.0.1:1", "--dial-timeout", "1s", "foo", "x"});
  EXPECT_EQ(r.err, "Error: unknown command \"foo\" for \"tinykv\"\n");
  r = RunWith({"-wjson", "member", "frob"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err, "Error: unknown command \"frob\" for \"tinykv member\"\n");
  r = RunWith({"lease", "--command-timeout", "1s", "grnat", "10"});
  EXPECT_EQ(r.err, "Error: unknown command \"grnat\" for \"tinykv lease\"\n");
  // A known command's own arguments are not commands; other usage errors keep their words.
  r = RunWith({"get"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err.find("unknown command"), std::string::npos) << r.err;
  EXPECT_EQ(Lines(r.err), 1u) << r.err;
  r = RunWith({"-w", "yaml", "get", "k"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err.find("unknown command"), std::string::npos) << r.err;
}

TEST(CliUsage, EachCommandsHelpShowsItsUsageAndTheGlobalFlags) {
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"get", "--help"},
                                             {"put", "-h"},
                                             {"member", "list", "--help"},
                                             {"lease", "grant", "--help"},
                                             {"endpoint", "--help"}}) {
    CliRun r = RunWith(args);
    EXPECT_EQ(r.code, 0) << args[0];
    std::string command = "tinykv " + args[0];
    if (args[1] != "--help" && args[1] != "-h") command += " " + args[1];
    EXPECT_NE(r.out.find("Usage: " + command), std::string::npos) << r.out;
    const size_t globals = r.out.find("Global options:");
    ASSERT_NE(globals, std::string::npos) << r.out;
    for (const char* flag : {"--endpoints", "--dial-timeout", "--command-timeout", "--write-out",
                             "--cacert", "--cert", "--key", "--bytes"}) {
      EXPECT_NE(r.out.find(flag, globals), std::string::npos) << flag << " in\n" << r.out;
    }
  }
  CliRun r = RunWith({"get", "--help"});
  EXPECT_NE(r.out.find("--prefix"), std::string::npos) << r.out;
  EXPECT_LT(r.out.find("--prefix"), r.out.find("Global options:")) << r.out;
  // The root's help lists the global flags once, as its own options.
  r = RunWith({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out.find("Global options:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--endpoints"), std::string::npos) << r.out;
}

// ---- 4. TINYKV_<FLAG> variables ----

TEST(CliEnvironment, EveryGlobalFlagHasItsVariableNamedInItsHelp) {
  EXPECT_EQ(EnvName("dial-timeout"), "TINYKV_DIAL_TIMEOUT");
  EXPECT_EQ(EnvName("write-out"), "TINYKV_WRITE_OUT");
  CliRun r = RunWith({"--help"});
  for (const char* var :
       {"TINYKV_ENDPOINTS", "TINYKV_DIAL_TIMEOUT", "TINYKV_COMMAND_TIMEOUT", "TINYKV_WRITE_OUT",
        "TINYKV_CACERT", "TINYKV_CERT", "TINYKV_KEY", "TINYKV_BYTES"}) {
    EXPECT_NE(r.out.find(std::string("(env ") + var + ")"), std::string::npos) << var << r.out;
  }
}

// A bad value is a usage error naming the variable, before anything is sent;
// the same flag on the command line wins (and its variable is not judged).
TEST(CliEnvironment, BadValuesNameTheVariableAndTheCommandLineWins) {
  struct Case {
    const char* var;
    const char* value;
    const char* flag;  // a good command-line value that overrides it
    const char* good;
  };
  for (const Case& c : {Case{"TINYKV_WRITE_OUT", "yaml", "--write-out", "json"},
                        Case{"TINYKV_BYTES", "hex", "--bytes", "base64"},
                        Case{"TINYKV_DIAL_TIMEOUT", "soon", "--dial-timeout", "1s"},
                        Case{"TINYKV_COMMAND_TIMEOUT", "0s", "--command-timeout", "1s"},
                        Case{"TINYKV_ENDPOINTS", "unix://x:1", "--endpoints", "127.0.0.1:1"},
                        Case{"TINYKV_ENDPOINTS", " , ", "--endpoints", "127.0.0.1:1"},
                        Case{"TINYKV_CACERT", "/nonexistent/ca.pem", "--cacert", ""},
                        Case{"TINYKV_CERT", "/nonexistent/c.pem", "--cert", ""},
                        Case{"TINYKV_KEY", "/nonexistent/k.pem", "--key", ""}}) {
    // A dead endpoint and a short deadline, unless the case sets them.
    CliEnv env = {{"TINYKV_ENDPOINTS", "127.0.0.1:1"}, {"TINYKV_COMMAND_TIMEOUT", "1s"}};
    env[c.var] = c.value;
    CliRun r = RunWith({"get", "k"}, env);
    EXPECT_EQ(r.code, kExitUsage) << c.var;
    EXPECT_EQ(r.err.rfind(std::string("Error: ") + c.var + "=" + c.value + ": ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(std::string("(the variable of ") + c.flag), std::string::npos) << r.err;
    EXPECT_EQ(Lines(r.err), 1u) << r.err;
    EXPECT_EQ(r.out, "");
    if (*c.good == '\0') continue;
    r = RunWith({c.flag, c.good, "get", "k"}, env);
    EXPECT_EQ(r.code, kExitUnavailable) << c.var << ": " << r.err;
  }
  // An empty variable counts as unset.
  CliRun r = RunWith({"--command-timeout", "1s", "--endpoints", "127.0.0.1:1", "get", "k"},
                     {{"TINYKV_WRITE_OUT", ""}});
  EXPECT_EQ(r.code, kExitUnavailable) << r.err;
}

class CliCluster : public client::LocalClusterTest {
 protected:
  std::string Endpoints() const {
    std::string endpoints;
    for (const std::string& e : cluster_->endpoints())
      endpoints += (endpoints.empty() ? "" : ",") + e;
    return endpoints;
  }
  // `tinykv args...` with --endpoints and a generous --command-timeout.
  CliRun Tinykv(std::vector<std::string> args, const std::string& stdin_text = "") {
    args.insert(args.begin(), {"--endpoints", Endpoints(), "--command-timeout", "10s"});
    return RunWith(args, {}, stdin_text);
  }
};

TEST_F(CliCluster, VariablesSetEveryGlobalFlag) {
  const CliEnv env = {{"TINYKV_ENDPOINTS", Endpoints()},
                      {"TINYKV_WRITE_OUT", "json"},
                      {"TINYKV_BYTES", "base64"},
                      {"TINYKV_DIAL_TIMEOUT", "3s"},
                      {"TINYKV_COMMAND_TIMEOUT", "10s"}};
  CliRun r = RunWith({"put", "k", "v"}, env);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("{\"ok\":true", 0), 0u) << r.out;
  r = RunWith({"get", "k"}, env);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"key_base64\":\"aw==\",\"value_base64\":\"dg==\""), std::string::npos)
      << r.out;
  // A flag on the command line wins over its variable; the others still apply.
  r = RunWith({"get", "k", "-w", "simple"}, env);
  EXPECT_EQ(r.out, "k\nv\n");
  r = RunWith({"--bytes", "auto", "get", "k"}, env);
  EXPECT_NE(r.out.find("\"key\":\"k\",\"value\":\"v\""), std::string::npos) << r.out;
  // TINYKV_ENDPOINTS is overridden by --endpoints: a dead one fails fast.
  r = RunWith({"--endpoints", "127.0.0.1:1", "--command-timeout", "1s", "get", "k"}, env);
  EXPECT_EQ(r.code, kExitUnavailable) << r.err;
}

}  // namespace
}  // namespace tinykv::cli
