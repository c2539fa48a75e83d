// The server's defences against peers that connect and misbehave: the
// handshake deadline, the minimum receive rate, memory that follows the bytes
// received (not a header's claim), the cap on memory across connections, the
// hello handshake and the cap on connections that have not completed it.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstdint>
#include <future>
#include <thread>

#include "rpc_test_util.h"
#include "test_service.h"
#include "tinykv/common/coding.h"
#include "tinykv/net/client.h"
#include "tinykv/net/server.h"

namespace tinykv::net {
namespace {

using namespace std::chrono_literals;
using testing::EchoMethod;
using testing::EchoRequest;
using testing::EchoResponse;
using testing::ErrorOf;
using testing::MakeClient;
using testing::StartServer;
using testing::WaitFor;
using Clock = std::chrono::steady_clock;

// A raw TCP connection to a test server. Its reads time out (20 s, far
// beyond any deadline the tests expect), so a server that fails to close it
// fails the test instead of hanging it. (Plain recv: Asio's blocking reads
// would retry through SO_RCVTIMEO.)
struct RawConnection {
  explicit RawConnection(uint16_t port) {
    sock.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    timeval tv{20, 0};
    ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  void Send(Slice bytes) { asio::write(sock, asio::buffer(bytes.data(), bytes.size())); }
  // Writes, ignoring errors (the server may have closed the connection).
  bool TrySend(Slice bytes) {
    boost::system::error_code ec;
    asio::write(sock, asio::buffer(bytes.data(), bytes.size()), ec);
    return !ec;
  }
  // Frames until `n` arrived, the server closed the connection, or the read
  // timed out (then timed_out is set).
  std::vector<Frame> Read(size_t n = SIZE_MAX) {
    FrameDecoder d;
    std::vector<Frame> frames;
    std::string buf(64 << 10, '\0');
    while (frames.size() < n) {
      const ssize_t got = ::recv(sock.native_handle(), buf.data(), buf.size(), 0);
      if (got <= 0) {
        timed_out = got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        break;
      }
      d.Append(Slice(buf.data(), static_cast<size_t>(got)));
      for (;;) {
        auto f = d.Next();
        if (!f.ok() || !f->has_value()) break;
        frames.push_back(std::move(**f));
      }
    }
    return frames;
  }
  asio::io_context ctx;
  asio::ip::tcp::socket sock{ctx};
  bool timed_out = false;
};

std::string EchoFrame(uint64_t request_id, std::string data) {
  return EncodeFrame(FrameKind::kRequest, request_id, EchoMethod::kId,
                     EncodeMessage(EchoRequest{std::move(data)}));
}

// A connection that connects and says nothing is closed at the handshake
// deadline, with an error frame saying why; one that completed a request is
// not (the deadline is for the first request only).
TEST(RpcHandshake, SilentConnectionIsClosedAtTheHandshakeDeadline) {
  ServerOptions o;
  o.handshake_timeout = 300ms;
  auto srv = StartServer(o);
  auto client = MakeClient();
  ASSERT_OK(client->CallSync<EchoMethod>(srv.address(), EchoRequest{"established"}));

  RawConnection silent(srv.server->port());
  const auto start = Clock::now();
  auto frames = silent.Read();
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 10s);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].header.request_id, 0u);
  const Status why = ErrorOf(frames[0]);
  EXPECT_TRUE(why.IsTimeout()) << why.ToString();
  EXPECT_NE(why.ToString().find("no complete request within 300 ms"), std::string::npos)
      << why.ToString();
  EXPECT_EQ(srv.server->stats().handshake_timeouts, 1u);

  // The established connection outlived the deadline and is still in use.
  ASSERT_OK(client->CallSync<EchoMethod>(srv.address(), EchoRequest{"still here"}));
  EXPECT_EQ(client->stats().connects, 1u);
}

// A frame dripped a byte at a time no longer holds a connection: once the
// grace has passed, the frame must average the minimum rate.
TEST(RpcSlowSender, OneByteDripIsClosedOnceTheGracePasses) {
  ServerOptions o;
  o.frame_grace = 300ms;
  o.min_receive_bytes_per_second = 1024;
  auto srv = StartServer(o);
  RawConnection drip(srv.server->port());
  drip.Send(EchoFrame(1, "first"));  // completes the handshake: only the rate rule applies
  ASSERT_EQ(drip.Read(1).size(), 1u);

  const std::string frame = EchoFrame(2, std::string(100, 'd'));
  std::atomic<bool> stop{false};
  std::thread dripper([&] {
    for (size_t i = 0; i < frame.size() && !stop; ++i) {
      if (!drip.TrySend(Slice(frame.data() + i, 1))) break;
      std::this_thread::sleep_for(50ms);  // the drip itself: 20 bytes/s
    }
  });
  const auto start = Clock::now();
  auto frames = drip.Read();
  const auto waited = Clock::now() - start;
  stop = true;
  dripper.join();
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 5s) << "the drip held the connection";
  ASSERT_EQ(frames.size(), 1u);
  const Status why = ErrorOf(frames[0]);
  EXPECT_TRUE(why.IsTimeout()) << why.ToString();
  EXPECT_NE(why.ToString().find("too slowly"), std::string::npos) << why.ToString();
  EXPECT_EQ(srv.server->stats().slow_frames_closed, 1u);
}

