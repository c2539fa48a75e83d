// `tinykv compaction`, `tinykv defrag`, `tinykv move-leader`: see
// maintenance_command.h.
#include "cli/maintenance_command.h"

#include <algorithm>
#include <string>
#include <vector>

#include "cli/endpoint_command.h"
#include "cli/member_ref.h"

namespace tinykv::cli {

MaintenanceCommands AddMaintenanceCommands(CLI::App& app, MaintenanceFlags& f) {
  MaintenanceCommands c;
  c.compaction = app.add_subcommand(
      "compaction",
      "discard the history below REV on every member: reads below it and watches from it "
      "or below then fail as compacted");
  c.compaction->add_option("revision", f.revision, "the revision to compact at")->required();
  c.compaction->add_flag("--physical", f.physical,
                         "wait until the compaction is applied (always: accepted for etcdctl)");
  c.defrag = app.add_subcommand(
      "defrag", "give the space of compacted history and deleted keys back, member by member");
  c.defrag->add_flag("--cluster", f.cluster,
                     "every member the cluster lists, not just --endpoints");
  c.move_leader = app.add_subcommand(
      "move-leader", "hand the leadership to the voter TARGET and wait until it leads");
  c.move_leader
      ->add_option("target", f.target, "the member to lead: its id (as member list prints it) "
                                       "or its peer or client address")
      ->required();
  return c;
}

std::string RenderCompaction(const client::CompactResponse& r, OutputFormat format) {
  if (format == OutputFormat::kJson) {
    return "{\"compact_revision\":" + std::to_string(r.compact_revision) +
           ",\"removed\":" + std::to_string(r.removed) + "}\n";
  }
  return "compacted revision " + std::to_string(r.compact_revision) + "\n";
}

std::string RenderDefragment(const std::string& endpoint, const client::DefragmentResponse& r,
                             OutputFormat format) {
  if (format == OutputFormat::kJson) {
    return "{\"endpoint\":" + JsonString(endpoint) + ",\"memberID\":" +
           std::to_string(r.member_id) + ",\"bytes_before\":" + std::to_string(r.bytes_before) +
           ",\"bytes_after\":" + std::to_string(r.bytes_after) + "}\n";
  }
  return "Finished defragmenting member[" + endpoint + "] (" + std::to_string(r.bytes_before) +
         " -> " + std::to_string(r.bytes_after) + " bytes)\n";
}

std::string RenderMoveLeader(const client::MoveLeaderResponse& r, OutputFormat format) {
  if (format == OutputFormat::kJson) {
    return "{\"from\":" + std::to_string(r.from) + ",\"to\":" + std::to_string(r.to) + "}\n";
  }
  return "Leadership transferred from " + std::to_string(r.from) + " to " +
         std::to_string(r.to) + "\n";
}

std::optional<int> RunMaintenanceCommand(const MaintenanceCommands& cmds,
                                         const MaintenanceFlags& f, client::Client& cl,
                                         const client::CallOptions& call,
                                         std::chrono::milliseconds timeout, OutputFormat format,
                                         std::ostream& out, std::ostream& err) {
  if (cmds.compaction->parsed()) {
    Result<client::CompactResponse> r = cl.Compact(f.revision, f.physical, call);
    if (!r.ok()) {
      err << "Error: " << r.status().ToString() << "\n";
      return ExitCodeFor(r.status());
    }
    out << RenderCompaction(*r, format);
    return kExitOk;
  }
  if (cmds.move_leader->parsed()) {
    if (format != OutputFormat::kSimple && format != OutputFormat::kJson) {
      err << "Error: move-leader prints simple or json output\n";
      return kExitUsage;
    }
    Result<uint64_t> target = ResolveMember(cl, f.target, call);
    if (!target.ok()) {
      err << "Error: " << target.status().ToString() << "\n";
      return ExitCodeFor(target.status());
    }
    Result<client::MoveLeaderResponse> r = cl.MoveLeader(*target, call);
    if (!r.ok()) {
      err << "Error: " << r.status().ToString() << "\n";
      return ExitCodeFor(r.status());
    }
    out << RenderMoveLeader(*r, format);
    return kExitOk;
  }
  if (!cmds.defrag->parsed()) return std::nullopt;
  if (format == OutputFormat::kTable) {
    err << "Error: defrag prints simple or json lines (-w table is not supported)\n";
    return kExitUsage;
  }
  Result<std::vector<std::string>> asked = TargetEndpoints(cl, call, f.cluster);
  if (!asked.ok()) {
    err << "Error: " << asked.status().ToString() << "\n";
    return ExitCodeFor(asked.status());
  }
  const std::vector<std::string> targets = std::move(asked).value();
  int code = kExitOk;
  for (const std::string& e : targets) {
    Result<client::DefragmentResponse> r = cl.EndpointDefragment(e, timeout);
    if (!r.ok()) {
      err << "Failed to defragment member[" << e << "] (" << r.status().ToString() << ")\n";
      code = std::max(code, ExitCodeFor(r.status()));
      continue;
    }
    out << RenderDefragment(e, *r, format);
  }
  return code;
}

}  // namespace tinykv::cli
