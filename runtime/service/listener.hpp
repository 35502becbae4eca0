// What agentos's two HTTP servers (the API server, runtime/service/http_server.cpp, and the
// executor's wake server, runtime/projection/wake_server.cpp) do alike around Boost.Asio and
// Beast: open a listening socket, run an io_context on a thread that outlives a throwing handler,
// and close a connection. Asio and Beast stay private to the runtime's sources: only those two
// files include this header.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace agentos::runtime {

// Opens `acceptor` on address:port (an IP address, not a name; port 0 picks one), with
// SO_REUSEADDR, and listens. Returns "" on success, else one line saying what failed (the
// acceptor is then closed).
[[nodiscard]] std::string listen_on(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address,
                                    std::uint16_t port);

// Runs `ioc` until it has nothing left to do. A handler that throws (bad_alloc and the like; the
// servers' handlers catch what they can) ends only its own connection: the loop carries on.
void run_io(boost::asio::io_context& ioc);

// Shuts both directions of `stream` and closes it.
void close_now(boost::beast::tcp_stream& stream);

// After an answer that ends the connection before the request was read whole (a body over the
// limit): shuts the sending side, then reads and drops what the client still sends (at most
// 8 MiB, for at most 2 s) before closing, so the client reads the answer instead of a reset.
// `owner` (the session holding `stream`) is kept alive until then. Call on the stream's strand.
void linger_close(boost::beast::tcp_stream& stream, std::shared_ptr<void> owner);

}  // namespace agentos::runtime
