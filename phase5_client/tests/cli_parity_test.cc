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
#include "cli/kv_command.h"
#include "cli/output.h"
#include "cli_json.h"
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

// etcdctl's `member update ID --peer-urls URL`: the new address is required
// and checked before any server is asked (exit 2, one line).
TEST(CliUsage, MemberUpdateNeedsOnePeerAddress) {
  CliRun r = RunWith({"--endpoints", "127.0.0.1:1", "member", "update", "2"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("--peer-urls"), std::string::npos) << r.err;
  EXPECT_EQ(Lines(r.err), 1u) << r.err;
  r = RunWith({"--endpoints", "127.0.0.1:1", "member", "update", "2", "--peer-urls",
               "http://127.0.0.1:2480,http://127.0.0.1:2481"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("a TinyKV member has one peer address"), std::string::npos) << r.err;
  EXPECT_EQ(RunWith({"member", "update"}).code, kExitUsage);
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
  EXPECT_EQ(WithoutHeader(r.out), "{\"ok\":true}\n") << r.out;
  r = RunWith({"get", "k"}, env);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"key_base64\":\"aw==\","), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"value_base64\":\"dg==\""), std::string::npos) << r.out;
  // A flag on the command line wins over its variable; the others still apply.
  r = RunWith({"get", "k", "-w", "simple"}, env);
  EXPECT_EQ(r.out, "k\nv\n");
  r = RunWith({"--bytes", "auto", "get", "k"}, env);
  EXPECT_NE(r.out.find("\"key\":\"k\","), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"value\":\"v\""), std::string::npos) << r.out;
  // TINYKV_ENDPOINTS is overridden by --endpoints: a dead one fails fast.
  r = RunWith({"--endpoints", "127.0.0.1:1", "--command-timeout", "1s", "get", "k"}, env);
  EXPECT_EQ(r.code, kExitUnavailable) << r.err;
}

// ---- 1. get KEY [RANGE_END], --from-key, --print-value-only, --count-only ----

TEST(CliKeyRange, ResolvesAsEtcdctlAndRefusesWhatItRefuses) {
  auto range = [](const std::string& key, std::optional<std::string> end, bool prefix = false,
                  bool from_key = false) {
    Result<KeyRange> r = ResolveKeyRange(key, end, prefix, from_key);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->start + "|" + r->end + (r->single ? "|single" : "") : "";
  };
  EXPECT_EQ(range("k", std::nullopt), "k||single");
  EXPECT_EQ(range("a", "c"), "a|c");
  EXPECT_EQ(range("a", ""), "a|");  // "" and \0: every key from KEY
  EXPECT_EQ(range("a", "\\0"), "a|");
  EXPECT_EQ(range("", "c"), "|c");
  EXPECT_EQ(range("ab", std::nullopt, true), "ab|ac");
  EXPECT_EQ(range("", std::nullopt, true), "|");
  EXPECT_EQ(range("b", std::nullopt, false, true), "b|");
  EXPECT_EQ(range("", std::nullopt, false, true), "|");
  auto refused = [](const std::string& key, std::optional<std::string> end, bool prefix,
                    bool from_key) {
    Result<KeyRange> r = ResolveKeyRange(key, end, prefix, from_key);
    EXPECT_TRUE(r.status().IsInvalidArgument()) << key;
    return std::string(r.status().message());
  };
  EXPECT_EQ(refused("a", std::nullopt, true, true),
            "`--prefix` and `--from-key` cannot be set at the same time, choose one");
  EXPECT_EQ(refused("a", "b", true, false),
            "too many arguments, only accept one argument when `--prefix` or `--from-key` is set");
  EXPECT_EQ(refused("a", "b", false, true),
            "too many arguments, only accept one argument when `--prefix` or `--from-key` is set");
  EXPECT_EQ(refused("b", "a", false, false), "range end 'a' is not above the key 'b'");
  EXPECT_EQ(refused("b", "b", false, false), "range end 'b' is not above the key 'b'");
  EXPECT_EQ(refused("", std::nullopt, false, false), "key must not be empty");
}

