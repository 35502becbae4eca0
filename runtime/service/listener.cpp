#include "runtime/service/listener.hpp"

#include <array>
#include <chrono>
#include <exception>

namespace agentos::runtime {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::chrono::seconds linger_time{2};
constexpr std::size_t linger_bytes = std::size_t{8} << 20;

struct lingering {
  boost::beast::tcp_stream& stream;
  std::shared_ptr<void> owner;
  std::size_t read = 0;
  std::array<char, 16 * 1024> discard{};
};

void drain(std::shared_ptr<lingering> l) {
  l->stream.async_read_some(asio::buffer(l->discard), [l](boost::system::error_code ec, std::size_t n) {
    l->read += n;
    if (ec || l->read > linger_bytes) return close_now(l->stream);
    drain(l);
  });
}

}  // namespace

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

void close_now(boost::beast::tcp_stream& stream) {
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.close();
}

void linger_close(boost::beast::tcp_stream& stream, std::shared_ptr<void> owner) {
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(linger_time);
  drain(std::make_shared<lingering>(lingering{stream, std::move(owner)}));
}

}  // namespace agentos::runtime
