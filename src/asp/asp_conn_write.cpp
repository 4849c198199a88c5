// An ASP connection's outbound side (asp_conn.h): one message at a time through Beast, a
// wake's worth of them gathered into one socket write.
#include <spdlog/spdlog.h>

#include <bit>
#include <cstring>

#include "asp/asp_conn.h"

namespace atende::asp {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;

void AspFront::Conn::send_text(std::string text) {
  pending_text_.push_back(std::move(text));
  pump();
}

void AspFront::Conn::close_with(uint16_t code, std::string reason) {
  close_code_ = code;
  close_reason_ = std::move(reason);
  closing_ = true;
  pump();
}

void AspFront::Conn::pump() {
  if (writing_ || closed_sent_) return;
  // A socket write still takes the last batch and enough is gathered behind it: wait for it
  // (its end pumps again). The leg's slots fill meanwhile, and so it sees a peer that
  // stopped reading.
  if (stream().backlog() >= CoalescingStream::kSoftBytes) return stream().uncork();
  stream().cork();
  if (!write_next()) stream().uncork();  // the batch is complete: one socket write
}

bool AspFront::Conn::write_next() {
  if (!pending_text_.empty()) {
    text_ = std::move(pending_text_.front());
    pending_text_.erase(pending_text_.begin());
    write(true);
    return true;
  }
  if (channel_ && !closing_) {
    OutSlot slot;
    if (channel_->pop_out(slot)) {
      if (slot.kind == OutKind::kAudio) {
        binary_.resize(size_t(slot.samples) * 2);
        if constexpr (std::endian::native == std::endian::little) {  // as on the wire
          std::memcpy(binary_.data(), slot.pcm.data(), binary_.size());
        } else {
          for (size_t i = 0; i < slot.samples; ++i) {
            binary_[2 * i] = static_cast<uint8_t>(uint16_t(slot.pcm[i]) & 0xff);
            binary_[2 * i + 1] = static_cast<uint8_t>(uint16_t(slot.pcm[i]) >> 8);
          }
        }
        write(false);
        return true;
      }
      text_ = slot_text(slot);
      write(true);
      return true;
    }
    std::string reason, detail;
    SessionStats stats;
    bool abort = false;
    if (channel_->local_end(&reason, &detail, &stats, &abort)) {
      if (abort) {
        // The peer reads nothing: no close handshake can reach it.
        state_ = State::kDone;
        beast::error_code ignored;
        beast::get_lowest_layer(ws_).socket().close(ignored);
        return true;
      }
      state_ = State::kEnding;
      closing_ = true;
      close_code_ = reason == "shutdown" ? uint16_t(websocket::close_code::going_away)
                                         : uint16_t(websocket::close_code::normal);
      if (role_ == Role::kServer) {
        text_ = session_ended_json(session_id_, reason, detail, stats);
        write(true);
        return true;
      }
      // Client role: session.end, then the agent's session.ended (read on) or the timeout.
      text_ = session_end_json(reason == "local_hangup" ? "hangup" : reason);
      awaiting_ended_ = true;
      write(true);
      return true;
    }
  }
  if (closing_ && !closed_sent_ && !awaiting_ended_) {
    closed_sent_ = true;
    websocket::close_reason cr;
    cr.code = close_code_;
    cr.reason = close_reason_;
    // Our own bound on the close handshake, shorter than Beast's (5 s): a peer that never
    // answers our close frame is cut here. (Beast 1.74 asserts when its own timeout ends a
    // close while a read waits on it.)
    start_timer_.expires_after(std::chrono::seconds(2));
    start_timer_.async_wait([self = shared_from_this()](beast::error_code e) {
      if (e) return;
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    });
    stream().uncork();  // the close frame goes out as soon as it is written
    ws_.async_close(cr, [self = shared_from_this()](beast::error_code) {
      self->state_ = State::kDone;
      self->start_timer_.cancel();
    });
    return true;
  }
  return false;
}

std::string AspFront::Conn::slot_text(const OutSlot& s) const {
  switch (s.kind) {
    case OutKind::kResponseStart:
      return response_start_json(s.response_id);
    case OutKind::kResponseEnd:
      return response_end_json(s.response_id, s.interrupted);
    case OutKind::kAudioEnd:
      return audio_end_json();
    case OutKind::kBargeIn:
      return barge_in_json();
    case OutKind::kDtmf:
      return dtmf_json(s.digit);
    case OutKind::kTranscript:
      return transcript_json(s.digit == 'c' ? "caller" : "agent", slot_text_view(s));
    default:
      return "{}";
  }
}

void AspFront::Conn::write(bool text) {
  writing_ = true;
  ws_.text(text);
  auto done = [self = shared_from_this()](beast::error_code ec, size_t n) {
    self->writing_ = false;
    if (ec) return;  // the read side reports the end
    self->front_.metrics_.frames_out.inc();
    self->front_.metrics_.bytes_out.inc(n);
    if (self->awaiting_ended_ && self->text_.find("\"session.end\"") != std::string::npos) {
      // Give the agent 2 s to answer session.ended.
      self->start_timer_.expires_after(std::chrono::seconds(2));
      self->start_timer_.async_wait([self](beast::error_code e) {
        if (e) return;
        self->awaiting_ended_ = false;
        self->pump();
      });
    }
    self->pump();
  };
  if (text) {
    ws_.async_write(net::buffer(text_), done);
  } else {
    ws_.async_write(net::buffer(binary_), done);
  }
}

void AspFront::Conn::watch_channel() { channel_->attach(thread_.wakes(), weak_from_this()); }

void AspFront::Conn::on_wake() {
  if (!channel_ || state_ == State::kDone) return;
  channel_->clear_woken();
  pump();
}

}  // namespace atende::asp
