#include "flow/spoken_value.h"

#include <algorithm>

#include "flow/spoken_date.h"
#include "flow/template_text.h"

namespace atende::flow {

PlaceholderParts split_placeholder(std::string_view placeholder) {
  size_t colon = placeholder.find(':');
  if (colon == std::string_view::npos) return {placeholder, {}};
  return {placeholder.substr(0, colon), placeholder.substr(colon + 1)};
}

bool known_format(std::string_view format) {
  return format.empty() || format == "money" || format == "number" || format == "date" ||
         format == "digits";
}

std::optional<std::string> speak_value(std::string_view value, std::string_view format,
                                       Language language) {
  if (format == "money") {
    auto cents = parse_amount_cents(value);
    if (!cents) return std::nullopt;
    return money_words(*cents, language);
  }
  if (format == "number") {
    auto cents = parse_amount_cents(value);  // also takes "1.234" and "1,234"
    if (!cents || *cents % 100 != 0) return std::nullopt;
    return spoken_number(*cents / 100, language);
  }
  if (format == "date") {
    auto date = parse_iso_date(value);
    if (!date) return std::nullopt;
    return date_words(*date, language);
  }
  if (format == "digits") {
    bool digits =
        !value.empty() && value.size() <= 64 &&
        std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) return std::nullopt;
    return spell_digits(value);
  }
  return std::nullopt;
}

}  // namespace atende::flow
