// RPC methods: one declaration binds a method id to its request and response
// types, once, for both sides.
//
//   struct EchoRequest  { std::string data; template <class A> void serialize(A& a) { a(data); } };
//   struct EchoResponse { std::string data; template <class A> void serialize(A& a) { a(data); } };
//   struct EchoMethod {
//     static constexpr uint32_t kId = 1;               // unique per server
//     static constexpr std::string_view kName = "test.Echo";
//     static constexpr bool kIdempotent = true;        // may the client retry it blindly?
//     static constexpr bool kServerStreaming = false;  // true: Response is the item type
//     using Request = EchoRequest;
//     using Response = EchoResponse;
//   };
//
// Adding a method is that declaration plus one RpcServer::Register<M>(handler).
// Method ids 0xffff0000 and above are reserved for the RPC layer itself.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

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
concept UnaryMethod = RpcMethod<M> && !M::kServerStreaming;

template <typename M>
concept StreamingMethod = RpcMethod<M> && M::kServerStreaming;

// The payload of an error frame: a Status code (status.h, stable on the wire)
// and its message.
struct ErrorPayload {
  uint8_t code = 0;
  std::string message;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(code, message);
  }
};

}  // namespace tinykv::net