// The other side of the rate rule: a frame that takes longer than the grace
// but arrives above the minimum rate is served.
TEST(RpcSlowSender, SteadyFrameAboveTheMinimumRateIsServed) {
  ServerOptions o;
  o.frame_grace = 200ms;
  o.min_receive_bytes_per_second = 1024;
  auto srv = StartServer(o);
  RawConnection steady(srv.server->port());
  const std::string frame = EchoFrame(1, std::string(8 << 10, 's'));
  const size_t piece = 512;  // 16+ pieces, 25 ms apart: ~20 KiB/s over ~400 ms
  for (size_t off = 0; off < frame.size(); off += piece) {
    steady.Send(Slice(frame.data() + off, std::min(piece, frame.size() - off)));
    std::this_thread::sleep_for(25ms);
  }
  auto frames = steady.Read(1);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].header.kind, FrameKind::kResponse);
  auto r = DecodeMessage<EchoResponse>(frames[0].payload);
  ASSERT_OK(r);
  EXPECT_EQ(r->data, std::string(8 << 10, 's'));
  EXPECT_EQ(srv.server->stats().slow_frames_closed, 0u);
}

// A header that claims the largest frame, followed by (almost) nothing, costs
// a small buffer, not 4 MiB (measured by the server's count of bytes held
// for frames in progress); the frame is served once it all arrived, and the
// memory is released.
TEST(RpcMemory, HeaderClaimingFourMiBHoldsOnlyWhatArrived) {
  ServerOptions o;
  o.handshake_timeout = 60s;  // these connections stay pending on purpose
  o.frame_grace = 60s;
  auto srv = StartServer(o);
  // The largest echo request that fits one frame.
  const size_t data_bytes = kDefaultMaxFrameBytes - kFrameHeaderSize - 13;
  const std::string big = EchoFrame(1, std::string(data_bytes, 'b'));
  ASSERT_EQ(big.size(), kDefaultMaxFrameBytes);
  const size_t kConnections = 40;
  const size_t kSent = kFrameHeaderSize + 100;  // the header and 100 payload bytes
  std::vector<std::unique_ptr<RawConnection>> conns;
  for (size_t i = 0; i < kConnections; ++i) {
    conns.push_back(std::make_unique<RawConnection>(srv.server->port()));
    conns.back()->Send(Slice(big.data(), kSent));
  }
  // Every connection's frame is in progress once each holds its own buffer.
  const size_t kPerFrame = 2 * FrameDecoder::kMinFrameReadBytes;
  ASSERT_TRUE(WaitFor([&] {
    return srv.server->stats().buffered_bytes >= kConnections * FrameDecoder::kMinFrameReadBytes;
  })) << srv.server->stats().buffered_bytes;
  EXPECT_LE(srv.server->stats().buffered_bytes, kConnections * kPerFrame)
      << "a 4 MiB header made the server allocate ahead of the bytes";

  // The rest of one frame arrives: it is served, whole.
  conns[0]->Send(Slice(big.data() + kSent, big.size() - kSent));
  auto frames = conns[0]->Read(1);
  ASSERT_EQ(frames.size(), 1u);
  auto r = DecodeMessage<EchoResponse>(frames[0].payload);
  ASSERT_OK(r);
  EXPECT_EQ(r->data.size(), data_bytes);
  conns.clear();
  EXPECT_TRUE(WaitFor([&] {
    return srv.server->stats().buffered_bytes == 0 && srv.server->stats().connections_active == 0;
  })) << srv.server->stats().buffered_bytes;
}

