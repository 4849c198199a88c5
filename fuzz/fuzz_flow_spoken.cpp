// Any bytes as what the outside hands the spoken helpers: a SIP From URI (caller_user), an
// amount from a table (parse_amount_cents, money_words), a recognised or typed date
// (resolve_spoken_date, date_words) and a {slot:format} value. Never crash, hang or read out
// of bounds; every result must be usable as a prompt (bounded, resolved dates valid).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "flow/caller_id.h"
#include "flow/spoken_date.h"
#include "flow/spoken_number.h"
#include "flow/spoken_value.h"

using namespace atende::flow;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (caller_user(text).size() > 64) std::abort();
  if (auto cents = parse_amount_cents(text)) {
    if (*cents < 0 || money_words(*cents, Language::kPortuguese).empty()) std::abort();
    money_words(*cents, Language::kEnglish);
  }
  for (CalendarDate today :
       {CalendarDate{2026, 11, 25}, CalendarDate{2028, 2, 29}, CalendarDate{2026, 12, 31}}) {
    if (auto d = resolve_spoken_date(text, today)) {
      if (!valid_date(*d) || *d < today || date_words(*d, Language::kEnglish).empty()) {
        std::abort();
      }
    }
  }
  for (std::string_view format : {"money", "number", "date", "digits"}) {
    speak_value(text, format, Language::kPortuguese);
  }
  return 0;
}
