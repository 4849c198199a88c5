// How a slot is read aloud when a flow text names it with a format: "{debtor_amount:money}",
// "{promise_date:date}", "{debtor_installments:number}", "{account:digits}". Without a
// format, digits are read one by one and anything else as written (template_text.h).
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "flow/spoken_number.h"

namespace atende::flow {

// "debtor_amount:money" -> {"debtor_amount", "money"}; no ':' -> {name, ""}.
struct PlaceholderParts {
  std::string_view slot;
  std::string_view format;
};
PlaceholderParts split_placeholder(std::string_view placeholder);

// money, number, date, digits (and "" for the default).
bool known_format(std::string_view format);

// The value read in the format, or nullopt when it does not fit (an amount that does not
// parse, a date that is not ISO): the caller then reads the value as written.
//   money:  "1234.56" / "1.234,56" -> money_words()
//   number: "42" -> "forty-two" / "quarenta e dois"
//   date:   "2026-12-04" -> date_words()
//   digits: "1204" -> "1 2 0 4"
std::optional<std::string> speak_value(std::string_view value, std::string_view format,
                                       Language language);

}  // namespace atende::flow
