// RPC methods: one declaration binds a method id to its request and response
// types, once, for both sides. Every method of the project is declared the
// same way, with one of two templates, and its id comes from the project's
// one table of ids (method_ids.h, doc/method_ids.md):
//
//   struct EchoRequest  { std::string data; template <class A> void serialize(A& a) { a(data); } };
//   struct EchoResponse { std::string data; template <class A> void serialize(A& a) { a(data); } };
//   using EchoMethod = net::UnaryMethod<method_id::kDemoEcho, "kv.Echo", EchoRequest,
//                                       EchoResponse, net::kIdempotent>;
//   using ScanMethod = net::StreamMethod<method_id::kDemoScan, "kv.Scan", ScanRequest,
//                                        KeyValue, net::kIdempotent>;  // Response = item type
//
// kIdempotent: the client may resend the call blindly after a lost
// connection (it has no effect, or the server deduplicates it).
// Adding a method is that declaration, a row in method_ids.h, plus one
// RpcServer::Register<M>(handler). Method ids 0xffff0000 and above are
// reserved for the RPC layer itself.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tinykv/common/status.h"

namespace tinykv::net {

template <typename M>
concept RpcMethod = requires {
  { M::kId } -> std::convertible_to<uint32_t>;
  { M::kName } -> std::convertible_to<std::string_view>;
  { M::kIdempotent } -> std::convertible_to<bool>;
  { M::kServerStreaming } -> std::convertible_to<bool>;
  typename M::Request;
  typename M::Response;
};

template <typename M>
concept UnaryRpcMethod = RpcMethod<M> && !M::kServerStreaming;

template <typename M>
concept StreamingRpcMethod = RpcMethod<M> && M::kServerStreaming;

// A string literal as a template argument, so that a method's name is part
// of its one declaration.
template <size_t N>
struct MethodName {
  char value[N];
  constexpr MethodName(const char (&s)[N]) {  // NOLINT: implicit by design
    for (size_t i = 0; i < N; ++i) value[i] = s[i];
  }
  constexpr std::string_view view() const { return std::string_view(value, N - 1); }
};

enum class Idempotency : bool { kNotIdempotent = false, kIdempotent = true };
inline constexpr Idempotency kIdempotent = Idempotency::kIdempotent;
inline constexpr Idempotency kNotIdempotent = Idempotency::kNotIdempotent;

// A request with one response.
template <uint32_t Id, MethodName Name, typename Req, typename Resp, Idempotency Idem>
struct UnaryMethod {
  static constexpr uint32_t kId = Id;
  static constexpr std::string_view kName = Name.view();
  static constexpr bool kIdempotent = Idem == Idempotency::kIdempotent;
  static constexpr bool kServerStreaming = false;
  using Request = Req;
  using Response = Resp;
};

// A request answered by a stream of Item messages, then an end-of-stream status.
template <uint32_t Id, MethodName Name, typename Req, typename Item, Idempotency Idem>
struct StreamMethod {
  static constexpr uint32_t kId = Id;
  static constexpr std::string_view kName = Name.view();
  static constexpr bool kIdempotent = Idem == Idempotency::kIdempotent;
  static constexpr bool kServerStreaming = true;
  using Request = Req;
  using Response = Item;
};

// The payload of an error frame: a Status code (status.h, stable on the wire),
// its message and its detail (Status::detail(), e.g. a RoutingError; empty
// for most errors).
struct ErrorPayload {
  uint8_t code = 0;
  std::string message;
  std::string detail;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(code, message, detail);
  }
};

// REQUIRES: !s.ok().
inline ErrorPayload ErrorPayloadOf(const Status& s) {
  return ErrorPayload{static_cast<uint8_t>(s.code()), std::string(s.message()),
                      std::string(s.detail())};
}
// An error frame with code 0 (OK) is malformed: Corruption.
inline Status StatusOf(const ErrorPayload& e) {
  if (e.code == 0) return Status::Corruption("error frame with code OK");
  return Status::FromCode(e.code, e.message, e.detail);
}

}  // namespace tinykv::net
