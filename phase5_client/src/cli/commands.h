// The `tinykv` command line (in the manner of etcdctl): flag parsing and the
// commands, written against streams so tests can run it in-process.
//
//   tinykv [global flags: global_flags.h] COMMAND ...   (global flags may follow it too)
//   tinykv get KEY [RANGE_END] [--prefix|--from-key] [--keys-only|--count-only]
//          [--print-value-only] [--limit N] [--rev N] [--consistency l|s]   (kv_command.h)
//   tinykv put KEY [VALUE] [--lease ID]  (VALUE from stdin when omitted)
//   tinykv del KEY [RANGE_END] [--prefix|--from-key]
//   tinykv scan START END [--limit N] [--rev N]
//   tinykv txn [-i]                 (compares, success and failure ops from stdin: txn_command.h)
//   tinykv member list | member add [ID] PEER_ADDR [--learner] [--client-addr ADDR] [--force]
//   tinykv member promote ID | member remove ID
//   tinykv lease grant TTL | revoke ID | timetolive ID [--keys] | list | keep-alive ID [--once]
//   tinykv endpoint status | endpoint health | alarm list | alarm disarm | --version
//   tinykv snapshot save FILE | snapshot status FILE
//   tinykv snapshot restore FILE --data-dir DIR --id N --initial-cluster ID=ADDR,...
//   tinykv watch KEY [RANGE_END] [--prefix] [--rev N] [--prev-kv] [--progress-notify]
//   tinykv compaction REV [--physical] | defrag [--cluster]   (maintenance_command.h)
//   tinykv lock NAME [CMD ARGS...] [--ttl S] | elect NAME [PROPOSAL] [-l] (concurrency_command.h)
//   tinykv completion bash|zsh      (completion.h)
//
// -w simple|json|table|fields (output.h). An unknown command is cobra's
// error, and COMMAND --help adds the global flags (usage.h).
//
// Returns the process exit code (output.h: ExitCode). Errors are one line on
// `err`, "Error: <reason>".
#pragma once

#include <atomic>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "cli/global_flags.h"

namespace tinykv::cli {

// How a command that runs until it is stopped (`watch`, `lease keep-alive`,
// `lock`, `elect`) learns it should stop: `arm` is called once it runs
// (main installs its SIGINT/SIGTERM handler then, so Ctrl-C still kills
// every other command at once), and it stops, exit code 0, once
// `*interrupted` is true (checked every 200 ms).
struct CliInterrupt {
  std::function<void()> arm;
  const std::atomic<bool>* interrupted = nullptr;
};

// `env`: the TINYKV_* variables (global_flags.h: TINYKV_ENDPOINTS, ...).
// `in_is_terminal`: `in` is a terminal, so `txn` prompts for its blocks (as
// with -i). `interrupt`: see CliInterrupt (null: `watch` runs until its
// watch ends).
int RunCli(const std::vector<std::string>& args, const CliEnv& env, std::istream& in,
           std::ostream& out, std::ostream& err, bool in_is_terminal = false,
           const CliInterrupt* interrupt = nullptr);

}  // namespace tinykv::cli
