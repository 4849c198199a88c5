// What an agent is (AgentSettings, from the persona) and what it talks through
// (AgentEngines, from the runtime): shared by the agent loop and its processors.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/agent_turn.h"
#include "agent/speculation.h"
#include "audio/vad.h"
#include "core/clock.h"
#include "llm/chat_client.h"
#include "llm/tools.h"
#include "speech/recognizer.h"
#include "speech/streaming_recognizer.h"
#include "speech/streaming_tts.h"
#include "speech/synthesizer.h"
#include "turn/endpointer.h"

namespace atende::agent {

struct AgentSettings {
  std::string name;             // persona name, for logs and the record
  std::string language = "en";  // for the recogniser: "en", "pt-br"
  speech::Voice voice;          // for TTS
  std::string system_prompt;
  std::string greeting;  // spoken first (and put in the history); "" for none
  std::optional<double> temperature;
  std::optional<int> max_tokens;
  std::vector<llm::ToolSpec> tools;       // offered to the model (builtins by name)
  std::vector<llm::HttpTool> http_tools;  // offered too; run by AgentEngines::tools

  // Phrases the agent says on its own. Empty: the language's default (agent_phrases.h).
  std::string fallback_text;        // the turn failed
  std::string reprompt_text;        // no input
  std::string goodbye_text;         // max turns / no input / session timeout
  std::string handoff_text;         // transfer_to_human
  std::string no_human_text;        // transfer_to_human: nobody answered
  std::string wait_text;            // an HTTP tool runs and the model said nothing yet
  std::string not_configured_text;  // no LLM configured

  Millis first_token_timeout{2000};  // chat request sent -> first token, else fallback
  Millis tts_stall_timeout{1500};    // a streamed sentence leaves the caller in silence
  int max_tool_rounds = 3;           // HTTP tool rounds (and second answers) per turn
  Millis no_input{8000};             // silence after our answer before a re-prompt
  int max_no_input = 2;              // re-prompts before saying goodbye
  int max_turns = 30;                // caller turns before saying goodbye
  Millis session_timeout{600000};    // whole call
  // transfer_to_human: where the person is (a number, extension or sip: URI; empty: the
  // hand-off is only said and recorded), and how: "bridge" (dial, say the hand-off, connect
  // and leave; nobody answers: say so and carry on) or "refer" (SIP REFER, blind).
  std::string human_to;
  std::string transfer_mode = "bridge";
  Millis human_ring_timeout{20000};

  turn::TurnConfig turn;  // sample_rate is set from the leg
  turn::BargeInConfig barge_in;
  // Start the answer at a short pause, before the turn is known to be over
  // (agent/speculation.h). Off: recognition starts at the end of the turn.
  bool speculative = true;
  // Barge-in by words: caller speech over an answer is recognised (at the barge-in
  // policy's min_speech, then every 400 ms of it) and its words decide: backchannels
  // ("okay", "uh-huh") never interrupt however long, other words ("wait", "stop") at once.
  // Off: only the length rule (interrupt_without_text).
  bool barge_in_words = true;
};

// What the agent needs besides the host. Pointers, not owned; they outlive the loop.
struct AgentEngines {
  speech::Recognizer* stt = nullptr;  // nullptr: host.recognizer()
  // The same engine's streaming side, when it has one (speech/streaming_recognizer.h): the
  // caller's words arrive while they speak (agent/caller_words.h). `stt` stays the
  // fallback (a stream that broke, an engine that sends no partials before the end).
  speech::StreamingRecognizer* stream_stt = nullptr;
  llm::ChatClient* chat = nullptr;      // nullptr: not configured (say so, hang up)
  speech::PhraseSource* tts = nullptr;  // nullptr: host.phrases()
  // Streams the LLM's sentences (first audio = first chunk); fixed phrases still come from
  // `tts` (cached). nullptr: every sentence is a whole clip from `tts`.
  speech::StreamingTts* stream_tts = nullptr;
  llm::HttpToolRunner* tools = nullptr;  // runs http_tools; nullptr: they answer an error
  // Makes the VAD for the leg's rate; empty: WebRtcVad.
  std::function<std::unique_ptr<audio::Vad>(int sample_rate)> make_vad;
  // Every finished turn (also interrupted and failed ones), on the media thread.
  std::function<void(const AgentTurn&)> on_turn;
  // Every speculative answer, used or wasted, on the media thread.
  std::function<void(const SpeculationReport&)> on_speculation;
  // The media clock for work that comes back from other threads; empty: MonoClock::now.
  std::function<MonoTime()> clock;
};

}  // namespace atende::agent
