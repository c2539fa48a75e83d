// TcpStream and the error_code -> Status boundary.
#include "tinykv/net/stream.h"


#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

namespace tinykv::net {

Status ErrorCodeToStatus(const boost::system::error_code& ec, std::string_view context) {
  namespace error = asio::error;
  const std::string msg = std::string(context) + ": " + ec.message();
  if (ec == error::operation_aborted) return Status::Cancelled(msg);
  // A TLS peer that closes without close_notify (tls.cc never sends one).
  if (ec == asio::ssl::error::stream_truncated) return Status::Unavailable(msg);
  // OpenSSL's errors (an alert from the other side, a record that does not
  // decrypt): a TLS failure, which retrying will not fix (tls.h).
  if (ec.category() == asio::error::get_ssl_category()) return Status::IOError("TLS: " + msg);
  if (ec == error::eof || ec == error::connection_reset || ec == error::connection_refused ||
      ec == error::connection_aborted || ec == error::broken_pipe || ec == error::not_connected ||
      ec == error::host_unreachable || ec == error::network_unreachable ||
      ec == error::host_not_found || ec == error::bad_descriptor || ec == error::shut_down) {
    return Status::Unavailable(msg);
  }
  if (ec == error::timed_out) return Status::Timeout(msg);
  if (ec == error::address_in_use || ec == error::access_denied) return Status::IOError(msg);
  return Status::IOError(msg);
}

TcpStream::TcpStream(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {
  boost::system::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);  // best effort
  auto ep = socket_.remote_endpoint(ec);
  peer_ = ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
}

TcpStream::~TcpStream() { Close(); }

awaitable<Result<size_t>> TcpStream::ReadSome(asio::mutable_buffer buffer) {
  boost::system::error_code ec;
  const size_t n =
      co_await socket_.async_read_some(buffer, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return ErrorCodeToStatus(ec, "read from " + peer_);
  co_return n;
}

awaitable<Status> TcpStream::WriteAll(std::span<const asio::const_buffer> buffers) {
  boost::system::error_code ec;
  co_await asio::async_write(socket_, buffers, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return ErrorCodeToStatus(ec, "write to " + peer_);
  co_return Status::OK();
}

void TcpStream::Close() {
  if (!socket_.is_open()) return;
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);  // errors on close carry no information we can act on
}

StreamWrapper PlainTcpWrapper() {
  return [](asio::ip::tcp::socket socket, std::string) -> awaitable<Result<std::unique_ptr<Stream>>> {
    co_return std::unique_ptr<Stream>(std::make_unique<TcpStream>(std::move(socket)));
  };
}

}  // namespace tinykv::net
