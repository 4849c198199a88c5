// The words people wrap an answer in, per kind of answer (speech/grammar.h: Carriers).
// Built in, English only: the embedded recogniser's model is en-us, and a carrier the
// dictionary lacks would only be dropped. Portuguese voices get none (yet).
//
//   speech::default_carriers(speech::AnswerKind::kName, "en-us")
//     before: "i'm here to see", "i am visiting", "uh", ...   after: "please", ...
#pragma once
#include <string_view>

#include "speech/recognizer.h"

namespace atende::speech {

enum class AnswerKind {
  kChoice,  // a menu option or an intent: "support please", "uh, I need help"
  kName,    // a person: "I'm here to see John Smith"
  kNumber,  // an apartment, an extension: "apartment twelve oh four"
  kYesNo,   // "yeah sure", "no thanks"
};

Carriers default_carriers(AnswerKind kind, std::string_view language);

}  // namespace atende::speech
