// RunChild: see child_process.h.
#include "cli/child_process.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

extern char** environ;

namespace tinykv::cli {

Result<int> RunChild(const std::vector<std::string>& argv,
                     const std::vector<std::string>& extra_env, const CliInterrupt* interrupt) {
  constexpr std::chrono::milliseconds kPoll{50};
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  for (const std::string& e : extra_env) env.push_back(const_cast<char*>(e.c_str()));
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  env.push_back(nullptr);
  pid_t pid = 0;
  if (int rc = posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), env.data()); rc != 0) {
    return Status::NotFound("cannot run '" + argv[0] + "': " + std::strerror(rc));
  }
  bool forwarded = false;
  for (;;) {
    int st = 0;
    const pid_t done = waitpid(pid, &st, WNOHANG);
    if (done == pid) {
      if (WIFEXITED(st)) return WEXITSTATUS(st);
      if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
      continue;  // stopped or continued: still running
    }
    if (done < 0 && errno != EINTR) {
      return Status::IOError(std::string("waitpid: ") + std::strerror(errno));
    }
    if (!forwarded && interrupt != nullptr && interrupt->interrupted != nullptr &&
        interrupt->interrupted->load()) {
      kill(pid, SIGTERM);
      forwarded = true;
    }
    std::this_thread::sleep_for(kPoll);
  }
}

}  // namespace tinykv::cli
