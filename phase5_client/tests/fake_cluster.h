// FakeCluster: n FakeKvNodes (fake_kv_node.h), each behind its own loopback
// RpcServer running the real KV service (port 0). For client, service and
// CLI tests that need no Raft.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "fake_kv_node.h"
#include "tinykv/client/client.h"
#include "tinykv/client/service.h"
#include "tinykv/net/server.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::client::testing {

using namespace std::chrono_literals;

// n fake nodes, each behind its own RpcServer with the KV service.
class FakeCluster {
 public:
  FakeCluster(int n, bool with_address_hints) : group_(std::make_shared<FakeGroup>()) {
    addresses_.resize(static_cast<size_t>(n));
    for (int i = 1; i <= n; ++i) {
      group_->peer_addresses[static_cast<uint64_t>(i)] = "127.0.0.1:" + std::to_string(7000 + i);
      nodes_.push_back(std::make_unique<FakeKvNode>(static_cast<uint64_t>(i), group_));
      net::ServerOptions so;
      so.io_threads = 1;
      servers_.push_back(net::RpcServer::Create(so).value());
      ServiceOptions svc;
      if (with_address_hints) {
        svc.resolve_client_address = [this](uint64_t id) -> std::string {
          return id >= 1 && id <= addresses_.size() ? addresses_[id - 1] : "";
        };
      }
      RegisterKvService(*servers_.back(), *nodes_.back(), svc);
    }
    for (size_t i = 0; i < servers_.size(); ++i) {
      EXPECT_OK(servers_[i]->Start());
      addresses_[i] = servers_[i]->address();
    }
  }
  ~FakeCluster() {
    for (auto& s : servers_) s->Shutdown(1s);
    for (auto& n : nodes_) n->Stop();
  }
  void SetLeader(uint64_t id) {
    std::lock_guard<std::mutex> l(group_->mu);
    group_->leader = id;
    group_->term++;
  }
  std::unique_ptr<Client> NewClient(std::vector<std::string> endpoints = {},
                                    std::chrono::milliseconds timeout = 5s,
                                    Clock* clock = nullptr) {
    ClientOptions o;
    o.clock = clock;
    o.endpoints = endpoints.empty() ? addresses_ : std::move(endpoints);
    o.timeout = timeout;
    o.seed = tinykv::testing::SeedForTest();
    return Client::Create(o).value();
  }
  const std::string& address(int i) const { return addresses_[static_cast<size_t>(i - 1)]; }
  const std::vector<std::string>& addresses() const { return addresses_; }
  FakeGroup& group() { return *group_; }

 private:
  std::shared_ptr<FakeGroup> group_;
  std::vector<std::unique_ptr<FakeKvNode>> nodes_;
  std::vector<std::unique_ptr<net::RpcServer>> servers_;
  std::vector<std::string> addresses_;
};

}  // namespace tinykv::client::testing
