// The parsed, validated form of one YAML flow file. The loader builds it once; every call
// running that flow shares it read-only, so the engine never touches YAML or maps on the
// media path (step targets are resolved to indices at load time).
#pragma once
#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/config_recording.h"
#include "flow/flow_table.h"
#include "speech/synthesizer.h"

namespace atende::flow {

enum class StepType {
  kSay,
  kMenu,
  kCollect,
  kEcho,
  kSayTime,
  kHangup,
  kAsk,       // prompt, listen, map the recognised words to a slot value
  kConfirm,   // prompt, listen for yes/no (or 1/2)
  kRoute,     // branch on slot values
  kLookup,    // find a table row by a slot value, store its columns as slots
  kRecord,    // record an event with every slot as JSON
  kDial,      // place a call (a second leg), optionally run a flow on it
  kBridge,    // connect the caller with the dialled leg
  kTransfer,  // blind transfer of the caller (SIP REFER)
  kCapture,   // prompt, listen, keep the caller's utterance as a clip (no recognition)
};

// How an ask step turns recognised words into a slot value.
// kDate: a day said ("friday", "day 10", "amanhã") or typed ("10#"), stored as ISO
// "2026-12-04" (spoken_date.h).
enum class MatchKind { kChoices, kDigits, kList, kDate };

// ask/choices: one value and the words that select it ("entrega": delivery, package).
struct ChoiceValue {
  std::string value;
  std::vector<std::string> words;  // the first one is the value's spoken label
  char digit = '\0';               // DTMF alternative, '\0' when none
};

// menu: one phrase the caller may say to make a choice: an option's own words ("sales",
// "echo test") or a digit word ("two", "dois"). Built by the loader in the order the
// recogniser is asked for them (RecognitionRequest::expected).
struct SpokenChoice {
  std::string phrase;
  char digit = '\0';        // the menu digit it stands for
  bool digit_word = false;  // "two" rather than an option's own word
};

// route: when every slot named equals its value, go to `target`.
struct RouteCase {
  std::vector<std::pair<std::string, std::string>> when;
  int target = -1;
};

const char* step_type_name(StepType type);

// Index of a step inside FlowSpec::steps; kNoStep where a target is optional and absent.
using StepIndex = int;
constexpr StepIndex kNoStep = -1;

// One step. A flat struct rather than a variant: the loader rejects keys that do not belong
// to the type, so fields a type does not use simply keep their defaults.
struct StepSpec {
  std::string id;
  StepType type = StepType::kSay;
  int line = 0;  // 1-based position of the step in its file, for logs
  int column = 0;

  // say / hangup / say_time: `text`; menu / collect / echo: `prompt`. One field for both.
  std::string text;
  // say / hangup: `text` names collected digits ("You entered {account}"), so it is filled
  // in during the call and cannot be pre-synthesised.
  bool uses_variables = false;
  StepIndex next = kNoStep;

  // menu and collect
  Millis timeout{5000};            // after the prompt finished, waiting for the first digit
  int retries = 2;                 // re-prompts after a no-input or invalid answer
  std::string no_input;            // said before re-prompting when nothing was pressed
  std::string invalid;             // said before re-prompting after a wrong answer
  StepIndex on_failure = kNoStep;  // kNoStep: hang up
  // menu: digit -> step. Indexed by digit_slot(); kNoStep where the digit is not a choice.
  std::array<StepIndex, 16> choices;
  // menu: what the caller may say instead of pressing (empty: keypad only). Filled when an
  // option has `say` words; then every digit word is listened for too, so "seven" is heard
  // as the invalid choice 7 rather than forced onto the nearest option.
  std::vector<SpokenChoice> spoken;

  // collect
  int min_digits = 1;
  int max_digits = 16;
  char terminator = '#';  // '\0' when none
  Millis inter_digit_timeout{3000};
  std::string into;  // variable name the digits are stored under

  // echo
  char stop_digit = '#';  // '\0' when none
  Millis max_duration{120000};

  // say_time: `text` is a template; see clock_text.h for the placeholders.

