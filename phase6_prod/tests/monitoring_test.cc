// The monitoring answers: /health's verdicts, /debug/raft's JSON and the
// metrics exposition (names, types, values from the status and the request
// observer).
#include <gtest/gtest.h>

#include "metrics.h"
#include "monitoring_routes.h"

namespace tinykv::prod {
namespace {

replica::KvNodeStatus Healthy() {
  replica::KvNodeStatus st;
  st.id = 2;
  st.group = 1;
  st.leader = 1;
  st.term = 7;
  st.role = "follower";
  st.commit_index = 42;
  st.applied_index = 41;
  st.log_fsyncs = 9;
  st.leader_changes = 3;
  st.members = {{1, "127.0.0.1:1", false, "127.0.0.1:2"}};
  return st;
}

TEST(Monitoring, HealthIsTrueWithALeaderAndFalseWithTheReason) {
  HttpResponse ok = HealthResponse(Healthy());
  EXPECT_EQ(ok.status, 200u);
  EXPECT_EQ(ok.body, R"({"health":"true","reason":""})");
  replica::KvNodeStatus st = Healthy();
  st.leader = 0;
  HttpResponse no_leader = HealthResponse(st);
  EXPECT_EQ(no_leader.status, 503u);
  EXPECT_EQ(no_leader.body, R"({"health":"false","reason":"no leader"})");
  st = Healthy();
  st.error = "IO error: \"raft.log\": No space left on device";
  HttpResponse disk = HealthResponse(st);
  EXPECT_EQ(disk.status, 503u);
  EXPECT_EQ(disk.body,
            R"({"health":"false","reason":"disk error: IO error: \"raft.log\": No space left on device"})");
  st.nospace = true;  // a full disk raises the alarm: etcd's reason
  HttpResponse nospace = HealthResponse(st);
  EXPECT_EQ(nospace.status, 503u);
  EXPECT_EQ(nospace.body, R"({"health":"false","reason":"ALARM NOSPACE"})");
}

TEST(Monitoring, DebugRaftIsTheStatusAsJson) {
  const std::string body = DebugRaftResponse(Healthy()).body;
  EXPECT_TRUE(body.starts_with(R"({"id":2,"group":1,"term":7,"role":"follower","leader":1,)")) << body;
  EXPECT_NE(body.find(R"("commit_index":42,"applied_index":41,)"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("members":[{"id":1,"peer_address":"127.0.0.1:1","client_address":"127.0.0.1:2","learner":false}])"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find(R"("error":"")"), std::string::npos) << body;
}

TEST(Monitoring, MetricsComeFromTheStatusAndTheRequests) {
  replica::KvNodeStatus st = Healthy();
  ServerMetrics m([&st] { return st; }, "9.8.7");
  m.ObserveRequest("tinykv.Put", Status::OK(), std::chrono::milliseconds(3));
  m.ObserveRequest("tinykv.Put", Status::OK(), std::chrono::milliseconds(4));
  m.ObserveRequest("tinykv.Put", Status::NotLeader("x"), std::chrono::milliseconds(1));
  const std::string text = m.Scrape();
  for (const char* line : {
           "# TYPE tinykv_server_has_leader gauge\ntinykv_server_has_leader 1\n",
           "# TYPE tinykv_server_is_leader gauge\ntinykv_server_is_leader 0\n",
           "# TYPE tinykv_server_leader_changes_seen_total counter\n"
           "tinykv_server_leader_changes_seen_total 3\n",
           "tinykv_server_proposals_committed_total 42\n",
           "tinykv_server_proposals_applied_total 41\n",
           "tinykv_disk_wal_fsync_total 9\n",
           "# TYPE tinykv_server_alarm gauge\ntinykv_server_alarm{alarm=\"NOSPACE\"} 0\n"
           "tinykv_server_alarm{alarm=\"CORRUPT\"} 0\n",
           "tinykv_build_info{version=\"9.8.7\"} 1\n",
           "tinykv_grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Put\",grpc_service=\"tinykv\"} 2\n",
           "tinykv_grpc_server_handled_total{grpc_code=\"NotLeader\",grpc_method=\"Put\",grpc_service=\"tinykv\"} 1\n",
           "tinykv_grpc_server_handling_seconds_count{grpc_method=\"Put\",grpc_service=\"tinykv\"} 3\n",
           "tinykv_grpc_server_handling_seconds_bucket{grpc_method=\"Put\",grpc_service=\"tinykv\",le=\"0.0025\"} 1\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nnot in:\n" << text;
  }
  // Refreshed at every scrape.
  st.leader = 0;
  st.log_fsyncs = 10;
  const std::string later = m.Scrape();
  EXPECT_NE(later.find("tinykv_server_has_leader 0\n"), std::string::npos) << later;
  EXPECT_NE(later.find("tinykv_disk_wal_fsync_total 10\n"), std::string::npos) << later;
}

TEST(Monitoring, DiskLatencyHistogramsHaveEtcdsBucketsInSeconds) {
  replica::KvNodeStatus st = Healthy();
  LatencyHistogram wal;
  wal.Observe(std::chrono::microseconds(800));       // <= 1 ms
  wal.Observe(std::chrono::milliseconds(3));         // <= 4 ms
  wal.Observe(std::chrono::seconds(10));             // +Inf only
  st.wal_fsync_duration = wal.Read();
  LatencyHistogram commit;
  commit.Observe(std::chrono::milliseconds(150));    // <= 0.256 s
  st.backend_commit_duration = commit.Read();
  ServerMetrics m([&st] { return st; }, "1");
  const std::string text = m.Scrape();
  for (const char* line : {
           "# TYPE tinykv_wal_fsync_duration_seconds histogram\n",
           "tinykv_wal_fsync_duration_seconds_bucket{le=\"0.001\"} 1\n",
           "tinykv_wal_fsync_duration_seconds_bucket{le=\"0.002\"} 1\n",
           "tinykv_wal_fsync_duration_seconds_bucket{le=\"0.004\"} 2\n",
           "tinykv_wal_fsync_duration_seconds_bucket{le=\"8.192\"} 2\n",
           "tinykv_wal_fsync_duration_seconds_bucket{le=\"+Inf\"} 3\n",
           "tinykv_wal_fsync_duration_seconds_count 3\n",
           "tinykv_wal_fsync_duration_seconds_sum 10.0038\n",
           "# TYPE tinykv_backend_commit_duration_seconds histogram\n",
           "tinykv_backend_commit_duration_seconds_bucket{le=\"0.128\"} 0\n",
           "tinykv_backend_commit_duration_seconds_bucket{le=\"0.256\"} 1\n",
           "tinykv_backend_commit_duration_seconds_count 1\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nnot in:\n" << text;
  }
}

TEST(Monitoring, MvccMetricsComeFromTheMvccStatusAtEachScrape) {
  replica::KvNodeStatus st = Healthy();
  MvccStatus mvcc;
  mvcc.watchers = 2;
  mvcc.watch_queued_bytes = 512;
  mvcc.slow_watchers_ended = 1;
  mvcc.leases = 3;
  mvcc.compacted_revision = 1000;
  mvcc.auto_compactions = 4;
  ServerMetrics m([&st] { return st; }, "1", [&mvcc] { return mvcc; });
  const std::string text = m.Scrape();
  for (const char* line : {
           "# TYPE tinykv_watchers gauge\ntinykv_watchers 2\n",
           "# TYPE tinykv_watch_queued_bytes gauge\ntinykv_watch_queued_bytes 512\n",
           "# TYPE tinykv_slow_watchers_dropped_total counter\n"
           "tinykv_slow_watchers_dropped_total 1\n",
           "# TYPE tinykv_leases gauge\ntinykv_leases 3\n",
           "# TYPE tinykv_compact_revision gauge\ntinykv_compact_revision 1000\n",
           "# TYPE tinykv_auto_compactions_total counter\ntinykv_auto_compactions_total 4\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nnot in:\n" << text;
  }
  EXPECT_NE(text.find("# HELP tinykv_leases "), std::string::npos) << text;
  mvcc.watchers = 0;
  mvcc.leases = 0;
  const std::string later = m.Scrape();
  EXPECT_NE(later.find("tinykv_watchers 0\n"), std::string::npos) << later;
  EXPECT_NE(later.find("tinykv_leases 0\n"), std::string::npos) << later;
}

TEST(Monitoring, MvccMetricsAreLeftOutWithoutAnMvccStatus) {
  replica::KvNodeStatus st = Healthy();
  ServerMetrics m([&st] { return st; }, "1");
  const std::string text = m.Scrape();
  EXPECT_EQ(text.find("tinykv_watchers"), std::string::npos) << text;
  EXPECT_EQ(text.find("tinykv_compact_revision"), std::string::npos) << text;
}

}  // namespace
}  // namespace tinykv::prod
