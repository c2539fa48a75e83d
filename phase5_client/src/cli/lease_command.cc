// `tinykv lease ...`: see lease_command.h.
#include "cli/lease_command.h"

#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>

namespace tinykv::cli {
namespace {

}  // namespace

std::string LeaseIdString(uint64_t id) {
  std::ostringstream s;
  s << std::hex << id;
  return s.str();
}

Result<uint64_t> ParseLeaseId(const std::string& text) {
  std::string hex = text;
  if (hex.size() > 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex = hex.substr(2);
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("bad lease ID arg '" + text + "' (" + why +
                                   "), expecting ID in Hex");
  };
  if (hex.empty() || hex.size() > 16) return bad("not 1 to 16 hex digits");
  uint64_t id = 0;
  for (char c : hex) {
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    if (d < 0) return bad("not a hex digit: '" + std::string(1, c) + "'");
    id = id << 4 | static_cast<uint64_t>(d);
  }
  if (id == 0) return bad("0 is no lease");
  if (id >> 63) return bad("above the largest int64");
  return id;
}

std::string RenderLeaseGrant(const client::LeaseGrantResponse& r, OutputFormat format) {
  if (format == OutputFormat::kJson)
    return "{\"ID\":" + std::to_string(r.id) + ",\"TTL\":" + std::to_string(r.ttl_s) + "}\n";
  return "lease " + LeaseIdString(r.id) + " granted with TTL(" + std::to_string(r.ttl_s) + "s)\n";
}

std::string RenderLeaseRevoke(uint64_t id, const client::LeaseRevokeResponse& r,
                              OutputFormat format) {
  if (format == OutputFormat::kJson)
    return "{\"ID\":" + std::to_string(id) + ",\"revision\":" + std::to_string(r.revision) +
           ",\"deleted\":" + std::to_string(r.deleted) + "}\n";
  return "lease " + LeaseIdString(id) + " revoked\n";
}

std::string RenderLeaseTimeToLive(const client::LeaseTimeToLiveResponse& r, bool keys,
                                  OutputFormat format, BytesEncoding encoding) {
  if (format == OutputFormat::kJson) {
    std::string s = "{\"ID\":" + std::to_string(r.id) + ",\"TTL\":" + std::to_string(r.ttl_s) +
                    ",\"grantedTTL\":" + std::to_string(r.granted_ttl_s);
    if (keys) {
      // As RenderKvs spells keys: text when valid UTF-8, else base64.
      const bool b64 = encoding == BytesEncoding::kBase64 ||
                       std::any_of(r.keys.begin(), r.keys.end(),
                                   [](const std::string& k) { return !IsValidUtf8(k); });
      s += b64 ? ",\"keys_base64\":[" : ",\"keys\":[";
      for (size_t i = 0; i < r.keys.size(); ++i) {
        if (i > 0) s += ",";
        s += b64 ? "\"" + Base64Encode(r.keys[i]) + "\"" : JsonString(r.keys[i]);
      }
      s += "]";
    }
    return s + "}\n";
  }
  std::string s = "lease " + LeaseIdString(r.id) + " granted with TTL(" +
                  std::to_string(r.granted_ttl_s) + "s), remaining(" + std::to_string(r.ttl_s) +
                  "s)";
  if (keys) {
    s += ", attached keys([";
    for (size_t i = 0; i < r.keys.size(); ++i) s += (i > 0 ? " " : "") + Printable(r.keys[i]);
    s += "])";
  }
  return s + "\n";
}

std::string RenderLeaseList(const std::vector<uint64_t>& ids, OutputFormat format) {
  if (format == OutputFormat::kJson) {
    std::string s = "{\"leases\":[";
    for (size_t i = 0; i < ids.size(); ++i)
      s += (i > 0 ? ",{\"ID\":" : "{\"ID\":") + std::to_string(ids[i]) + "}";
    return s + "]}\n";
  }
  std::string s = "found " + std::to_string(ids.size()) + " leases\n";
  for (uint64_t id : ids) s += LeaseIdString(id) + "\n";
  return s;
}

std::string RenderLeaseKeepAlive(const client::LeaseKeepAliveResponse& r, OutputFormat format) {
  if (format == OutputFormat::kJson)
    return "{\"ID\":" + std::to_string(r.id) + ",\"TTL\":" + std::to_string(r.ttl_s) + "}\n";
  return "lease " + LeaseIdString(r.id) + " keepalived with TTL(" + std::to_string(r.ttl_s) +
         ")\n";
}

LeaseCommands AddLeaseCommands(CLI::App& app, LeaseFlags& f) {
  auto* lease = app.add_subcommand("lease", "leases: keys that expire unless kept alive");
  lease->require_subcommand(1);
  LeaseCommands c;
  c.grant = lease->add_subcommand("grant", "grant a lease of TTL seconds; prints its id (hex)");
  c.grant->add_option("ttl", f.ttl, "seconds")->required()->check(CLI::Range(uint64_t{1},
                                                                            uint64_t{9000000000}));
  c.revoke = lease->add_subcommand("revoke", "revoke a lease: its keys are deleted");
  c.revoke->add_option("id", f.id, "the lease id (hex)")->required();
  c.timetolive = lease->add_subcommand("timetolive", "a lease's granted and remaining TTL");
  c.timetolive->add_option("id", f.id, "the lease id (hex)")->required();
  c.timetolive->add_flag("--keys", f.keys, "also the keys attached to it");
  c.list = lease->add_subcommand("list", "every lease");
  c.keep_alive = lease->add_subcommand(
      "keep-alive", "renew a lease every TTL/3 until interrupted (Ctrl-C)");
  c.keep_alive->add_option("id", f.id, "the lease id (hex)")->required();
  c.keep_alive->add_flag("--once", f.once, "renew once and exit");
  return c;
}

std::optional<int> RunLeaseCommand(const LeaseCommands& c, const LeaseFlags& f,
                                   client::Client& cl, const client::CallOptions& call,
                                   OutputFormat format, BytesEncoding encoding, std::ostream& out,
                                   std::ostream& err, const CliInterrupt* interrupt) {
  auto fail = [&](const Status& s) {
    err << "Error: " << s.ToString() << "\n";
    return ExitCodeFor(s);
  };
  auto usage = [&](const Status& s) {
    err << "Error: " << s.message() << "\n";
    return static_cast<int>(kExitUsage);
  };
  if (c.grant->parsed()) {
    auto r = cl.LeaseGrant(f.ttl, 0, call);
    if (!r.ok()) return fail(r.status());
    out << RenderLeaseGrant(*r, format);
    return kExitOk;
  }
  if (c.list->parsed()) {
    auto r = cl.Leases(call);
    if (!r.ok()) return fail(r.status());
    out << RenderLeaseList(*r, format);
    return kExitOk;
  }
  if (!c.revoke->parsed() && !c.timetolive->parsed() && !c.keep_alive->parsed())
    return std::nullopt;
  Result<uint64_t> id = ParseLeaseId(f.id);
  if (!id.ok()) return usage(id.status());
  if (c.revoke->parsed()) {
    auto r = cl.LeaseRevoke(*id, call);
    if (!r.ok()) return fail(r.status());
    out << RenderLeaseRevoke(*id, *r, format);
    return kExitOk;
  }
  if (c.timetolive->parsed()) {
    auto r = cl.LeaseTimeToLive(*id, f.keys, call);
    if (r.status().IsNotFound()) {
      // etcdctl's words for a lease that is gone (or never was).
      out << "lease " << LeaseIdString(*id) << " already expired\n";
      return kExitNotFound;
    }
    if (!r.ok()) return fail(r.status());
    out << RenderLeaseTimeToLive(*r, f.keys, format, encoding);
    return kExitOk;
  }
  // keep-alive: a renewal every ttl/3 (as etcdctl's), until interrupted.
  if (!f.once && interrupt != nullptr && interrupt->arm) interrupt->arm();
  for (;;) {
    auto r = cl.LeaseKeepAliveOnce(*id, call);
    if (!r.ok()) return fail(r.status());
    out << RenderLeaseKeepAlive(*r, format) << std::flush;
    if (f.once) return kExitOk;
    const auto period = std::chrono::milliseconds(std::max<uint64_t>(r->ttl_s * 1000 / 3, 100));
    const auto until = std::chrono::steady_clock::now() + period;
    while (std::chrono::steady_clock::now() < until) {
      if (interrupt != nullptr && interrupt->interrupted != nullptr &&
          interrupt->interrupted->load()) {
        out << "lease " << LeaseIdString(*id) << " keep-alive ended\n";
        return kExitOk;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

}  // namespace tinykv::cli
