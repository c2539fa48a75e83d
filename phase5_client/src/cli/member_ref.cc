// `member promote`/`remove`, `move-leader`: see member_ref.h.
#include "cli/member_ref.h"

#include <algorithm>
#include <string>
#include <vector>

namespace tinykv::cli {

bool IsNumber(const std::string& s) {
  return !s.empty() && s.size() <= 19 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<uint64_t> ResolveMember(client::Client& cl, const std::string& name,
                               const client::CallOptions& call) {
  if (IsNumber(name)) {
    const uint64_t id = std::stoull(name);
    if (id == 0) return Status::InvalidArgument("member id must be >= 1");
    return id;
  }
  Result<std::string> address = client::ParseEndpoint(name);
  if (!address.ok()) {
    return Status::InvalidArgument("member '" + name + "' is neither an id nor an address: " +
                                   std::string(address.status().message()));
  }
  TINYKV_ASSIGN_OR_RETURN(client::MemberListResponse list, cl.MemberList(call));
  std::vector<uint64_t> found;
  for (const client::Member& m : list.members) {
    if (m.peer_address == *address || m.client_address == *address) found.push_back(m.id);
  }
  if (found.empty()) {
    return Status::NotFound("no member has the peer or client address " + *address);
  }
  if (found.size() > 1) {
    return Status::InvalidArgument("address " + *address + " names several members; give an id");
  }
  return found.front();
}

}  // namespace tinykv::cli
