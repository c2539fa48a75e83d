// RunChild: a command the CLI runs on the user's behalf -- `tinykv lock NAME
// CMD` holding a lock, `tinykv watch KEY -- CMD` once per event (etcdctl's
// exec commands) -- with extra environment variables, the CLI's stdin,
// stdout and stderr, and an interrupt passed on to it.
#pragma once

#include <string>
#include <vector>

#include "cli/commands.h"
#include "tinykv/common/result.h"

namespace tinykv::cli {

// Runs argv (argv[0] looked up in PATH) with `extra_env` ("NAME=value", before
// the inherited environment, so they win) and waits for it. Its exit status,
// 128 + N when killed by signal N; NotFound when it cannot be started. A
// set interrupt is passed on as SIGTERM, once, and the child still awaited.
// REQUIRES: argv is not empty.
[[nodiscard]] Result<int> RunChild(const std::vector<std::string>& argv,
                                   const std::vector<std::string>& extra_env,
                                   const CliInterrupt* interrupt);

}  // namespace tinykv::cli
