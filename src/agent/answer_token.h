// The cancellation token of one answer. Everything the agent starts for an answer
// (recognition, the chat completion, HTTP tools, synthesis) runs on other threads and
// reports back through callbacks made by bind(): such a callback posts its work to the
// leg's media thread through the host, unless the token was cancelled by then, and the
// work is dropped again if the token was cancelled while it waited in the queue.
//
// One token per answer: the agent cancels it and takes a new one when the answer is over
// for good (the next turn, a barge-in, a failed turn, the call ending) and when it is
// destroyed. So a late result from an old answer never reaches the new one, and nothing
// reaches an agent that is gone (nor its host: the host pointer is cleared under the mutex
// the posting callback holds).
//
// Threads: cancel() and the posted work on the media thread; bind()'s callbacks on any
// thread. Copies share one state.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>

#include "flow/flow_host.h"

namespace atende::agent {

class AnswerToken {
 public:
  explicit AnswerToken(flow::FlowHost& host) : state_(std::make_shared<State>()) {
    state_->host = &host;
  }

  // Idempotent. After it returns no callback of this token posts, and what was posted
  // does not run.
  void cancel() {
    std::lock_guard lock(state_->mu);
    state_->cancelled.store(true, std::memory_order_relaxed);
    state_->host = nullptr;
  }
  bool cancelled() const { return state_->cancelled.load(std::memory_order_relaxed); }

  // A callback for another thread: `fn(arg)` runs on the media thread unless cancelled.
  // `fn` may capture the agent: it never runs once the agent cancelled this token.
  template <class Arg, class Fn>
  std::function<void(Arg)> bind(Fn fn) const {
    return [state = state_, fn = std::move(fn)](Arg arg) mutable {
      std::lock_guard lock(state->mu);
      if (!state->host) return;
      state->host->post([state, fn, arg = std::move(arg)]() mutable {
        // Cancelled only on this thread, so this read sees the latest.
        if (!state->cancelled.load(std::memory_order_relaxed)) fn(std::move(arg));
      });
    };
  }

 private:
  struct State {
    std::mutex mu;
    flow::FlowHost* host = nullptr;  // guarded by mu; cleared by cancel()
    std::atomic<bool> cancelled{false};
  };
  std::shared_ptr<State> state_;
};

}  // namespace atende::agent
