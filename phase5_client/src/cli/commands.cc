// The tinykv CLI's commands (commands.h).
#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <map>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>

#include "cli/child_process.h"
#include "cli/completion.h"
#include "cli/concurrency_command.h"
#include "cli/endpoint_command.h"
#include "cli/global_flags.h"
#include "cli/kv_command.h"
#include "cli/lease_command.h"
#include "cli/maintenance_command.h"
#include "cli/member_ref.h"
#include "cli/output.h"
#include "cli/txn_command.h"
#include "cli/usage.h"
#include "tinykv/client/client.h"
#include "tinykv/common/env.h"
#include "tinykv/replica/backup.h"
#include "tinykv/txn/mvcc_state_machine.h"
#include "tinykv/replica/data_dir.h"

#ifndef TINYKV_VERSION
#define TINYKV_VERSION "unknown"
#endif

namespace tinykv::cli {
namespace {

struct Flags {
  GlobalFlags global;
  KvFlags kv;  // get, put, del, scan
  // txn
  bool interactive = false;
  LeaseFlags lease;
  MaintenanceFlags maintenance;  // compaction, defrag, move-leader
  EndpointFlags endpoint;        // endpoint status, health, hashkv
  ConcurrencyFlags concurrency;  // lock, elect
  // watch
  std::string key;
  bool prefix = false;
  uint64_t rev = 0;
  std::string range_end;
  bool prev_kv = false;
  bool progress_notify = false;
  std::vector<std::string> watch_exec;  // watch KEY ... -- CMD ARGS: run per event
  // member add / promote / remove
  std::string member_arg;  // add: ID or PEER_ADDR; promote/remove/update: ID or an address
  std::optional<std::string> peer_addr;
  std::vector<std::string> peer_urls;  // update: the new peer address (one)
  std::string client_addr;
  bool learner = false;
  bool force = false;
  // snapshot save / status / restore
  std::string snapshot_file;
  std::string restore_data_dir;
  uint64_t restore_id = 0;
  std::string restore_initial_cluster;
  std::string restore_initial_cluster_client;
  std::string restore_token = "tinykv-cluster";
};

// `snapshot restore --initial-cluster ID=host:port,...` (tinykv-server's
// flag, same spelling; an address may be a URL, ParseEndpoint).
Result<std::map<uint64_t, std::string>> ParseMemberFlag(const std::string& text,
                                                        const std::string& flag) {
  std::map<uint64_t, std::string> out;
  for (const std::string& item : SplitEndpoints(text)) {
    const size_t eq = item.find('=');
    const std::string id = eq == std::string::npos ? "" : item.substr(0, eq);
    if (!IsNumber(id) || std::stoull(id) == 0)
      return Status::InvalidArgument(flag + ": '" + item + "' is not ID=host:port with a positive ID");
    TINYKV_ASSIGN_OR_RETURN(std::string addr, client::ParseEndpoint(item.substr(eq + 1)));
    if (!out.emplace(std::stoull(id), addr).second)
      return Status::InvalidArgument(flag + ": member " + id + " appears twice");
  }
  if (out.empty()) return Status::InvalidArgument(flag + " is required");
  return out;
}


// `member add`'s id when only an address is given: one above the highest id
// in the member list (ids are never reused while their member is listed).
Result<uint64_t> NextMemberId(client::Client& cl, const client::CallOptions& call) {
  TINYKV_ASSIGN_OR_RETURN(client::MemberListResponse list, cl.MemberList(call));
  uint64_t highest = 0;
  for (const client::Member& m : list.members) highest = std::max(highest, m.id);
  return highest + 1;
}

// `tinykv version`: this CLI's version, then the server's (the first
// endpoint that answers Status), as etcdctl prints its own version and the
// API version. JSON {"tinykv":V,"server":S,"endpoint":E}. No server
// answering: the CLI's line, the error, exit 3.
int RunVersion(client::Client& cl, std::chrono::milliseconds timeout, OutputFormat format,
               std::ostream& out, std::ostream& err) {
  if (format == OutputFormat::kTable) {
    err << "Error: version prints simple or json output, not a table\n";
    return kExitUsage;
  }
  Status last = Status::Unavailable("no endpoint");
  std::string endpoint, server;
  for (const std::string& e : cl.endpoints()) {
    Result<client::StatusResponse> st = cl.EndpointStatus(e, timeout);
    if (!st.ok()) {
      last = Status::Unavailable(e + ": " + st.status().ToString());
      continue;
    }
    endpoint = e;
    server = VersionOf(*st);
    break;
  }
  if (format == OutputFormat::kJson) {
    out << "{\"tinykv\":" << JsonString(TINYKV_VERSION);
    if (!endpoint.empty())
      out << ",\"server\":" << JsonString(server) << ",\"endpoint\":" << JsonString(endpoint);
    out << "}\n";
  } else {
    out << "tinykv version: " << TINYKV_VERSION << "\n";
    if (!endpoint.empty()) out << "server version: " << server << " (" << endpoint << ")\n";
  }
  if (endpoint.empty()) {
    err << "Error: no server answered: " << last.ToString() << "\n";
    return kExitUnavailable;
  }
  return kExitOk;
}

}  // namespace

int RunCli(const std::vector<std::string>& args, const CliEnv& env, std::istream& in,
           std::ostream& out, std::ostream& err, bool in_is_terminal,
           const CliInterrupt* interrupt) {
  Flags f;
  CLI::App app{
      "tinykv: command line client of a TinyKV cluster (in the manner of etcdctl).\n"
      "Exit codes: 0 ok, 1 key not found, 2 bad usage, 3 unavailable/timeout/unhealthy,"
      " 4 other error.",
      "tinykv"};
  app.formatter(MakeHelpFormatter());  // before the subcommands, which inherit it
  app.set_version_flag("--version", std::string("tinykv ") + TINYKV_VERSION);
  AddGlobalFlags(app, f.global);
  app.require_subcommand(1);
  // Global options may also follow the command (`tinykv get k -w json`), as
  // etcdctl allows; subcommands created below inherit this.
  app.fallthrough();

  const KvCommands kv_cmds = AddKvCommands(app, f.kv);
  const LeaseCommands lease_cmds = AddLeaseCommands(app, f.lease);
  const MaintenanceCommands maintenance_cmds = AddMaintenanceCommands(app, f.maintenance);
  const ConcurrencyCommands concurrency_cmds = AddConcurrencyCommands(app, f.concurrency);

  auto* watch = app.add_subcommand(
      "watch",
      "print the puts and deletes of KEY, of [KEY, RANGE_END), or of every key with the prefix "
      "KEY, as they happen (from --rev on: the history first); Ctrl-C stops it. "
      "watch ... -- CMD ARGS runs CMD after each event with ETCD_WATCH_REVISION, "
      "ETCD_WATCH_EVENT_TYPE, ETCD_WATCH_KEY and ETCD_WATCH_VALUE set");
  watch->add_option("key", f.key, "the key (or range start, or prefix)")->required();
  watch->add_option("range_end", f.range_end, "watch [KEY, RANGE_END) (\\0: every key from KEY)");
  watch->add_flag("--prefix", f.prefix, "watch every key starting with KEY (\"\" --prefix: all)");
  watch->add_option("--rev", f.rev, "the first revision to print (0 = from now)");
  watch->add_flag("--prev-kv", f.prev_kv, "print each event's previous key and value too");
  watch->add_flag("--progress-notify", f.progress_notify,
                  "print the revision reached when idle (every second at most)");

  auto* txn = app.add_subcommand(
      "txn",
      "a transaction read from stdin, as etcdctl txn: compares, a blank line, the ops run when "
      "all hold (put KEY VALUE, get KEY, del KEY), a blank line, the ops run otherwise");
  txn->add_flag("-i,--interactive", f.interactive,
                "prompt for each block (also when stdin is a terminal)");

  auto* member = app.add_subcommand("member", "cluster membership");
  member->require_subcommand(1);
  auto* member_list = member->add_subcommand("list", "list the members");
  auto* member_add = member->add_subcommand(
      "add",
      "add a member: `add [ID] PEER_ADDR` (without ID: the highest id + 1); prints how to "
      "start it (--initial-cluster-state existing); one change at a time");
  member_add
      ->add_option("id_or_peer_addr", f.member_arg,
                   "the new member's id (>= 1), or its peer address when no id is given")
      ->required();
  member_add->add_option("peer_addr", f.peer_addr, "its peer (raft) address host:port");
  member_add->add_flag("--learner", f.learner, "add as a non-voting learner (promote it later)");
  member_add->add_option("--client-addr", f.client_addr, "its client address host:port");
  member_add->add_flag("--force", f.force,
                       "add a voter even if too few members are started for the new quorum");
  auto* member_promote =
      member->add_subcommand("promote", "promote a caught-up learner to a voter");
  member_promote->add_option("member", f.member_arg, "its id, peer address or client address")
      ->required();
  auto* member_remove = member->add_subcommand("remove", "remove a member");
  member_remove->add_option("member", f.member_arg, "its id, peer address or client address")
      ->required();
  auto* member_update = member->add_subcommand(
      "update",
      "give a member a new peer address (etcdctl member update); restart the member on it");
  member_update->add_option("member", f.member_arg, "its id, peer address or client address")
      ->required();
  member_update
      ->add_option("--peer-urls,--peer-addr", f.peer_urls,
                   "its new peer (raft) address host:port (a member has one)")
      ->delimiter(',')
      ->required();
  member_update->add_option("--client-urls,--client-addr", f.client_addr,
                            "its new client address host:port (default: unchanged)");

  const EndpointCommands endpoint_cmds = AddEndpointCommands(app, f.endpoint);
  auto* version = app.add_subcommand(
      "version", "print this tinykv's version and that of the server it reaches");

  auto* alarm = app.add_subcommand("alarm", "the members' alarms (as etcdctl alarm)");
  alarm->require_subcommand(1);
  auto* alarm_list = alarm->add_subcommand("list", "every member's raised alarms");
  auto* alarm_disarm = alarm->add_subcommand(
      "disarm", "disarm every member's NOSPACE alarm (once space is freed); prints those disarmed");
  auto* completion = app.add_subcommand(
      "completion", "print a shell completion script (source <(tinykv completion bash))");
  completion->require_subcommand(1);
  auto* completion_bash = completion->add_subcommand("bash", "the bash completion script");
  auto* completion_zsh = completion->add_subcommand("zsh", "the zsh completion script");
  auto* snapshot = app.add_subcommand("snapshot", "backups (as etcdctl/etcdutl snapshot)");
  snapshot->require_subcommand(1);
  auto* snap_save = snapshot->add_subcommand(
      "save", "save a backup of one endpoint's state to FILE (exactly one --endpoints)");
  snap_save->add_option("FILE", f.snapshot_file, "where to write the backup")->required();
  auto* snap_status = snapshot->add_subcommand(
      "status", "hash, revision (index), term, total keys and size of a backup FILE");
  snap_status->add_option("FILE", f.snapshot_file, "the backup")->required();
  auto* snap_restore = snapshot->add_subcommand(
      "restore", "write the data dir of one member of a NEW cluster from a backup FILE");
  snap_restore->add_option("FILE", f.snapshot_file, "the backup")->required();
  snap_restore->add_option("--data-dir", f.restore_data_dir, "the new data dir (must not exist)")
      ->required();
  snap_restore->add_option("--id,--name", f.restore_id, "this member's id in the new cluster")
      ->required();
  snap_restore->add_option("--initial-cluster", f.restore_initial_cluster,
                           "the new cluster's members, ID=host:port,... (peer addresses)")
      ->required();
  snap_restore->add_option("--initial-cluster-client", f.restore_initial_cluster_client,
                           "optional: the members' client addresses, ID=host:port,...");
  snap_restore->add_option("--initial-cluster-token", f.restore_token,
                           "the new cluster's token (its id is made from it and the members)")
      ->capture_default_str();

  // `watch ... -- CMD ARGS` (etcdctl's exec command): what follows "--" is
  // the command, not more positionals (CLI11 would give RANGE_END the
  // command's name), so it is cut off before the parse.
  std::vector<std::string> parsed_args = args;
  if (auto dd = std::find(args.begin(), args.end(), "--");
      dd != args.end() &&
      CommandWords(app, std::vector<std::string>(args.begin(), dd)) ==
          std::vector<std::string>{"watch"}) {
    f.watch_exec.assign(dd + 1, args.end());
    parsed_args.assign(args.begin(), dd);
    if (f.watch_exec.empty()) {
      err << "Error: watch: \"--\" must be followed by a command to run for each event\n";
      return kExitUsage;
    }
  }
  // CLI11 wants argv order with the program name first, reversed for parse().
  std::vector<std::string> rev(parsed_args.rbegin(), parsed_args.rend());
  try {
    app.parse(rev);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help, --version
      app.exit(e, out, err);
      return kExitOk;
    }
    if (std::optional<std::string> unknown = UnknownCommand(app, args)) {
      err << "Error: " << *unknown << "\n";
      return kExitUsage;
    }
    err << "Error: " << e.what() << " (see tinykv --help)\n";
    return kExitUsage;
  }
  if (Status s = ApplyEnvironment(app, env, f.global); !s.ok()) {
    err << "Error: " << s.message() << "\n";
    return kExitUsage;
  }

