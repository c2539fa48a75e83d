// CliClusterTest: the `tinykv` CLI run in-process (RunCli) against a real
// 3-member LocalCluster (local_cluster_fixture.h), for the CLI tests of
// commands that need live nodes.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "local_cluster_fixture.h"

namespace tinykv::cli {

class CliClusterTest : public client::LocalClusterTest {
 protected:
  // Runs `tinykv --endpoints <every member> --command-timeout 10s ARGS...`;
  // returns the exit code, what it wrote to stdout and (if asked) stderr.
  int Run(std::vector<std::string> args, std::string* out_text, std::string* err_text = nullptr) {
    std::string endpoints;
    for (const std::string& e : cluster_->endpoints()) endpoints += (endpoints.empty() ? "" : ",") + e;
    std::istringstream in;
    std::ostringstream out, err;
    args.insert(args.begin(), {"--endpoints", endpoints, "--command-timeout", "10s"});
    const int code = RunCli(args, {}, in, out, err);
    *out_text = out.str();
    if (err_text != nullptr) *err_text = err.str();
    return code;
  }
};

}  // namespace tinykv::cli
