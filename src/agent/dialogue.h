// The agent's dialogue: the processor between the recogniser and the voice.
//
//   transcript --> Dialogue --sentences--> AnswerVoice
//                     |
//                     +--> DialogueEvents (first text, a sentence, a built-in tool to act on,
//                          HTTP tools running, the answer complete or failed)
//
// It owns the conversation history and one answer at a time: the chat completion (its text
// deltas split into sentences as they stream), the model's tool calls and the HTTP tool
// rounds (results into the history, the model asked again, at most max_tool_rounds per
// turn). It decides what goes into the history: a broken-off stream's unfinished sentence
// is not kept, every tool call gets its answer (or the next request is refused), and after
// a barge-in only what the caller heard stays.
//
// A held dialogue (a speculative answer, agent/speculation.h) streams its sentences (the
// voice holds them) but keeps the model's tool calls and its end until released: nothing
// that acts on the call happens before the turn is confirmed.
//
// Threads: every method on the leg's media thread, never blocking. Work on other threads
// (the completion, HTTP tools) comes back through the dialogue's own cancellation token,
// renewed by cancel().
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "agent/agent_settings.h"
#include "agent/answer_token.h"
#include "core/clock.h"
#include "flow/flow_host.h"
#include "llm/chat_client.h"
#include "llm/conversation.h"
#include "llm/sentence_splitter.h"
#include "llm/tools.h"

namespace atende::agent {

// How an answer ended, once the model is done and no tool round follows.
struct AnswerEnd {
  bool ok = true;         // the completion ended normally
  std::string error;      // "llm: ..." when it did not (what was said so far stays)
  bool said_any = false;  // the model said something (text) this round
};

class DialogueEvents {
 public:
  virtual ~DialogueEvents() = default;
  // A completion was sent (`speculative`: for words not in the history yet).
  virtual void on_asked(bool speculative, MonoTime now) = 0;
  // A delta of the completion arrived (after its sentences, if it completed any); the first
  // one is its first token. `text`: text, not a tool call.
  virtual void on_model_output(bool text, MonoTime now) = 0;
  // A whole sentence of the answer, in order, to be said.
  virtual void on_sentence(std::string text, int round, MonoTime now) = 0;
  // end_call, transfer_to_human or send_dtmf: the call acts on it.
  virtual void on_builtin_tool(const llm::ToolCall& call, MonoTime now) = 0;
  // HTTP tools are running; `said_any`: the model said something before calling them.
  virtual void on_tools_running(bool said_any, MonoTime now) = 0;
  // The answer is complete (it may still be playing).
  virtual void on_answer_end(const AnswerEnd& end, MonoTime now) = 0;
  // The answer failed with nothing to say: the turn failed.
  virtual void on_answer_failed(std::string error, MonoTime now) = 0;
  // True while the call ends after this answer (end_call): HTTP tools are not run then.
  virtual bool call_ending() const = 0;
};

class Dialogue {
 public:
  // `settings`, `chat` and `tools` (may be null: HTTP tools answer an error) outlive it.
  Dialogue(flow::FlowHost& host, const AgentSettings& settings, llm::ChatClient* chat,
           llm::HttpToolRunner* tools, std::function<MonoTime()> clock, DialogueEvents& events);
  ~Dialogue();
  Dialogue(const Dialogue&) = delete;
  Dialogue& operator=(const Dialogue&) = delete;

  llm::Conversation& conversation() { return conversation_; }
  const llm::Conversation& conversation() const { return conversation_; }

  // A caller's turn begins: its tool rounds count from zero.
  void new_turn();
  // Asks the model for an answer to the history; `speculative_user`: the caller's words
  // that are not in the history yet (a speculation's).
  void ask(MonoTime now, const std::string* speculative_user = nullptr);
  // Held: tool calls and the completion's end wait. Released: they are acted on now, in
  // the order they came.
  void hold(bool held);
  // Drops the answer in flight (its completion is closed, so the provider stops too).
  void cancel();
  // A barge-in: the answer stops; the history keeps `heard_now` of this round's answer
  // and every outstanding tool call gets an answer.
  void interrupt(const std::string& heard_now);

  // An answer (completion or tool round) is in progress.
  bool busy() const { return !chat_done_ || tools_pending_ > 0; }
  bool got_output() const { return got_output_; }
  int round() const { return tool_rounds_; }

 private:
  void on_delta(std::string delta);
  void on_tool(llm::ToolCall call);
  void on_chat_done(llm::ChatResult result);
  const llm::HttpTool* http_tool(const std::string& name) const;
  void run_tools(MonoTime now);
  void on_tool_result(size_t index, llm::ToolResult result);
  void add_tool_messages(const std::string& missing);
  MonoTime now() const;
  template <class Arg, class Fn>
  std::function<void(Arg)> back_on_media(Fn fn);

  flow::FlowHost& host_;
  const AgentSettings& settings_;
  llm::ChatClient* chat_;
  llm::HttpToolRunner* tools_;
  std::function<MonoTime()> clock_;
  DialogueEvents& events_;
  AnswerToken token_;
  llm::Conversation conversation_;
  llm::SentenceSplitter splitter_;

  llm::ChatCallPtr chat_call_;
  bool chat_done_ = true;
  bool got_output_ = false;  // of the completion in flight
  std::string answer_;       // text received this round
  std::vector<llm::ToolCall> tool_calls_;
  // HTTP tools of this round: results in call order (empty: still running), how many are
  // still running, and rounds done this turn.
  std::vector<std::optional<std::string>> tool_results_;
  int tools_pending_ = 0;
  int tool_rounds_ = 0;
  // While held: what waits for the release.
  bool held_ = false;
  std::vector<llm::ToolCall> held_tools_;
  std::optional<llm::ChatResult> held_done_;
};

}  // namespace atende::agent
