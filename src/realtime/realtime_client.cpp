#include "realtime/realtime_client.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <optional>
#include <vector>

#include "audio/resampler.h"
#include "net/ws_connection.h"

namespace atende::realtime {

namespace asio = boost::asio;

std::string parse_endpoint(std::string_view url, Endpoint& out) {
  return net::parse_ws_url(url, out);
}

namespace {

constexpr auto kTick = std::chrono::milliseconds(20);
constexpr size_t kMaxQueuedWrites = 64;             // ~1.3 s of appends: the server stopped reading
constexpr int kSendEveryMs = 40;                    // caller audio batched per append
constexpr size_t kResampleChunk = 4800;             // 200 ms at 24 kHz per resampler call
constexpr size_t kSentHistory = kRealtimeRate * 2;  // the caller's last 2 s, as appended

// What a bridge's wake-up posts to: the I/O context while it lives. RealtimeIo's destructor
// clears it first, so a media thread that queues a command late never posts to a context
// being destroyed.
struct IoHandle {
  std::mutex mu;
  asio::io_context* ioc = nullptr;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(asio::io_context& ioc, std::shared_ptr<IoHandle> handle, SessionOptions options,
          std::shared_ptr<Bridge> bridge)
      : ioc_(ioc),
        handle_(std::move(handle)),
        options_(std::move(options)),
        bridge_(std::move(bridge)),
        tick_(ioc),
        up_(bridge_->rate(), kRealtimeRate),
        down_(kRealtimeRate, bridge_->rate()),
        caller_(static_cast<size_t>(bridge_->rate()) * Bridge::kCallerRingMs / 1000),
        caller24_(up_.max_output(caller_.size())),
        sent_(kSentHistory),
        answer_(down_.max_output(kResampleChunk)) {}

  void start() {
    net::WsOptions o;
    o.url = options_.endpoint;
    o.max_message_bytes = kMaxEventBytes;
    o.max_queued_writes = kMaxQueuedWrites;
    if (!options_.api_key.empty())
      o.headers.emplace_back("Authorization", "Bearer " + options_.api_key);
    o.ca_file = options_.ca_file;
    // The connection's handlers hold the session weakly: the session owns the connection,
    // and a strong reference back would be a cycle. The tick loop keeps the session alive
    // until the connection has ended (ended() stops it).
    net::WsHandlers h;
    h.on_open = [w = weak_from_this()] {
      if (auto self = w.lock()) {
        self->open_ = true;
        self->send(session_update(self->options_.config));
      }
    };
    h.on_text = [w = weak_from_this()](std::string_view text) {
      if (auto self = w.lock()) self->on_text(text);
    };
    h.on_end = [w = weak_from_this()](const std::string& why, bool by_us) {
      if (auto self = w.lock()) self->ended(why, by_us);
    };
    ws_ = net::WsConnection::create(ioc_, std::move(o), std::move(h));
    ws_->start();
    schedule_tick();
    // A command is sent at once, not at the next tick (~10 ms less per turn on average).
    bridge_->set_wake([handle = std::weak_ptr<IoHandle>(handle_), w = weak_from_this()] {
      auto h = handle.lock();
      if (!h) return;
      std::lock_guard lock(h->mu);
      if (!h->ioc) return;
      asio::post(*h->ioc, [w] {
        if (auto self = w.lock(); self && !self->ended_) self->on_tick();
      });
    });
  }

  ~Session() { bridge_->set_wake({}); }

 private:
  void on_text(std::string_view text) {
    std::string why;
    auto ev = parse_server_event(text, &why);
    if (!ev) {
      // A malformed event is the server's bug; ignoring it keeps the call going.
      if (++bad_events_ <= 5) spdlog::warn("realtime: ignored an event ({})", why);
      return;
    }
    switch (ev->type) {
      case EventType::kAudioDelta:
        return on_audio(*ev);
      case EventType::kOther:
        return;
      default:
        break;
    }
    if (!bridge_->push_event(EngineEvent{false, 0, std::move(*ev)})) end("event queue full");
  }

  void on_audio(const ServerEvent& ev) {
    if (bridge_->is_dropped(ev.response_id)) return;
    if (ev.item_id != audio_item_) {
      audio_item_ = ev.item_id;
      down_.reset();
      EngineEvent start{true, bridge_->answer_pushed(), {}};
      start.event.item_id = ev.item_id;
      start.event.response_id = ev.response_id;
      if (!bridge_->push_event(std::move(start))) return end("event queue full");
    }
    std::span<const int16_t> in(ev.pcm);
    while (!in.empty()) {
      const auto r = down_.process(in.first(std::min(in.size(), kResampleChunk)), answer_);
      if (r.written) bridge_->push_answer(ev.response_id, answer_.data(), r.written);
      if (r.consumed == 0) break;
      in = in.subspan(r.consumed);
    }
  }

