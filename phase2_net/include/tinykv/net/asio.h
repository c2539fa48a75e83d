// The one way TinyKV includes Boost.Asio (STYLE: one wrapper, used everywhere).
//
// Boost 1.74's boost/asio/awaitable.hpp uses std::exchange without including
// <utility>, which GCC 12 rejects in C++20 mode. Including <utility> first
// keeps that workaround in this single place. Every phase-2 file (and every
// later phase that talks to the network) includes this header instead of any
// <boost/asio/...> header directly.
#pragma once

#include <utility>  // must precede Asio: see above.

// Boost 1.74 only recognises clang's coroutines through libc++'s
// <experimental/coroutine>; with libstdc++ (the clang fuzz build) tell it
// that C++20 coroutines are there.
#if defined(__clang__) && defined(__cpp_impl_coroutine) && !defined(BOOST_ASIO_HAS_CO_AWAIT)
#include <coroutine>
#define BOOST_ASIO_HAS_CO_AWAIT 1
#define BOOST_ASIO_HAS_STD_COROUTINE 1
#endif

#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace tinykv::net {
namespace asio = boost::asio;
template <typename T>
using awaitable = boost::asio::awaitable<T>;
}  // namespace tinykv::net
