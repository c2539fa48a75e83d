// The etcd backend of tinykv-bench: etcd's v3 API through its HTTP/JSON
// gateway, with Boost.Beast.
//
// What this costs etcd, compared with its native gRPC (which etcd's own
// benchmark tool uses): every request is an HTTP/1.1 POST with a JSON body,
// keys and values base64-encoded (+33% bytes), and the gateway inside etcd
// decodes the JSON into the protobuf request and calls the gRPC server over
// an in-process loopback connection, then encodes the answer back to JSON.
// HTTP/1.1 has no multiplexing, so each session owns one keep-alive
// connection. We measured nothing that isolates the gateway's share; etcd's
// own docs describe the gateway as a convenience, not a fast path, so the
// numbers are a lower bound for etcd.
#include <utility>  // before Asio: see tinykv/net/asio.h

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/core/detail/base64.hpp>

#include "bench_backend.h"

namespace tinykv::bench {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string Base64(const std::string& in) {
  std::string out(beast::detail::base64::encoded_size(in.size()), '\0');
  out.resize(beast::detail::base64::encode(out.data(), in.data(), in.size()));
  return out;
}

class EtcdSession final : public Session {
 public:
  EtcdSession(std::string host, std::string port, int timeout_ms)
      : host_(std::move(host)), port_(std::move(port)), stream_(ioc_), timeout_ms_(timeout_ms) {}

  Status Put(const std::string& key, const std::string& value) override {
    return Post("/v3/kv/put", "{\"key\":\"" + Base64(key) + "\",\"value\":\"" + Base64(value) +
                                  "\"}");
  }
  Status Get(const std::string& key, bool linearizable) override {
    return Post("/v3/kv/range", "{\"key\":\"" + Base64(key) + "\"" +
                                    (linearizable ? "" : ",\"serializable\":true") + "}");
  }

 private:
  Status Connect() {
    beast::error_code ec;
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(host_, port_, ec);
    if (ec) return Status::Unavailable("resolve " + host_ + ": " + ec.message());
    stream_.expires_after(std::chrono::milliseconds(timeout_ms_));
    stream_.connect(results, ec);
    if (ec) return Status::Unavailable("connect " + host_ + ":" + port_ + ": " + ec.message());
    stream_.socket().set_option(tcp::no_delay(true));
    connected_ = true;
    return Status::OK();
  }

  Status Post(const char* target, std::string body) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!connected_) TINYKV_RETURN_IF_ERROR(Connect());
      http::request<http::string_body> req{http::verb::post, target, 11};
      req.set(http::field::host, host_);
      req.set(http::field::content_type, "application/json");
      req.keep_alive(true);
      req.body() = body;
      req.prepare_payload();
      beast::error_code ec;
      stream_.expires_after(std::chrono::milliseconds(timeout_ms_));
      http::write(stream_, req, ec);
      if (!ec) {
        http::response<http::string_body> res;
        http::read(stream_, buffer_, res, ec);
        if (!ec) {
          if (res.result() != http::status::ok) {
            return Status::IOError("etcd " + std::string(target) + ": HTTP " +
                                   std::to_string(res.result_int()) + " " + res.body());
          }
          if (!res.keep_alive()) Close();
          return Status::OK();
        }
      }
      Close();  // a dropped keep-alive connection: reconnect once
      if (attempt == 1) return Status::Unavailable("etcd " + std::string(target) + ": " + ec.message());
    }
    return Status::Unavailable("unreachable");
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    buffer_.clear();
    connected_ = false;
  }

  std::string host_, port_;
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  int timeout_ms_;
  bool connected_ = false;
};

class EtcdBackend final : public Backend {
 public:
  explicit EtcdBackend(BackendOptions options) : options_(std::move(options)) {}
  Result<std::unique_ptr<Session>> NewSession(int index) override {
    const std::string& ep = options_.endpoints[index % options_.endpoints.size()];
    std::string hostport = ep;
    if (auto p = hostport.find("://"); p != std::string::npos) hostport = hostport.substr(p + 3);
    const auto colon = hostport.rfind(':');
    if (colon == std::string::npos) return Status::InvalidArgument("endpoint " + ep + " lacks :port");
    return std::unique_ptr<Session>(new EtcdSession(hostport.substr(0, colon),
                                                    hostport.substr(colon + 1),
                                                    options_.timeout_ms));
  }
  std::string Describe() const override {
    return "etcd v3 HTTP/JSON gateway (Boost.Beast, base64 keys/values, one HTTP/1.1 "
           "keep-alive connection per client, clients spread over " +
           std::to_string(options_.endpoints.size()) + " endpoints; --conns ignored)";
  }

 private:
  BackendOptions options_;
};

}  // namespace

Result<std::unique_ptr<Backend>> NewEtcdBackend(const BackendOptions& options) {
  if (options.endpoints.empty()) return Status::InvalidArgument("no endpoints");
  return std::unique_ptr<Backend>(new EtcdBackend(options));
}

}  // namespace tinykv::bench
