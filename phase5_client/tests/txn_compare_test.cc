// `tinykv txn` compares on key metadata (txn_command.h): version, create,
// mod and lease against any number, each operator, on a present and on an
// absent key, parsed as etcdctl parses them and run on a real in-process
// cluster through Txn::GetMeta; and GetMeta itself.
#include <gtest/gtest.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "cli/lease_command.h"
#include "cli/txn_command.h"
#include "local_cluster_fixture.h"
#include "tinykv/client/txn.h"

namespace tinykv::cli {
namespace {

using Target = TxnCompare::Target;

Result<TxnCompare> ParseOneCompare(const std::string& line) {
  std::istringstream in(line + "\n");
  TINYKV_ASSIGN_OR_RETURN(TxnRequest r, ParseTxn(in, nullptr));
  if (r.compares.size() != 1) return Status::InvalidArgument("want one compare");
  return r.compares.front();
}

TEST(TxnCompareGrammar, NumbersAreSignedInt64DecimalAndHexForLease) {
  struct Case {
    std::string line;
    Target target;
    int64_t number;
  };
  for (const Case& c : std::vector<Case>{
           {"ver(\"k\") = \"3\"", Target::kVersion, 3},
           {"version(\"k\") > -1", Target::kVersion, -1},
           {"c(\"k\") < \"+12\"", Target::kCreate, 12},
           {"create(\"k\") = \"9223372036854775807\"", Target::kCreate, INT64_MAX},
           {"m(\"k\") > \"-9223372036854775808\"", Target::kMod, INT64_MIN},
           {"mod(\"k\") != \"0\"", Target::kMod, 0},
           {"lease(\"k\") = \"694d5765fc71500b\"", Target::kLease, 0x694d5765fc71500b},
           {"lease(\"k\") = \"FF\"", Target::kLease, 255},
           {"lease(\"k\") = \"10\"", Target::kLease, 16},  // hex, as etcdctl reads it
       }) {
    Result<TxnCompare> r = ParseOneCompare(c.line);
    ASSERT_OK(r.status()) << c.line;
    EXPECT_EQ(r->target, c.target) << c.line;
    EXPECT_EQ(r->number, c.number) << c.line;
  }
}

class TxnCompareTest : public client::LocalClusterTest {
 protected:
  // Whether the txn of COMPARE alone (no ops) took its success branch.
  bool Holds(const std::string& compare) {
    std::istringstream in(compare + "\n\n");
    Result<TxnRequest> request = ParseTxn(in, nullptr);
    EXPECT_OK(request.status()) << compare;
    if (!request.ok()) return false;
    client::TxnOptions options;
    Result<TxnOutcome> outcome = client::RunCompareTxn(*cl_, *request, options);
    EXPECT_OK(outcome.status()) << compare;
    return outcome.ok() && outcome->succeeded;
  }
  // Each operator against n-1, n and n+1, as etcd's integer compares hold.
  void ExpectOrderAround(const std::string& target, const std::string& key, int64_t n,
                         bool hex = false) {
    auto num = [&](int64_t v) {
      if (!hex) return std::to_string(v);
      return v < 0 ? "-" + LeaseIdString(static_cast<uint64_t>(-v))
                   : v == 0 ? std::string("0") : LeaseIdString(static_cast<uint64_t>(v));
    };
    for (int64_t d : {-1, 0, 1}) {
      const std::string lhs = target + "(\"" + key + "\") ";
      const std::string rhs = " \"" + num(n + d) + "\"";
      // The key's number n against n + d.
      EXPECT_EQ(Holds(lhs + "=" + rhs), d == 0) << lhs << "= " << rhs << " (n=" << n << ")";
      EXPECT_EQ(Holds(lhs + "!=" + rhs), d != 0) << lhs << "!= " << rhs << " (n=" << n << ")";
      EXPECT_EQ(Holds(lhs + "<" + rhs), d > 0) << lhs << "< " << rhs << " (n=" << n << ")";
      EXPECT_EQ(Holds(lhs + ">" + rhs), d < 0) << lhs << "> " << rhs << " (n=" << n << ")";
    }
  }
  std::unique_ptr<client::Client> cl_ = nullptr;
  void SetUp() override {
    LocalClusterTest::SetUp();
    if (!HasFatalFailure()) cl_ = NewClient();
  }
};

TEST_F(TxnCompareTest, VersionCreateModAndLeaseOfAPresentKey) {
  auto lease = cl_->LeaseGrant(600);
  ASSERT_OK(lease);
  ASSERT_OK(cl_->Put("k", "1"));
  ASSERT_OK(cl_->Put("k", "2"));
  ASSERT_OK(cl_->PutWithLease("k", "3", lease->id));
  auto got = cl_->GetWithRevision("k");
  ASSERT_OK(got);
  const client::KeyMetadata m = got->meta;
  ASSERT_EQ(m.version, 3u);
  ASSERT_GT(m.mod_revision, m.create_revision);
  ASSERT_EQ(m.lease, lease->id);
  ExpectOrderAround("version", "k", 3);
  ExpectOrderAround("create", "k", static_cast<int64_t>(m.create_revision));
  ExpectOrderAround("mod", "k", static_cast<int64_t>(m.mod_revision));
  ExpectOrderAround("lease", "k", static_cast<int64_t>(m.lease), /*hex=*/true);
  // The short target names are the same compares.
  EXPECT_TRUE(Holds("ver(\"k\") = \"3\""));
  EXPECT_TRUE(Holds("c(\"k\") = \"" + std::to_string(m.create_revision) + "\""));
  EXPECT_TRUE(Holds("m(\"k\") = " + std::to_string(m.mod_revision)));
  // A put without a lease detaches the key: lease 0 then.
  ASSERT_OK(cl_->Put("k", "4"));
  EXPECT_TRUE(Holds("lease(\"k\") = \"0\""));
  EXPECT_TRUE(Holds("version(\"k\") = \"4\""));
}

// etcd: the version, create, mod revision and lease of an absent key are 0
// (a deleted key included); a value compare on it never holds.
TEST_F(TxnCompareTest, AnAbsentKeyComparesAsZero) {
  ASSERT_OK(cl_->Put("gone", "x"));
  ASSERT_OK(cl_->Delete("gone"));
  for (const std::string key : {"never", "gone"}) {
    for (const std::string target : {"version", "create", "mod"}) ExpectOrderAround(target, key, 0);
    ExpectOrderAround("lease", key, 0, /*hex=*/true);
    EXPECT_FALSE(Holds("value(\"" + key + "\") != \"x\""));
  }
}

// The compares read at start_ts and their keys are locked, so a write of a
// compared key after start_ts fails the commit (and RunTxn reruns it): a
// mod-revision compare-and-set cannot be lost to a concurrent writer.
TEST_F(TxnCompareTest, AModRevisionCompareSeesTheStateTheWritesApplyTo) {
  auto put = cl_->PutWithRevision("cas", "a");
  ASSERT_OK(put);
  const std::string at_a = "mod(\"cas\") = \"" + std::to_string(put->revision) + "\"";
  auto t = client::Txn::Begin(*cl_);
  ASSERT_OK(t);
  auto r = (*t)->GetMeta("cas");
  ASSERT_OK(r);
  EXPECT_EQ(r->value, "a");
  EXPECT_EQ(r->meta.mod_revision, put->revision);
  EXPECT_EQ(r->meta.version, 1u);
  ASSERT_OK((*t)->Lock("cas"));
  ASSERT_OK((*t)->Put("cas", "b"));
  EXPECT_TRUE((*t)->GetMeta("cas").status().IsInvalidArgument());  // written here: not known yet
  ASSERT_OK(cl_->Put("cas", "other"));  // after start_ts
  EXPECT_TRUE((*t)->Commit().status().IsConflict());
  // The same compare through `tinykv txn` now fails: cas moved on.
  EXPECT_FALSE(Holds(at_a));
  EXPECT_EQ(cl_->Get("cas").value(), "other");
}

}  // namespace
}  // namespace tinykv::cli
