// "host:port" addresses: the one parser every TinyKV component uses for
// listen addresses, peer addresses, client endpoints and config flags.
//
// Grammar: host ":" port, where port is 1-5 decimal digits with value
// 0..65535 (0 = let the OS choose, for listen addresses), nothing else after
// it ("h:12abc" and "h:1 " are rejected), and host is non-empty: a name, an
// IPv4 address, or an IPv6 address in brackets ("[::1]:2379"; the brackets
// are stripped). No scheme: "http://h:1" is rejected here, because the part
// before the last colon would not be a host ("http://h").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tinykv/common/result.h"

namespace tinykv::net {

struct HostPort {
  std::string host;  // without IPv6 brackets
  uint16_t port = 0;
  // "host:port", with brackets around an IPv6 host.
  std::string ToString() const;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

// InvalidArgument naming the address and what is wrong with it.
[[nodiscard]] Result<HostPort> ParseHostPort(std::string_view address);

}  // namespace tinykv::net
