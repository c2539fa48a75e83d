// The TinyKV backend of tinykv-bench: the phase 5 C++ client.
//
// --conns clients (each with one connection per endpoint, multiplexed) are
// shared round-robin by the sessions, as etcd's benchmark shares --conns gRPC
// connections among --clients. Each client finds the leader itself and
// follows NotLeader hints; linearizable gets use ReadIndex on the leader,
// serializable gets are answered by whichever node the client picks.
#include <memory>
#include <vector>

#include "bench_backend.h"
#include "tinykv/client/client.h"

namespace tinykv::bench {
namespace {

class TinyKvSession final : public Session {
 public:
  explicit TinyKvSession(std::shared_ptr<client::Client> c) : client_(std::move(c)) {}
  Status Put(const std::string& key, const std::string& value) override {
    return client_->Put(key, value);
  }
  Status Get(const std::string& key, bool linearizable) override {
    client::CallOptions opts;
    opts.serializable = !linearizable;
    return client_->Get(key, opts).status();
  }

 private:
  std::shared_ptr<client::Client> client_;
};

class TinyKvBackend final : public Backend {
 public:
  TinyKvBackend(BackendOptions options, std::vector<std::shared_ptr<client::Client>> clients)
      : options_(std::move(options)), clients_(std::move(clients)) {}
  Result<std::unique_ptr<Session>> NewSession(int index) override {
    return std::unique_ptr<Session>(new TinyKvSession(clients_[index % clients_.size()]));
  }
  std::string Describe() const override {
    return "TinyKV client protocol (phase 5 C++ client, " + std::to_string(clients_.size()) +
           " clients x 1 multiplexed connection per endpoint, leader discovery)";
  }

 private:
  BackendOptions options_;
  std::vector<std::shared_ptr<client::Client>> clients_;
};

}  // namespace

Result<std::unique_ptr<Backend>> NewTinyKvBackend(const BackendOptions& options) {
  std::vector<std::shared_ptr<client::Client>> clients;
  for (int i = 0; i < std::max(1, options.conns); ++i) {
    client::ClientOptions co;
    co.endpoints = options.endpoints;
    co.timeout = std::chrono::milliseconds(options.timeout_ms);
    co.connections_per_endpoint = 1;
    auto c = client::Client::Create(co);
    if (!c.ok()) return c.status();
    clients.push_back(std::shared_ptr<client::Client>(std::move(c).value()));
  }
  return std::unique_ptr<Backend>(new TinyKvBackend(options, std::move(clients)));
}

}  // namespace tinykv::bench
