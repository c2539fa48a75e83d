// Key metadata and prev_kv end to end on 3 real nodes (LocalCluster): the
// client's Get, Scan and writes report etcd's KeyValue fields (create and
// mod revision, version, lease) as the server's MVCC keeps them; the CLI
// prints them in -w json and -w fields as etcdctl does, and `put --prev-kv`
// / `del --prev-kv` print what was there.
#include <gtest/gtest.h>

#include <string>

#include "cli_cluster_fixture.h"
#include "cli_json.h"

namespace tinykv::cli {
namespace {

using client::KeyMetadata;
using client::WriteOptions;
using MetadataTest = CliClusterTest;

TEST_F(MetadataTest, ReadsReportTheKeysLifeAndWritesTheirPrevKv) {
  auto cl = NewClient();
  auto a = cl->PutWith("k", "1", WriteOptions{0, true});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_TRUE(a->prev_kvs.empty()) << "the put created the key";
  auto b = cl->PutWith("k", "2", WriteOptions{0, true});
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->prev_kvs.size(), 1u);
  EXPECT_EQ(b->prev_kvs[0].value, "1");
  EXPECT_EQ(b->prev_kvs[0].meta, (KeyMetadata{a->revision, a->revision, 1, 0}));
  auto lease = cl->LeaseGrant(60);
  ASSERT_TRUE(lease.ok());
  auto c = cl->PutWith("k", "3", WriteOptions{lease->id, false});
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->prev_kvs.empty()) << "not asked for";

  auto g = cl->GetWithRevision("k");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->meta, (KeyMetadata{a->revision, c->revision, 3, lease->id}));
  client::CallOptions at_b;
  at_b.revision = b->revision;
  EXPECT_EQ(cl->GetWithRevision("k", at_b)->meta,
            (KeyMetadata{a->revision, b->revision, 2, 0}));
  ASSERT_TRUE(cl->Put("j", "x").ok());
  auto scan = cl->Scan("", "");
  ASSERT_TRUE(scan.ok());
  ASSERT_EQ(scan->size(), 2u);
  EXPECT_EQ((*scan)[0].meta.version, 1u);  // "j"
  EXPECT_EQ((*scan)[1].meta, g->meta);     // "k"

  auto del = cl->DeleteWith("k", WriteOptions{0, true});
  ASSERT_TRUE(del.ok());
  ASSERT_EQ(del->prev_kvs.size(), 1u);
  EXPECT_EQ(del->prev_kvs[0].value, "3");
  EXPECT_EQ(del->prev_kvs[0].meta, g->meta);
  EXPECT_TRUE(cl->DeleteWith("k", WriteOptions{0, true})->prev_kvs.empty()) << "gone already";
  auto range = cl->DeleteRangeWith("", "", WriteOptions{0, true});
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->deleted, 1u);
  ASSERT_EQ(range->prev_kvs.size(), 1u);
  EXPECT_EQ(range->prev_kvs[0].key, "j");
  EXPECT_FALSE(range->prev_kvs_truncated);
  // A new life after the delete.
  auto again = cl->PutWithRevision("k", "new");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(cl->GetWithRevision("k")->meta,
            (KeyMetadata{again->revision, again->revision, 1, 0}));
}

TEST_F(MetadataTest, TheCliPrintsMetadataAndPrevKvAsEtcdctl) {
  auto cl = NewClient();
  auto a = cl->PutWithRevision("k", "v1");
  auto b = cl->PutWithRevision("k", "v2");
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string ra = std::to_string(a->revision), rb = std::to_string(b->revision);
  std::string out, err;
  ASSERT_EQ(Run({"get", "k", "-w", "json"}, &out, &err), 0) << err;
  EXPECT_NE(out.find("\"kvs\":[{\"key\":\"k\",\"create_revision\":" + ra + ",\"mod_revision\":" +
                     rb + ",\"version\":2,\"value\":\"v2\",\"lease\":0}]"),
            std::string::npos)
      << out;
  ASSERT_EQ(Run({"get", "k", "-w", "fields"}, &out, &err), 0) << err;
  EXPECT_NE(out.find("\"CreateRevision\" : " + ra + "\n\"ModRevision\" : " + rb +
                     "\n\"Version\" : 2\n\"Value\" : \"v2\"\n\"Lease\" : 0\n"),
            std::string::npos)
      << out;
  ASSERT_EQ(Run({"put", "k", "v3", "--prev-kv"}, &out, &err), 0) << err;
  EXPECT_EQ(out, "OK\nk\nv2\n");
  ASSERT_EQ(Run({"put", "fresh", "x", "--prev-kv"}, &out, &err), 0) << err;
  EXPECT_EQ(out, "OK\n");
  ASSERT_EQ(Run({"put", "k", "v4", "--prev-kv", "-w", "json"}, &out, &err), 0) << err;
  EXPECT_NE(out.find(",\"prev_kv\":{\"key\":\"k\",\"create_revision\":" + ra), std::string::npos)
      << out;
  EXPECT_NE(out.find("\"value\":\"v3\""), std::string::npos) << out;
  ASSERT_EQ(Run({"del", "k", "--prev-kv"}, &out, &err), 0) << err;
  EXPECT_EQ(out, "1\nk\nv4\n");
  ASSERT_EQ(Run({"del", "", "--prefix", "--prev-kv", "-w", "json"}, &out, &err), 0) << err;
  EXPECT_EQ(WithoutHeader(out).rfind("{\"deleted\":1,\"prev_kvs\":[{\"key\":\"fresh\",", 0), 0u)
      << out;
}

}  // namespace
}  // namespace tinykv::cli
