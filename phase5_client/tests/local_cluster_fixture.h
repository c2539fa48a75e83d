// LocalClusterTest: a fixture with a real in-process 3-member cluster
// (LocalCluster: MVCC nodes, each with the client service on loopback) and
// clients of it -- shared by the client tests that need real nodes.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "tinykv/client/client.h"
#include "tinykv/client/local_cluster.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::client {

class LocalClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    using namespace std::chrono_literals;
    LocalClusterOptions o;
    o.n = 3;
    o.data_dir = dir_.path();
    o.sync = false;  // speed on a shared CI machine; durability is phase 3's test
    Customize(&o);
    auto c = LocalCluster::Start(o);
    ASSERT_OK(c.status());
    cluster_ = std::move(c).value();
    ASSERT_OK(cluster_->WaitForLeader(10s).status());
  }
  // A test fixture's changes to the cluster's options.
  virtual void Customize(LocalClusterOptions*) {}
  std::unique_ptr<Client> NewClient(std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                    std::chrono::milliseconds attempt = std::chrono::seconds(1)) {
    ClientOptions o;
    o.endpoints = cluster_->endpoints();
    o.timeout = timeout;
    o.attempt_timeout = attempt;
    o.seed = tinykv::testing::SeedForTest();
    return Client::Create(o).value();
  }
  tinykv::testing::TempDir dir_;
  std::unique_ptr<LocalCluster> cluster_;
};

}  // namespace tinykv::client