// max_buffered_bytes: two large frames that do not fit together. The second
// waits (the server stops reading it) until the first completes, then both
// are served.
TEST(RpcMemory, ReadingWaitsAtTheBufferCapAndResumes) {
  ServerOptions o;
  o.max_frame_bytes = 1u << 20;
  o.max_buffered_bytes = 1u << 20;  // room for one frame in progress
  auto srv = StartServer(o);
  const size_t data_bytes = o.max_frame_bytes - kFrameHeaderSize - 13;
  const std::string a = EchoFrame(1, std::string(data_bytes, 'a'));
  const std::string b = EchoFrame(1, std::string(data_bytes, 'b'));
  RawConnection ca(srv.server->port());
  RawConnection cb(srv.server->port());
  const size_t a_first = 700u << 10;
  ca.Send(Slice(a.data(), a_first));
  ASSERT_TRUE(WaitFor([&] { return srv.server->stats().buffered_bytes >= a_first; }));
  // B's writes may block once the kernel's buffers fill: write from a thread.
  auto b_sent = std::async(std::launch::async, [&] { cb.Send(b); });
  ASSERT_TRUE(WaitFor([&] { return srv.server->stats().read_waits >= 1; }))
      << "the second frame did not wait for the first";
  EXPECT_LE(srv.server->stats().buffered_bytes,
            o.max_buffered_bytes + FrameDecoder::kReadBufferFrameBytes);
  ca.Send(Slice(a.data() + a_first, a.size() - a_first));
  auto fa = ca.Read(1);
  auto fb = cb.Read(1);
  b_sent.get();
  for (auto* got : {&fa, &fb}) {
    ASSERT_EQ(got->size(), 1u);
    ASSERT_EQ((*got)[0].header.kind, FrameKind::kResponse) << ErrorOf((*got)[0]).ToString();
  }
  EXPECT_EQ(DecodeMessage<EchoResponse>(fa[0].payload)->data, std::string(data_bytes, 'a'));
  EXPECT_EQ(DecodeMessage<EchoResponse>(fb[0].payload)->data, std::string(data_bytes, 'b'));
  EXPECT_TRUE(WaitFor([&] { return srv.server->stats().buffered_bytes == 0; }));
}

// A server whose connections must open with the hello "member:<id>".
struct HelloServer {
  explicit HelloServer(ServerOptions o = {}) {
    o.on_hello = [](Slice hello, const std::string&) -> Result<uint64_t> {
      const std::string h = hello.ToString();
      if (h.rfind("member:", 0) != 0) {
        return Status::InvalidArgument("hello '" + h + "' is not a member's");
      }
      return std::stoull(h.substr(7));
    };
    server = RpcServer::Create(o).value();
    // The handler sees the id the connection's hello claimed.
    server->Register<EchoMethod>(
        [](EchoRequest r, const ServerCall& call) -> awaitable<Result<EchoResponse>> {
          co_return EchoResponse{r.data + " from " + std::to_string(call.peer_id())};
        });
    EXPECT_OK(server->Start());
  }
  std::unique_ptr<RpcClient> Client(std::string hello) {
    ClientOptions c;
    c.hello = std::move(hello);
    return MakeClient(c);
  }
  std::unique_ptr<RpcServer> server;
};

TEST(RpcHello, HandlerSeesThePeerIdTheHelloClaimed) {
  HelloServer hs;
  auto member = hs.Client("member:7");
  auto r = member->CallSync<EchoMethod>(hs.server->address(), EchoRequest{"hi"});
  ASSERT_OK(r);
  EXPECT_EQ(r->data, "hi from 7");
  EXPECT_EQ(hs.server->stats().connections_pending, 0u);
}

// A call's trace id (CallOptions::trace_id) reaches the handler through the
// request frame, on every attempt; a call without one arrives with 0.
TEST(RpcTrace, HandlerSeesTheCallsTraceId) {
  auto server = RpcServer::Create(ServerOptions{}).value();
  server->Register<EchoMethod>(
      [](EchoRequest r, const ServerCall& call) -> awaitable<Result<EchoResponse>> {
        co_return EchoResponse{r.data + " " + std::to_string(call.trace_id())};
      });
  ASSERT_OK(server->Start());
  auto client = MakeClient();
  CallOptions traced;
  traced.trace_id = 0xfeedfacecafebeefull;
  auto r = client->CallSync<EchoMethod>(server->address(), EchoRequest{"t"}, traced);
  ASSERT_OK(r);
  EXPECT_EQ(r->data, "t " + std::to_string(0xfeedfacecafebeefull));
  auto plain = client->CallSync<EchoMethod>(server->address(), EchoRequest{"p"});
  ASSERT_OK(plain);
  EXPECT_EQ(plain->data, "p 0");
  server->Shutdown(std::chrono::milliseconds(0));
}

