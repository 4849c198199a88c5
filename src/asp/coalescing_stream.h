// The stream under an ASP connection's websocket::stream: it gathers what Beast writes into
// one buffer and hands it to the socket in one write.
//
// Beast writes one WebSocket message per async_write, each a send(2) of its own. When the
// I/O thread wakes for a session with several messages queued (response.start and the first
// frame; a batch after the thread was descheduled) they should leave in one system call.
// Beast itself still frames every message (header, masking in the client role), so the bytes
// on the wire are exactly those of one write per message; only their grouping into syscalls
// changes.
//
// Writes never wait: async_write_some copies into the filling buffer and completes at once
// (posted). While corked (the connection is writing a batch) nothing is sent; uncork() sends
// what was gathered. Outside a batch (Beast's own pongs and close frames) every write is sent
// as soon as the socket write before it is done. One socket write is in flight at a time:
// what comes meanwhile gathers in the other buffer.
//
// Bounded: the connection stops writing while backlog() >= kSoftBytes (it takes no more of
// the leg's slots, which then fill and say the peer stopped reading); past kHardBytes (only
// Beast's control frames can get there: a peer flooding pings it never reads the pongs of) a
// write fails with no_buffer_space and the WebSocket with it. The buffers are reserved once.
//
// The socket is the tcp_stream's own: its timeouts (only armed while the client connects)
// stay out of the per-frame path.
//
// wss:// (the client role): with use_tls() an OpenSSL stream sits between the batch and the
// socket, so a batch is encrypted as one TLS record (up to 16 KiB) and still leaves in one
// write; reads are decrypted in place of the socket's. Its buffers are made once, with the
// stream. The socket and the TLS stream live in the shared state, not in this object: a
// write in flight when the connection goes away keeps them until its handler has run
// (OpenSSL's stream cannot be destroyed under a pending operation; the socket is closed at
// once, as before, so that operation ends).
#pragma once
// clang-format off
#include <utility>  // first: Boost 1.74's asio/awaitable.hpp uses std::exchange unincluded
// clang-format on
#include <boost/asio.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace atende::asp {

class CoalescingStream {
 public:
  using next_layer_type = boost::beast::tcp_stream;
  using executor_type = next_layer_type::executor_type;
  using Tls = boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>;
  static constexpr size_t kSoftBytes = 8192;   // stop taking slots: ~12 frames of 8 kHz
  static constexpr size_t kHardBytes = 65536;  // a write past this fails

  template <typename... Args>
  explicit CoalescingStream(Args&&... args)
      : state_(std::make_shared<State>(std::forward<Args>(args)...)) {
    state_->filling.reserve(kSoftBytes + 2048);
    state_->sending.reserve(kSoftBytes + 2048);
  }
  ~CoalescingStream() {
    state_->gone = true;  // a pending write's handler sees it
    boost::beast::error_code ignored;
    state_->next.socket().close(ignored);  // what destroying the socket did: its writes end
  }
  CoalescingStream(const CoalescingStream&) = delete;
  CoalescingStream& operator=(const CoalescingStream&) = delete;

  executor_type get_executor() noexcept { return state_->next.get_executor(); }
  next_layer_type& next_layer() noexcept { return state_->next; }

