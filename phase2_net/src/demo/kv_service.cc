#include "kv_service.h"

namespace tinykv::net::demo {

namespace {
constexpr size_t kScanPageItems = 256;

awaitable<Status> Sleep(uint32_t ms) {
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_return Status::OK();
}
}  // namespace

void RegisterKvService(RpcServer* server, std::shared_ptr<KvBackend> backend) {
  server->Register<GetMethod>([backend](GetRequest r) -> awaitable<Result<GetResponse>> {
    auto v = backend->Get(r.key);
    if (!v.ok()) co_return v.status();
    GetResponse resp;
    if (v->has_value()) {
      resp.found = true;
      resp.value = std::move(**v);
    }
    co_return resp;
  });
  server->Register<PutMethod>([backend](PutRequest r) -> awaitable<Result<Empty>> {
    Status s = backend->Put(r.key, r.value, r.sync);
    if (!s.ok()) co_return s;
    co_return Empty{};
  });
  server->Register<DeleteMethod>([backend](DeleteRequest r) -> awaitable<Result<Empty>> {
    Status s = backend->Delete(r.key, r.sync);
    if (!s.ok()) co_return s;
    co_return Empty{};
  });
  server->Register<ScanMethod>(
      [backend](ScanRequest r, ServerWriter<KeyValue>& out) -> awaitable<Status> {
        const std::optional<std::string> end =
            r.has_end ? std::optional<std::string>(r.end) : std::nullopt;
        std::string cursor = r.start;
        uint64_t sent = 0;
        for (;;) {
          size_t page = kScanPageItems;
          if (r.limit > 0) page = static_cast<size_t>(std::min<uint64_t>(page, r.limit - sent));
          if (page == 0) co_return Status::OK();
          auto items = backend->ScanPage(cursor, end, page);
          if (!items.ok()) co_return items.status();
          for (const KeyValue& kv : *items) {
            Status s = co_await out.Write(kv);
            if (!s.ok()) co_return s;
            ++sent;
          }
          if (items->size() < page) co_return Status::OK();
          cursor = items->back().key;
          cursor.push_back('\0');  // the smallest key after the last one sent
        }
      });
  server->Register<EchoMethod>([](EchoRequest r) -> awaitable<Result<EchoResponse>> {
    if (r.delay_ms > 0) co_await Sleep(r.delay_ms);
    co_return EchoResponse{std::move(r.data)};
  });
}

Result<std::optional<std::string>> KvClient::Get(const std::string& key) {
  auto r = client_->CallSync<GetMethod>(address_, GetRequest{key}, defaults_);
  if (!r.ok()) return r.status();
  if (!r->found) return std::optional<std::string>();
  return std::optional<std::string>(std::move(r->value));
}

Status KvClient::Put(const std::string& key, const std::string& value, bool sync) {
  return client_->CallSync<PutMethod>(address_, PutRequest{key, value, sync}, defaults_).status();
}

Status KvClient::Delete(const std::string& key, bool sync) {
  return client_->CallSync<DeleteMethod>(address_, DeleteRequest{key, sync}, defaults_).status();
}

Status KvClient::Scan(const std::string& start, const std::optional<std::string>& end,
                      uint64_t limit, std::function<Status(KeyValue)> on_pair) {
  ScanRequest req{start, end.value_or(""), end.has_value(), limit};
  return client_->CallStreamSync<ScanMethod>(address_, std::move(req), std::move(on_pair),
                                             defaults_);
}

Result<std::string> KvClient::Echo(const std::string& data, uint32_t delay_ms) {
  auto r = client_->CallSync<EchoMethod>(address_, EchoRequest{data, delay_ms}, defaults_);
  if (!r.ok()) return r.status();
  return std::move(r->data);
}

}  // namespace tinykv::net::demo
