// TlsContext (loading, checking and reloading the PEM files), SslStream and
// the two handshakes. The policy is in tls.h.
#include "tinykv/net/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sys/stat.h>

#include <boost/asio/ssl.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "tinykv/common/logging.h"
#include "tinykv/net/frame.h"
#include "tinykv/net/method.h"
#include "tinykv/net/serialization.h"

namespace tinykv::net {

namespace ssl = asio::ssl;

namespace {

// The first byte of every TLS record of a handshake (ContentType
// "handshake", RFC 8446 5.1). A frame starts with the frame magic instead.
constexpr unsigned char kTlsHandshakeRecord = 0x16;
// After a failed handshake the server half-closes and reads what the client
// still sends for at most this long before closing, so the client reads the
// alert rather than a reset.
constexpr auto kLingerAfterFailure = std::chrono::milliseconds(500);

Status FileError(const std::string& flag, const std::string& path, const std::string& what) {
  return Status::InvalidArgument(flag + " " + path + ": " + what);
}

// OpenSSL's reason for the last failure, read from the error code Asio got.
std::string Reason(const boost::system::error_code& ec) {
  std::string r = ec.message();
  return r.empty() ? "unknown error" : r;
}

// A named, readable file (OpenSSL's own message for a missing file is
// "system lib").
Status CheckReadable(const std::string& flag, const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return FileError(flag, path, std::string("cannot be read: ") + std::strerror(errno));
  return Status::OK();
}

bool IsIpAddress(const std::string& host) {
  boost::system::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

std::string PeerOf(const asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  return ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
}

// A TLS stream: frames are encrypted over the socket. The context is held
// for as long as the stream (a reload replaces the TlsContext's current one).
class SslStream final : public Stream {
 public:
  SslStream(std::shared_ptr<ssl::context> context, asio::ip::tcp::socket socket)
      : context_(std::move(context)), peer_(PeerOf(socket)), stream_(std::move(socket), *context_) {
    boost::system::error_code ec;
    stream_.next_layer().set_option(asio::ip::tcp::no_delay(true), ec);  // best effort
  }
  ~SslStream() override { Close(); }

  asio::any_io_executor get_executor() override { return stream_.get_executor(); }
  awaitable<Result<size_t>> ReadSome(asio::mutable_buffer buffer) override {
    boost::system::error_code ec;
    const size_t n =
        co_await stream_.async_read_some(buffer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ErrorCodeToStatus(ec, "read from " + peer_);
    co_return n;
  }
  awaitable<Status> WriteAll(std::span<const asio::const_buffer> buffers) override {
    boost::system::error_code ec;
    co_await asio::async_write(stream_, buffers, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ErrorCodeToStatus(ec, "write to " + peer_);
    co_return Status::OK();
  }
  // No close_notify: the frames say when a conversation ends, so a
  // truncated stream is just a closed connection (ErrorCodeToStatus).
  void Close() override {
    auto& socket = stream_.next_layer();
    if (!socket.is_open()) return;
    boost::system::error_code ec;
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    socket.close(ec);
  }
  const std::string& peer() const override { return peer_; }

  ssl::stream<asio::ip::tcp::socket>& ssl_stream() { return stream_; }

 private:
  std::shared_ptr<ssl::context> context_;  // before stream_: it must outlive it
  std::string peer_;
  ssl::stream<asio::ip::tcp::socket> stream_;
};

// Closes the socket when the handshake deadline passes. Shared with the
// timer's handler, which may run after the handshake returned.
struct HandshakeState {
  HandshakeState(asio::any_io_executor ex, std::unique_ptr<SslStream> s)
      : timer(ex), stream(std::move(s)) {}
  asio::steady_timer timer;
  std::unique_ptr<SslStream> stream;  // null once handed on
  bool timed_out = false;
};

// Runs the handshake of hs->stream under the deadline. The error code of a
// failed handshake (timed_out tells a deadline apart).
awaitable<boost::system::error_code> Handshake(std::shared_ptr<HandshakeState> hs,
                                               ssl::stream_base::handshake_type type,
                                               std::chrono::milliseconds timeout) {
  hs->timer.expires_after(timeout);
  hs->timer.async_wait([hs](const boost::system::error_code& ec) {
    if (ec || !hs->stream) return;
    hs->timed_out = true;
    hs->stream->Close();
  });
  boost::system::error_code ec;
  co_await hs->stream->ssl_stream().async_handshake(type,
                                                    asio::redirect_error(asio::use_awaitable, ec));
  hs->timer.cancel();
  co_return ec;
}

// Lets the client read the alert (or the error frame) before the socket
// closes: half-close, then read and discard until EOF or the linger time.
awaitable<void> LingerAndClose(asio::ip::tcp::socket plain) {
  // Shared with the timer's handler, which may run after we return.
  auto socket = std::make_shared<asio::ip::tcp::socket>(std::move(plain));
  boost::system::error_code ec;
  socket->shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  asio::steady_timer timer(socket->get_executor(), kLingerAfterFailure);
  timer.async_wait([socket](const boost::system::error_code& timer_ec) {
    if (timer_ec) return;
    boost::system::error_code ignored;
    socket->close(ignored);
  });
  char sink[4096];
  for (;;) {
    co_await socket->async_read_some(asio::buffer(sink),
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
  }
  timer.cancel();
  socket->close(ec);
}

// A plaintext client on a TLS port: tell it so in a frame it can read.
awaitable<void> RefusePlaintext(asio::ip::tcp::socket socket) {
  const std::string frame =
      EncodeFrame(FrameKind::kError, 0, 0,
                  EncodeMessage(ErrorPayloadOf(Status::IOError(
                      "TLS required: this port accepts TLS connections only (the client "
                      "connected in plaintext; use https:// and a CA certificate)"))));
  boost::system::error_code ec;
  co_await asio::async_write(socket, asio::buffer(frame),
                             asio::redirect_error(asio::use_awaitable, ec));
  co_await LingerAndClose(std::move(socket));
}

awaitable<Result<std::unique_ptr<Stream>>> ServerHandshake(std::shared_ptr<TlsContext> tls,
                                                           std::chrono::milliseconds timeout,
                                                           asio::ip::tcp::socket socket) {
  const std::string peer = PeerOf(socket);
  const auto ex = socket.get_executor();
  // Peek at the first byte, under the deadline, to tell plaintext from TLS.
  // State shared with the timer's handler, which may run after we return.
  struct PeekState {
    explicit PeekState(asio::ip::tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
    asio::ip::tcp::socket socket;
    asio::steady_timer timer;
    bool timed_out = false;
  };
  auto peek = std::make_shared<PeekState>(std::move(socket));
  peek->timer.expires_after(timeout);
  peek->timer.async_wait([peek](const boost::system::error_code& ec) {
    if (ec) return;
    peek->timed_out = true;
    boost::system::error_code ignored;
    peek->socket.cancel(ignored);
  });
  unsigned char first = 0;
  boost::system::error_code peek_ec;
  co_await peek->socket.async_receive(asio::buffer(&first, 1), asio::ip::tcp::socket::message_peek,
                                      asio::redirect_error(asio::use_awaitable, peek_ec));
  peek->timer.cancel();
  if (peek->timed_out) {
    co_return Status::Timeout("TLS handshake with " + peer + " timed out after " +
                              std::to_string(timeout.count()) + " ms (nothing received)");
  }
  if (peek_ec) co_return ErrorCodeToStatus(peek_ec, "TLS handshake with " + peer);
  if (first != kTlsHandshakeRecord) {
    asio::co_spawn(ex, RefusePlaintext(std::move(peek->socket)), asio::detached);
    co_return Status::IOError("TLS handshake with " + peer +
                              " failed: the client speaks plaintext, not TLS");
  }
  socket = std::move(peek->socket);
  auto hs = std::make_shared<HandshakeState>(
      ex, std::make_unique<SslStream>(tls->Current(), std::move(socket)));
  auto handshake = Handshake(hs, ssl::stream_base::server, timeout);
  const boost::system::error_code ec = co_await std::move(handshake);
  std::unique_ptr<SslStream> stream = std::move(hs->stream);
  if (hs->timed_out) {
    co_return Status::Timeout("TLS handshake with " + peer + " timed out after " +
                              std::to_string(timeout.count()) + " ms");
  }
  if (ec) {
    std::string why = Reason(ec);
    const long verify = SSL_get_verify_result(stream->ssl_stream().native_handle());
    if (verify != X509_V_OK) why += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
    asio::co_spawn(ex, LingerAndClose(std::move(stream->ssl_stream().next_layer())),
                   asio::detached);
    co_return Status::IOError("TLS handshake with " + peer + " failed: " + why);
  }
  co_return std::unique_ptr<Stream>(std::move(stream));
}

awaitable<Result<std::unique_ptr<Stream>>> ClientHandshake(std::shared_ptr<TlsContext> tls,
                                                           std::chrono::milliseconds timeout,
                                                           asio::ip::tcp::socket socket,
                                                           std::string host) {
  const std::string peer = PeerOf(socket);
  const auto ex = socket.get_executor();
  auto hs = std::make_shared<HandshakeState>(
      ex, std::make_unique<SslStream>(tls->Current(), std::move(socket)));
  SSL* ssl_handle = hs->stream->ssl_stream().native_handle();
  // The server's certificate must name the host dialled (checked by
  // OpenSSL during the chain verification, so a mismatch has its own reason).
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (IsIpAddress(host)) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  } else if (!host.empty()) {
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    SSL_set_tlsext_host_name(ssl_handle, host.c_str());  // SNI
  }
  auto handshake = Handshake(hs, ssl::stream_base::client, timeout);
  const boost::system::error_code ec = co_await std::move(handshake);
  std::unique_ptr<SslStream> stream = std::move(hs->stream);
  if (hs->timed_out) {
    co_return Status::Unavailable("TLS handshake with " + peer + " timed out after " +
                                  std::to_string(timeout.count()) + " ms");
  }
  if (ec) {
    std::string why = Reason(ec);
    const long verify = SSL_get_verify_result(ssl_handle);
    if (verify != X509_V_OK) {
      why += std::string(": ") + X509_verify_cert_error_string(verify);
    } else if (ec == ssl::error::stream_truncated || ec == asio::error::eof ||
               why.find("wrong version number") != std::string::npos ||
               why.find("packet length too long") != std::string::npos) {
      why += " (does the server speak TLS on this port?)";
    }
    co_return Status::IOError("TLS handshake with " + peer + " failed: " + why);
  }
  co_return std::unique_ptr<Stream>(std::move(stream));
}

}  // namespace

TlsContext::TlsContext(TlsOptions options, Role role, TlsFlagNames flags)
    : options_(std::move(options)), role_(role), flags_(std::move(flags)) {}

TlsContext::~TlsContext() = default;

Result<std::shared_ptr<TlsContext>> TlsContext::Create(TlsOptions options, Role role,
                                                       TlsFlagNames flags) {
  std::shared_ptr<TlsContext> tls(new TlsContext(std::move(options), role, std::move(flags)));
  const Stamps stamps = tls->ReadStamps();
  TINYKV_ASSIGN_OR_RETURN(auto context, tls->Load());
  std::lock_guard<std::mutex> lock(tls->mu_);
  tls->current_ = std::move(context);
  tls->stamps_ = stamps;
  return tls;
}

Result<std::shared_ptr<ssl::context>> TlsContext::Load() const {
  const TlsOptions& o = options_;
  if (role_ == Role::kServer && o.cert_file.empty()) {
    return Status::InvalidArgument(flags_.cert + " is required for TLS on a server");
  }
  if (o.cert_file.empty() != o.key_file.empty()) {
    return Status::InvalidArgument(o.cert_file.empty()
                                       ? flags_.key + " is set but " + flags_.cert + " is not"
                                       : flags_.cert + " is set but " + flags_.key + " is not");
  }
  if (role_ == Role::kServer && o.verify_peer && o.ca_file.empty()) {
    return Status::InvalidArgument("client certificate authentication needs " + flags_.ca +
                                   " (the CA that signs client certificates)");
  }
  auto context = std::make_shared<ssl::context>(role_ == Role::kServer ? ssl::context::tls_server
                                                                        : ssl::context::tls_client);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                       ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  if (!o.cert_file.empty()) {
    TINYKV_RETURN_IF_ERROR(CheckReadable(flags_.cert, o.cert_file));
    TINYKV_RETURN_IF_ERROR(CheckReadable(flags_.key, o.key_file));
    // The key first: loaded after the certificate, a key that does not
    // match fails as if it did not parse. (A certificate loaded after a key
    // it does not match drops the key; the check below reports that.)
    context->use_private_key_file(o.key_file, ssl::context::pem, ec);
    if (ec) return FileError(flags_.key, o.key_file, "not a PEM private key: " + Reason(ec));
    context->use_certificate_chain_file(o.cert_file, ec);
    if (ec) return FileError(flags_.cert, o.cert_file, "not a PEM certificate: " + Reason(ec));
    if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
      ERR_clear_error();
      return FileError(flags_.key, o.key_file,
                       "does not match the certificate of " + flags_.cert + " " + o.cert_file);
    }
  }
  if (!o.ca_file.empty()) {
    TINYKV_RETURN_IF_ERROR(CheckReadable(flags_.ca, o.ca_file));
    context->load_verify_file(o.ca_file, ec);
    if (ec) return FileError(flags_.ca, o.ca_file, "not a PEM CA bundle: " + Reason(ec));
  } else if (role_ == Role::kClient) {
    context->set_default_verify_paths(ec);
    if (ec) return Status::InvalidArgument("cannot load the system's CA certificates: " + Reason(ec));
  }
  if (role_ == Role::kClient) {
    context->set_verify_mode(ssl::verify_peer);
  } else if (o.verify_peer) {
    context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  } else {
    context->set_verify_mode(ssl::verify_none);
  }
  return context;
}

TlsContext::Stamps TlsContext::ReadStamps() const {
  auto stamp = [](const std::string& path) {
    FileStamp s;
    struct stat st;
    if (!path.empty() && ::stat(path.c_str(), &st) == 0) {
      s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
      s.size = static_cast<int64_t>(st.st_size);
    }
    return s;
  };
  return Stamps{stamp(options_.cert_file), stamp(options_.key_file), stamp(options_.ca_file)};
}

std::shared_ptr<ssl::context> TlsContext::Current() {
  std::lock_guard<std::mutex> lock(mu_);
  const Stamps now = ReadStamps();
  if (now == stamps_ || now == failed_stamps_) return current_;
  auto loaded = Load();
  if (!loaded.ok()) {
    failed_stamps_ = now;
    logging::Get("net")->warn("net: TLS files changed but cannot be loaded; keeping the previous "
                              "certificate: {}",
                              loaded.status().ToString());
    return current_;
  }
  current_ = std::move(loaded).value();
  stamps_ = now;
  failed_stamps_ = {};
  ++reloads_;
  logging::Get("net")->info("net: TLS files reloaded ({} {})", flags_.cert,
                            options_.cert_file.empty() ? "-" : options_.cert_file);
  return current_;
}

uint64_t TlsContext::reloads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reloads_;
}

StreamWrapper TlsServerWrapper(std::shared_ptr<TlsContext> context,
                               std::chrono::milliseconds handshake_timeout) {
  // Not a coroutine itself: the handshake coroutine holds its own copies.
  return [context, handshake_timeout](asio::ip::tcp::socket socket, std::string) {
    return ServerHandshake(context, handshake_timeout, std::move(socket));
  };
}

StreamWrapper TlsClientWrapper(std::shared_ptr<TlsContext> context,
                               std::chrono::milliseconds handshake_timeout) {
  return [context, handshake_timeout](asio::ip::tcp::socket socket, std::string host) {
    return ClientHandshake(context, handshake_timeout, std::move(socket), std::move(host));
  };
}

}  // namespace tinykv::net
