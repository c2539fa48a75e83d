// A small service for the RPC tests: echo with an optional server-side delay,
// a counting stream, and a handler that fails on request.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "tinykv/net/client.h"
#include "tinykv/net/method_ids.h"
#include "tinykv/net/server.h"

namespace tinykv::net::testing {

struct EchoRequest {
  std::string data;
  uint32_t delay_ms = 0;
  uint8_t fail_code = 0;  // non-zero: the handler returns this Status code
  template <class A>
  void serialize(A& a) {
    a(data, delay_ms, fail_code);
  }
};
struct EchoResponse {
  std::string data;
  template <class A>
  void serialize(A& a) {
    a(data);
  }
};
struct CountRequest {
  uint32_t n = 0;
  uint32_t delay_ms = 0;   // between items
  uint32_t item_bytes = 0; // padding per item
  template <class A>
  void serialize(A& a) {
    a(n, delay_ms, item_bytes);
  }
};
struct CountItem {
  uint32_t i = 0;
  std::string padding;
  template <class A>
  void serialize(A& a) {
    a(i, padding);
  }
};

using EchoMethod =
    net::UnaryMethod<net::method_id::kTestEcho, "test.Echo", EchoRequest, EchoResponse,
                     net::kIdempotent>;
// Same handler, but declared non-idempotent (a "write").
using AppendMethod =
    net::UnaryMethod<net::method_id::kTestAppend, "test.Append", EchoRequest, EchoResponse,
                     net::kNotIdempotent>;
using CountMethod = net::StreamMethod<net::method_id::kTestCount, "test.Count", CountRequest,
                                      CountItem, net::kIdempotent>;
// Declared but never registered on the server.
using MissingMethod =
    net::UnaryMethod<net::method_id::kTestMissing, "test.Missing", EchoRequest, EchoResponse,
                     net::kIdempotent>;

// What the streaming handler observed, for assertions.
struct CountProbe {
  std::atomic<uint32_t> written{0};
  std::atomic<bool> finished{false};
  std::atomic<bool> stopped_by_cancel{false};
};

inline awaitable<Result<EchoResponse>> HandleEcho(EchoRequest r) {
  if (r.delay_ms > 0) {
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(r.delay_ms));
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (r.fail_code != 0) co_return Status::FromCode(r.fail_code, "asked to fail: " + r.data);
  co_return EchoResponse{std::move(r.data)};
}

inline void RegisterTestService(RpcServer* server, std::shared_ptr<CountProbe> probe) {
  server->Register<EchoMethod>(HandleEcho);
  server->Register<AppendMethod>(HandleEcho);
  server->Register<CountMethod>(
      [probe](CountRequest r, ServerWriter<CountItem>& out) -> awaitable<Status> {
        for (uint32_t i = 0; i < r.n; ++i) {
          if (r.delay_ms > 0) {
            asio::steady_timer t(co_await asio::this_coro::executor,
                                 std::chrono::milliseconds(r.delay_ms));
            boost::system::error_code ec;
            co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          }
          const CountItem item{i, std::string(r.item_bytes, 'x')};
          Status s = co_await out.Write(item);  // no temporaries inside co_await (GCC 12)
          if (!s.ok()) {
            probe->stopped_by_cancel = true;
            probe->finished = true;
            co_return s;
          }
          probe->written.fetch_add(1);
        }
        probe->finished = true;
        co_return Status::OK();
      });
}

}  // namespace tinykv::net::testing
