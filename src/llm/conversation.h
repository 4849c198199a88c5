// The history sent to the model on every turn, kept bounded, and corrected after a
// barge-in so the model remembers only what the caller actually heard.
//
//   Conversation conv(Message::system(prompt));
//   conv.add(Message::user("I'd like a table for two"));
//   conv.add(Message::assistant(full_answer));
//   // caller interrupted after 40 % of the answer's audio:
//   conv.truncate_last_assistant(heard_prefix(full_answer, 0.4));
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "llm/chat_types.h"

namespace atende::llm {

struct ConversationLimits {
  size_t max_messages = 60;      // beyond this the oldest turns (never the system) go
  size_t max_chars = 48 * 1024;  // total content bytes, same policy
};

class Conversation {
 public:
  explicit Conversation(Message system = {Role::System, {}, {}, {}},
                        ConversationLimits limits = {});

  // Appends and then drops the oldest turns while over the limits. A tool result whose
  // assistant call was dropped goes with it (OpenAI rejects an orphan tool message).
  void add(Message message);

  // After a barge-in: the last assistant message keeps only `heard` (a prefix of what it
  // said, as returned by heard_prefix()) plus an ellipsis marking the interruption. If
  // nothing was heard and it called no tools, the message is removed. False if the last
  // message is not an assistant message.
  bool truncate_last_assistant(std::string_view heard);

  const Message& system() const { return messages_.front(); }
  void set_system(std::string text) { messages_.front().content = std::move(text); }
  // System message first, then the turns in order.
  const std::vector<Message>& messages() const { return messages_; }
  size_t chars() const;

 private:
  void enforce_limits();

  ConversationLimits limits_;
  std::vector<Message> messages_;
};

// The part of `text` the caller heard when `fraction` (0..1) of its audio was played:
// cut at a word boundary, never inside a UTF-8 sequence. Speech is close enough to
// uniform in characters per second for this to be right within a word or two.
std::string heard_prefix(std::string_view text, double fraction);

}  // namespace atende::llm
