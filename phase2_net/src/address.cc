#include "tinykv/net/address.h"

#include <charconv>

namespace tinykv::net {

std::string HostPort::ToString() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<HostPort> ParseHostPort(std::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == address.size()) {
    return Status::InvalidArgument("address must be host:port, got '" + std::string(address) + "'");
  }
  const std::string_view port_text = address.substr(colon + 1);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port_text.size() > 5 ||
      port > 65535) {
    return Status::InvalidArgument("bad port in address '" + std::string(address) +
                                   "' (want 0..65535)");
  }
  std::string_view host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos || host.find('/') != std::string_view::npos) {
    // An unbracketed IPv6 address is ambiguous, and a '/' means a URL.
    return Status::InvalidArgument("bad host in address '" + std::string(address) +
                                   "' (IPv6 needs brackets; no scheme or path)");
  }
  if (host.empty()) {
    return Status::InvalidArgument("address must be host:port, got '" + std::string(address) + "'");
  }
  return HostPort{std::string(host), static_cast<uint16_t>(port)};
}

}  // namespace tinykv::net
