// Membership changes (Raft thesis ch. 4, one member at a time) and the
// replicated address book.
//
// A change is validated against the applied configuration here, proposed as
// a ConfChangeV2 whose context carries the proposal id and the added
// member's addresses (MemberContext), and applied on every member in log
// order: the core's configuration, the state machine's persisted Membership
// (same write as the applied index) and this process's address book follow
// the entry. Addresses given at Open or by PeerHost::SetAddress take
// precedence for members they name, except that a freshly applied add or
// update sets the address it carries.
#include "replica_impl.h"

#include <algorithm>
#include <memory>
#include <set>

#include "tinykv/net/address.h"
#include "tinykv/raft/codec.h"

namespace tinykv::replica::internal {

using namespace raft;  // NOLINT: the core's types throughout

// Validates `ch` against the applied configuration (driver thread, leader).
// The core validates again at propose time and refuses a second change while
// one is pending (Busy).
Result<ConfChangeV2> ReplicaImpl::CheckMemberChange(const MemberChange& ch) {
  if (ch.id == 0) return Status::InvalidArgument("member id must be >= 1");
  ConfState cs;
  {
    std::lock_guard<std::mutex> l(state_mu_);
    cs = conf_;
  }
  if (!cs.voters_outgoing.empty())
    return Status::Busy("the configuration is joint; retry once it left the joint state");
  auto has = [](const std::vector<uint64_t>& v, uint64_t id) {
    return std::find(v.begin(), v.end(), id) != v.end();
  };
  const bool voter = has(cs.voters, ch.id), learner = has(cs.learners, ch.id);
  const std::string who = "member " + std::to_string(ch.id);
  ConfChangeSingle c;
  c.node_id = ch.id;
  switch (ch.type) {
    case MemberChange::Type::kAddVoter:
    case MemberChange::Type::kAddLearner: {
      if (voter || learner) return Status::AlreadyExists(who + " is already in the configuration");
      if (ch.peer_address.empty()) return Status::InvalidArgument("a new member needs a peer address");
      TINYKV_RETURN_IF_ERROR(net::ParseHostPort(ch.peer_address).status());
      if (!ch.client_address.empty())
        TINYKV_RETURN_IF_ERROR(net::ParseHostPort(ch.client_address).status());
      c.type = ch.type == MemberChange::Type::kAddVoter ? ConfChangeType::kAddNode
                                                        : ConfChangeType::kAddLearnerNode;
      break;
    }
    case MemberChange::Type::kPromote: {
      if (voter) return Status::InvalidArgument(who + " is already a voter");
      if (!learner) return Status::NotFound(who + " is not a learner of the configuration");
      // As etcd: only a learner that is in sync with the leader is promoted,
      // so the new quorum does not wait for it to catch up.
      NodeStatus ns = raw_->GetStatus();
      uint64_t mine = 0, theirs = 0;
      for (const PeerStatus& ps : ns.progress) {
        if (ps.id == id_) mine = ps.match;
        if (ps.id == ch.id) theirs = ps.match;
      }
      if (theirs * 10 < mine * 9)
        return Status::Unavailable(who + " is not caught up yet (match " + std::to_string(theirs) +
                                   " of " + std::to_string(mine) + ")");
      c.type = ConfChangeType::kAddNode;
      break;
    }
    case MemberChange::Type::kUpdate: {
      if (!voter && !learner) return Status::NotFound(who + " is not in the configuration");
      if (ch.peer_address.empty())
        return Status::InvalidArgument("member update needs a peer address");
      TINYKV_RETURN_IF_ERROR(net::ParseHostPort(ch.peer_address).status());
      if (!ch.client_address.empty())
        TINYKV_RETURN_IF_ERROR(net::ParseHostPort(ch.client_address).status());
      // Re-added in the role it has: the core changes nothing (confchange.cc).
      c.type = voter ? ConfChangeType::kAddNode : ConfChangeType::kAddLearnerNode;
      break;
    }
    case MemberChange::Type::kRemove: {
      if (!voter && !learner) return Status::NotFound(who + " is not in the configuration");
      if (voter && cs.voters.size() == 1) return Status::InvalidArgument("cannot remove the last voter");
      c.type = ConfChangeType::kRemoveNode;
      break;
    }
    default:
      return Status::InvalidArgument("unknown member change type");
  }
  ConfChangeV2 cc;
  cc.changes.push_back(c);
  return cc;
}

// The strict reconfiguration check (membership.h, MemberChange). The core's
// Progress::recent_active means "heard from since the last check-quorum",
// and check-quorum clears it every election timeout, so a single sample
// taken just after a clear would see live voters as down. The check samples
// once per tick instead and counts every voter seen active in any sample: it
// passes as soon as enough were seen, and refuses only when a whole election
// timeout (plus two ticks for answers in flight) went by without enough --
// that is, "heard from within the last election timeout". A refusal is
// InvalidArgument, not Unavailable: clients retry Unavailable until their
// deadline, but this calls for the operator's decision (start the member
// that is down, add a learner instead, or force), and the wait above already
// covers a voter that is merely slow. Driver thread, leader only.
struct ReplicaImpl::StartedVotersCheck {
  explicit StartedVotersCheck(asio::io_context& io) : timer(io) {}
  uint64_t adding = 0;
  Micros deadline = 0;
  int polls_left = 0;
  std::set<uint64_t> heard;  // voters seen recently active in some sample
  asio::steady_timer timer;
  std::function<void(Status)> then;
};

void ReplicaImpl::CheckStartedVoters(std::shared_ptr<StartedVotersCheck> check) {
  if (stopping_) return check->then(Status::Cancelled("replica stopped"));
  if (!failed_.ok()) return check->then(failed_);
  if (role_ != static_cast<int>(StateRole::kLeader)) return check->then(NotLeader());
  std::vector<uint64_t> voters;
  {
    std::lock_guard<std::mutex> l(state_mu_);
    voters = conf_.voters;
  }
  // etcd allows growing a one-voter cluster to two (its restore procedure).
  if (voters.size() <= 1) return check->then(Status::OK());
  for (const PeerStatus& ps : raw_->GetStatus().progress) {
    if (ps.recent_active || ps.id == id_) check->heard.insert(ps.id);
  }
  std::vector<uint64_t> down;
  size_t started = 0;
  for (uint64_t v : voters) {
    if (check->heard.count(v)) {
      ++started;
    } else {
      down.push_back(v);
    }
  }
  const size_t members = voters.size() + 1, quorum = members / 2 + 1;
  if (started >= quorum) return check->then(Status::OK());
  if (--check->polls_left <= 0 || clock_->NowMicros() >= check->deadline) {
    std::string not_heard;
    for (uint64_t v : down) not_heard += (not_heard.empty() ? "" : ",") + std::to_string(v);
    return check->then(Status::InvalidArgument(
        "re-configuration failed due to not enough started members: adding voter " +
        std::to_string(check->adding) + " makes " + std::to_string(members) +
        " voters with a quorum of " + std::to_string(quorum) + ", but only " +
        std::to_string(started) + " of the " + std::to_string(voters.size()) +
        " current voters are started (not heard from within an election timeout: " + not_heard +
        "); start them, add the member as a learner, or force the change"));
  }
  check->timer.expires_after(std::chrono::milliseconds(opts_.tick_ms));
  check->timer.async_wait(
      [this, check](const boost::system::error_code&) { CheckStartedVoters(check); });
}

void ReplicaImpl::ProposeMemberChange(MemberChange change, std::chrono::milliseconds timeout,
                                      std::function<void(Result<MemberChangeResult>)> on_done) {
  const Micros deadline = DeadlineAfter(timeout);
  OnDriverAsLeader(std::move(on_done), [this, ch = std::move(change), deadline](auto done) mutable {
    if (ch.type != MemberChange::Type::kAddVoter || ch.force) {
      ValidateAndPropose(std::move(ch), deadline, std::move(done));
      return;
    }
    // The answers that need no waiting (AlreadyExists, a bad address) first.
    if (Result<ConfChangeV2> cc = CheckMemberChange(ch); !cc.ok()) {
      done(cc.status());
      return;
    }
    auto check = std::make_shared<StartedVotersCheck>(io_);
    check->adding = ch.id;
    check->deadline = deadline;
    check->polls_left = opts_.election_ticks + 2;
    check->then = [this, ch = std::move(ch), deadline, done = std::move(done)](Status s) mutable {
      if (!s.ok()) {
        done(s);
        return;
      }
      // Validated again: the configuration may have moved on while we waited.
      ValidateAndPropose(std::move(ch), deadline, std::move(done));
    };
    CheckStartedVoters(std::move(check));
  });
}

void ReplicaImpl::ValidateAndPropose(MemberChange ch, Micros deadline,
                                     std::function<void(Result<MemberChangeResult>)> done) {
  Result<ConfChangeV2> cc = CheckMemberChange(ch);
  if (!cc.ok()) {
    done(cc.status());
    return;
  }
  const uint64_t pid = epoch_ | next_pid_++;
  MemberContext mc;
  mc.proposal_id = pid;
  if (ch.type == MemberChange::Type::kAddVoter || ch.type == MemberChange::Type::kAddLearner ||
      ch.type == MemberChange::Type::kUpdate) {
    mc.address.peer = ch.peer_address;
    mc.address.client = ch.client_address;
  }
  cc->context = EncodeMemberContext(mc);
  Status s = raw_->ProposeConfChange(*cc);
  if (!s.ok()) {
    done(s.IsNotLeader() ? NotLeader() : s);
    return;
  }
  log_->info("node={} group={} proposed member change type={} id={}", id_, opts_.group,
             static_cast<int>(ch.type), ch.id);
  auto wrapped = [this, done = std::move(done)](Result<std::string> r) {
    if (!r.ok()) {
      done(r.status());
      return;
    }
    done(MemberChangeResult{applied_.load(), Members()});
  };
  proposals_.emplace(pid, PendingProposal{std::move(wrapped), deadline, 0});
  ScheduleReady();
}

bool ReplicaImpl::ApplyConfChangeEntry(const Entry& e, uint64_t* pid, Result<std::string>* result) {
  auto cc = DecodeConfChange(Slice(e.data));
  if (!cc.ok()) {
    // Only a forged or corrupted entry can get here (a leader encodes what it
    // proposes); applied as a no-op everywhere alike, the configuration
    // unchanged.
    log_->error("node={} group={} conf change entry {} does not decode ({}); applied as a no-op",
                id_, opts_.group, e.index, cc.status().ToString());
    Status s = sm_->ApplyNoop(e.index, e.term);
    if (!s.ok()) {
      Fail(s, "applying entry " + std::to_string(e.index));
      return false;
    }
    return true;
  }
  auto mc = DecodeMemberContext(Slice(cc->context));
  if (!mc.ok()) {
    log_->warn("node={} group={} conf change entry {}: {}; its addresses are ignored", id_,
               opts_.group, e.index, mc.status().ToString());
    mc = std::optional<MemberContext>();
  }
  // A re-add of a member already in the configuration is a member update
  // (membership.h): the addresses change, nothing else.
  bool already_member = false;
  if (cc->changes.size() == 1) {
    std::lock_guard<std::mutex> l(state_mu_);
    for (const auto* v : {&conf_.voters, &conf_.learners})
      already_member |= std::find(v->begin(), v->end(), cc->changes[0].node_id) != v->end();
  }
  const ConfState cs = raw_->ApplyConfChange(*cc);
  // The address book follows the configuration: an added member's addresses
  // come from the entry; removed members are dropped.
  AddressBook book;
  {
    std::lock_guard<std::mutex> l(state_mu_);
    book = book_;
  }
  uint64_t fresh = 0;
  if (mc->has_value() && cc->changes.size() == 1 &&
      cc->changes[0].type != ConfChangeType::kRemoveNode) {
    const MemberAddress& a = (*mc)->address;
    MemberAddress& slot = book[cc->changes[0].node_id];
    if (!a.peer.empty()) {
      slot.peer = a.peer;
      fresh = cc->changes[0].node_id;
    }
    if (!a.client.empty()) slot.client = a.client;
  }
  std::set<uint64_t> in_conf;
  for (const auto* v : {&cs.voters, &cs.learners, &cs.voters_outgoing, &cs.learners_next})
    in_conf.insert(v->begin(), v->end());
  for (auto it = book.begin(); it != book.end();)
    it = in_conf.count(it->first) ? std::next(it) : book.erase(it);
  Status s = sm_->ApplyConfChange(e.index, e.term, Membership{cs, book});
  if (!s.ok()) {
    Fail(s, "applying entry " + std::to_string(e.index));
    return false;
  }
  if (mc->has_value()) *pid = (*mc)->proposal_id;
  *result = std::string();
  {
    std::lock_guard<std::mutex> l(state_mu_);
    conf_ = cs;
    book_ = book;
  }
  AdoptAddressBook(book, fresh);
  applied_ = e.index;
  // A new member needs the log from index 1 or a snapshot. If the log was
  // compacted, the latest snapshot predates this entry and does not list the
  // new member, which would ignore it (raft refuses a snapshot whose
  // ConfState does not contain it): take one that does, now (etcd makes the
  // snapshot it sends on demand for the same reason).
  if (fresh != 0 && !already_member && storage_->FirstIndex() > 1) MaybeSnapshot(/*force=*/true);
  if (fresh != 0 && already_member)
    log_->info("node={} group={} member {} now at peer address {} (index {})", id_, opts_.group,
               fresh, book[fresh].peer, e.index);
  if (cc->changes.size() == 1 && cc->changes[0].type == ConfChangeType::kRemoveNode &&
      cc->changes[0].node_id == id_)
    log_->info("node={} group={} removed from the configuration at index {}", id_, opts_.group,
               e.index);
  return true;
}

void ReplicaImpl::AdoptAddressBook(const AddressBook& book, uint64_t fresh_id) {
  for (const auto& [id, a] : book) {
    if (id == id_ || a.peer.empty()) continue;
    if (id == fresh_id) {
      host_->SetAddress(id, a.peer);
    } else {
      host_->AddAddressIfUnknown(id, a.peer);
    }
  }
}

std::vector<MemberInfo> ReplicaImpl::Members() const {
  ConfState cs;
  AddressBook book;
  {
    std::lock_guard<std::mutex> l(state_mu_);
    cs = conf_;
    book = book_;
  }
  std::vector<MemberInfo> out;
  auto info = [&](uint64_t id, bool learner) {
    MemberInfo m;
    m.id = id;
    m.learner = learner;
    auto b = book.find(id);
    if (b != book.end()) m.client_address = b->second.client;
    m.peer_address = id == id_ ? host_->address() : host_->AddressOf(id);
    return m;
  };
  for (uint64_t v : cs.voters) out.push_back(info(v, false));
  for (uint64_t v : cs.learners) out.push_back(info(v, true));
  return out;
}

}  // namespace tinykv::replica::internal
