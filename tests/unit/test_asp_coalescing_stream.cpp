// CoalescingStream under Beast's websocket::stream (asp/coalescing_stream.h): a batch of
// messages written while corked leaves in one socket write, and a plain Beast client on
// the other end of a real loopback TCP connection still reads each message as its own,
// byte for byte and in order; the close handshake goes through it too.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "asp/coalescing_stream.h"

namespace atende::asp {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct Received {
  bool text = false;
  std::string bytes;
};

// The messages of the batch: text and binary, 20 ms of 8 kHz audio among them.
std::vector<Received> batch() {
  std::vector<Received> out;
  for (int i = 0; i < 10; ++i) {
    out.push_back({true, R"({"type":"response.start","response_id":)" + std::to_string(i) + "}"});
    std::string pcm(320, '\0');
    for (size_t k = 0; k < pcm.size(); ++k) pcm[k] = static_cast<char>((k * 7 + i) & 0xff);
    out.push_back({false, pcm});
  }
  return out;
}

TEST(AspCoalescingStream, ABatchIsOneSocketWriteAndEveryMessageStaysItsOwn) {
  net::io_context ioc;
  tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0});
  const auto endpoint = acceptor.local_endpoint();

  std::vector<Received> got;
  beast::error_code client_end;
  std::thread client([&] {
    net::io_context cioc;
    websocket::stream<tcp::socket> ws(cioc);
    ws.next_layer().connect(endpoint);
    ws.handshake("127.0.0.1", "/asp");
    for (;;) {
      beast::flat_buffer buffer;
      ws.read(buffer, client_end);
      if (client_end) break;  // our close: `closed`
      got.push_back({ws.got_text(), beast::buffers_to_string(buffer.data())});
    }
  });

  websocket::stream<CoalescingStream> ws(acceptor.accept());
  int socket_writes = 0;
  ws.next_layer().on_socket_write([&](bool started) { socket_writes += started ? 1 : 0; });
  const std::vector<Received> messages = batch();
  int writes_before_batch = -1, writes_after_batch = -1;
  size_t next = 0;
  std::function<void()> write_next = [&] {
    if (next == messages.size()) {
      writes_before_batch = socket_writes;
      ws.next_layer().uncork();  // the batch goes out now
      writes_after_batch = socket_writes;
      ws.async_close(websocket::close_code::normal, [](beast::error_code) {});
      return;
    }
    ws.text(messages[next].text);
    ws.async_write(net::buffer(messages[next].bytes), [&](beast::error_code ec, size_t) {
      ASSERT_FALSE(ec) << ec.message();
      ++next;
      write_next();
    });
  };
  ws.async_accept([&](beast::error_code ec) {
    ASSERT_FALSE(ec) << ec.message();
    ws.next_layer().cork();
    write_next();
  });
  ioc.run();
  client.join();

  EXPECT_EQ(writes_after_batch - writes_before_batch, 1);  // twenty messages, one send
  EXPECT_EQ(client_end, websocket::error::closed);
  ASSERT_EQ(got.size(), messages.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].text, messages[i].text) << i;
    EXPECT_EQ(got[i].bytes, messages[i].bytes) << i;
  }
}

TEST(AspCoalescingStream, UncorkedWritesGoOutOnTheirOwn) {
  net::io_context ioc;
  tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0});
  const auto endpoint = acceptor.local_endpoint();
  std::vector<std::string> got;
  std::thread client([&] {
    net::io_context cioc;
    websocket::stream<tcp::socket> ws(cioc);
    ws.next_layer().connect(endpoint);
    ws.handshake("127.0.0.1", "/asp");
    beast::error_code ec;
    for (;;) {
      beast::flat_buffer buffer;
      ws.read(buffer, ec);
      if (ec) break;
      got.push_back(beast::buffers_to_string(buffer.data()));
    }
  });
  websocket::stream<CoalescingStream> ws(acceptor.accept());
  const std::string hello = R"({"type":"protocol.capabilities"})";
  ws.async_accept([&](beast::error_code ec) {
    ASSERT_FALSE(ec);
    ws.text(true);
    ws.async_write(net::buffer(hello), [&](beast::error_code e, size_t) {
      ASSERT_FALSE(e);
      ws.async_close(websocket::close_code::normal, [](beast::error_code) {});
    });
  });
  ioc.run();
  client.join();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], hello);
}

}  // namespace
}  // namespace atende::asp
