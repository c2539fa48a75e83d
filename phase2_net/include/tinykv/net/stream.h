// Stream: the byte transport under the RPC layer.
//
// The RPC code (framing, multiplexing, streaming, shutdown) only ever talks
// to this interface; TLS (tls.h) is an SslStream over
// asio::ssl::stream<tcp::socket>, made by a StreamWrapper that runs the
// handshake, and nothing above this file knows about it.
//
// Errors are Status values: this is the boundary where Boost error_codes are
// converted, once (docs/style.md, "Errors"): end of file, reset, refused and broken pipe
// become Unavailable (so does a TLS stream cut without close_notify);
// operation_aborted (our own Close) becomes Cancelled; OpenSSL's errors
// become IOError("TLS: ..."); anything else IOError.
//
// Thread safety: a Stream belongs to one executor (get_executor()); all
// calls, including Close, must be made from it. At most one ReadSome and one
// WriteAll may be outstanding at a time.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>

#include "tinykv/common/result.h"
#include "tinykv/net/asio.h"

namespace tinykv::net {

class Stream {
 public:
  virtual ~Stream() = default;

  virtual asio::any_io_executor get_executor() = 0;
  // Reads at least one byte into `buffer`; returns how many were read.
  virtual awaitable<Result<size_t>> ReadSome(asio::mutable_buffer buffer) = 0;
  // Writes every byte of every buffer (a gathered write), or fails.
  virtual awaitable<Status> WriteAll(std::span<const asio::const_buffer> buffers) = 0;
  // Closes the stream; outstanding operations complete with Cancelled.
  // Idempotent.
  virtual void Close() = 0;
  // "ip:port" of the other end, for logs.
  virtual const std::string& peer() const = 0;
};

// A plain TCP stream. Sets TCP_NODELAY: RPC frames are small and latency
// matters more than packet count (the write queue batches frames anyway).
class TcpStream final : public Stream {
 public:
  explicit TcpStream(asio::ip::tcp::socket socket);
  ~TcpStream() override;

  asio::any_io_executor get_executor() override { return socket_.get_executor(); }
  awaitable<Result<size_t>> ReadSome(asio::mutable_buffer buffer) override;
  awaitable<Status> WriteAll(std::span<const asio::const_buffer> buffers) override;
  void Close() override;
  const std::string& peer() const override { return peer_; }

 private:
  asio::ip::tcp::socket socket_;
  std::string peer_;
};

// Turns a connected socket into a Stream: the hook where TLS plugs in (it
// runs the handshake here, tls.h). `host` is the name the client dialled
// (for checking the server's certificate); empty on the server. The default
// makes a TcpStream.
using StreamWrapper = std::function<awaitable<Result<std::unique_ptr<Stream>>>(
    asio::ip::tcp::socket socket, std::string host)>;
StreamWrapper PlainTcpWrapper();

// Converts a Boost error code into a Status (the single conversion point).
Status ErrorCodeToStatus(const boost::system::error_code& ec, std::string_view context);

}  // namespace tinykv::net
