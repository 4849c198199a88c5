// The AudioSocket front-end (docs/audiosocket.md): TCP listeners that Asterisk's
// AudioSocket() application / channel connect to, and the client role that connects a
// session's dialled leg to an AudioSocket server elsewhere ("audiosocket:HOST:PORT").
//
// One thread accepts connections, waits for each one's UUID message (bounded: at most
// kMaxPending connections, each for handshake_ms), decides what answers it (the API's
// UUID -> flow map, else the listener's default flow, else the dial plan as for a call to
// "audiosocket"), and hands the socket to an AudioSocketLeg on a media worker. The same
// thread completes our outgoing connections. From then on everything runs on the worker.
// The UUID is the call id; a second connection with a UUID that is live is refused.
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "audiosocket/audiosocket_leg.h"
#include "audiosocket/audiosocket_metrics.h"
#include "audiosocket/session_directory.h"
#include "core/config.h"
#include "media/media_engine.h"
#include "sessions/dialer.h"
#include "sessions/session_manager.h"

namespace atende::audiosocket {

struct AudioSocketOptions {
  std::vector<AudioSocketListenConfig> listeners;
  int leg_rate = 8000;      // what flows hear and play on these legs
  int handshake_ms = 5000;  // a connection's UUID must come within this
};

// "audiosocket:HOST:PORT" (or "audiosocket://HOST:PORT"): a target our client role dials.
bool is_audiosocket_target(std::string_view to);

class AudioSocketFront final : public sessions::Dialer {
 public:
  static constexpr size_t kMaxPending = 64;  // connections waiting for their UUID
  static constexpr size_t kMaxConnecting = 64;

  AudioSocketFront(AudioSocketOptions options, media::MediaEngine& media,
                   sessions::SessionManager& sessions, MetricsRegistry& registry);
  ~AudioSocketFront() override;

  // Binds every listener (throws std::runtime_error naming the address when one that was
  // configured cannot be bound; the built-in default is skipped with a warning) and starts
  // the thread.
  void start();
  // Stops accepting and hangs up every connection (on its worker). Before media stops.
  void stop();

  SessionDirectory& directory() { return directory_; }
  // Any thread: whether `leg_id` is one of our legs (the transport router asks).
  bool owns(const std::string& leg_id) const;
  // The addresses actually bound, "HOST:PORT" (for logs and tests).
  std::vector<std::string> bound() const;

  // sessions::Dialer: the client role.
  sessions::ControlResult<sessions::Done> check(const std::string& to,
                                                const std::string& trunk) const override;
  void dial(sessions::DialOrder order) override;
  void hang_up(const std::string& leg_id) override;
  void transfer(const std::string& leg_id, const std::string& to) override;
  std::string leg_kind(const std::string&) const override { return "audiosocket"; }

 private:
  struct Listener {
    int fd = -1;
    AudioSocketListenConfig config;
    std::string address;  // as bound
  };
  struct Pending;     // an accepted connection before its UUID
  struct Connecting;  // one of ours before the far end accepted
  void run();
  void accept_from(Listener& l);
  // False when the connection is done with (handed over or refused).
  bool read_pending(Pending& p);
  void refuse(Pending& p, ErrorCode code, const std::string& why);
  void open_inbound(Pending& p, const std::string& uuid);
  void finish_connect(Connecting& c, bool ok);
  // Makes the leg on a worker and wires its end; nullptr never (the fd is taken).
  std::shared_ptr<AudioSocketLeg> make_leg(const LegInfo& info, int fd, int peer_rate,
                                           Executor* near);
  void wake();

  AudioSocketOptions options_;
  media::MediaEngine& media_;
  sessions::SessionManager& sessions_;
  AudioSocketMetrics metrics_;
  SessionDirectory directory_;

  std::vector<Listener> listeners_;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::vector<std::unique_ptr<Pending>> pending_;  // the thread only

  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<AudioSocketLeg>> legs_;  // by call id (UUID)
  std::vector<std::unique_ptr<Connecting>> connect_queue_;                 // dial() -> the thread
  size_t connecting_ = 0;
};

}  // namespace atende::audiosocket
