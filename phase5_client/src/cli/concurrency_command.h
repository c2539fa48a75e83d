// `tinykv lock` and `tinykv elect` (in the manner of etcdctl lock / elect):
// a Mutex and an Election (tinykv/client/concurrency.h) held by a Session
// whose lease the command keeps alive while it runs.
//
//   tinykv lock NAME [--ttl S]          prints the key held (NAME/<lease hex>),
//                                       holds the lock until SIGINT/SIGTERM,
//                                       then unlocks (exit 0)
//   tinykv lock NAME [--] CMD ARGS...   runs CMD once the lock is held, with
//                                       ETCD_LOCK_KEY and ETCD_LOCK_REV (and
//                                       TINYKV_LOCK_KEY, TINYKV_LOCK_REV) in
//                                       its environment, unlocks when it exits
//                                       and exits with its status (128 + N
//                                       when killed by signal N)
//   tinykv elect NAME PROPOSAL [--ttl S] campaigns with PROPOSAL; once leader
//                                       prints the leader's key and value (a
//                                       line each), holds until SIGINT/SIGTERM,
//                                       then resigns
//   tinykv elect NAME -l|--listen       prints each leader's key and value as
//                                       the leadership changes, until signalled
//
// The revision of ETCD_LOCK_REV is the lock key's create revision: the
// fencing token (concurrency.h), strictly increasing from one holder to the
// next. --ttl is the session's lease TTL in seconds (etcdctl's default for
// lock, 10; etcd's session default, 60, for elect): a holder that dies
// without unlocking keeps the lock that long. A signal while waiting ends
// the wait (exit 3, nothing held); a session whose lease is lost while
// holding ends the command with "session expired" (exit 4); a signal
// while CMD runs is passed on to it (SIGTERM) and its exit awaited.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "tinykv/client/client.h"

namespace tinykv::cli {

struct ConcurrencyFlags {
  std::string name;
  std::vector<std::string> command;  // lock: the command to run holding it
  std::string proposal;              // elect
  bool listen = false;               // elect -l
  uint64_t lock_ttl = 10;
  uint64_t elect_ttl = 60;
};

struct ConcurrencyCommands {
  CLI::App* lock = nullptr;
  CLI::App* elect = nullptr;
};
ConcurrencyCommands AddConcurrencyCommands(CLI::App& app, ConcurrencyFlags& f);

// The exit code, or nullopt when neither command was given. Both arm
// `interrupt` (commands.h CliInterrupt) once they run; with no interrupt
// they hold until their session is lost.
std::optional<int> RunConcurrencyCommand(const ConcurrencyCommands& cmds,
                                         const ConcurrencyFlags& f, client::Client& cl,
                                         std::ostream& out, std::ostream& err,
                                         const CliInterrupt* interrupt);

}  // namespace tinykv::cli
