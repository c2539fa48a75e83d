// `tinykv lease ...` (in the manner of etcdctl lease) and the lease id as
// the CLI spells it: hexadecimal, as etcdctl prints and parses it.
//
//   tinykv lease grant TTL              lease 694d5765fc71500b granted with TTL(10s)
//   tinykv lease revoke ID              lease 694d5765fc71500b revoked
//   tinykv lease timetolive ID [--keys] lease 694d5765fc71500b granted with TTL(10s),
//                                         remaining(7s)[, attached keys([a b])]
//   tinykv lease list                   found 2 leases, then one id a line
//   tinykv lease keep-alive ID [--once] lease 694d5765fc71500b keepalived with TTL(10)
//                                       every ttl/3 until Ctrl-C (--once: one renewal)
//   tinykv put KEY VALUE --lease ID     (commands.cc)
//
// JSON (-w json): {"ID":N,"TTL":T} for grant and keep-alive, {"ID":N,
// "revision":R,"deleted":D} for revoke, {"ID":N,"TTL":left,"grantedTTL":T,
// "keys":[...]} for timetolive, {"leases":[{"ID":N},...]} for list; ids in
// decimal there, as etcdctl's JSON has them. A lease that does not exist:
// "lease ID already expired" for timetolive (exit 1, as a missing key),
// etcd's error for the others.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/output.h"
#include "tinykv/client/client.h"

namespace tinykv::cli {

// The id etcdctl prints: lowercase hex, no leading zeros.
std::string LeaseIdString(uint64_t id);
// "694d5765fc71500b" (an optional 0x too); InvalidArgument naming the
// argument for anything else, 0, or a value past int64 (etcd's ids are int64).
Result<uint64_t> ParseLeaseId(const std::string& text);

std::string RenderLeaseGrant(const client::LeaseGrantResponse& r, OutputFormat format);
std::string RenderLeaseRevoke(uint64_t id, const client::LeaseRevokeResponse& r,
                              OutputFormat format);
std::string RenderLeaseTimeToLive(const client::LeaseTimeToLiveResponse& r, bool keys,
                                  OutputFormat format, BytesEncoding encoding);
std::string RenderLeaseList(const std::vector<uint64_t>& ids, OutputFormat format);
std::string RenderLeaseKeepAlive(const client::LeaseKeepAliveResponse& r, OutputFormat format);

struct LeaseFlags {
  uint64_t ttl = 0;
  std::string id;
  bool keys = false;
  bool once = false;
};

struct LeaseCommands {
  CLI::App* grant = nullptr;
  CLI::App* revoke = nullptr;
  CLI::App* timetolive = nullptr;
  CLI::App* list = nullptr;
  CLI::App* keep_alive = nullptr;
};
LeaseCommands AddLeaseCommands(CLI::App& app, LeaseFlags& f);

// The exit code, or nullopt when no lease command was given. keep-alive
// without --once arms `interrupt` (commands.h CliInterrupt, as `watch`
// does) while it runs: Ctrl-C ends it with exit 0 after the renewal in
// progress. With no interrupt it renews until a renewal fails.
std::optional<int> RunLeaseCommand(const LeaseCommands& cmds, const LeaseFlags& f,
                                   client::Client& cl, const client::CallOptions& call,
                                   OutputFormat format, BytesEncoding encoding, std::ostream& out,
                                   std::ostream& err, const CliInterrupt* interrupt);

}  // namespace tinykv::cli
