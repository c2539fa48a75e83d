// `tinykv endpoint status|health|hashkv`: see endpoint_command.h.
#include "cli/endpoint_command.h"

#include <algorithm>
#include <string>
#include <vector>

namespace tinykv::cli {

EndpointCommands AddEndpointCommands(CLI::App& app, EndpointFlags& f) {
  EndpointCommands c;
  auto* endpoint = app.add_subcommand("endpoint", "per-endpoint commands");
  endpoint->require_subcommand(1);
  c.status = endpoint->add_subcommand("status", "each endpoint's Raft status and version");
  c.health = endpoint->add_subcommand("health", "whether each endpoint knows a leader");
  c.hashkv = endpoint->add_subcommand(
      "hashkv", "each endpoint's hash of its key space as of --rev (members that applied the "
                "same log agree)");
  c.hashkv->add_option("--rev", f.rev, "the revision to hash at (0 = every version applied)");
  for (CLI::App* cmd : {c.status, c.health, c.hashkv}) {
    cmd->add_flag("--cluster", f.cluster,
                  "every member the cluster lists, not just --endpoints");
  }
  return c;
}

Result<std::vector<std::string>> TargetEndpoints(client::Client& cl,
                                                 const client::CallOptions& call, bool cluster) {
  if (!cluster) return cl.endpoints();
  TINYKV_ASSIGN_OR_RETURN(client::MemberListResponse members, cl.MemberList(call));
  std::vector<std::string> out;
  for (const client::Member& m : members.members)
    if (!m.client_address.empty()) out.push_back(m.client_address);
  if (out.empty()) return Status::NotFound("no member's client address is known (--cluster)");
  return out;
}

std::string RenderHashKv(const std::vector<HashKvRow>& rows, OutputFormat format) {
  auto u = [](uint64_t v) { return std::to_string(v); };
  std::string out;
  if (format == OutputFormat::kJson) {
    out = "[";
    for (size_t i = 0; i < rows.size(); ++i) {
      const HashKvRow& r = rows[i];
      if (i) out += ",";
      out += "{\"endpoint\":" + JsonString(r.endpoint);
      if (r.hash.ok()) {
        out += ",\"memberID\":" + u(r.hash->member_id) + ",\"hash\":" + u(r.hash->hash) +
               ",\"hash_revision\":" + u(r.hash->hash_revision) +
               ",\"compact_revision\":" + u(r.hash->compact_revision);
      } else {
        out += ",\"error\":" + JsonString(r.hash.status().ToString());
      }
      out += "}";
    }
    return out + "]\n";
  }
  std::vector<std::vector<std::string>> table;
  for (const HashKvRow& r : rows) {
    std::vector<std::string> row = {r.endpoint, "", "", "", ""};
    if (r.hash.ok()) {
      row = {r.endpoint, u(r.hash->hash), u(r.hash->hash_revision),
             u(r.hash->compact_revision), ""};
    } else {
      row[4] = r.hash.status().ToString();
    }
    if (format == OutputFormat::kTable) {
      table.push_back(std::move(row));
    } else if (r.hash.ok()) {
      out += row[0] + ", " + row[1] + ", " + row[2] + ", " + row[3] + "\n";
    } else {
      out += row[0] + ", error: " + row[4] + "\n";
    }
  }
  if (format == OutputFormat::kTable) {
    return RenderTable({"ENDPOINT", "HASH", "HASH REVISION", "COMPACT REVISION", "ERROR"},
                       table);
  }
  return out;
}

std::optional<int> RunEndpointCommand(const EndpointCommands& cmds, const EndpointFlags& f,
                                      client::Client& cl, const client::CallOptions& call,
                                      std::chrono::milliseconds timeout, OutputFormat format,
                                      std::ostream& out, std::ostream& err) {
  if (!cmds.status->parsed() && !cmds.health->parsed() && !cmds.hashkv->parsed())
    return std::nullopt;
  if (cmds.hashkv->parsed() && format == OutputFormat::kFields) {
    err << "Error: endpoint hashkv prints simple, json or table output, not -w fields\n";
    return kExitUsage;
  }
  Result<std::vector<std::string>> asked = TargetEndpoints(cl, call, f.cluster);
  if (!asked.ok()) {
    err << "Error: " << asked.status().ToString() << "\n";
    return ExitCodeFor(asked.status());
  }
  const std::vector<std::string> targets = std::move(asked).value();
  if (cmds.status->parsed()) {
    std::vector<EndpointStatusRow> rows;
    bool any_error = false;
    for (const std::string& e : targets) {
      EndpointStatusRow row{e, cl.EndpointStatus(e, timeout)};
      any_error |= !row.status.ok();
      rows.push_back(std::move(row));
    }
    out << RenderStatus(rows, format);
    return any_error ? kExitUnavailable : kExitOk;
  }
  if (cmds.health->parsed()) {
    std::vector<client::HealthReport> reports;
    bool all_healthy = true;
    for (const std::string& e : targets) {
      reports.push_back(cl.Health(e, timeout));
      all_healthy &= reports.back().healthy;
    }
    out << RenderHealth(reports, format);
    if (!all_healthy) {
      err << "Error: unhealthy cluster\n";
      return kExitUnavailable;
    }
    return kExitOk;
  }
  std::vector<HashKvRow> rows;
  int code = kExitOk;
  for (const std::string& e : targets) {
    HashKvRow row{e, cl.EndpointHashKv(e, f.rev, timeout)};
    if (!row.hash.ok()) {
      err << "Error: " << e << ": " << row.hash.status().ToString() << "\n";
      code = std::max(code, ExitCodeFor(row.hash.status()));
    }
    rows.push_back(std::move(row));
  }
  out << RenderHashKv(rows, format);
  return code;
}

}  // namespace tinykv::cli
