// How the CLI names a member: its id in decimal, as `member list` prints
// it (TinyKV's ids are small integers chosen at `member add`, not etcd's
// random hex), or the peer or client address of exactly one member.
#pragma once

#include <cstdint>
#include <string>

#include "tinykv/client/client.h"

namespace tinykv::cli {

// 1 to 19 decimal digits (what fits a uint64_t without overflow).
bool IsNumber(const std::string& s);

// The member `name` names: an id (>= 1, not checked against the member
// list), or else the one member whose peer or client address it is
// (asked of the cluster). InvalidArgument for a name that is neither, or an
// address of several members; NotFound for an address no member has.
Result<uint64_t> ResolveMember(client::Client& cl, const std::string& name,
                               const client::CallOptions& call);

}  // namespace tinykv::cli
