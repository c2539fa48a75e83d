// TLS on the RPC layer (tls.h): handshakes that succeed, every way one is
// refused (each fast, IOError, naming TLS or the certificate), the server
// staying up afterwards, bad files at Create, and reloading on a new file.
#include <gtest/gtest.h>

#include <filesystem>

#include "rpc_test_util.h"
#include "tinykv/net/tls.h"
#include "tls_test_util.h"

namespace tinykv::net {
namespace {

using namespace std::chrono_literals;
using testing::EchoMethod;
using testing::EchoRequest;
using testing::MakeClient;
using testing::StartServer;
using testing::TestPki;
using Clock = std::chrono::steady_clock;

// A refusal must come long before the call's deadline: no retrying until
// it passes. (Generous for a loaded machine; the deadline is 20 s.)
constexpr auto kFast = 8s;
constexpr auto kCallTimeout = 20s;

class TlsTest : public ::testing::Test {
 protected:
  TlsTest() : ca_(pki_.MakeCa("ca")), server_(pki_.MakeCert("server", ca_)),
              client_(pki_.MakeCert("client", ca_)) {}

  ServerOptions ServerTls(bool verify_peer = true) const {
    ServerOptions o;
    o.tls.enabled = true;
    o.tls.cert_file = server_.cert;
    o.tls.key_file = server_.key;
    o.tls.ca_file = ca_.cert;
    o.tls.verify_peer = verify_peer;
    return o;
  }
  ClientOptions ClientTls(bool with_cert = true) const {
    ClientOptions o;
    o.tls.enabled = true;
    o.tls.ca_file = ca_.cert;
    if (with_cert) {
      o.tls.cert_file = client_.cert;
      o.tls.key_file = client_.key;
    }
    return o;
  }
  // One echo call on a fresh client; the status and how long it took.
  static std::pair<Status, Clock::duration> Echo(ClientOptions options, const std::string& addr) {
    auto client = MakeClient(options);
    const auto start = Clock::now();
    auto r = client->CallSync<EchoMethod>(addr, EchoRequest{"hi"}, {.timeout = kCallTimeout});
    const auto took = Clock::now() - start;
    if (r.ok()) {
      EXPECT_EQ(r->data, "hi");
    }
    return {r.ok() ? Status::OK() : r.status(), took};
  }
  // The refusal is an IOError mentioning `word`, well before the deadline.
  static void ExpectRefused(const std::pair<Status, Clock::duration>& result,
                            const std::string& word) {
    const Status& s = result.first;
    EXPECT_TRUE(s.IsIOError()) << s.ToString();
    EXPECT_NE(s.ToString().find(word), std::string::npos) << s.ToString();
    EXPECT_LT(result.second, kFast) << s.ToString();
  }

