// Speculative end of turn (issue 13 item 2): the agent's answer, started before the turn is
// known to be over.
//
// When the caller pauses for `short_pause` (200 ms, turn::Endpointer) the agent starts
// recognising what was said so far and, once it has the words, asks the LLM and synthesises
// the first sentences, all without playing anything. Two things can follow:
//   - the caller goes on (speech_resumed): everything is cancelled (the chat and speech
//     requests are closed, so the provider stops working) and counted as wasted;
//   - the turn ends: the work is adopted as the turn's answer, which is then already on
//     its way (often already synthesised).
// The transcript also tells the endpointer how long to wait: "What time do you open?"
// ends the turn sooner, "I'd like a table for..." waits longer (turn/turn_text.h).
//
// What the LLM asks for that cannot be undone (tool calls: end the call, transfer, send
// keys, HTTP tools) and its final result wait in the held Dialogue until the turn is
// confirmed; its text is split and synthesised at once by the held AnswerVoice (speech that
// is never played costs nothing but the request).
#pragma once
#include <optional>
#include <vector>

#include "core/clock.h"
#include "llm/chat_client.h"
#include "speech/recognizer.h"

namespace atende::agent {

struct Speculation {
  bool active = false;  // work for the utterance in progress is running ahead of its end
  MonoTime started{};
  bool recognition_sent = false;             // a one-shot request; false: from streamed partials
  std::optional<speech::Recognition> heard;  // the transcript, once back
  MonoTime heard_at{};
  bool asked = false;  // the chat completion was sent
  MonoTime asked_at{};
  std::optional<MonoTime> first_token_at;
  int voice_requests_before = 0;  // AnswerVoice::requests() when it began
};

// How one speculation ended, for /metrics: adopted as the answer (`used`) or dropped
// because the caller went on; and which requests it had sent.
struct SpeculationReport {
  bool used = false;
  bool recognition = false;  // always sent; false only if the engine refused at once
  bool chat = false;
  int speech = 0;
};

}  // namespace atende::agent
