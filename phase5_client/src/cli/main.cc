// tinykv: the command line client. Everything but argv/env handling lives in
// commands.cc so the tests can run it in-process.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const char* env = std::getenv("TINYKV_ENDPOINTS");
  return tinykv::cli::RunCli(args, env ? env : "", std::cin, std::cout, std::cerr,
                             isatty(STDIN_FILENO) == 1);
}
