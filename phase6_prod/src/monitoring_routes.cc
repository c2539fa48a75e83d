// The monitoring routes (monitoring_routes.h). JSON is written by hand (a
// handful of fixed fields) with the CLI's string escaper.
#include "monitoring_routes.h"

#include <fmt/format.h>

#include <atomic>
#include <memory>

#include "cli/output.h"

namespace tinykv::prod {

namespace {

constexpr char kJson[] = "application/json";

// Why a member is not healthy; empty when it is.
std::string Unhealthy(const replica::KvNodeStatus& st) {
  if (st.nospace) return "ALARM NOSPACE";  // etcd's reason, word for word
  if (!st.error.empty()) return "disk error: " + st.error;
  if (!st.alarm.empty()) return "alarm " + st.alarm;  // e.g. CORRUPT: state hash mismatch ...
  if (st.leader == 0) return "no leader";
  return "";
}

}  // namespace

HttpResponse HealthResponse(const replica::KvNodeStatus& st) {
  const std::string reason = Unhealthy(st);
  return HttpResponse{reason.empty() ? 200u : 503u, kJson,
                      fmt::format("{{\"health\":\"{}\",\"reason\":{}}}",
                                  reason.empty() ? "true" : "false", cli::JsonString(reason))};
}

HttpResponse DebugRaftResponse(const replica::KvNodeStatus& st) {
  std::string members;
  for (const replica::MemberInfo& m : st.members) {
    members += fmt::format("{}{{\"id\":{},\"peer_address\":{},\"client_address\":{},\"learner\":{}}}",
                           members.empty() ? "" : ",", m.id, cli::JsonString(m.peer_address),
                           cli::JsonString(m.client_address), m.learner ? "true" : "false");
  }
  std::string body = fmt::format(
      "{{\"id\":{},\"group\":{},\"term\":{},\"role\":{},\"leader\":{},\"vote\":{},"
      "\"commit_index\":{},\"applied_index\":{},\"first_index\":{},\"last_index\":{},"
      "\"snapshot_index\":{},\"members\":[{}],\"error\":{},\"alarm\":{},\"rejected_messages\":{},"
      "\"log_fsyncs\":{},\"log_entries_written\":{},\"proposals_pending\":{},"
      "\"proposals_failed\":{},\"leader_changes\":{},\"ticks\":{}}}",
      st.id, st.group, st.term, cli::JsonString(st.role), st.leader, st.vote, st.commit_index,
      st.applied_index, st.first_index, st.last_index, st.snapshot_index, members,
      cli::JsonString(st.error), cli::JsonString(st.alarm), st.rejected_messages, st.log_fsyncs, st.log_entries_written,
      st.proposals_pending, st.proposals_failed, st.leader_changes, st.ticks);
  return HttpResponse{200, kJson, std::move(body)};
}

std::map<std::string, HttpHandler> MonitoringRoutes(MonitoringContext context) {
  auto ctx = std::make_shared<const MonitoringContext>(std::move(context));
  // Caught up once: a replica that applied its start commit index stays so
  // (later lag shows in /debug/raft and the metrics, not as "not ready").
  auto caught_up = std::make_shared<std::atomic<bool>>(false);
  std::map<std::string, HttpHandler> routes;
  routes["/metrics"] = [ctx] {
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", ctx->metrics->Scrape()};
  };
  routes["/health"] = [ctx] { return HealthResponse(ctx->status()); };
  routes["/livez"] = [] { return HttpResponse{200, "text/plain; charset=utf-8", "ok\n"}; };
  routes["/readyz"] = [ctx, caught_up] {
    const replica::KvNodeStatus st = ctx->status();
    if (st.applied_index >= ctx->start_commit_index) caught_up->store(true);
    std::string why;
    if (!caught_up->load()) {
      why = fmt::format("applied index {} below the commit index {} at start", st.applied_index,
                        ctx->start_commit_index);
    } else if (!Unhealthy(st).empty()) {
      why = Unhealthy(st);
    }
    if (why.empty()) return HttpResponse{200, "text/plain; charset=utf-8", "ok\n"};
    return HttpResponse{503, "text/plain; charset=utf-8", "not ready: " + why + "\n"};
  };
  routes["/version"] = [ctx] {
    // TinyKV has no cluster-wide version yet: "not_decided", etcd's word
    // before its members agree on one.
    return HttpResponse{200, kJson,
                        fmt::format("{{\"server\":{},\"cluster\":\"not_decided\","
                                    "\"cluster_id\":\"{:016x}\"}}",
                                    cli::JsonString(ctx->version), ctx->cluster_id)};
  };
  routes["/debug/raft"] = [ctx] { return DebugRaftResponse(ctx->status()); };
  return routes;
}

}  // namespace tinykv::prod
