// `tinykv lock` and `tinykv elect`: see concurrency_command.h.
#include "cli/concurrency_command.h"

#include <chrono>
#include <thread>

#include "cli/child_process.h"
#include "cli/output.h"
#include "tinykv/client/concurrency.h"

namespace tinykv::cli {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kPoll{50};

bool Interrupted(const CliInterrupt* interrupt) {
  return interrupt != nullptr && interrupt->interrupted != nullptr &&
         interrupt->interrupted->load();
}

// Holds until interrupted (OK) or the session's lease is lost (its error).
Status HoldUntilInterrupted(const client::Session& session, const CliInterrupt* interrupt) {
  for (;;) {
    if (Interrupted(interrupt)) return Status::OK();
    if (Status s = session.status(); !s.ok()) return s;
    std::this_thread::sleep_for(kPoll);
  }
}

}  // namespace

ConcurrencyCommands AddConcurrencyCommands(CLI::App& app, ConcurrencyFlags& f) {
  ConcurrencyCommands c;
  c.lock = app.add_subcommand(
      "lock",
      "acquire the distributed lock NAME: print its key and hold it until Ctrl-C, or run "
      "COMMAND holding it (ETCD_LOCK_KEY, ETCD_LOCK_REV set) and exit with its status");
  c.lock->add_option("name", f.name, "the lock's name (a key prefix)")->required();
  c.lock->add_option("command", f.command, "a command to run holding the lock (after --)");
  c.lock->add_option("--ttl", f.lock_ttl, "the session's lease TTL in seconds")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{9000000000}));
  c.elect = app.add_subcommand(
      "elect",
      "campaign in the election NAME with PROPOSAL and hold the leadership until Ctrl-C; "
      "with -l, print each leader as it changes");
  c.elect->add_option("name", f.name, "the election's name (a key prefix)")->required();
  c.elect->add_option("proposal", f.proposal, "the value to lead with");
  c.elect->add_flag("-l,--listen", f.listen, "observe the leaders instead of campaigning");
  c.elect->add_option("--ttl", f.elect_ttl, "the session's lease TTL in seconds")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{9000000000}));
  return c;
}

std::optional<int> RunConcurrencyCommand(const ConcurrencyCommands& c, const ConcurrencyFlags& f,
                                         client::Client& cl, std::ostream& out,
                                         std::ostream& err, const CliInterrupt* interrupt) {
  if (!c.lock->parsed() && !c.elect->parsed()) return std::nullopt;
  auto fail = [&](const Status& s) {
    err << "Error: " << s.ToString() << "\n";
    return ExitCodeFor(s);
  };
  if (c.elect->parsed() && f.listen == !f.proposal.empty()) {
    err << "Error: elect takes a PROPOSAL to campaign with, or -l to listen (one of them)\n";
    return static_cast<int>(kExitUsage);
  }
  auto SessionExpired = [&](const Status& why) {
    err << "Error: session expired (" << why.ToString() << ")\n";
    return static_cast<int>(kExitError);
  };
  if (Status k = client::CheckKey(f.name); !k.ok()) return fail(k);
  // From here on a signal ends the command cleanly (unlock, resign, revoke).
  if (interrupt != nullptr && interrupt->arm) interrupt->arm();
  client::WaitOptions wait;
  wait.cancelled = interrupt != nullptr ? interrupt->interrupted : nullptr;

  if (c.elect->parsed() && f.listen) {
    // Observing needs no lease of its own; a session gives Election its client.
    auto session = client::Session::Create(&cl, {.ttl_s = f.elect_ttl});
    if (!session.ok()) return fail(session.status());
    client::Election e(**session, f.name);
    auto observer = e.Observe();
    if (!observer.ok()) return fail(observer.status());
    while (!Interrupted(interrupt)) {
      Result<client::KeyValue> leader = (*observer)->Next(milliseconds(200));
      if (leader.status().IsTimeout()) continue;
      if (!leader.ok()) return fail(leader.status());
      out << leader->key << "\n" << leader->value << "\n" << std::flush;
    }
    return static_cast<int>(kExitOk);
  }

  const uint64_t ttl = c.lock->parsed() ? f.lock_ttl : f.elect_ttl;
  auto created = client::Session::Create(&cl, {.ttl_s = ttl});
  if (!created.ok()) return fail(created.status());
  client::Session& session = **created;

  if (c.elect->parsed()) {
    client::Election e(session, f.name);
    if (Status s = e.Campaign(f.proposal, wait); !s.ok()) return fail(s);
    out << e.key() << "\n" << f.proposal << "\n" << std::flush;
    Status held = HoldUntilInterrupted(session, interrupt);
    if (!held.ok()) return SessionExpired(held);
    if (Status s = e.Resign(); !s.ok()) return fail(s);
    if (Status s = session.Close(); !s.ok()) return fail(s);
    return static_cast<int>(kExitOk);
  }

  client::Mutex m(session, f.name);
  if (Status s = m.Lock(wait); !s.ok()) return fail(s);
  if (!f.command.empty()) {
    const std::string rev = std::to_string(m.revision());
    out << std::flush;  // what was written before goes before the command's output
    Result<int> code = RunChild(f.command,
                                {"ETCD_LOCK_KEY=" + m.key(), "ETCD_LOCK_REV=" + rev,
                                 "TINYKV_LOCK_KEY=" + m.key(), "TINYKV_LOCK_REV=" + rev},
                                interrupt);
    Status unlocked = m.Unlock();
    Status closed = session.Close();
    if (!code.ok()) return fail(code.status());
    if (!unlocked.ok()) return fail(unlocked);
    if (!closed.ok()) return fail(closed);
    return *code;
  }
  out << m.key() << "\n" << std::flush;
  Status held = HoldUntilInterrupted(session, interrupt);
  if (!held.ok()) return SessionExpired(held);
  if (Status s = m.Unlock(); !s.ok()) return fail(s);
  if (Status s = session.Close(); !s.ok()) return fail(s);
  return static_cast<int>(kExitOk);
}

}  // namespace tinykv::cli
