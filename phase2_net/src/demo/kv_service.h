// The demo KV service (server side) and a small blocking client for it.
//
//   auto backend = std::make_shared<MemoryBackend>();
//   RegisterKvService(server.get(), backend);        // kv.Get/Put/Delete/Scan/Echo
//
//   KvClient kv(client.get(), "127.0.0.1:7000");
//   kv.Put("k", "v"); kv.Get("k");  kv.Scan("a", "z", 0, on_pair);
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "kv_backend.h"
#include "kv_protocol.h"
#include "tinykv/net/client.h"
#include "tinykv/net/server.h"

namespace tinykv::net::demo {

// Registers kv.Get, kv.Put, kv.Delete, kv.Scan (streaming) and kv.Echo.
// Backend calls run on the connection's io thread (they are short: a map
// lookup or an LSM read/write).
void RegisterKvService(RpcServer* server, std::shared_ptr<KvBackend> backend);

// Blocking client for the demo service. Thread-safe (RpcClient is).
class KvClient {
 public:
  KvClient(RpcClient* client, std::string address, CallOptions defaults = {})
      : client_(client), address_(std::move(address)), defaults_(std::move(defaults)) {}

  Result<std::optional<std::string>> Get(const std::string& key);
  Status Put(const std::string& key, const std::string& value, bool sync = false);
  Status Delete(const std::string& key, bool sync = false);
  // Calls on_pair for each pair in [start, end) (end nullopt = unbounded), up
  // to limit pairs (0 = all). on_pair returning non-OK stops the scan.
  Status Scan(const std::string& start, const std::optional<std::string>& end, uint64_t limit,
              std::function<Status(KeyValue)> on_pair);
  Result<std::string> Echo(const std::string& data, uint32_t delay_ms = 0);

  CallOptions& defaults() { return defaults_; }
  const std::string& address() const { return address_; }

 private:
  RpcClient* client_;
  std::string address_;
  CallOptions defaults_;
};

}  // namespace tinykv::net::demo
