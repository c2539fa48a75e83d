// tinykv: the command line client. Everything but argv/env handling lives in
// commands.cc so the tests can run it in-process.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace {

std::atomic<bool> interrupted{false};  // lock-free: set from the signal handler

extern "C" void OnInterrupt(int) { interrupted.store(true); }

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  tinykv::cli::CliEnv env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const size_t eq = entry.find('=');
    if (entry.starts_with("TINYKV_") && eq != std::string::npos)
      env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  tinykv::cli::CliInterrupt interrupt;
  interrupt.interrupted = &interrupted;
  interrupt.arm = [] {  // `watch` runs until Ctrl-C (or SIGTERM): then it exits 0
    struct sigaction sa {};
    sa.sa_handler = OnInterrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
  };
  return tinykv::cli::RunCli(args, env, std::cin, std::cout, std::cerr,
                             isatty(STDIN_FILENO) == 1, &interrupt);
}