  void schedule_tick() {
    tick_.expires_after(kTick);
    tick_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->ended_) return;
      self->on_tick();
      if (!self->ended_) self->schedule_tick();
    });
  }

  void on_tick() {
    if (bridge_->closed()) return end("closed by us", true);
    if (!open_) return;
    // Caller audio: whatever the media thread queued, resampled and sent in batches.
    const size_t n =
        bridge_->pop_caller(caller_.data() + caller_size_, caller_.size() - caller_size_);
    caller_size_ += n;
    if (caller_size_ * 1000 >= static_cast<size_t>(bridge_->rate()) * kSendEveryMs) {
      append_caller(true);
    }
    Command c;
    while (bridge_->pop_command(c)) {
      switch (c.kind) {
        case Command::Kind::kCommit:
          // What the caller said until now is the turn: send it all first.
          append_caller(true);
          send(input_audio_commit());
          send(response_create());
          break;
        case Command::Kind::kRestartInput: {
          // What came before this utterance (silence, our answer's echo, a backchannel
          // that was no turn) is no part of it: the buffer starts again with its audio.
          append_caller(false);
          const size_t keep = std::min(
              sent_size_, static_cast<size_t>(std::max(c.audio_end_ms, 0)) * kRealtimeRate / 1000);
          send(input_audio_clear());
          if (keep) {
            std::vector<int16_t> tail(keep);
            const size_t from = (sent_head_ + sent_size_ - keep) % sent_.size();
            for (size_t i = 0; i < keep; ++i) tail[i] = sent_[(from + i) % sent_.size()];
            send(input_audio_append(tail));
          }
          break;
        }
        case Command::Kind::kCancel:
          send(response_cancel());
          break;
        case Command::Kind::kTruncate:
          send(item_truncate(c.id, c.audio_end_ms));
          break;
        case Command::Kind::kRespond:
          send(response_create(c.output));
          break;
        case Command::Kind::kToolOutput:
          send(function_call_output(c.id, c.output));
          break;
        case Command::Kind::kDeleteItem:
          send(item_delete(c.id));
          break;
      }
    }
  }

  // The caller's queued audio, resampled to 24 kHz, into the history of what was appended,
  // and sent as one append if `now` (else it waits for the next: kRestartInput resends it).
  void append_caller(bool now) {
    if (!caller_size_) return;
    const auto r = up_.process({caller_.data(), caller_size_}, caller24_);
    caller_size_ = 0;
    if (!r.written) return;
    for (size_t i = 0; i < r.written; ++i) {  // a ring: the oldest goes
      sent_[(sent_head_ + sent_size_) % sent_.size()] = caller24_[i];
      if (sent_size_ < sent_.size()) {
        ++sent_size_;
      } else {
        sent_head_ = (sent_head_ + 1) % sent_.size();
      }
    }
    if (now) send(input_audio_append({caller24_.data(), r.written}));
  }

  void send(std::string text) { ws_->send_text(std::move(text)); }

  void end(std::string why, bool by_us = false) {
    if (by_us) {
      ws_->close(std::move(why));
    } else {
      ws_->fail(std::move(why));
    }
  }

  // The connection's end, whoever caused it.
  void ended(const std::string& why, bool by_us) {
    if (ended_) return;
    ended_ = true;
    open_ = false;
    if (!by_us) spdlog::info("realtime: session ended: {}", why);
    bridge_->set_ended(why);
    bridge_->set_wake({});
    tick_.cancel();
  }

  asio::io_context& ioc_;
  std::shared_ptr<IoHandle> handle_;
  SessionOptions options_;
  std::shared_ptr<Bridge> bridge_;
  std::shared_ptr<net::WsConnection> ws_;
  asio::steady_timer tick_;
  bool open_ = false;
  bool ended_ = false;
  int bad_events_ = 0;
  audio::Resampler up_;          // leg rate -> 24 kHz
  audio::Resampler down_;        // 24 kHz -> leg rate
  std::vector<int16_t> caller_;  // leg-rate samples waiting for the next append
  size_t caller_size_ = 0;
  std::vector<int16_t> caller24_;
  std::vector<int16_t> sent_;  // ring: the caller's last kSentHistory samples at 24 kHz
  size_t sent_head_ = 0, sent_size_ = 0;
  std::vector<int16_t> answer_;
  std::string audio_item_;
};

}  // namespace

struct RealtimeIo::Impl {
  asio::io_context ioc{1};
  std::shared_ptr<IoHandle> handle = std::make_shared<IoHandle>();
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
};

RealtimeIo::RealtimeIo() : impl_(std::make_unique<Impl>()) {
  impl_->handle->ioc = &impl_->ioc;
  impl_->work.emplace(asio::make_work_guard(impl_->ioc));
  impl_->thread = std::thread([this] {
    for (;;) {
      try {
        impl_->ioc.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("realtime: unexpected exception on the I/O thread: {}", e.what());
      }
    }
  });
}

RealtimeIo::~RealtimeIo() {
  {
    std::lock_guard lock(impl_->handle->mu);
    impl_->handle->ioc = nullptr;  // no more wake-ups posted from media threads
  }
  impl_->work.reset();
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void RealtimeIo::open(SessionOptions options, std::shared_ptr<Bridge> bridge) {
  asio::post(
      impl_->ioc, [this, options = std::move(options), bridge = std::move(bridge)]() mutable {
        try {
          std::make_shared<Session>(impl_->ioc, impl_->handle, std::move(options), bridge)->start();
        } catch (const std::exception& e) {
          bridge->set_ended(std::string("cannot start: ") + e.what());
        }
      });
}

}  // namespace atende::realtime
