// The parsed, validated form of one YAML flow file. The loader builds it once; every call
// running that flow shares it read-only, so the engine never touches YAML or maps on the
// media path (step targets are resolved to indices at load time).
#pragma once
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "speech/synthesizer.h"

namespace atende::flow {

enum class StepType { kSay, kMenu, kCollect, kEcho, kSayTime, kHangup };

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

  StepSpec() { choices.fill(kNoStep); }
};

struct FlowSpec {
  std::string name;                  // what the dial plan matches (request-URI user)
  std::vector<std::string> aliases;  // more dial-plan names, e.g. "*43"
  std::string file;                  // where it came from, for errors and logs
  speech::Voice voice;
  StepIndex start = 0;
  std::vector<StepSpec> steps;

  // Every fixed phrase this flow can say, to pre-synthesise at load.
  std::vector<std::string> fixed_texts() const;
};

using FlowSpecPtr = std::shared_ptr<const FlowSpec>;

// DTMF digits as the flow format accepts them: 0-9 * # A-D.
bool is_dtmf_digit(char c);
// Slot of a DTMF digit in StepSpec::choices (0..15), or -1 if `c` is not a DTMF digit.
int digit_slot(char c);

}  // namespace atende::flow
