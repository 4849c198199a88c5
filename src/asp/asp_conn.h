// One ASP WebSocket (docs/asp.md), either role, on one of the front's I/O threads for its
// whole life (its handlers keep it alive). asp_conn.cpp: handshakes, what comes in, the
// protocol's state machine and its errors; asp_conn_write.cpp: what goes out (our texts, the
// leg's slots, the last message and the close), gathered per wake into one socket write
// (coalescing_stream.h).
#pragma once
// clang-format off
#include <utility>  // first: Boost 1.74's asio/awaitable.hpp uses std::exchange unincluded
// clang-format on
#include <array>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "asp/asp_front.h"
#include "asp/coalescing_stream.h"
#include "asp/io_threads.h"
#include "asp/ws_target.h"

namespace atende::asp {

class AspFront::Conn : public Wakeable, public std::enable_shared_from_this<AspFront::Conn> {
 public:
  using Socket = boost::asio::ip::tcp::socket;
  using Clock = std::chrono::steady_clock;

  Conn(AspFront& front, IoThread& thread, Socket socket, Role role);
  ~Conn() override;

  // ---- server role ----
  // `subprotocol`: the client offered "atende-asp" (a browser): the reply must name it.
  void accept(boost::beast::http::request<boost::beast::http::empty_body> req, std::string user,
              bool subprotocol);

  // ---- client role ----
  // `tls`: the context for a wss:// target (verification set up, net/tls_client.h); when
  // null for one, the dial fails with `tls_error`.
  void dial(sessions::DialOrder order, Target target,
            std::shared_ptr<boost::asio::ssl::context> tls = nullptr, std::string tls_error = {});
  // Our side hangs up before the session is up (run on the I/O thread).
  void cancel();
  // The front stops: a session not yet up ends now (a live one is ended by its leg).
  void shutdown();

  // Wakeable: the leg queued messages for us.
  void on_wake() override;

  void set_remote(std::string r) { remote_ = std::move(r); }

 private:
  enum class State {
    kAccepting,
    kAwaitStart,
    kConnecting,
    kAwaitCapabilities,
    kAwaitStarted,
    kActive,
    kEnding,
    kDone
  };

  // Socket writes start and end (the channel's view of a stuck peer; more to write).
  void watch_writes();
  void tune();
  // Client role, after the TCP connect: TLS (wss://, within `deadline`), then the upgrade.
  void tls_handshake(Clock::time_point deadline);
  void ws_handshake();
  void read();
  void on_read(boost::beast::error_code ec, size_t n);
  void on_socket_end(const boost::beast::error_code& ec);
  void on_binary(std::string_view bytes);
  void on_text(std::string_view text);
  // ---- server role: messages from the media server ----
  void on_server_message(const Message& m);
  void start_session(const Message& m);
  // ---- client role: messages from the agent ----
  void on_client_message(const Message& m);
  void answered();
  void dial_failed(const std::string& why, const char* outcome = "failed");
  // The protocol's error, then its close code. A live session ends with the error's name.
  void fail(Error e, const std::string& detail);

  // ---- writing (asp_conn_write.cpp) ----
  void send_text(std::string text);
  void close_with(uint16_t code, std::string reason);
  // Writes everything there is, in one batch: our own texts first, then the leg's slots,
  // then the last message and the close.
  void pump();
  // Starts the next message's write; false when there is none.
  bool write_next();
  std::string slot_text(const OutSlot& s) const;
  void write(bool text);
  // The leg's slots: this connection is listed on the thread's wake queue.
  void watch_channel();
  CoalescingStream& stream() { return ws_.next_layer(); }

  AspFront& front_;
  IoThread& thread_;
  boost::beast::websocket::stream<CoalescingStream> ws_;
  Role role_;
  boost::asio::steady_timer start_timer_;
  State state_ = State::kAccepting;
  boost::beast::flat_buffer rbuf_;
  std::shared_ptr<Channel> channel_;
  std::string session_id_, remote_, user_;
  bool claimed_ = false;
  bool tls_handshaking_ = false;  // the deadline's timer cuts only the TLS handshake
  sessions::DialOrder order_;
  Target target_;
  // Writing: one message at a time (Beast's rule); a batch of them per socket write.
  bool writing_ = false, closing_ = false, closed_sent_ = false, awaiting_ended_ = false;
  uint16_t close_code_ = 1000;
  std::string close_reason_;
  std::vector<std::string> pending_text_;
  std::string text_;
  std::vector<uint8_t> binary_;
  std::array<int16_t, kMaxBinaryBytes / 2> samples_{};
  int64_t credit_ = 0;
  Clock::time_point credit_at_{};
};

}  // namespace atende::asp
