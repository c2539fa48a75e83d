// TLS and mutual TLS for the RPC layer (Asio SSL over OpenSSL).
//
// What it is: TlsOptions says which PEM files to use; RpcServer::Create and
// RpcClient::Create turn `options.tls` (when enabled) into a TlsContext and
// a StreamWrapper (stream.h) that runs the handshake on every new
// connection, so the framing, multiplexing and shutdown code above the
// Stream never sees TLS. Callers (the KV service, PeerHost) only fill in the
// options.
//
// Policy:
//   * TLS 1.2 or newer; OpenSSL's default cipher list.
//   * The client always verifies the server's chain (against ca_file, or the
//     system's roots when ca_file is empty) and its name: the host it dialled
//     must be in the certificate's subjectAltName (an IP address or a DNS
//     name; RFC 2818 rules).
//   * The server presents cert_file; with verify_peer (etcd's
//     --client-cert-auth) it demands a client certificate and verifies it
//     against ca_file; without, it asks for none.
//   * The client presents cert_file when one is set (mutual TLS).
//
// Failures are fast and named: a handshake that fails (wrong CA, expired or
// unknown certificate, no client certificate, the other side not speaking
// TLS) is IOError("TLS handshake with PEER failed: <OpenSSL's reason>"); it
// is not Unavailable, so neither RpcClient nor the KV client retries it. A
// TLS server that receives plaintext (a first byte that cannot start a TLS
// record) answers with a plaintext error frame saying the port needs TLS, so
// a plaintext client reports that instead of a lost connection. The
// handshake is bounded: the server's by ServerOptions::handshake_timeout,
// the client's by ClientOptions::connect_timeout. After a failed handshake
// the server logs one line, lets its alert reach the client (half-close,
// then a short drain) and closes that connection only.
//
// Reload: TlsContext::Current() compares the files' modification times
// (and sizes) with those it loaded, on every new connection (accept or
// dial: three stat calls). When one changed it loads all of them again;
// new connections use the new certificate, established ones keep theirs.
// A reload that fails (a half-written file, a key that does not match) is
// logged and the previous context stays in use, so replacing files is safe
// in any order. No signal is involved.
//
// Thread safety: TlsContext is thread-safe (connections on different io
// threads share it).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "tinykv/common/result.h"
#include "tinykv/net/stream.h"

namespace boost::asio::ssl {
class context;
}

namespace tinykv::net {

struct TlsOptions {
  bool enabled = false;
  std::string cert_file;  // PEM certificate (chain); required for a server
  std::string key_file;   // PEM private key of cert_file; required with cert_file
  // PEM bundle of the CAs that sign the other side's certificates. Client:
  // empty = the system's roots. Server: required with verify_peer.
  std::string ca_file;
  // Server only: require a client certificate signed by ca_file.
  bool verify_peer = false;
};

// How error messages name TlsOptions' files (a program passes its flags:
// {"--cert-file", "--key-file", "--trusted-ca-file"}).
struct TlsFlagNames {
  std::string cert = "cert_file";
  std::string key = "key_file";
  std::string ca = "ca_file";
};

class TlsContext {
 public:
  enum class Role { kServer, kClient };

  // Loads and checks the files: InvalidArgument naming the option and the
  // file for a missing or unreadable file, a PEM that does not parse, a key
  // that does not match its certificate, or a missing required file.
  // `flags` names the options in messages.
  [[nodiscard]] static Result<std::shared_ptr<TlsContext>> Create(TlsOptions options, Role role,
                                                                  TlsFlagNames flags);
  [[nodiscard]] static Result<std::shared_ptr<TlsContext>> Create(TlsOptions options,
                                                                  Role role) {
    return Create(std::move(options), role, TlsFlagNames{});
  }
  ~TlsContext();

  // The context for a new connection: reloaded first if a file changed on
  // disk (see the file comment). Never null.
  std::shared_ptr<boost::asio::ssl::context> Current();

  const TlsOptions& options() const { return options_; }
  Role role() const { return role_; }
  // Successful reloads since Create (a statistic, and what tests wait for).
  uint64_t reloads() const;

 private:
  struct FileStamp {
    int64_t mtime_ns = 0;
    int64_t size = 0;
    friend bool operator==(const FileStamp&, const FileStamp&) = default;
  };
  struct Stamps {
    FileStamp cert, key, ca;
    friend bool operator==(const Stamps&, const Stamps&) = default;
  };
  TlsContext(TlsOptions options, Role role, TlsFlagNames flags);
  Result<std::shared_ptr<boost::asio::ssl::context>> Load() const;
  Stamps ReadStamps() const;

  const TlsOptions options_;
  const Role role_;
  const TlsFlagNames flags_;
  mutable std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> current_;  // guarded by mu_
  Stamps stamps_;                                       // guarded by mu_; of current_
  Stamps failed_stamps_;                                // guarded by mu_; last failed reload
  uint64_t reloads_ = 0;                                // guarded by mu_
};

// The wrappers that run the handshake (a server's accepted sockets, a
// client's dialled ones). `handshake_timeout` bounds the whole handshake.
StreamWrapper TlsServerWrapper(std::shared_ptr<TlsContext> context,
                               std::chrono::milliseconds handshake_timeout);
StreamWrapper TlsClientWrapper(std::shared_ptr<TlsContext> context,
                               std::chrono::milliseconds handshake_timeout);

}  // namespace tinykv::net
