// `tinykv compaction` and `tinykv defrag` (in the manner of etcdctl's):
// history compaction through the leader, and each member's engine
// defragmented on its own (maintenance_protocol.h).
//
//   tinykv compaction REV [--physical]   compacted revision REV
//   tinykv defrag [--cluster]            Finished defragmenting member[ADDR] (B -> A bytes)
//                                        for each --endpoints member (--cluster:
//                                        every member the cluster lists)
//   tinykv move-leader TARGET            Leadership transferred from L to T
//                                        (TARGET: an id or address, member_ref.h)
//
// JSON (-w json): {"compact_revision":R,"removed":N} for compaction, one
// {"endpoint":E,"memberID":M,"bytes_before":B,"bytes_after":A} line per
// member for defrag. A compaction at or below the compacted revision, in
// the future, or of 0 is a usage error (exit 2), as etcdctl's; defrag
// tries every member and exits with the worst failure
// ("Failed to defragment member[ADDR] (...)"). move-leader: JSON
// {"from":L,"to":T}; an unknown member exits 1, a learner or a bad TARGET
// 2, a transfer that did not finish in --command-timeout 3.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "cli/output.h"
#include "tinykv/client/client.h"

namespace tinykv::cli {

struct MaintenanceFlags {
  uint64_t revision = 0;
  bool physical = false;
  bool cluster = false;
  std::string target;  // move-leader
};

struct MaintenanceCommands {
  CLI::App* compaction = nullptr;
  CLI::App* defrag = nullptr;
  CLI::App* move_leader = nullptr;
};
MaintenanceCommands AddMaintenanceCommands(CLI::App& app, MaintenanceFlags& f);

std::string RenderCompaction(const client::CompactResponse& r, OutputFormat format);
std::string RenderDefragment(const std::string& endpoint, const client::DefragmentResponse& r,
                             OutputFormat format);
std::string RenderMoveLeader(const client::MoveLeaderResponse& r, OutputFormat format);

// The exit code, or nullopt when none of the commands was given. `timeout`
// bounds each member's defragmentation.
std::optional<int> RunMaintenanceCommand(const MaintenanceCommands& cmds,
                                         const MaintenanceFlags& f, client::Client& cl,
                                         const client::CallOptions& call,
                                         std::chrono::milliseconds timeout, OutputFormat format,
                                         std::ostream& out, std::ostream& err);

}  // namespace tinykv::cli
