// What agentos's two HTTP servers (the API server, runtime/service/http_server.cpp, and the
// executor's wake server, runtime/projection/wake_server.cpp) do alike around Boost.Asio: open a
// listening socket, and run an io_context on a thread that outlives a throwing handler. Asio
// stays private to the runtime's sources: only those two files include this header.
#pragma once

#include <cstdint>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace agentos::runtime {

// Opens `acceptor` on address:port (an IP address, not a name; port 0 picks one), with
// SO_REUSEADDR, and listens. Returns "" on success, else one line saying what failed (the
// acceptor is then closed).
[[nodiscard]] std::string listen_on(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address,
                                    std::uint16_t port);

// Runs `ioc` until it has nothing left to do. A handler that throws (bad_alloc and the like; the
// servers' handlers catch what they can) ends only its own connection: the loop carries on.
void run_io(boost::asio::io_context& ioc);

}  // namespace agentos::runtime
