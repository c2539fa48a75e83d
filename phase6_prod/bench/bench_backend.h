// tinykv-bench backends: one synchronous connection-like object per client
// thread, so the same load generator drives TinyKV and etcd.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tinykv/common/result.h"
#include "tinykv/common/status.h"

namespace tinykv::bench {

// One client's view of the store. Used by one thread at a time.
class Session {
 public:
  virtual ~Session() = default;
  virtual Status Put(const std::string& key, const std::string& value) = 0;
  // linearizable=false: a serializable (local, possibly stale) read.
  virtual Status Get(const std::string& key, bool linearizable) = 0;
};

// Creates sessions. `conns` is the number of connections shared by all
// sessions (a backend that cannot multiplex may use one per session instead;
// it says so in Describe()).
class Backend {
 public:
  virtual ~Backend() = default;
  virtual Result<std::unique_ptr<Session>> NewSession(int index) = 0;
  virtual std::string Describe() const = 0;
};

struct BackendOptions {
  std::vector<std::string> endpoints;
  int conns = 1;
  int clients = 1;
  int timeout_ms = 10000;
};

// etcd v3 through its HTTP/JSON gRPC gateway (POST /v3/kv/put, /v3/kv/range),
// keys and values base64-encoded, HTTP/1.1 keep-alive, one connection per
// session (HTTP/1.1 cannot multiplex), sessions spread over the endpoints.
Result<std::unique_ptr<Backend>> NewEtcdBackend(const BackendOptions& options);

// TinyKV through the phase 5 C++ client (leader discovery, pooled connections).
Result<std::unique_ptr<Backend>> NewTinyKvBackend(const BackendOptions& options);

}  // namespace tinykv::bench