  auto dial = ParseDuration(f.global.dial_timeout);
  auto command = ParseDuration(f.global.command_timeout);
  if (!dial || !command || dial->count() <= 0 || command->count() <= 0) {
    err << "Error: bad duration in --dial-timeout or --command-timeout (use e.g. 500ms, 2s)\n";
    return kExitUsage;
  }
  const std::string& write_out = f.global.write_out;
  const OutputFormat format = write_out == "json"     ? OutputFormat::kJson
                              : write_out == "table"  ? OutputFormat::kTable
                              : write_out == "fields" ? OutputFormat::kFields
                                                      : OutputFormat::kSimple;
  BytesEncoding bytes = f.global.bytes == "base64" ? BytesEncoding::kBase64 : BytesEncoding::kAuto;
  if (format == OutputFormat::kFields) {
    const bool has_fields = kv_cmds.get->parsed() || kv_cmds.put->parsed() ||
                            kv_cmds.del->parsed() || kv_cmds.scan->parsed() ||
                            member_list->parsed() || endpoint_cmds.status->parsed();
    if (!has_fields) {
      err << "Error: -w fields is not supported by \"" << CommandPath(app)
          << "\" (only by get, put, del, scan, member list, endpoint status)\n";
      return kExitUsage;
    }
  }

  if (member_update->parsed() && f.peer_urls.size() != 1) {
    err << "Error: member update: a TinyKV member has one peer address; --peer-urls got "
        << f.peer_urls.size() << "\n";
    return kExitUsage;
  }
  if (completion_bash->parsed() || completion_zsh->parsed()) {
    out << (completion_bash->parsed() ? BashCompletion(app) : ZshCompletion(app));
    return kExitOk;
  }
  auto fail_local = [&](const Status& s) {
    err << "Error: " << s.ToString() << "\n";
    return ExitCodeFor(s);
  };
  if (snap_status->parsed()) {
    Result<replica::Backup> b = replica::ReadBackupFile(Env::Default(), f.snapshot_file);
    if (!b.ok()) return fail_local(b.status());
    std::error_code ec;
    const uint64_t size = std::filesystem::file_size(f.snapshot_file, ec);
    Result<replica::BackupSummary> sum =
        replica::SummarizeBackup(Env::Default(), *b, std::filesystem::temp_directory_path(ec),
                                 txn::MvccBackupKind());
    if (!sum.ok()) return fail_local(sum.status());
    out << RenderSnapshotStatus(sum->hash, sum->index, sum->term, sum->keys, size,
                                sum->cluster_id, format);
    return kExitOk;
  }
  if (snap_restore->parsed()) {
    replica::RestoreOptions ro;
    ro.data_dir = f.restore_data_dir;
    ro.member_id = f.restore_id;
    ro.cluster_token = f.restore_token;
    Result<std::map<uint64_t, std::string>> members =
        ParseMemberFlag(f.restore_initial_cluster, "--initial-cluster");
    if (!members.ok()) return fail_local(members.status());
    ro.members = std::move(members).value();
    if (!f.restore_initial_cluster_client.empty()) {
      auto clients = ParseMemberFlag(f.restore_initial_cluster_client, "--initial-cluster-client");
      if (!clients.ok()) return fail_local(clients.status());
      ro.client_addresses = std::move(clients).value();
    }
    if (Status s = replica::CheckRestoreOptions(ro); !s.ok()) return fail_local(s);
    Result<replica::Backup> b = replica::ReadBackupFile(Env::Default(), f.snapshot_file);
    if (!b.ok()) return fail_local(b.status());
    Status s = replica::RestoreBackup(Env::Default(), *b, ro, txn::MvccBackupKind());
    if (!s.ok()) return fail_local(s);
    out << "restored member " << ro.member_id << " of cluster "
        << replica::ClusterIdString(replica::RestoredClusterId(ro)) << " at index "
        << b->index + 1 << " into " << ro.data_dir.string() << "\n";
    return kExitOk;
  }

