#include "runtime/service/listener.hpp"

#include <exception>

namespace agentos::runtime {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string listen_on(tcp::acceptor& acceptor, const std::string& address, std::uint16_t port) {
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) return "invalid listen address `" + address + "`";
  const tcp::endpoint endpoint{ip, port};
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    return "cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message();
  }
  return {};
}

void run_io(asio::io_context& ioc) {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception&) {
      // That handler's connection is gone; the others go on.
    }
  }
}

}  // namespace agentos::runtime
