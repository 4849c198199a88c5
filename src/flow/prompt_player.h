// Plays a short sequence of phrases on the leg, in order ("Sorry, I did not hear you" then
// the menu again). Cached phrases are queued at once; a phrase that is not cached is
// synthesised on a speech worker and queued when it arrives (posted back to the media
// thread), keeping the order. A sequence may also hold ready clips (a recording the caller
// made, "{visitor_name:audio}"): they are queued in their place. stop() is the barge-in: it flushes
// the leg and makes any synthesis still in flight land nowhere.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "flow/flow_host.h"

namespace atende::flow {

// One piece of a spoken sequence: a text to synthesise, or a ready clip (then `text` is
// only its label).
struct PromptPiece {
  std::string text;
  ClipPtr clip;
};

class PromptPlayer {
 public:
  // An apology, then a prompt of text, clip, text, clip, text...; more are dropped.
  static constexpr size_t kMaxQueued = 8;

  PromptPlayer(FlowHost& host, speech::Voice voice);
  ~PromptPlayer();
  PromptPlayer(const PromptPlayer&) = delete;
  PromptPlayer& operator=(const PromptPlayer&) = delete;

  // Replace whatever is playing with these texts (empty texts are skipped).
  void play(std::initializer_list<std::string_view> texts);
  // The same with `apology` first, then `pieces` (texts and clips) in order.
  void play(std::string_view apology, const std::vector<PromptPiece>& pieces);
  // Barge-in / leaving a step: flush the leg, drop queued and in-flight phrases.
  void stop();
  // The call is gone: drop everything without touching the leg.
  void abandon();
  // Forwarded from LegListener::on_playout_idle.
  void on_playout_idle();
  // True once, after the whole sequence has been heard (or failed to synthesise).
  bool take_finished();
  bool active() const { return active_; }

 private:
  void pump();
  void on_fetched(uint64_t generation, ClipPtr clip);

  FlowHost& host_;
  speech::Voice voice_;
  void add(std::string_view text, ClipPtr clip);

  std::array<PromptPiece, kMaxQueued> texts_;
  size_t count_ = 0;
  size_t next_ = 0;
  bool fetching_ = false;
  bool clips_queued_ = false;  // clips handed to the leg and not yet reported played
  bool active_ = false;
  bool finished_ = false;
  uint64_t generation_ = 0;  // bumped by stop(): results of older fetches are ignored
  // Expires with this player, so a fetch finishing after the call ended touches nothing.
  std::shared_ptr<PromptPlayer*> self_;
  // What a speech worker may use to post a result back. The destructor clears `host` under
  // the lock, so a worker finishing late never reaches a host that may be going away.
  struct PostGate {
    std::recursive_mutex mutex;  // recursive: a source may call back on the caller thread
    FlowHost* host;
  };
  std::shared_ptr<PostGate> gate_;
};

}  // namespace atende::flow
