// tinykv-demo-client: talks to tinykv-demo-server.
//
//   tinykv-demo-client --server 127.0.0.1:7000 put k v
//   tinykv-demo-client --server 127.0.0.1:7000 get k
//   tinykv-demo-client --server 127.0.0.1:7000 delete k
//   tinykv-demo-client --server 127.0.0.1:7000 scan [--start a] [--end z] [--limit 10]
//   tinykv-demo-client --server 127.0.0.1:7000 echo hello [--delay-ms 100]
//
// Exit status: 0 success, 1 not found (get), 2 usage, 3 RPC error.
#include <iostream>

#include <CLI/CLI.hpp>

#include "kv_service.h"
#include "tinykv/common/logging.h"

using namespace tinykv;
using namespace tinykv::net;

int main(int argc, char** argv) {
  CLI::App app{"TinyKV phase 2 demo client"};
  app.require_subcommand(1);
  std::string server = "127.0.0.1:7000";
  int timeout_ms = 5000;
  app.add_option("--server", server, "host:port of tinykv-demo-server");
  app.add_option("--timeout-ms", timeout_ms, "per-call deadline");
  std::string key, value, start, end;
  uint64_t limit = 0;
  bool sync = false;
  uint32_t delay_ms = 0;
  auto* get = app.add_subcommand("get", "print the value of a key");
  get->add_option("key", key)->required();
  auto* put = app.add_subcommand("put", "set a key");
  put->add_option("key", key)->required();
  put->add_option("value", value)->required();
  put->add_flag("--sync", sync, "fsync the write-ahead log before answering");
  auto* del = app.add_subcommand("delete", "delete a key");
  del->add_option("key", key)->required();
  auto* scan = app.add_subcommand("scan", "stream the pairs in [start, end)");
  scan->add_option("--start", start);
  auto* end_opt = scan->add_option("--end", end);
  scan->add_option("--limit", limit);
  auto* echo = app.add_subcommand("echo", "round-trip a string");
  echo->add_option("data", value)->required();
  echo->add_option("--delay-ms", delay_ms, "server waits this long before answering");
  CLI11_PARSE(app, argc, argv);

  logging::LogOptions lo;
  lo.level = "warn";
  logging::Init(lo).IgnoreError();
  auto client = RpcClient::Create({});
  if (!client.ok()) {
    std::cerr << client.status().ToString() << "\n";
    return 2;
  }
  CallOptions defaults;
  defaults.timeout = std::chrono::milliseconds(timeout_ms);
  demo::KvClient kv(client->get(), server, defaults);
  Status s;
  if (*get) {
    auto r = kv.Get(key);
    if (r.ok() && !r->has_value()) {
      std::cerr << "(not found)\n";
      return 1;
    }
    if (r.ok()) std::cout << **r << "\n";
    s = r.status();
  } else if (*put) {
    s = kv.Put(key, value, sync);
    if (s.ok()) std::cout << "OK\n";
  } else if (*del) {
    s = kv.Delete(key);
    if (s.ok()) std::cout << "OK\n";
  } else if (*scan) {
    const std::optional<std::string> e =
        end_opt->count() > 0 ? std::optional<std::string>(end) : std::nullopt;
    s = kv.Scan(start, e, limit, [](demo::KeyValue p) {
      std::cout << p.key << "\t" << p.value << "\n";
      return Status::OK();
    });
  } else if (*echo) {
    auto r = kv.Echo(value, delay_ms);
    if (r.ok()) std::cout << *r << "\n";
    s = r.status();
  }
  if (!s.ok()) {
    std::cerr << "tinykv-demo-client: " << s.ToString() << "\n";
    return 3;
  }
  return 0;
}