  TestPki pki_;
  TestPki::Files ca_, server_, client_;
};

TEST_F(TlsTest, MutualTlsHandshakeCarriesCalls) {
  auto srv = StartServer(ServerTls());
  auto client = MakeClient(ClientTls());
  for (int i = 0; i < 3; ++i) {
    auto r = client->CallSync<EchoMethod>(srv.address(), EchoRequest{std::string(100000, 'x')});
    ASSERT_OK(r);
    EXPECT_EQ(r->data.size(), 100000u);
  }
  EXPECT_EQ(client->stats().connects, 1u);
}

TEST_F(TlsTest, ClientWithoutCertificateIsRefusedOnlyWithClientCertAuth) {
  auto strict = StartServer(ServerTls(/*verify_peer=*/true));
  ExpectRefused(Echo(ClientTls(/*with_cert=*/false), strict.address()), "certificate");
  // Negative control: the same client is fine when client certificates are
  // not required (so the refusal above is client-cert-auth's doing).
  auto lax = StartServer(ServerTls(/*verify_peer=*/false));
  EXPECT_OK(Echo(ClientTls(false), lax.address()).first);
  // The strict server kept serving.
  EXPECT_OK(Echo(ClientTls(true), strict.address()).first);
}

TEST_F(TlsTest, PlaintextClientIsToldTheServerNeedsTls) {
  auto srv = StartServer(ServerTls());
  ExpectRefused(Echo(ClientOptions{}, srv.address()), "TLS required");
  EXPECT_OK(Echo(ClientTls(), srv.address()).first);
}

TEST_F(TlsTest, TlsClientToPlaintextServerFailsFast) {
  auto srv = StartServer();
  ExpectRefused(Echo(ClientTls(), srv.address()), "TLS handshake");
  EXPECT_OK(Echo(ClientOptions{}, srv.address()).first);
}

TEST_F(TlsTest, ServerCertificateFromAnotherCaIsRefused) {
  const TestPki::Files other_ca = pki_.MakeCa("other-ca");
  auto srv = StartServer(ServerTls(false));
  ClientOptions o = ClientTls();
  o.tls.ca_file = other_ca.cert;
  ExpectRefused(Echo(o, srv.address()), "certificate verify failed");
}

TEST_F(TlsTest, ClientCertificateFromAnotherCaIsRefused) {
  const TestPki::Files other_ca = pki_.MakeCa("other-ca");
  const TestPki::Files stranger = pki_.MakeCert("stranger", other_ca);
  auto srv = StartServer(ServerTls());
  ClientOptions o = ClientTls();
  o.tls.cert_file = stranger.cert;
  o.tls.key_file = stranger.key;
  ExpectRefused(Echo(o, srv.address()), "TLS");
  EXPECT_OK(Echo(ClientTls(), srv.address()).first);
}

TEST_F(TlsTest, ExpiredServerCertificateIsRefused) {
  const TestPki::Files expired = pki_.MakeCert("expired", ca_, /*days=*/-1);
  ServerOptions so = ServerTls(false);
  so.tls.cert_file = expired.cert;
  so.tls.key_file = expired.key;
  auto srv = StartServer(so);
  ExpectRefused(Echo(ClientTls(), srv.address()), "expired");
}

TEST_F(TlsTest, ServerCertificateMustNameTheHostDialled) {
  const TestPki::Files elsewhere = pki_.MakeCert("elsewhere", ca_, 2, "DNS:db.example.com");
  ServerOptions so = ServerTls(false);
  so.tls.cert_file = elsewhere.cert;
  so.tls.key_file = elsewhere.key;
  auto srv = StartServer(so);
  ExpectRefused(Echo(ClientTls(), srv.address()), "mismatch");
}

TEST_F(TlsTest, StalledHandshakeIsClosedAtTheDeadline) {
  ServerOptions so = ServerTls();
  so.handshake_timeout = 300ms;
  auto srv = StartServer(so);
  asio::io_context ctx;
  asio::ip::tcp::socket sock(ctx);
  sock.connect({asio::ip::make_address("127.0.0.1"), srv.server->port()});
  const unsigned char record_start = 0x16;  // a TLS record begins ... and stops
  asio::write(sock, asio::buffer(&record_start, 1));
  const auto start = Clock::now();
  char buf[64];
  boost::system::error_code ec;
  while (!ec) sock.read_some(asio::buffer(buf), ec);  // until the server closes
  EXPECT_LT(Clock::now() - start, kFast);
  EXPECT_OK(Echo(ClientTls(), srv.address()).first);
}

TEST_F(TlsTest, UnusableFilesAreRefusedByName) {
  auto create = [](ServerOptions o) {
    auto s = RpcServer::Create(o);
    return s.ok() ? Status::OK() : s.status();
  };
  ServerOptions missing = ServerTls();
  missing.tls.cert_file = pki_.Path("nope.pem");
  Status s = create(missing);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.ToString().find("cert_file " + pki_.Path("nope.pem") + ": cannot be read"),
            std::string::npos)
      << s.ToString();

  ServerOptions garbage = ServerTls();
  {
    std::ofstream(pki_.Path("garbage.key")) << "not a key\n";
  }
  garbage.tls.key_file = pki_.Path("garbage.key");
  s = create(garbage);
  EXPECT_NE(s.ToString().find("key_file"), std::string::npos) << s.ToString();

  ServerOptions mismatched = ServerTls();
  mismatched.tls.key_file = client_.key;  // the client's key with the server's cert
  s = create(mismatched);
  EXPECT_NE(s.ToString().find("does not match"), std::string::npos) << s.ToString();

  ServerOptions no_ca = ServerTls();
  no_ca.tls.ca_file.clear();
  s = create(no_ca);
  EXPECT_NE(s.ToString().find("ca_file"), std::string::npos) << s.ToString();

  EXPECT_OK(create(ServerTls()));
}

TEST_F(TlsTest, NewConnectionsUseACertificateReplacedOnDisk) {
  // The server starts with a certificate the client's CA does not sign ...
  const TestPki::Files old_ca = pki_.MakeCa("old-ca");
  const TestPki::Files old_cert = pki_.MakeCert("old-server", old_ca);
  const std::string cert = pki_.Path("live.pem"), key = pki_.Path("live.key");
  std::filesystem::copy_file(old_cert.cert, cert);
  std::filesystem::copy_file(old_cert.key, key);
  ServerOptions so = ServerTls(false);
  so.tls.cert_file = cert;
  so.tls.key_file = key;
  auto srv = StartServer(so);
  ExpectRefused(Echo(ClientTls(), srv.address()), "certificate verify failed");
  // ... then the files are replaced (each by a rename, as a deploy would):
  // the next connection presents the new one, without a restart.
  std::filesystem::copy_file(server_.cert, cert + ".new");
  std::filesystem::copy_file(server_.key, key + ".new");
  std::filesystem::rename(key + ".new", key);
  std::filesystem::rename(cert + ".new", cert);
  EXPECT_OK(Echo(ClientTls(), srv.address()).first);
  // A half-done replacement (a key that does not match) keeps the last good
  // certificate in use.
  std::filesystem::copy_file(client_.key, key + ".new");
  std::filesystem::rename(key + ".new", key);
  EXPECT_OK(Echo(ClientTls(), srv.address()).first);
}

}  // namespace
}  // namespace tinykv::net