// A refused hello fails the call with the server's reason (not retried: it
// would be refused again), and so does a client that sends no hello.
TEST(RpcHello, RefusedHelloFailsTheCallWithTheServersReason) {
  HelloServer hs;
  auto stranger = hs.Client("intruder");
  auto r = stranger->CallSync<EchoMethod>(hs.server->address(), EchoRequest{"let me in"});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_NE(r.status().ToString().find("hello 'intruder' is not a member's"), std::string::npos)
      << r.status().ToString();
  auto silent = MakeClient();
  auto s = silent->CallSync<EchoMethod>(hs.server->address(), EchoRequest{"no hello"});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().ToString().find("requires a hello"), std::string::npos)
      << s.status().ToString();
  EXPECT_EQ(hs.server->stats().hellos_refused, 2u);
  EXPECT_EQ(stranger->stats().retries + silent->stats().retries, 0u);
  // A hello after the first frame breaks the protocol.
  RawConnection raw(hs.server->port());
  raw.Send(EncodeFrame(FrameKind::kHello, 0, 0, "member:1") +
           EncodeFrame(FrameKind::kHello, 0, 0, "member:1"));
  auto frames = raw.Read();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(ErrorOf(frames[0]).IsCorruption()) << ErrorOf(frames[0]).ToString();
  // Refused connections are gone, not lingering.
  EXPECT_TRUE(WaitFor([&] { return hs.server->stats().connections_active == 0; }))
      << hs.server->stats().connections_active;
}

// Strangers that connect and say nothing can take at most
// max_pending_connections slots; when a newcomer needs room, the oldest of
// them is closed, never an established connection. So every slot of
// max_connections stays available to members.
TEST(RpcHello, StrangersNeverTakeTheSlotsOfEstablishedConnections) {
  ServerOptions o;
  o.max_connections = 8;
  o.max_pending_connections = 4;
  o.handshake_timeout = 60s;  // the strangers stay until pushed out
  HelloServer hs(o);
  auto first = hs.Client("member:1");
  ASSERT_OK(first->CallSync<EchoMethod>(hs.server->address(), EchoRequest{"a"}));

  std::vector<std::unique_ptr<RawConnection>> strangers;
  for (int i = 0; i < 20; ++i) {
    strangers.push_back(std::make_unique<RawConnection>(hs.server->port()));
  }
  ASSERT_TRUE(WaitFor([&] { return hs.server->stats().pending_evicted >= 16; }))
      << hs.server->stats().pending_evicted;
  EXPECT_LE(hs.server->stats().connections_pending, 4u);
  // An evicted stranger is told why (and that nothing ran: it may retry).
  auto told = strangers[0]->Read();
  ASSERT_EQ(told.size(), 1u);
  EXPECT_TRUE(ErrorOf(told[0]).IsUnavailable()) << ErrorOf(told[0]).ToString();
  EXPECT_EQ(told[0].header.method_id, kErrorNotExecuted);

  // Members fill every slot; each newcomer pushes out a stranger.
  std::vector<std::unique_ptr<RpcClient>> members;
  for (int id = 2; id <= 8; ++id) {
    members.push_back(hs.Client("member:" + std::to_string(id)));
    auto r = members.back()->CallSync<EchoMethod>(hs.server->address(), EchoRequest{"m"});
    ASSERT_OK(r) << "member " << id;
    EXPECT_EQ(r->data, "m from " + std::to_string(id));
  }
  EXPECT_EQ(hs.server->stats().connections_pending, 0u);
  // The first member's connection was never touched.
  ASSERT_OK(first->CallSync<EchoMethod>(hs.server->address(), EchoRequest{"b"}));
  EXPECT_EQ(first->stats().connects, 1u);
  // All slots are members now: the next newcomer is refused.
  auto ninth = hs.Client("member:9");
  CallOptions once;
  once.max_attempts = 1;
  EXPECT_FALSE(ninth->CallSync<EchoMethod>(hs.server->address(), EchoRequest{"x"}, once).ok());
  EXPECT_GE(hs.server->stats().connections_rejected, 1u);
}

TEST(RpcServerStart, BadLimitsAreInvalidArgument) {
  ServerOptions a;
  a.max_buffered_bytes = a.max_frame_bytes - 1;
  EXPECT_TRUE(RpcServer::Create(a).status().IsInvalidArgument());
  ServerOptions b;
  b.max_pending_connections = 0;
  EXPECT_TRUE(RpcServer::Create(b).status().IsInvalidArgument());
  ServerOptions c;
  c.handshake_timeout = 0ms;
  EXPECT_TRUE(RpcServer::Create(c).status().IsInvalidArgument());
}

}  // namespace
}  // namespace tinykv::net
