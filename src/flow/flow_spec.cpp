#include "flow/flow_spec.h"

#include <algorithm>
#include <cstring>

namespace atende::flow {

const char* step_type_name(StepType type) {
  switch (type) {
    case StepType::kSay:
      return "say";
    case StepType::kMenu:
      return "menu";
    case StepType::kCollect:
      return "collect";
    case StepType::kEcho:
      return "echo";
    case StepType::kSayTime:
      return "say_time";
    case StepType::kHangup:
      return "hangup";
    case StepType::kAsk:
      return "ask";
    case StepType::kConfirm:
      return "confirm";
    case StepType::kRoute:
      return "route";
    case StepType::kLookup:
      return "lookup";
    case StepType::kRecord:
      return "record";
    case StepType::kDial:
      return "dial";
    case StepType::kBridge:
      return "bridge";
    case StepType::kTransfer:
      return "transfer";
    case StepType::kCapture:
      return "capture";
  }
  return "?";
}

namespace {
constexpr char kDigits[] = "0123456789*#ABCD";
}

int digit_slot(char c) {
  if (c == '\0') return -1;
  const char* p = std::strchr(kDigits, c);
  return p ? static_cast<int>(p - kDigits) : -1;
}

bool is_dtmf_digit(char c) { return digit_slot(c) >= 0; }

std::vector<std::string> FlowSpec::fixed_texts() const {
  std::vector<std::string> out;
  auto add = [&out](const std::string& s) {
    if (!s.empty() && std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  };
  for (const StepSpec& step : steps) {
    // say_time texts and texts with {variables} are filled in at call time.
    if (step.type != StepType::kSayTime && step.type != StepType::kLookup && !step.uses_variables) {
      add(step.text);
    }
    add(step.no_input);
    add(step.invalid);
  }
  return out;
}

}  // namespace atende::flow