  // wss://: from now on every byte read or written goes through TLS with `context` (kept
  // alive here). Before anything is read or written; then handshake with tls().
  void use_tls(std::shared_ptr<boost::asio::ssl::context> context) {
    state_->context = std::move(context);
    state_->tls.emplace(state_->next.socket(), *state_->context);
    // Asio asks OpenSSL to free its record buffers whenever they are empty, i.e. to allocate
    // them again for every frame: keep them (about 34 KiB per connection).
    SSL_clear_mode(state_->tls->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  }
  Tls* tls() noexcept { return state_->tls ? &*state_->tls : nullptr; }

  // Told when a socket write starts (true) and ends (false): the connection's view of a
  // peer that stops reading, and its cue to write more.
  void on_socket_write(std::function<void(bool started)> fn) { state_->on_write = std::move(fn); }
  void cork() { state_->corked = true; }
  void uncork() {
    state_->corked = false;
    flush(state_);
  }
  // Bytes gathered or in flight, not yet taken by the kernel.
  size_t backlog() const { return state_->filling.size() + state_->sending.size(); }
  bool writing() const { return state_->writing; }

  template <typename MutableBuffers, typename ReadHandler>
  void async_read_some(const MutableBuffers& buffers, ReadHandler&& handler) {
    if (state_->tls) {
      state_->tls->async_read_some(buffers, std::forward<ReadHandler>(handler));
    } else {
      state_->next.socket().async_read_some(buffers, std::forward<ReadHandler>(handler));
    }
  }

  template <typename ConstBuffers, typename WriteHandler>
  auto async_write_some(const ConstBuffers& buffers, WriteHandler&& handler) {
    return boost::asio::async_initiate<WriteHandler, void(boost::beast::error_code, size_t)>(
        [this](auto h, const ConstBuffers& b) { start_write(std::move(h), b); }, handler, buffers);
  }

  // Beast's teardown (after a close frame went out or came in): what is gathered goes out
  // first, so the close frame is not lost to a shutdown that overtakes it.
  template <typename Handler>
  void async_drain(Handler&& handler) {
    auto keep = std::make_shared<std::decay_t<Handler>>(std::forward<Handler>(handler));
    state_->corked = false;
    if (!state_->writing && state_->filling.empty()) {
      boost::asio::post(get_executor(), [keep] { (*keep)(); });
      return;
    }
    state_->drained = [keep] { (*keep)(); };
    flush(state_);
  }

 private:
  struct State {
    template <typename... Args>
    explicit State(Args&&... args) : next(std::forward<Args>(args)...) {}
    next_layer_type next;
    std::shared_ptr<boost::asio::ssl::context> context;  // wss:// only, before tls
    std::optional<Tls> tls;                              // on next's socket
    bool gone = false;                                   // the CoalescingStream is
    std::vector<uint8_t> filling, sending;
    bool corked = false, writing = false;
    boost::beast::error_code failed;
    std::function<void(bool)> on_write;
    std::function<void()> drained;  // teardown waits for the last write
  };

  template <typename Handler, typename ConstBuffers>
  void start_write(Handler h, const ConstBuffers& b) {
    namespace net = boost::asio;
    State& s = *state_;
    boost::beast::error_code ec = s.failed;
    size_t n = net::buffer_size(b);
    if (!ec && s.filling.size() + s.sending.size() + n > kHardBytes) {
      ec = net::error::no_buffer_space;
    }
    if (ec) {
      n = 0;
    } else if (n > 0) {
      const size_t at = s.filling.size();
      s.filling.resize(at + n);  // within the reserve in steady state
      net::buffer_copy(net::buffer(s.filling.data() + at, n), b);
      if (!s.corked) flush(state_);
    }
    net::post(get_executor(), boost::beast::bind_front_handler(std::move(h), ec, n));
  }

  static void flush(const std::shared_ptr<State>& st) {
    State& s = *st;
    if (s.writing || s.filling.empty() || s.gone) return;
    if (s.failed) {
      s.filling.clear();
      if (auto d = std::exchange(s.drained, nullptr)) d();
      return;
    }
    s.sending.swap(s.filling);
    s.writing = true;
    if (s.on_write) s.on_write(true);
    auto done = [st](boost::beast::error_code ec, size_t) {
      State& s = *st;
      s.writing = false;
      s.sending.clear();
      if (ec) {
        s.failed = ec;
        s.filling.clear();
      }
      // First the owner (it may gather more and uncork), then what is left goes out.
      if (!s.gone && s.on_write) s.on_write(false);
      if (s.gone) return;
      if (!s.writing && (!s.corked || s.drained)) flush(st);
      if (!s.writing && s.filling.empty()) {
        if (auto d = std::exchange(s.drained, nullptr)) d();
      }
    };
    if (s.tls) {
      boost::asio::async_write(*s.tls, boost::asio::buffer(s.sending), std::move(done));
    } else {
      boost::asio::async_write(s.next.socket(), boost::asio::buffer(s.sending), std::move(done));
    }
  }

  std::shared_ptr<State> state_;
};

// Beast's teardown customization point (found by argument-dependent lookup). Over TLS: our
// close_notify, then the peer's (or its end of the connection), as Beast does for an
// ssl::stream; the connection's close timer bounds the wait (asp_conn_write.cpp).
template <typename TeardownHandler>
void async_teardown(boost::beast::role_type role, CoalescingStream& stream,
                    TeardownHandler&& handler) {
  stream.async_drain([role, &stream, h = std::forward<TeardownHandler>(handler)]() mutable {
    if (auto* tls = stream.tls()) {
      tls->async_shutdown([&stream, h = std::move(h)](boost::beast::error_code) mutable {
        boost::beast::error_code ec;
        stream.next_layer().socket().close(ec);
        h(ec);
      });
      return;
    }
    using boost::beast::websocket::async_teardown;
    async_teardown(role, stream.next_layer().socket(), std::move(h));
  });
}

// Synchronous (unused by the connections, which never block): the socket's own teardown.
inline void teardown(boost::beast::role_type role, CoalescingStream& stream,
                     boost::beast::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, stream.next_layer().socket(), ec);
}

}  // namespace atende::asp
