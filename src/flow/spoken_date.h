// Dates a flow reads aloud and dates a caller says or types. A collections call records a
// promise to pay "on Friday", "day 10", "amanhã" or typed "10#"; the flow stores the date
// it resolves to (ISO "2026-12-04", relative to the call's own today) and reads it back as
// "Friday, December fourth" / "sexta-feira, quatro de dezembro".
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flow/spoken_number.h"

namespace atende::flow {

struct CalendarDate {
  int year = 1970;
  int month = 1;  // 1-12
  int day = 1;    // 1-31
  bool operator==(const CalendarDate&) const = default;
  auto operator<=>(const CalendarDate&) const = default;
};

bool valid_date(const CalendarDate& d);  // a real day of the Gregorian calendar, years 1900-9999
// "2026-12-04" exactly; nullopt for anything else (also "2026-02-30").
std::optional<CalendarDate> parse_iso_date(std::string_view text);
std::string iso_date(const CalendarDate& d);
int weekday(const CalendarDate& d);  // 0 = Sunday ... 6 = Saturday
CalendarDate add_days(const CalendarDate& d, int days);

// "Friday, December fourth" / "sexta-feira, quatro de dezembro" (day 1: "primeiro de ...").
std::string date_words(const CalendarDate& d, Language language);

// What the caller said or typed, as a date on or after `today`:
//   "today", "hoje", "tomorrow", "amanhã", "day after tomorrow", "depois de amanhã"
//   a weekday ("friday", "sexta-feira", "next friday"): the next one after today
//   a day of the month ("day 10", "the tenth", "dia 10", "10"): this month if not past,
//     else the next month that has that day
//   a day and month ("december tenth", "10 de dezembro", typed "1012"): this year if not
//     past, else next year
// nullopt for anything else, impossible days ("day 32", "3002") and more than 12 words.
std::optional<CalendarDate> resolve_spoken_date(std::string_view said, const CalendarDate& today);

// The phrases a recogniser should listen for when a date is expected, in the language.
std::vector<std::string> date_phrases(Language language);

}  // namespace atende::flow
