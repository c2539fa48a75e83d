// Lessor: see lessor.h.
#include "tinykv/txn/lessor.h"

namespace tinykv::txn {

void Lessor::Promote(uint64_t now_us, uint64_t extend_us,
                     const std::map<uint64_t, uint64_t>& table) {
  leases_.clear();
  for (const auto& [id, ttl_s] : table) leases_[id] = Entry{ttl_s, now_us + TtlUs(ttl_s) + extend_us};
}

void Lessor::Sync(uint64_t now_us, uint64_t extend_us, const std::map<uint64_t, uint64_t>& table) {
  for (auto it = leases_.begin(); it != leases_.end();) {
    if (table.count(it->first) == 0) {
      it = leases_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [id, ttl_s] : table)
    if (leases_.count(id) == 0) leases_[id] = Entry{ttl_s, now_us + TtlUs(ttl_s) + extend_us};
}

void Lessor::Grant(uint64_t id, uint64_t ttl_s, uint64_t now_us) {
  leases_[id] = Entry{ttl_s, now_us + TtlUs(ttl_s)};
}

std::optional<uint64_t> Lessor::Renew(uint64_t id, uint64_t now_us) {
  auto it = leases_.find(id);
  if (it == leases_.end() || it->second.revoking || now_us >= it->second.deadline_us)
    return std::nullopt;
  it->second.deadline_us = now_us + TtlUs(it->second.ttl_s);
  return it->second.ttl_s;
}

std::optional<uint64_t> Lessor::RemainingUs(uint64_t id, uint64_t now_us) const {
  auto it = leases_.find(id);
  if (it == leases_.end()) return std::nullopt;
  return it->second.deadline_us > now_us ? it->second.deadline_us - now_us : 0;
}

std::vector<uint64_t> Lessor::Expired(uint64_t now_us) {
  std::vector<uint64_t> out;
  for (auto& [id, e] : leases_) {
    if (!e.revoking && now_us >= e.deadline_us) {
      e.revoking = true;
      out.push_back(id);
    }
  }
  return out;
}

void Lessor::RevokeFailed(uint64_t id) {
  auto it = leases_.find(id);
  if (it != leases_.end()) it->second.revoking = false;
}

}  // namespace tinykv::txn