  // ask (and collect's `into`): the slot the answer is stored under (default: step id).
  MatchKind match = MatchKind::kChoices;
  std::vector<ChoiceValue> values;  // ask/choices
  // ask/list and ask/digits: candidate values from a table column (FlowSpec::tables);
  // lookup: the table and column searched.
  int table = -1;
  int table_column = -1;
  bool fuzzy = false;  // lookup: fuzzy match on the column rather than equality
  // ask: the answer must equal this template ("{debtor_document}"), else it is a wrong
  // answer (re-asked, then on_failure): identity checks. Empty: any answer goes.
  std::string expect;

  // confirm
  StepIndex on_yes = kNoStep;
  StepIndex on_no = kNoStep;

  // route
  std::vector<RouteCase> routes;

  // lookup: `text` is the value searched for (a template such as "{apartment}"); the
  // row's columns are stored as <into>_<column>; `on_missing` when no row matches.
  StepIndex on_missing = kNoStep;
  // lookup `also: {column: value}`: one more condition the row must meet (-1: none).
  int also_column = -1;
  std::string also_value;  // a template, like `value`

  // dial / transfer: `to` (a template: "{resident_extension}"). dial: `text` is the
  // prompt said while ringing; the outcome goes to `into` and `<into>_status`.
  std::string to;
  std::string trunk;      // dial: empty for the dial plan's choice
  std::string caller_id;  // dial: a template; empty for the trunk's
  Millis ring_timeout{30000};
  int tries = 1;                // dial: busy and no_answer are dialled again up to this many times
  std::string child_flow;       // dial: run this flow on the answered leg (empty: park it)
  bool early_media = false;     // dial: the caller hears the callee's 183 audio (ringback)
  StepIndex on_busy = kNoStep;  // dial: kNoStep -> on_failure
  StepIndex on_no_answer = kNoStep;  // dial: kNoStep -> on_failure

  // capture: the longest recording kept (the utterance is cut there); `into` names it.
  Millis max_length{4000};

  // record: the event kind (`text` unused).
  std::string event;
  // record: the slots written, in this order (empty: every slot). Keeps what an event
  // must not carry (a document checked with `expect`) out of the call record.
  std::vector<std::string> fields;

  StepSpec() { choices.fill(kNoStep); }
};

struct FlowSpec {
  std::string name;                  // what the dial plan matches (request-URI user)
  std::vector<std::string> aliases;  // more dial-plan names, e.g. "*43"
  std::string file;                  // where it came from, for errors and logs
  speech::Voice voice;
  StepIndex start = 0;
  std::vector<StepSpec> steps;
  std::vector<FlowTable> tables;  // CSV files the steps read, loaded with the flow
  // `inputs:` slots given by whoever starts the flow (CallInfo::variables).
  std::vector<std::string> inputs;
  // Whole-call limit (0: none); then `on_timeout` (kNoStep: hang up at once).
  Millis max_duration{0};
  StepIndex on_timeout = kNoStep;
  // No RTP (or, on hold, RTCP) from the caller this long ends the call (end_reason
  // "rtp_timeout", docs/media.md). -1: the server's rtp_timeout_seconds; 0: never.
  Millis rtp_timeout{-1};
  // `recording: {audio, transcript}` (docs/recording.md); unset: the server's `recording:`.
  RecordingSwitches recording;
  // Spoken answers are recognised from the first 200 ms pause (scripted_flow_speculation.cpp);
  // false: only at the end of the turn.
  bool speculative = true;

  // Every fixed phrase this flow can say, to pre-synthesise at load.
  std::vector<std::string> fixed_texts() const;

  // Slots an ask step checks with `expect` (the reference and the caller's answer): their
  // values, and digits typed at such a step, are masked in the call record.
  std::vector<std::string> secret_slots;
  bool is_secret(std::string_view slot) const {
    for (const auto& s : secret_slots)
      if (s == slot) return true;
    return false;
  }
};

using FlowSpecPtr = std::shared_ptr<const FlowSpec>;

// DTMF digits as the flow format accepts them: 0-9 * # A-D.
bool is_dtmf_digit(char c);
// Slot of a DTMF digit in StepSpec::choices (0..15), or -1 if `c` is not a DTMF digit.
int digit_slot(char c);

}  // namespace atende::flow
