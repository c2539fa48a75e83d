// The tinykv-blocking backend of tinykv-bench: the phase 5 client itself
// (client::Client, client::Txn), which blocks its caller, so one OS thread
// per logical client (bench_backend.h has the contract).
//
// Why a second TinyKV backend: a transaction is Percolator's client-side
// protocol (txn.h), and the only implementation of it is the blocking
// client's. Rewriting it as coroutines for the other backend would be a
// second implementation to keep in step; instead the transactions, and the
// single-key puts they are compared with, run on the same client the same
// way, so the two numbers differ only in what is sent.
//
// `conns` Client objects (each with one connection per endpoint, one io
// thread and one background thread for secondary commits); logical client c
// uses Client c % conns. A Txn's secondaries are committed on its Client's
// background thread after Commit returns (txn.h step 3), so Run waits for
// those too before it returns: the run's time covers every key committed,
// and Describe reports how long that wait took.
#include <chrono>
#include <thread>

#include "bench_backend.h"
#include "tinykv/client/client.h"
#include "tinykv/client/txn.h"

namespace tinykv::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class TinyKvBlockingBackend final : public Backend {
 public:
  explicit TinyKvBlockingBackend(BackendOptions options) : options_(std::move(options)) {}

  Status Start() {
    for (int i = 0; i < options_.conns; ++i) {
      client::ClientOptions co;
      co.endpoints = options_.endpoints;
      co.timeout = milliseconds(options_.timeout_ms);
      co.dial_timeout = milliseconds(std::min(options_.timeout_ms, 2000));
      co.tls = options_.tls;
      co.ca_file = options_.cacert;
      co.cert_file = options_.cert;
      co.key_file = options_.key;
      TINYKV_ASSIGN_OR_RETURN(std::unique_ptr<client::Client> c,
                              client::Client::Create(std::move(co)));
      // A leader-only call: an unreachable cluster fails here (at once:
      // client.h "Unreachable endpoints"), and each Client has found the
      // leader and connected to it before the measured run.
      auto ts = c->Timestamps(1);
      if (!ts.ok()) return ts.status().WithContext("tinykv-blocking: reaching the cluster");
      clients_.push_back(std::move(c));
    }
    return Status::OK();
  }

  void Run(Workload& w) override {
    std::vector<std::thread> threads;
    threads.reserve(static_cast<size_t>(w.clients()));
    for (int c = 0; c < w.clients(); ++c) {
      threads.emplace_back([this, &w, c] {
        ClientLoop(*clients_[static_cast<size_t>(c) % clients_.size()], w, c);
      });
    }
    for (std::thread& t : threads) t.join();
    const auto returned = Clock::now();
    for (auto& c : clients_) c->WaitForBackground();
    background_wait_ = Clock::now() - returned;
  }

  std::string Describe() const override {
    char wait[64];
    std::snprintf(wait, sizeof wait, "%.1f ms",
                  std::chrono::duration<double, std::milli>(background_wait_).count());
    return std::string("tinykv-blocking: phase 5 client::Client") +
           (options_.tls ? (options_.cert.empty() ? " (TLS)" : " (mutual TLS)") : "") +
           ", one thread per logical client, " + std::to_string(clients_.size()) +
           " Client objects (one connection per endpoint each), leader " +
           (clients_.empty() ? "" : clients_[0]->leader_endpoint()) +
           ", retries until the deadline; background secondary commits awaited after the "
           "last request: " + wait;
  }

  uint64_t retries() const override {
    uint64_t n = 0;
    for (const auto& c : clients_) n += c->stats().retries;
    return n;
  }

 private:
  void ClientLoop(client::Client& cl, Workload& w, int c) {
    client::CallOptions call;
    call.serializable = !w.linearizable();
    client::TxnOptions txn;
    txn.timeout = milliseconds(options_.timeout_ms);
    Request r;
    while (w.Next(c, &r)) {
      if (w.open_loop()) std::this_thread::sleep_until(r.intended);
      const auto t0 = w.Begin(c, r, Clock::now());
      Status s;
      if (w.op() == OpKind::kTxn) {
        s = RunTransaction(cl, w, r, txn);
      } else if (r.read) {
        s = cl.Get(r.key, call).status();
      } else {
        s = cl.Put(r.key, w.value());
      }
      w.Record(c, Clock::now() - t0, s);
    }
  }

  // One transaction, no retry: Conflict (an abort) is returned as it is.
  static Status RunTransaction(client::Client& cl, const Workload& w, const Request& r,
                               const client::TxnOptions& options) {
    TINYKV_ASSIGN_OR_RETURN(std::unique_ptr<client::Txn> t, client::Txn::Begin(cl, options));
    const int val_size = static_cast<int>(w.value().size());
    for (const std::string& key : r.keys) {
      if (w.read_modify_write()) {
        TINYKV_ASSIGN_OR_RETURN(std::optional<std::string> v, t->Get(key));
        TINYKV_RETURN_IF_ERROR(t->Put(key, IncrementedValue(v, val_size)));
      } else {
        TINYKV_RETURN_IF_ERROR(t->Put(key, w.value()));
      }
    }
    return t->Commit().status();
  }

  const BackendOptions options_;
  std::vector<std::unique_ptr<client::Client>> clients_;
  Clock::duration background_wait_{};
};

}  // namespace

Result<std::unique_ptr<Backend>> NewTinyKvBlockingBackend(const BackendOptions& options) {
  return StartBackend<TinyKvBlockingBackend>(options);
}

}  // namespace tinykv::bench
