// The etcd-http backend of tinykv-bench: etcd's v3 HTTP/JSON gateway with
// Boost.Beast, logical clients as coroutines on a few Asio io threads
// (bench_backend.h has the contract).
//
// What this path costs etcd, compared with its native gRPC API (the `etcd`
// backend): every request is an HTTP/1.1 POST with a JSON body, keys and
// values base64-encoded (+33% bytes); the gateway inside etcd decodes the
// JSON into the protobuf request and calls etcd's gRPC server over an
// in-process loopback connection, then encodes the answer back to JSON.
// HTTP/1.1 has no multiplexing, so each logical client owns one keep-alive
// connection (--conns does not apply). Measured on one machine, it costs
// etcd about half its throughput; it is kept as a labelled extra.
#include "tinykv/net/asio.h"  // first: see the header

#include <latch>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/http.hpp>

#include "asio_wait.h"
#include "bench_backend.h"

namespace tinykv::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using net::awaitable;

std::string Base64(const std::string& in) {
  std::string out(beast::detail::base64::encoded_size(in.size()), '\0');
  out.resize(beast::detail::base64::encode(out.data(), in.data(), in.size()));
  return out;
}

// One logical client's connection; lives in its coroutine, on one io thread.
class HttpConnection {
 public:
  HttpConnection(asio::any_io_executor ex, std::string host, std::string port,
                 std::chrono::milliseconds timeout)
      : host_(std::move(host)), port_(std::move(port)), stream_(ex), timeout_(timeout) {}

  // POSTs `body` to `target`, reconnecting once if the kept-alive
  // connection was dropped.
  awaitable<Status> Post(const char* target, const std::string& body) {
    beast::error_code ec;
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!connected_) {
        auto connect = Connect();
        Status s = co_await std::move(connect);
        if (!s.ok()) co_return s;
      }
      http::request<http::string_body> req{http::verb::post, target, 11};
      req.set(http::field::host, host_);
      req.set(http::field::content_type, "application/json");
      req.keep_alive(true);
      req.body() = body;
      req.prepare_payload();
      stream_.expires_after(timeout_);
      co_await http::async_write(stream_, req, asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) {
        http::response<http::string_body> res;
        co_await http::async_read(stream_, buffer_, res,
                                  asio::redirect_error(asio::use_awaitable, ec));
        if (!ec) {
          if (!res.keep_alive()) Close();
          if (res.result() != http::status::ok) {
            co_return Status::IOError("etcd " + std::string(target) + ": HTTP " +
                                      std::to_string(res.result_int()) + " " + res.body());
          }
          co_return Status::OK();
        }
      }
      Close();
      if (ec == beast::error::timeout) break;
    }
    const std::string msg = "etcd " + std::string(target) + ": " + ec.message();
    co_return ec == beast::error::timeout ? Status::Timeout(msg) : Status::Unavailable(msg);
  }

 private:
  awaitable<Status> Connect() {
    beast::error_code ec;
    tcp::resolver resolver(stream_.get_executor());
    auto results = co_await resolver.async_resolve(host_, port_,
                                                   asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Status::Unavailable("resolve " + host_ + ": " + ec.message());
    stream_.expires_after(timeout_);
    co_await stream_.async_connect(results, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Status::Unavailable("connect " + host_ + ":" + port_ + ": " + ec.message());
    stream_.socket().set_option(tcp::no_delay(true));
    connected_ = true;
    co_return Status::OK();
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    buffer_.clear();
    connected_ = false;
  }

  std::string host_, port_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::chrono::milliseconds timeout_;
  bool connected_ = false;
};

class EtcdHttpBackend final : public Backend {
 public:
  explicit EtcdHttpBackend(BackendOptions options) : options_(std::move(options)) {}

  ~EtcdHttpBackend() override {
    guards_.clear();
    for (auto& t : threads_) t.join();
  }

  Status Start() {
    targets_ = options_.endpoints;
    if (!options_.spread_endpoints) {
      TINYKV_ASSIGN_OR_RETURN(leader_, FindEtcdLeader(options_));
      targets_ = {leader_};
    }
    for (const std::string& t : targets_) {
      if (t.rfind(':') == std::string::npos) {
        return Status::InvalidArgument("endpoint " + t + " lacks :port");
      }
    }
    for (int i = 0; i < options_.threads; ++i) {
      contexts_.push_back(std::make_unique<asio::io_context>(1));
      guards_.push_back(asio::make_work_guard(*contexts_.back()));
    }
    for (auto& ctx : contexts_) threads_.emplace_back([c = ctx.get()] { c->run(); });
    return Status::OK();
  }

  void Run(Workload& w) override {
    std::latch done(w.clients());
    for (int c = 0; c < w.clients(); ++c) {
      auto& ctx = *contexts_[static_cast<size_t>(c) % contexts_.size()];
      asio::co_spawn(ctx, ClientLoop(w, c, ctx.get_executor()),
                     [&done](std::exception_ptr) { done.count_down(); });
    }
    done.wait();
  }

  std::string Describe() const override {
    return "etcd-http: v3 HTTP/JSON gateway (Boost.Beast, base64 keys and values), " +
           std::to_string(contexts_.size()) +
           " threads, one HTTP/1.1 keep-alive connection per client " +
           (options_.spread_endpoints
                ? "round-robin over " + std::to_string(targets_.size()) + " endpoints"
                : "to the leader (" + leader_ + ")") +
           ", errors not retried; --conns does not apply";
  }

 private:
  awaitable<void> ClientLoop(Workload& w, int c, asio::any_io_executor ex) {
    const std::string& target = targets_[static_cast<size_t>(c) % targets_.size()];
    const auto colon = target.rfind(':');
    HttpConnection conn(ex, target.substr(0, colon), target.substr(colon + 1),
                        std::chrono::milliseconds(options_.timeout_ms));
    const std::string value64 = Base64(w.value());
    Request r;
    while (w.Next(c, &r)) {
      if (w.open_loop()) co_await WaitUntil(r.intended);
      const auto t0 = w.Begin(c, r, Clock::now());
      std::string body;
      const char* path;
      if (r.read) {
        path = "/v3/kv/range";
        body = "{\"key\":\"" + Base64(r.key) + "\"" +
               (w.linearizable() ? "" : ",\"serializable\":true") + "}";
      } else {
        path = "/v3/kv/put";
        body = "{\"key\":\"" + Base64(r.key) + "\",\"value\":\"" + value64 + "\"}";
      }
      auto post = conn.Post(path, body);
      Status s = co_await std::move(post);
      w.Record(c, Clock::now() - t0, s);
    }
  }

  const BackendOptions options_;
  std::string leader_;
  std::vector<std::string> targets_;
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
};

}  // namespace

Result<std::unique_ptr<Backend>> NewEtcdHttpBackend(const BackendOptions& options) {
  return StartBackend<EtcdHttpBackend>(options);
}

}  // namespace tinykv::bench
