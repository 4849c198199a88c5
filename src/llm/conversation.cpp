#include "llm/conversation.h"

#include <algorithm>
#include <cmath>

namespace atende::llm {

Conversation::Conversation(Message system, ConversationLimits limits) : limits_(limits) {
  system.role = Role::System;
  messages_.push_back(std::move(system));
  limits_.max_messages = std::max<size_t>(limits_.max_messages, 2);
}

size_t Conversation::chars() const {
  size_t n = 0;
  for (const auto& m : messages_) {
    n += m.content.size();
    for (const auto& c : m.tool_calls) n += c.arguments.size() + c.name.size();
  }
  return n;
}

void Conversation::add(Message message) {
  if (message.role == Role::System) {  // one system prompt: replace it
    messages_.front().content = std::move(message.content);
    return;
  }
  messages_.push_back(std::move(message));
  enforce_limits();
}

void Conversation::enforce_limits() {
  // Keep at least the newest message, even if it alone is over max_chars.
  while (messages_.size() > 2 &&
         (messages_.size() > limits_.max_messages || chars() > limits_.max_chars)) {
    messages_.erase(messages_.begin() + 1);
    while (messages_.size() > 2 && messages_[1].role == Role::Tool) {
      messages_.erase(messages_.begin() + 1);
    }
  }
}

bool Conversation::truncate_last_assistant(std::string_view heard) {
  if (messages_.size() < 2 || messages_.back().role != Role::Assistant) return false;
  Message& last = messages_.back();
  std::string_view kept = heard.substr(0, std::min(heard.size(), last.content.size()));
  while (!kept.empty() && (kept.back() == ' ' || kept.back() == '\n')) kept.remove_suffix(1);
  if (kept.empty() && last.tool_calls.empty()) {
    messages_.pop_back();
    return true;
  }
  if (kept.size() < last.content.size()) {
    std::string cut(kept);
    if (!cut.empty()) cut += "\xE2\x80\xA6";  // "…": the model sees it was cut off
    last.content = std::move(cut);
  }
  return true;
}

std::string heard_prefix(std::string_view text, double fraction) {
  if (!(fraction > 0)) return {};
  if (fraction >= 1) return std::string(text);
  size_t n = static_cast<size_t>(std::floor(fraction * static_cast<double>(text.size())));
  if (n >= text.size()) return std::string(text);
  // A word counts as heard only once it is complete: back off to the previous space
  // unless we stopped exactly at one.
  if (text[n] != ' ' && text[n] != '\n') {
    const size_t space = text.find_last_of(" \n", n);
    n = space == std::string_view::npos ? 0 : space;
  }
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;  // UTF-8
  std::string_view kept = text.substr(0, n);
  while (!kept.empty() && (kept.back() == ' ' || kept.back() == '\n')) kept.remove_suffix(1);
  return std::string(kept);
}

}  // namespace atende::llm
