// `tinykv endpoint status|health|hashkv` (in the manner of etcdctl's):
// each member answers for itself, one row per endpoint.
//
//   tinykv endpoint status [--cluster]        Status of each (output.h RenderStatus)
//   tinykv endpoint health [--cluster]        whether each knows a leader and a
//                                             linearizable read goes through
//   tinykv endpoint hashkv [--cluster] [--rev REV]
//                                             ENDPOINT, HASH, HASH_REVISION,
//                                             COMPACT_REVISION of each member's key
//                                             space (maintenance_protocol.h HashKv)
//
// The endpoints are --endpoints, or with --cluster every member's client
// address from the member list (TargetEndpoints), as etcdctl's --cluster.
// Every endpoint is asked; the exit code is 3 when any did not answer
// (status) or is unhealthy (health), the worst failure's (hashkv: e.g. 2 for
// a revision compacted or in the future).
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/output.h"
#include "tinykv/client/client.h"

namespace tinykv::cli {

struct EndpointFlags {
  bool cluster = false;
  uint64_t rev = 0;  // hashkv: 0 = every version the member applied
};

struct EndpointCommands {
  CLI::App* status = nullptr;
  CLI::App* health = nullptr;
  CLI::App* hashkv = nullptr;
};
EndpointCommands AddEndpointCommands(CLI::App& app, EndpointFlags& f);

// The endpoints a per-member command asks: the client's (--endpoints), or
// with `cluster` every member's client address, in member id order (members
// whose client address no server knows are left out; NotFound when none is
// known).
Result<std::vector<std::string>> TargetEndpoints(client::Client& cl,
                                                 const client::CallOptions& call, bool cluster);

// One row of `endpoint hashkv`: the endpoint and its answer (or error).
struct HashKvRow {
  std::string endpoint;
  Result<client::HashKvResponse> hash = Status::Unavailable("not asked");
};
// simple: "ENDPOINT, HASH, HASH_REVISION, COMPACT_REVISION" a line (hash in
// decimal, as etcdctl), "ENDPOINT, error: ..." for one that failed; table:
// ENDPOINT | HASH | HASH REVISION | COMPACT REVISION | ERROR; json: one array
// [{"endpoint":E,"memberID":M,"hash":H,"hash_revision":R,
// "compact_revision":C}, ...] (a failed one {"endpoint":E,"error":...}).
std::string RenderHashKv(const std::vector<HashKvRow>& rows, OutputFormat format);

// The exit code, or nullopt when none of the commands was given. `timeout`
// bounds each endpoint's answer.
std::optional<int> RunEndpointCommand(const EndpointCommands& cmds, const EndpointFlags& f,
                                      client::Client& cl, const client::CallOptions& call,
                                      std::chrono::milliseconds timeout, OutputFormat format,
                                      std::ostream& out, std::ostream& err);

}  // namespace tinykv::cli
