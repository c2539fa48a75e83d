// The tinykv CLI's commands (commands.h).
#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <istream>
#include <iterator>
#include <memory>
#include <ostream>
#include <sstream>

#include "cli/output.h"
#include "tinykv/client/client.h"

#ifndef TINYKV_VERSION
#define TINYKV_VERSION "unknown"
#endif

namespace tinykv::cli {
namespace {

std::vector<std::string> SplitEndpoints(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    // Accept etcd-style URLs: http://host:port.
    auto scheme = item.find("://");
    if (scheme != std::string::npos) item = item.substr(scheme + 3);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

struct Flags {
  std::string endpoints;
  std::string dial_timeout = "2s";
  std::string command_timeout = "5s";
  std::string write_out = "simple";
  std::string bytes = "auto";
  std::string consistency = "l";
  // get
  std::string key;
  bool prefix = false;
  bool keys_only = false;
  uint64_t limit = 0;
  // put
  std::optional<std::string> value;
  // scan
  std::string start, end;
  // member add / promote / remove
  uint64_t member_id = 0;
  std::string peer_addr, client_addr;
  bool learner = false;
};

}  // namespace

int RunCli(const std::vector<std::string>& args, const std::string& env_endpoints, std::istream& in,
           std::ostream& out, std::ostream& err) {
  Flags f;
  f.endpoints = env_endpoints.empty() ? "127.0.0.1:2379" : env_endpoints;
  CLI::App app{
      "tinykv: command line client of a TinyKV cluster (in the manner of etcdctl).\n"
      "Exit codes: 0 ok, 1 key not found, 2 bad usage, 3 unavailable/timeout/unhealthy,"
      " 4 other error.",
      "tinykv"};
  app.set_version_flag("--version", std::string("tinykv ") + TINYKV_VERSION);
  app.add_option("--endpoints", f.endpoints,
                 "comma-separated client endpoints host:port (env TINYKV_ENDPOINTS)")
      ->capture_default_str();
  app.add_option("--dial-timeout", f.dial_timeout, "connection timeout, e.g. 2s, 500ms")
      ->capture_default_str();
  app.add_option("--command-timeout", f.command_timeout, "deadline of a command, all retries")
      ->capture_default_str();
  app.add_option("-w,--write-out", f.write_out, "output format")
      ->check(CLI::IsMember({"simple", "json", "table"}))
      ->capture_default_str();
  app.add_option("--bytes", f.bytes,
                 "JSON keys/values: auto = text when valid UTF-8 else base64 (key_base64), "
                 "base64 = always base64")
      ->check(CLI::IsMember({"auto", "base64"}))
      ->capture_default_str();
  app.require_subcommand(1);
  // Global options may also follow the command (`tinykv get k -w json`), as
  // etcdctl allows; subcommands created below inherit this.
  app.fallthrough();

  auto* get = app.add_subcommand("get", "get a key, or every key with a prefix");
  get->add_option("key", f.key, "the key (or prefix)")->required();
  get->add_flag("--prefix", f.prefix, "get every key starting with KEY");
  get->add_flag("--keys-only", f.keys_only, "print keys only");
  get->add_option("--limit", f.limit, "at most N results (0 = all)");
  get->add_option("--consistency", f.consistency,
                  "l = linearizable (leader, ReadIndex), s = serializable (any node, may be stale)")
      ->check(CLI::IsMember({"l", "s"}));

  auto* put = app.add_subcommand("put", "put a key; the value is read from stdin when omitted");
  put->add_option("key", f.key)->required();
  put->add_option("value", f.value);

  auto* del = app.add_subcommand("del", "delete a key, or every key with a prefix");
  del->add_option("key", f.key)->required();
  del->add_flag("--prefix", f.prefix, "delete every key starting with KEY");

  auto* scan =
      app.add_subcommand("scan", "pairs in [START, END) in key order (END \"\": to the end)");
  scan->add_option("start", f.start)->required();
  scan->add_option("end", f.end)->required();
  scan->add_option("--limit", f.limit, "at most N results (0 = all)");
  scan->add_flag("--keys-only", f.keys_only, "print keys only");
  scan->add_option("--consistency", f.consistency, "l or s (see get)")
      ->check(CLI::IsMember({"l", "s"}));

  auto* member = app.add_subcommand("member", "cluster membership");
  member->require_subcommand(1);
  auto* member_list = member->add_subcommand("list", "list the members");
  auto* member_add = member->add_subcommand(
      "add", "add a member (start it with --initial-cluster-state existing); one change at a time");
  member_add->add_option("id", f.member_id, "the new member's id (>= 1)")->required();
  member_add->add_option("peer_addr", f.peer_addr, "its peer (raft) address host:port")->required();
  member_add->add_flag("--learner", f.learner, "add as a non-voting learner (promote it later)");
  member_add->add_option("--client-addr", f.client_addr, "its client address host:port");
  auto* member_promote =
      member->add_subcommand("promote", "promote a caught-up learner to a voter");
  member_promote->add_option("id", f.member_id)->required();
  auto* member_remove = member->add_subcommand("remove", "remove a member");
  member_remove->add_option("id", f.member_id)->required();

  auto* endpoint = app.add_subcommand("endpoint", "per-endpoint commands");
  endpoint->require_subcommand(1);
  auto* ep_status = endpoint->add_subcommand("status", "each endpoint's Raft status");
  auto* ep_health = endpoint->add_subcommand("health", "whether each endpoint knows a leader");

  // CLI11 wants argv order with the program name first, reversed for parse().
  std::vector<std::string> rev(args.rbegin(), args.rend());
  try {
    app.parse(rev);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help, --version
      app.exit(e, out, err);
      return kExitOk;
    }
    err << "Error: " << e.what() << " (see tinykv --help)\n";
    return kExitUsage;
  }

