// The demo KV service's protocol: messages and method declarations.
//
// A single-node networked store over the phase 1 engine (or an in-memory map
// when built without it), so a learner sees a networked KV store before Raft.
// Method ids 100..199 belong to the demo.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tinykv/net/method.h"
#include "tinykv/net/method_ids.h"

namespace tinykv::net::demo {

struct GetRequest {
  std::string key;
  template <class A>
  void serialize(A& a) {
    a(key);
  }
};
struct GetResponse {
  bool found = false;
  std::string value;
  template <class A>
  void serialize(A& a) {
    a(found, value);
  }
};
struct PutRequest {
  std::string key;
  std::string value;
  bool sync = false;
  template <class A>
  void serialize(A& a) {
    a(key, value, sync);
  }
};
struct DeleteRequest {
  std::string key;
  bool sync = false;
  template <class A>
  void serialize(A& a) {
    a(key, sync);
  }
};
struct Empty {
  uint8_t reserved = 0;  // one byte, so containers of Empty stay bounded (serialization.h)
  template <class A>
  void serialize(A& a) {
    a(reserved);
  }
};
// [start, end); has_end false = to the end of the key space. limit 0 = no limit.
struct ScanRequest {
  std::string start;
  std::string end;
  bool has_end = false;
  uint64_t limit = 0;
  template <class A>
  void serialize(A& a) {
    a(start, end, has_end, limit);
  }
};
struct KeyValue {
  std::string key;
  std::string value;
  template <class A>
  void serialize(A& a) {
    a(key, value);
  }
};
// Echo: the benchmark's and the notebook's method. delay_ms makes the server
// wait before answering (to show deadlines).
struct EchoRequest {
  std::string data;
  uint32_t delay_ms = 0;
  template <class A>
  void serialize(A& a) {
    a(data, delay_ms);
  }
};
struct EchoResponse {
  std::string data;
  template <class A>
  void serialize(A& a) {
    a(data);
  }
};

using GetMethod = UnaryMethod<method_id::kDemoGet, "kv.Get", GetRequest, GetResponse, kIdempotent>;
// Put and Delete are idempotent in effect (same key, same value) but are
// marked as writes: a retried write could overwrite a newer one.
using PutMethod = UnaryMethod<method_id::kDemoPut, "kv.Put", PutRequest, Empty, kNotIdempotent>;
using DeleteMethod =
    UnaryMethod<method_id::kDemoDelete, "kv.Delete", DeleteRequest, Empty, kNotIdempotent>;
using ScanMethod = StreamMethod<method_id::kDemoScan, "kv.Scan", ScanRequest, KeyValue, kIdempotent>;
using EchoMethod =
    UnaryMethod<method_id::kDemoEcho, "kv.Echo", EchoRequest, EchoResponse, kIdempotent>;

}  // namespace tinykv::net::demo