TEST_F(CliCluster, GetARangeFromAKeyValuesOnlyAndCounts) {
  for (std::string k : {"a", "b", "b/1", "b/2", "c", "d"}) {
    ASSERT_EQ(Tinykv({"put", k, "v" + k}).code, 0);
  }
  EXPECT_EQ(Tinykv({"get", "b", "c"}).out, "b\nvb\nb/1\nvb/1\nb/2\nvb/2\n");
  EXPECT_EQ(Tinykv({"get", "b", "c", "--keys-only"}).out, "b\nb/1\nb/2\n");
  EXPECT_EQ(Tinykv({"get", "b/", "c", "--limit", "1"}).out, "b/1\nvb/1\n");
  EXPECT_EQ(Tinykv({"get", "c", ""}).out, "c\nvc\nd\nvd\n");
  EXPECT_EQ(Tinykv({"get", "c", "\\0", "--keys-only"}).out, "c\nd\n");
  EXPECT_EQ(Tinykv({"get", "c", "--from-key"}).out, "c\nvc\nd\nvd\n");
  EXPECT_EQ(Tinykv({"get", "b/", "--from-key", "--keys-only"}).out, "b/1\nb/2\nc\nd\n");
  EXPECT_EQ(Tinykv({"get", "", "--from-key", "--keys-only", "--limit", "2"}).out, "a\nb\n");
  // An empty range, a from-key past the last key: nothing, exit 0 (a single key: 1).
  CliRun r = Tinykv({"get", "b/3", "b/9"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(Tinykv({"get", "zz", "--from-key"}).code, 0);
  EXPECT_EQ(Tinykv({"get", "b/3"}).code, kExitNotFound);
  // scan is get START END.
  EXPECT_EQ(Tinykv({"scan", "b", "c"}).out, Tinykv({"get", "b", "c"}).out);

  // --print-value-only: the value lines (simple only).
  EXPECT_EQ(Tinykv({"get", "b", "--print-value-only"}).out, "vb\n");
  EXPECT_EQ(Tinykv({"get", "b/", "--prefix", "--print-value-only"}).out, "vb/1\nvb/2\n");

  // --count-only: every key named, past --limit; JSON has "count", no pairs.
  EXPECT_EQ(Tinykv({"get", "b", "--prefix", "--count-only"}).out, "3\n");
  EXPECT_EQ(Tinykv({"get", "b", "--prefix", "--count-only", "--limit", "1"}).out, "3\n");
  EXPECT_EQ(Tinykv({"get", "", "--from-key", "--count-only"}).out, "6\n");
  EXPECT_EQ(Tinykv({"get", "a", "c", "--count-only"}).out, "4\n");
  EXPECT_EQ(Tinykv({"get", "b", "--count-only"}).out, "1\n");
  r = Tinykv({"get", "nokey", "--count-only"});
  EXPECT_EQ(r.code, 0) << "a count of 0 is an answer";
  EXPECT_EQ(r.out, "0\n");
  r = Tinykv({"-w", "json", "get", "b", "--prefix", "--count-only"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("{\"header\":{\"cluster_id\":", 0), 0u) << r.out;
  EXPECT_GT(RevisionOf(r.out), 0u) << r.out;
  EXPECT_NE(r.out.find(",\"count\":3}\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("kvs"), std::string::npos) << r.out;
  EXPECT_EQ(Tinykv({"-w", "table", "get", "b", "--prefix", "--count-only"}).out,
            "+-------+\n| COUNT |\n+-------+\n| 3     |\n+-------+\n");

  // JSON's count is etcd's: the whole range, with "more" when --limit cut it.
  r = Tinykv({"-w", "json", "get", "b", "--prefix", "--limit", "2", "--keys-only"});
  EXPECT_EQ(r.out.find("\"value\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"count\":3,\"kvs\":[{\"key\":\"b\",\"create_revision\":"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("{\"key\":\"b/1\",\"create_revision\":"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"lease\":0}],\"more\":true}"), std::string::npos)
      << r.out;
  r = Tinykv({"-w", "json", "get", "b", "--prefix", "--limit", "3", "--keys-only"});
  EXPECT_NE(r.out.find("\"count\":3,"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("more"), std::string::npos) << r.out;

  // --rev applies to every form.
  const std::string before =
      std::to_string(RevisionOf(Tinykv({"-w", "json", "put", "b/3", "x"}).out) - 1);
  EXPECT_EQ(Tinykv({"get", "b", "--prefix", "--count-only"}).out, "4\n");
  EXPECT_EQ(Tinykv({"get", "b", "--prefix", "--count-only", "--rev", before}).out, "3\n");
  EXPECT_EQ(Tinykv({"get", "b/", "c", "--keys-only", "--rev", before}).out, "b/1\nb/2\n");
  EXPECT_EQ(Tinykv({"get", "b/", "c", "--keys-only", "--consistency", "s"}).code, 0);
}

TEST_F(CliCluster, GetRefusesWhatEtcdctlRefusesWithExitTwo) {
  ASSERT_EQ(Tinykv({"put", "k", "v"}).code, 0);
  struct Case {
    std::vector<std::string> args;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{
           {{"get", "k", "--prefix", "--from-key"}, "`--prefix` and `--from-key` cannot be set"},
           {{"get", "k", "z", "--prefix"}, "only accept one argument when `--prefix`"},
           {{"get", "k", "z", "--from-key"}, "only accept one argument when `--prefix`"},
           {{"get", "k", "--keys-only", "--count-only"}, "`--keys-only` and `--count-only`"},
           {{"-w", "json", "get", "k", "--print-value-only"}, "only for `--write-out=simple`"},
           {{"get", "k", "--print-value-only", "-w", "table"}, "only for `--write-out=simple`"},
           {{"get", "k", "--print-value-only", "--keys-only"}, "`--print-value-only` cannot"},
           {{"get", "k", "--print-value-only", "--count-only"}, "`--print-value-only` cannot"},
           {{"get", "k", "a"}, "range end 'a' is not above the key 'k'"},
           {{"get", ""}, "key must not be empty"},
           {{"get", "a", "b", "c"}, "not expected"}}) {
    CliRun r = Tinykv(c.args);
    EXPECT_EQ(r.code, kExitUsage) << c.args[1] << " " << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
    EXPECT_EQ(r.err.rfind("Error: ", 0), 0u) << r.err;
    EXPECT_EQ(Lines(r.err), 1u) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

// ---- 2. del KEY [RANGE_END], del KEY --from-key ----

TEST_F(CliCluster, DelARangeOrFromAKey) {
  auto keys = [&] { return Tinykv({"get", "", "--from-key", "--keys-only"}).out; };
  for (std::string k : {"a", "b", "b/1", "c", "d", "e"}) ASSERT_EQ(Tinykv({"put", k, "v"}).code, 0);
  CliRun r = Tinykv({"del", "b", "c"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "2\n");
  EXPECT_EQ(keys(), "a\nc\nd\ne\n");
  EXPECT_EQ(Tinykv({"del", "x", "y"}).out, "0\n");
  EXPECT_EQ(Tinykv({"del", "d", "--from-key"}).out, "2\n");
  EXPECT_EQ(keys(), "a\nc\n");
  EXPECT_EQ(WithoutHeader(Tinykv({"-w", "json", "del", "a", "\\0"}).out), "{\"deleted\":2}\n");
  EXPECT_EQ(keys(), "");
  for (std::string k : {"p", "q"}) ASSERT_EQ(Tinykv({"put", k, "v"}).code, 0);
  EXPECT_EQ(Tinykv({"del", "", "--from-key"}).out, "2\n") << "every key";
  EXPECT_EQ(keys(), "");

  ASSERT_EQ(Tinykv({"put", "k", "v"}).code, 0);
  for (std::vector<std::string> bad :
       std::vector<std::vector<std::string>>{{"del", "k", "--prefix", "--from-key"},
                                             {"del", "k", "z", "--from-key"},
                                             {"del", "k", "z", "--prefix"},
                                             {"del", "k", "a"},
                                             {"del", ""}}) {
    r = Tinykv(bad);
    EXPECT_EQ(r.code, kExitUsage) << bad[1] << ": " << r.err;
    EXPECT_EQ(Lines(r.err), 1u) << r.err;
  }
  EXPECT_EQ(Tinykv({"get", "k"}).out, "k\nv\n") << "a refused del deletes nothing";
}

// -w json answers of get, put and del open with etcd's header: the cluster's
// id and the answering member's id (the leader's: linearizable reads and
// writes are the leader's), as `endpoint status -w json` reports them, its
// Raft term, and the revision of the read or write.
TEST_F(CliCluster, JsonAnswersOpenWithEtcdsHeader) {
  const uint64_t leader = cluster_->Leader();
  ASSERT_NE(leader, 0u);
  CliRun st = RunWith({"--endpoints", cluster_->endpoint(leader), "-w", "json", "endpoint", "status"});
  ASSERT_EQ(st.code, 0) << st.err;
  const uint64_t cluster_id = JsonNumber(st.out, "cluster_id");
  const uint64_t term = JsonNumber(st.out, "term");
  ASSERT_NE(cluster_id, 0u) << st.out;
  ASSERT_EQ(JsonNumber(st.out, "id"), leader) << st.out;
  ASSERT_GT(term, 0u) << st.out;
  auto header = [&](uint64_t revision) {
    return "{\"header\":{\"cluster_id\":" + std::to_string(cluster_id) + ",\"member_id\":" +
           std::to_string(leader) + ",\"revision\":" + std::to_string(revision) +
           ",\"raft_term\":" + std::to_string(term) + "},";
  };

  CliRun put = Tinykv({"-w", "json", "put", "h", "v"});
  ASSERT_EQ(put.code, 0) << put.err;
  const uint64_t written = RevisionOf(put.out);
  ASSERT_GT(written, 0u) << put.out;
  EXPECT_EQ(put.out, header(written) + "\"ok\":true}\n");
  // The put's revision is the key's mod revision.
  CliRun get = Tinykv({"-w", "json", "get", "h"});
  ASSERT_EQ(get.code, 0) << get.err;
  const uint64_t read = RevisionOf(get.out);
  EXPECT_GE(read, written) << get.out;
  EXPECT_EQ(get.out.rfind(header(read) + "\"count\":1,", 0), 0u) << get.out;
  EXPECT_EQ(JsonNumber(get.out, "mod_revision"), written) << get.out;
  CliRun range = Tinykv({"-w", "json", "get", "h", "--prefix", "--count-only"});
  EXPECT_EQ(range.out, header(RevisionOf(range.out)) + "\"count\":1}\n");
  EXPECT_GE(RevisionOf(range.out), read) << range.out;

  CliRun del = Tinykv({"-w", "json", "del", "h"});
  ASSERT_EQ(del.code, 0) << del.err;
  const uint64_t deleted = RevisionOf(del.out);
  EXPECT_GT(deleted, written) << del.out;
  EXPECT_EQ(del.out, header(deleted) + "\"deleted\":1}\n");
  // The delete's revision: the key is gone at it, there just before.
  EXPECT_EQ(Tinykv({"get", "h", "--rev", std::to_string(deleted)}).code, kExitNotFound);
  EXPECT_EQ(Tinykv({"get", "h", "--rev", std::to_string(deleted - 1)}).out, "h\nv\n");

  // A transaction's header: its commit revision only (its calls answer no
  // member fields).
  CliRun txn = Tinykv({"-w", "json", "txn"}, "\nput t 1\n\n");
  ASSERT_EQ(txn.code, 0) << txn.err;
  EXPECT_EQ(txn.out, "{\"header\":{\"revision\":" + std::to_string(RevisionOf(txn.out)) +
                         "},\"succeeded\":true,\"responses\":[{\"put\":{\"ok\":true}}]}\n");
}

// ---- 3. -w fields ----

TEST(CliFields, RenderAsEtcdctlsFieldsPrinter) {
  EXPECT_EQ(Quoted("plain"), "\"plain\"");
  EXPECT_EQ(Quoted("say \"hi\"\\"), "\"say \\\"hi\\\"\\\\\"");
  EXPECT_EQ(Quoted(std::string("a\nb\0\xff", 5)), "\"a\\x0ab\\x00\\xff\"");
  EXPECT_EQ(Quoted("caf\xc3\xa9"), "\"caf\xc3\xa9\"");

  std::vector<client::KeyValue> kvs = {{"a", "1"}, {"q\"", "x y"}};
  KvsView view;
  view.revision = 12;
  EXPECT_EQ(RenderKvs(kvs, OutputFormat::kFields, BytesEncoding::kAuto, view),
            "\"Revision\" : 12\n"
            "\"Key\" : \"a\"\n\"Value\" : \"1\"\n"
            "\"Key\" : \"q\\\"\"\n\"Value\" : \"x y\"\n"
            "\"More\" : false\n\"Count\" : 2\n");
  view.keys_only = true;
  view.count = 5;
  view.more = true;
  view.revision.reset();
  EXPECT_EQ(RenderKvs(kvs, OutputFormat::kFields, BytesEncoding::kAuto, view),
            "\"Key\" : \"a\"\n\"Key\" : \"q\\\"\"\n\"More\" : true\n\"Count\" : 5\n");
  EXPECT_EQ(RenderCount(3, OutputFormat::kFields, 9),
            "\"Revision\" : 9\n\"More\" : false\n\"Count\" : 3\n");
  EXPECT_EQ(RenderPut(OutputFormat::kFields, 7), "\"Revision\" : 7\n");
  EXPECT_EQ(RenderDeleted(2, OutputFormat::kFields), "\"Deleted\" : 2\n");

  client::MemberListResponse m;
  m.leader = 1;
  m.members = {{1, "127.0.0.1:2380", "127.0.0.1:2379", false}, {2, "p2", "", true}};
  EXPECT_EQ(RenderMembers(m, OutputFormat::kFields),
            "\"ID\" : 1\n\"PeerURL\" : \"127.0.0.1:2380\"\n\"ClientURL\" : \"127.0.0.1:2379\"\n"
            "\"IsLearner\" : false\n\n"
            "\"ID\" : 2\n\"PeerURL\" : \"p2\"\n\"IsLearner\" : true\n\n");

  client::StatusResponse st;
  st.id = 2;
  st.leader = 1;
  st.term = 5;
  st.commit_index = 10;
  st.applied_index = 9;
  st.cluster_id = 77;
  std::vector<EndpointStatusRow> rows;
  rows.push_back({"127.0.0.1:2379", st});
  rows.push_back({"127.0.0.1:9", Status::Unavailable("connection refused")});
  EXPECT_EQ(RenderStatus(rows, OutputFormat::kFields),
            "\"ClusterID\" : 77\n\"MemberID\" : 2\n\"RaftTerm\" : 5\n\"Version\" : \"unknown\"\n"
            "\"Leader\" : 1\n"
            "\"RaftIndex\" : 10\n\"RaftTerm\" : 5\n\"RaftAppliedIndex\" : 9\n\"Errors\" : []\n"
            "\"Endpoint\" : \"127.0.0.1:2379\"\n\n"
            "\"Endpoint\" : \"127.0.0.1:9\"\n\"Errors\" : [Unavailable: connection refused]\n\n");
  rows.pop_back();
  rows[0].status->alarm = "state hash mismatch";
  EXPECT_NE(RenderStatus(rows, OutputFormat::kFields)
                .find("\"Errors\" : [CORRUPT: state hash mismatch]\n"),
            std::string::npos);
}

TEST_F(CliCluster, FieldsForGetPutDelMemberListAndEndpointStatus) {
  CliRun r = Tinykv({"-w", "fields", "put", "k", "v"});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(r.out.rfind("\"Revision\" : ", 0), 0u) << r.out;
  const std::string rev = r.out.substr(13, r.out.size() - 14);
  EXPECT_EQ(r.out, "\"Revision\" : " + rev + "\n");
  ASSERT_EQ(Tinykv({"put", "k2", "v2"}).code, 0);

  r = Tinykv({"get", "k", "-w", "fields", "--rev", rev});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "\"Revision\" : " + rev + "\n\"Key\" : \"k\"\n\"CreateRevision\" : " + rev +
                       "\n\"ModRevision\" : " + rev +
                       "\n\"Version\" : 1\n\"Value\" : \"v\"\n\"Lease\" : 0\n\"More\" : false\n"
                       "\"Count\" : 1\n");
  r = Tinykv({"-w", "fields", "get", "k", "--prefix", "--limit", "1", "--keys-only"});
  EXPECT_NE(r.out.find("\"Key\" : \"k\"\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\"Value\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"Lease\" : 0\n\"More\" : true\n\"Count\" : 2\n"), std::string::npos)
      << r.out;
  r = Tinykv({"-w", "fields", "get", "k", "--prefix", "--count-only"});
  EXPECT_NE(r.out.find("\"More\" : false\n\"Count\" : 2\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\"Key\""), std::string::npos) << r.out;
  // A missing key: the empty answer, and exit 1 as in every format.
  r = Tinykv({"-w", "fields", "get", "nokey"});
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_NE(r.out.find("\"More\" : false\n\"Count\" : 0\n"), std::string::npos) << r.out;

  r = Tinykv({"-w", "fields", "del", "k", "--prefix"});
  EXPECT_EQ(r.out, "\"Deleted\" : 2\n");

  r = Tinykv({"-w", "fields", "member", "list"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3 * 5) << r.out;
  for (uint64_t id = 1; id <= 3; ++id) {
    EXPECT_NE(r.out.find("\"ID\" : " + std::to_string(id) + "\n\"PeerURL\" : \""),
              std::string::npos)
        << r.out;
  }
  EXPECT_EQ(r.out.find("\"IsLearner\" : true"), std::string::npos) << r.out;

  r = Tinykv({"-w", "fields", "endpoint", "status"});
  EXPECT_EQ(r.code, 0) << r.err;
  for (const std::string& e : cluster_->endpoints()) {
    EXPECT_NE(r.out.find("\"Errors\" : []\n\"Endpoint\" : \"" + e + "\"\n\n"), std::string::npos)
        << r.out;
  }
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3 * 11) << r.out;

  // Other commands have no fields printer yet: a usage error naming the command.
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"lease", "list"}, {"txn"}, {"endpoint", "health"}, {"watch", "k"}}) {
    args.insert(args.begin(), {"-w", "fields"});
    r = Tinykv(args);
    EXPECT_EQ(r.code, kExitUsage) << args[2];
    EXPECT_EQ(r.err.rfind("Error: -w fields is not supported by \"tinykv " + args[2], 0), 0u)
        << r.err;
    EXPECT_EQ(Lines(r.err), 1u) << r.err;
  }
}

// ---- 6. completion ----

// The output of `shell_command` run by sh, or "exit N: <output>".
std::string Shell(const std::string& shell_command) {
  FILE* p = ::popen((shell_command + " 2>&1").c_str(), "r");
  if (p == nullptr) return "popen failed";
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, n);
  const int status = ::pclose(p);
  return status == 0 ? out : "exit " + std::to_string(status) + ": " + out;
}

std::string Quote(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += " '" + w + "'";
  return out;
}

// What bash completes for `words` (the last one being completed) once the
// script `script_file` is sourced, after the output of `complete -p tinykv`.
std::string BashCompletes(const std::string& script_file, const std::vector<std::string>& words) {
  return Shell(
      "bash --norc --noprofile -c 'source \"$0\" && complete -p tinykv && "
      "COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); _tinykv; echo \"${COMPREPLY[*]}\"' '" +
      script_file + "'" + Quote(words));
}

// What the zsh script offers for `words` (unfiltered: compadd is stubbed to
// print its words, so the prefix typed is not applied).
std::string ZshOffers(const std::string& script_file, const std::vector<std::string>& words) {
  return Shell(
      "zsh -f -c 'compdef() { :; }; _files() { print files; }; "
      "compadd() { [[ $1 == -- ]] && shift; print -r -- \"$*\"; (( $# > 0 )); }; "
      "source \"$0\" && words=(\"$@\"); CURRENT=$#; PREFIX=${words[-1]}; _tinykv' '" +
      script_file + "'" + Quote(words));
}

TEST(CliCompletion, TheBashScriptCompletesCommandsSubcommandsFlagsAndValues) {
  CliRun r = RunWith({"completion", "bash"});
  ASSERT_EQ(r.code, 0) << r.err;
  tinykv::testing::TempDir dir;
  const std::string file = (dir.path() / "tinykv.bash").string();
  std::ofstream(file) << r.out;
  const std::string registered = "complete -o default -F _tinykv tinykv\n";
  EXPECT_EQ(BashCompletes(file, {"tinykv", "ge"}), registered + "get\n");
  EXPECT_EQ(BashCompletes(file, {"tinykv", "m"}), registered + "move-leader member\n");
  EXPECT_EQ(BashCompletes(file, {"tinykv", "member", ""}),
            registered + "list add promote remove update\n");
  EXPECT_EQ(BashCompletes(file, {"tinykv", "endpoint", ""}),
            registered + "status health hashkv\n");
  const std::string hashkv = BashCompletes(file, {"tinykv", "endpoint", "hashkv", "--"});
  EXPECT_NE(hashkv.find("--rev"), std::string::npos) << hashkv;
  EXPECT_NE(hashkv.find("--cluster"), std::string::npos) << hashkv;
  EXPECT_EQ(BashCompletes(file, {"tinykv", "lease", "k"}), registered + "keep-alive\n");
  EXPECT_EQ(BashCompletes(file, {"tinykv", "get", "--p"}),
            registered + "--prefix --print-value-only\n");
  EXPECT_EQ(BashCompletes(file, {"tinykv", "get", "k", "--c"}),
            registered + "--consistency --count-only --cacert --cert --command-timeout\n");
  EXPECT_EQ(BashCompletes(file, {"tinykv", "-w", ""}), registered + "simple json table fields\n");
  EXPECT_EQ(BashCompletes(file, {"tinykv", "get", "k", "--consistency", ""}), registered + "l s\n");
  // A flag's value is not a command: after --endpoints, "member" is its value.
  EXPECT_EQ(BashCompletes(file, {"tinykv", "--endpoints", "member", "l"}),
            registered + "lease lock\n");
  EXPECT_EQ(BashCompletes(file, {"tinykv", "el"}), registered + "elect\n");
  EXPECT_EQ(BashCompletes(file, {"tinykv", "lock", "n", "--t"}), registered + "--ttl\n");
  EXPECT_EQ(BashCompletes(file, {"tinykv", "elect", "n", "--l"}), registered + "--listen\n");
  EXPECT_EQ(BashCompletes(file, {"tinykv", "-w", "json", "member", "l"}), registered + "list\n");
  EXPECT_EQ(BashCompletes(file, {"tinykv", "completion", ""}), registered + "bash zsh\n");

  r = RunWith({"completion", "zsh"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("#compdef tinykv\n", 0), 0u) << r.out;
  if (Shell("command -v zsh").rfind("exit", 0) != 0) {  // where zsh is installed
    const std::string zsh_file = (dir.path() / "_tinykv").string();
    std::ofstream(zsh_file) << r.out;
    EXPECT_EQ(Shell("zsh -n '" + zsh_file + "'"), "");
    EXPECT_EQ(ZshOffers(zsh_file, {"tinykv", "member", ""}),
              "list add promote remove update\n");
    EXPECT_EQ(ZshOffers(zsh_file, {"tinykv", "--endpoints", "member", "l"}).rfind("get put ", 0),
              0u);
    EXPECT_EQ(ZshOffers(zsh_file, {"tinykv", "-w", ""}), "simple json table fields\n");
    EXPECT_EQ(ZshOffers(zsh_file, {"tinykv", "get", "--p"}).rfind("-h --help --prefix ", 0), 0u);
    EXPECT_EQ(ZshOffers(zsh_file, {"tinykv", "snapshot", "save", ""}), "\nfiles\n");
  }
  EXPECT_NE(r.out.find("compdef _tinykv tinykv"), std::string::npos);
  EXPECT_NE(r.out.find("(/member) commands=(list add promote remove update) flags=("),
            std::string::npos)
      << r.out;
  EXPECT_EQ(RunWith({"completion"}).code, kExitUsage);
  EXPECT_EQ(RunWith({"completion", "fish"}).err,
            "Error: unknown command \"fish\" for \"tinykv completion\"\n");
}

}  // namespace
}  // namespace tinykv::cli