  auto dial = ParseDuration(f.dial_timeout);
  auto command = ParseDuration(f.command_timeout);
  if (!dial || !command || dial->count() <= 0 || command->count() <= 0) {
    err << "Error: bad duration in --dial-timeout or --command-timeout (use e.g. 500ms, 2s)\n";
    return kExitUsage;
  }
  OutputFormat format = f.write_out == "json"    ? OutputFormat::kJson
                        : f.write_out == "table" ? OutputFormat::kTable
                                                 : OutputFormat::kSimple;
  BytesEncoding bytes = f.bytes == "base64" ? BytesEncoding::kBase64 : BytesEncoding::kAuto;

  client::ClientOptions co;
  co.endpoints = SplitEndpoints(f.endpoints);
  co.dial_timeout = *dial;
  co.timeout = *command;
  co.attempt_timeout = std::min(*command, std::chrono::milliseconds(2000));
  auto created = client::Client::Create(co);
  if (!created.ok()) {
    err << "Error: " << created.status().ToString() << "\n";
    return kExitUsage;
  }
  std::unique_ptr<client::Client> cl = std::move(created).value();
  client::CallOptions call;
  call.serializable = f.consistency == "s";

  auto fail = [&](const Status& s) {
    err << "Error: " << s.ToString() << "\n";
    return ExitCodeFor(s);
  };

  if (get->parsed()) {
    if (f.prefix) {
      auto kvs = cl->Scan(f.key, client::PrefixEnd(f.key), f.limit, call, f.keys_only);
      if (!kvs.ok()) return fail(kvs.status());
      out << RenderKvs(*kvs, format, bytes, f.keys_only);
      return kExitOk;
    }
    auto v = cl->Get(f.key, call);
    if (!v.ok()) return fail(v.status());
    if (!v->has_value()) {
      if (format == OutputFormat::kJson) out << RenderKvs({}, format, bytes, f.keys_only);
      err << "Error: key not found: " << Printable(f.key) << "\n";
      return kExitNotFound;
    }
    out << RenderKvs({client::KeyValue{f.key, **v}}, format, bytes, f.keys_only);
    return kExitOk;
  }
  if (put->parsed()) {
    std::string value;
    if (f.value) {
      value = *f.value;
    } else {
      value.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    Status s = cl->Put(f.key, value, call);
    if (!s.ok()) return fail(s);
    out << RenderPut(format);
    return kExitOk;
  }
  if (del->parsed()) {
    // `del "" --prefix` deletes every key (as etcdctl); one key must not be empty.
    if (!f.prefix) {
      if (Status s = client::CheckKey(f.key); !s.ok()) return fail(s);
    }
    // Both forms are range deletes, so the count of removed keys is exact.
    std::string end = f.prefix ? client::PrefixEnd(f.key) : client::KeySuccessor(f.key);
    auto n = cl->DeleteRange(f.key, end, call);
    if (!n.ok()) return fail(n.status());
    out << RenderDeleted(*n, format);
    return kExitOk;
  }
  if (scan->parsed()) {
    auto kvs = cl->Scan(f.start, f.end, f.limit, call, f.keys_only);
    if (!kvs.ok()) return fail(kvs.status());
    out << RenderKvs(*kvs, format, bytes, f.keys_only);
    return kExitOk;
  }
  if (member_list->parsed()) {
    auto m = cl->MemberList(call);
    if (!m.ok()) return fail(m.status());
    out << RenderMembers(*m, format);
    return kExitOk;
  }
  if (member_add->parsed() || member_promote->parsed() || member_remove->parsed()) {
    if (f.member_id == 0) {
      err << "Error: member id must be >= 1\n";
      return kExitUsage;
    }
    for (std::string* a : {&f.peer_addr, &f.client_addr}) {
      auto scheme = a->find("://");  // accept etcd-style URLs
      if (scheme != std::string::npos) a->erase(0, scheme + 3);
    }
    Result<client::MemberChangeResponse> r = Status::InvalidArgument("no member command");
    std::string verb;
    if (member_add->parsed()) {
      r = cl->MemberAdd(f.member_id, f.peer_addr, f.client_addr, f.learner, call);
      verb = "added to";
    } else if (member_promote->parsed()) {
      r = cl->MemberPromote(f.member_id, call);
      verb = "promoted in";
    } else {
      r = cl->MemberRemove(f.member_id, call);
      verb = "removed from";
    }
    if (!r.ok()) return fail(r.status());
    out << RenderMemberChange(verb, f.member_id, *r, format);
    return kExitOk;
  }
  if (ep_status->parsed()) {
    std::vector<EndpointStatusRow> rows;
    bool any_error = false;
    for (const std::string& e : cl->endpoints()) {
      EndpointStatusRow row{e, cl->EndpointStatus(e, *command)};
      any_error |= !row.status.ok();
      rows.push_back(std::move(row));
    }
    out << RenderStatus(rows, format);
    return any_error ? kExitUnavailable : kExitOk;
  }
  if (ep_health->parsed()) {
    std::vector<client::HealthReport> reports;
    bool all_healthy = true;
    for (const std::string& e : cl->endpoints()) {
      reports.push_back(cl->Health(e, *command));
      all_healthy &= reports.back().healthy;
    }
    out << RenderHealth(reports, format);
    if (!all_healthy) {
      err << "Error: unhealthy cluster\n";
      return kExitUnavailable;
    }
    return kExitOk;
  }
  err << "Error: no command (see tinykv --help)\n";
  return kExitUsage;
}

}  // namespace tinykv::cli
