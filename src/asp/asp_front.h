// The ASP front-end (docs/asp.md): the Audio Session Protocol over WebSocket, both roles.
//
// Server role: a media server opens ws://HOST:PORT/asp on our HTTP listener (the HTTP
// server hands the upgraded socket over); after session.start the session is a call (one
// leg of kind "asp") that a flow or persona answers, recorded like a SIP call.
// Client role: a Dialer for "ws://HOST:PORT/PATH" (and "wss://", TLS verified against the
// system's CAs or asp_client_ca_file) targets: we are the media server, the dialled leg is
// bridged to a caller by the flow (`type: asp`, or dial + bridge).
//
// All WebSocket I/O (Boost.Beast) runs on this front's own I/O threads (io_threads.h), each
// connection on one of them; legs on media workers exchange fixed-size slots with it through
// a Channel (asp/channel.h).
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "api/http_types.h"
#include "asp/asp_leg.h"
#include "asp/asp_metrics.h"
#include "asp/io_threads.h"
#include "media/media_engine.h"
#include "sessions/dialer.h"
#include "sessions/session_manager.h"

namespace atende::asp {

struct AspOptions {
  int client_rate = 8000;          // client role: the rate we ask for in session.start
  int silence_threshold_ms = 500;  // client role: our VAD's end of speech
  int start_timeout_ms = 5000;     // server role: session.start must come within this
  std::string client_token;        // client role: "Authorization: Bearer" for remote agents
  std::string client_ca_file;      // client role, wss://: the CAs to trust (PEM); empty: system's
  size_t max_sessions = 512;       // open WebSockets, both roles
  int io_threads = 1;              // WebSocket I/O threads (asp_io_threads)
};

// "ws://HOST:PORT[/PATH]" or "wss://...": a target our client role dials.
bool is_asp_target(std::string_view to);

class AspFront final : public sessions::Dialer {
 public:
  AspFront(AspOptions options, media::MediaEngine& media, sessions::SessionManager& sessions,
           MetricsRegistry& registry);
  ~AspFront() override;

  // Also loads the CAs wss:// agents are checked against (once: not on an I/O thread).
  void start();
  // Ends every session (session.ended, close 1001) and stops the thread. Before media stops.
  void stop();

  // HTTP thread: an accepted upgrade of `request` to /asp; `fd` is ours from now on.
  void accept(const api::HttpRequest& request, int fd);

  bool owns(const std::string& leg_id) const;

  // sessions::Dialer: the client role.
  sessions::ControlResult<sessions::Done> check(const std::string& to,
                                                const std::string& trunk) const override;
  void dial(sessions::DialOrder order) override;
  void hang_up(const std::string& leg_id) override;
  void transfer(const std::string& leg_id, const std::string& to) override;
  std::string leg_kind(const std::string&) const override { return "asp"; }

  class Conn;  // one WebSocket (asp_conn.h)

 private:
  friend class Conn;
  std::shared_ptr<AspLeg> make_leg(const LegInfo& info, Role role, std::shared_ptr<Channel> channel,
                                   Executor* near, bool transcripts = false);
  // Server role: whether the id is taken, and take it (false when in use).
  bool claim(const std::string& id);
  void release(const std::string& id);

  AspOptions options_;
  media::MediaEngine& media_;
  sessions::SessionManager& sessions_;
  AspMetrics metrics_;
  std::unique_ptr<IoThreads> io_;
  std::atomic<bool> stopping_{false};

  mutable std::mutex mu_;
  std::unordered_set<std::string> ids_;                            // live session ids
  std::unordered_map<std::string, std::shared_ptr<AspLeg>> legs_;  // by call id
  struct Dialling {
    std::weak_ptr<Conn> conn;
    IoThread* thread = nullptr;  // where it runs
  };
  std::unordered_map<std::string, Dialling> dialling_;  // client role, before the answer
  size_t open_ = 0;                                     // WebSockets open
};

}  // namespace atende::asp