  client::ClientOptions co;
  co.endpoints = SplitEndpoints(f.global.endpoints);
  co.dial_timeout = *dial;
  co.timeout = *command;
  co.attempt_timeout = std::min(*command, std::chrono::milliseconds(2000));
  co.ca_file = f.global.cacert;
  co.cert_file = f.global.cert;
  co.key_file = f.global.key;
  auto created = client::Client::Create(co);
  if (!created.ok()) {
    err << "Error: " << created.status().ToString() << "\n";
    return kExitUsage;
  }
  std::unique_ptr<client::Client> cl = std::move(created).value();
  client::CallOptions call;
  call.serializable = f.kv.consistency == "s";
  call.revision = f.kv.rev;

  auto fail = [&](const Status& s) {
    err << "Error: " << s.ToString() << "\n";
    return ExitCodeFor(s);
  };

  if (std::optional<int> code =
          RunKvCommand(kv_cmds, f.kv, *cl, call, format, bytes, in, out, err))
    return *code;
  if (std::optional<int> code =
          RunLeaseCommand(lease_cmds, f.lease, *cl, call, format, bytes, out, err, interrupt))
    return *code;
  if (std::optional<int> code = RunMaintenanceCommand(maintenance_cmds, f.maintenance, *cl, call,
                                                      *command, format, out, err))
    return *code;
  if (std::optional<int> code = RunEndpointCommand(endpoint_cmds, f.endpoint, *cl, call,
                                                   *command, format, out, err))
    return *code;
  if (version->parsed()) return RunVersion(*cl, *command, format, out, err);
  if (std::optional<int> code =
          RunConcurrencyCommand(concurrency_cmds, f.concurrency, *cl, out, err, interrupt))
    return *code;
  if (watch->parsed()) {
    if (format == OutputFormat::kTable) {
      err << "Error: watch prints simple or json output, not a table\n";
      return kExitUsage;
    }
    client::WatchOptions o;
    o.key = f.key;
    // A NUL cannot travel in argv: "\0" spelled out means etcd's "\0" end.
    o.range_end = f.range_end == "\\0" ? std::string(1, '\0') : f.range_end;
    o.prefix = f.prefix;
    o.start_revision = f.rev;
    o.prev_kv = f.prev_kv;
    o.progress_notify = f.progress_notify;
    o.create_timeout = *command;
    auto w = cl->Watch(o);
    if (!w.ok()) return fail(w.status());
    if (interrupt != nullptr && interrupt->arm) interrupt->arm();
    for (;;) {
      if (interrupt != nullptr && interrupt->interrupted != nullptr &&
          interrupt->interrupted->load()) {
        return kExitOk;
      }
      Result<client::WatchBatch> b = (*w)->Next(std::chrono::milliseconds(200));
      if (b.status().IsTimeout()) continue;
      if (!b.ok()) return fail(b.status());
      out << RenderWatchBatch(*b, format, bytes) << std::flush;
      // As etcdctl: each event, once printed, runs the command with its
      // revision, type, key and value in the environment; a command that
      // fails ends the watch (exit 1). The variables are C strings: a key
      // or value holding a NUL byte is cut there.
      for (const client::WatchEvent& e : f.watch_exec.empty() ? std::vector<client::WatchEvent>{}
                                                              : b->events) {
        const bool put = e.type == client::WatchEvent::Type::kPut;
        Result<int> code = RunChild(
            f.watch_exec,
            {"ETCD_WATCH_REVISION=" + std::to_string(e.revision),
             std::string("ETCD_WATCH_EVENT_TYPE=") + (put ? "PUT" : "DELETE"),
             "ETCD_WATCH_KEY=" + e.key, "ETCD_WATCH_VALUE=" + e.value},
            interrupt);
        if (!code.ok() || *code != 0) {
          err << "Error: command \"" << f.watch_exec.front() << "\" "
              << (code.ok() ? "exited with status " + std::to_string(*code)
                            : std::string(code.status().message()))
              << "\n";
          return kExitError;
        }
      }
    }
  }
  if (txn->parsed()) {
    Result<TxnRequest> request = ParseTxn(in, f.interactive || in_is_terminal ? &out : nullptr);
    if (!request.ok()) return fail(request.status());
    client::TxnOptions options;
    options.timeout = *command;
    Result<TxnOutcome> outcome = client::RunCompareTxn(*cl, *request, options);
    if (!outcome.ok()) return fail(outcome.status());
    out << RenderTxn(*outcome, format, bytes);
    return kExitOk;
  }
  if (member_list->parsed()) {
    auto m = cl->MemberList(call);
    if (!m.ok()) return fail(m.status());
    out << RenderMembers(*m, format);
    return kExitOk;
  }
  if (member_add->parsed()) {
    uint64_t id = 0;
    std::string peer;
    if (f.peer_addr) {  // add ID PEER_ADDR
      if (!IsNumber(f.member_arg) || std::stoull(f.member_arg) == 0) {
        err << "Error: member add ID PEER_ADDR: ID must be an integer >= 1, not '" << f.member_arg
            << "'\n";
        return kExitUsage;
      }
      id = std::stoull(f.member_arg);
      peer = *f.peer_addr;
    } else if (IsNumber(f.member_arg)) {
      err << "Error: member add " << f.member_arg << ": the peer address is missing "
          << "(member add [ID] PEER_ADDR)\n";
      return kExitUsage;
    } else {  // add PEER_ADDR: the next free id
      peer = f.member_arg;
      if (Result<std::string> p = client::ParseEndpoint(peer); !p.ok()) {
        return fail(
            Status::InvalidArgument("bad peer address: " + std::string(p.status().message())));
      }
      Result<uint64_t> next = NextMemberId(*cl, call);
      if (!next.ok()) return fail(next.status());
      id = *next;
    }
    auto r = cl->MemberAdd(id, peer, f.client_addr, f.learner, f.force, call);
    if (!r.ok()) return fail(r.status());
    out << RenderMemberChange("added to", id, *r, format);
    if (format != OutputFormat::kJson) out << "\n" << RenderMemberStart(id, *r);
    return kExitOk;
  }
  if (member_update->parsed()) {
    Result<uint64_t> id = ResolveMember(*cl, f.member_arg, call);
    if (!id.ok()) return fail(id.status());
    auto r = cl->MemberUpdate(*id, f.peer_urls.front(), f.client_addr, call);
    if (!r.ok()) return fail(r.status());
    out << RenderMemberChange("updated in", *id, *r, format);
    return kExitOk;
  }
  if (member_promote->parsed() || member_remove->parsed()) {
    Result<uint64_t> id = ResolveMember(*cl, f.member_arg, call);
    if (!id.ok()) return fail(id.status());
    const bool promote = member_promote->parsed();
    auto r = promote ? cl->MemberPromote(*id, call) : cl->MemberRemove(*id, call);
    if (!r.ok()) return fail(r.status());
    out << RenderMemberChange(promote ? "promoted in" : "removed from", *id, *r, format);
    return kExitOk;
  }
  if (snap_save->parsed()) {
    if (cl->endpoints().size() != 1) {
      err << "Error: snapshot save needs exactly one endpoint (--endpoints), not "
          << cl->endpoints().size() << "\n";
      return kExitUsage;
    }
    Result<std::string> file = cl->SnapshotSave(cl->endpoints().front(), *command);
    if (!file.ok()) return fail(file.status());
    // Check what arrived before it replaces anything at FILE.
    Result<replica::Backup> b = replica::DecodeBackup(Slice(*file));
    if (!b.ok()) return fail(b.status());
    Status s = replica::WriteBackupFile(Env::Default(), f.snapshot_file, Slice(*file));
    if (!s.ok()) return fail(s);
    out << "Snapshot saved at " << f.snapshot_file << " (index " << b->index << ", term "
        << b->term << ", " << file->size() << " bytes)\n";
    return kExitOk;
  }
  if (alarm_list->parsed() || alarm_disarm->parsed()) {
    // Each member's alarms are its own (its disk): ask every member the
    // cluster lists, or the endpoints given when the list is unavailable.
    std::vector<std::string> targets;
    if (auto members = cl->MemberList(call); members.ok()) {
      for (const client::Member& m : members->members)
        if (!m.client_address.empty()) targets.push_back(m.client_address);
    }
    if (targets.empty()) targets = cl->endpoints();
    const bool disarm = alarm_disarm->parsed();
    std::vector<MemberAlarm> shown;
    int code = kExitOk;
    for (const std::string& e : targets) {
      std::vector<std::string> before;
      if (disarm) {
        auto listed = cl->EndpointAlarm(e, /*disarm=*/false, *command);
        if (listed.ok()) before = listed->alarms;
      }
      auto r = cl->EndpointAlarm(e, disarm, *command);
      if (!r.ok()) {
        err << "Error: " << e << ": " << r.status().ToString() << "\n";
        code = std::max(code, ExitCodeFor(r.status()));
        continue;
      }
      const std::vector<std::string>& now = r->alarms;
      if (!disarm) {
        for (const std::string& a : now) shown.push_back(MemberAlarm{r->member_id, a});
        continue;
      }
      for (const std::string& a : before)
        if (std::find(now.begin(), now.end(), a) == now.end())
          shown.push_back(MemberAlarm{r->member_id, a});
      for (const std::string& a : now) {
        err << "Error: member " << r->member_id << " (" << e << "): " << a
            << " stays raised: " << r->detail << "\n";
        code = std::max(code, static_cast<int>(kExitError));
      }
    }
    out << RenderAlarms(shown, format);
    return code;
  }
  err << "Error: no command (see tinykv --help)\n";
  return kExitUsage;
}

}  // namespace tinykv::cli
