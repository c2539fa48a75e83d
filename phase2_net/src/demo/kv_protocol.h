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

template <uint32_t Id, bool Idempotent, bool Streaming, typename Req, typename Resp>
struct DemoMethod {
  static constexpr uint32_t kId = Id;
  static constexpr bool kIdempotent = Idempotent;
  static constexpr bool kServerStreaming = Streaming;
  using Request = Req;
  using Response = Resp;
};

struct GetMethod : DemoMethod<100, true, false, GetRequest, GetResponse> {
  static constexpr std::string_view kName = "kv.Get";
};
// Put and Delete are idempotent in effect (same key, same value) but are
// marked as writes: a retried write could overwrite a newer one.
struct PutMethod : DemoMethod<101, false, false, PutRequest, Empty> {
  static constexpr std::string_view kName = "kv.Put";
};
struct DeleteMethod : DemoMethod<102, false, false, DeleteRequest, Empty> {
  static constexpr std::string_view kName = "kv.Delete";
};
struct ScanMethod : DemoMethod<103, true, true, ScanRequest, KeyValue> {
  static constexpr std::string_view kName = "kv.Scan";
};
struct EchoMethod : DemoMethod<104, true, false, EchoRequest, EchoResponse> {
  static constexpr std::string_view kName = "kv.Echo";
};

}  // namespace tinykv::net::demo
