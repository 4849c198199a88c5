#include "flow/spoken_date.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>

#include "turn/fuzzy.h"

namespace atende::flow {
namespace {

constexpr std::array<const char*, 7> kEnWeekdays = {"sunday",   "monday", "tuesday", "wednesday",
                                                    "thursday", "friday", "saturday"};
constexpr std::array<const char*, 7> kPtWeekdays = {"domingo",      "segunda-feira", "terça-feira",
                                                    "quarta-feira", "quinta-feira",  "sexta-feira",
                                                    "sábado"};
// As normalize_text writes them (accents stripped, "-feira" split off and ignored).
constexpr std::array<const char*, 7> kPtWeekdayWords = {"domingo", "segunda", "terca", "quarta",
                                                        "quinta",  "sexta",   "sabado"};
constexpr std::array<const char*, 12> kEnMonths = {"january",   "february", "march",    "april",
                                                   "may",       "june",     "july",     "august",
                                                   "september", "october",  "november", "december"};
constexpr std::array<const char*, 12> kPtMonths = {"janeiro",  "fevereiro", "março",    "abril",
                                                   "maio",     "junho",     "julho",    "agosto",
                                                   "setembro", "outubro",   "novembro", "dezembro"};
constexpr std::array<const char*, 12> kPtMonthWords = {
    "janeiro", "fevereiro", "marco",    "abril",   "maio",     "junho",
    "julho",   "agosto",    "setembro", "outubro", "novembro", "dezembro"};

// English ordinal words and the cardinal word each stands for ("twenty first" -> "twenty one").
constexpr std::pair<const char*, const char*> kOrdinals[] = {{"first", "one"},
                                                             {"second", "two"},
                                                             {"third", "three"},
                                                             {"fourth", "four"},
                                                             {"fifth", "five"},
                                                             {"sixth", "six"},
                                                             {"seventh", "seven"},
                                                             {"eighth", "eight"},
                                                             {"ninth", "nine"},
                                                             {"tenth", "ten"},
                                                             {"eleventh", "eleven"},
                                                             {"twelfth", "twelve"},
                                                             {"thirteenth", "thirteen"},
                                                             {"fourteenth", "fourteen"},
                                                             {"fifteenth", "fifteen"},
                                                             {"sixteenth", "sixteen"},
                                                             {"seventeenth", "seventeen"},
                                                             {"eighteenth", "eighteen"},
                                                             {"nineteenth", "nineteen"},
                                                             {"twentieth", "twenty"},
                                                             {"thirtieth", "thirty"},
                                                             {"primeiro", "one"}};

// Words around a date that carry nothing ("on the tenth", "no dia 10", "next friday").
constexpr std::string_view kFillers[] = {
    "day",  "dia",  "the",   "on", "of",  "de",      "do",      "no",    "em",  "o",  "a",
    "this", "next", "until", "by", "ate", "proximo", "proxima", "feira", "pay", "i",  "will",
    "ll",   "vou",  "pagar", "it", "que", "pela",    "pelo",    "st",    "nd",  "rd", "th"};

template <size_t N>
int index_of(const std::array<const char*, N>& list, std::string_view word) {
  for (size_t i = 0; i < N; ++i)
    if (word == list[i]) return static_cast<int>(i);
  return -1;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 (H. Hinnant's days_from_civil).
long days_from_civil(const CalendarDate& d) {
  int y = d.year - (d.month <= 2);
  long era = (y >= 0 ? y : y - 399) / 400;
  long yoe = y - era * 400;
  long doy = (153 * (d.month + (d.month > 2 ? -3 : 9)) + 2) / 5 + d.day - 1;
  long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CalendarDate civil_from_days(long z) {
  z += 719468;
  long era = (z >= 0 ? z : z - 146096) / 146097;
  long doe = z - era * 146097;
  long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long y = yoe + era * 400;
  long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  long mp = (5 * doy + 2) / 153;
  int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {static_cast<int>(y + (m <= 2)), m, d};
}

std::string english_ordinal(int n) {
  static constexpr const char* kSmall[] = {"",          "first",       "second",     "third",
                                           "fourth",    "fifth",       "sixth",      "seventh",
                                           "eighth",    "ninth",       "tenth",      "eleventh",
                                           "twelfth",   "thirteenth",  "fourteenth", "fifteenth",
                                           "sixteenth", "seventeenth", "eighteenth", "nineteenth"};
  if (n < 20) return kSmall[n];
  if (n == 20) return "twentieth";
  if (n == 30) return "thirtieth";
  return std::string(n < 30 ? "twenty-" : "thirty-") + kSmall[n % 10];
}

// The first date on or after `today` with day `day` in a month, looking a few months ahead.
std::optional<CalendarDate> next_day_of_month(int day, const CalendarDate& today) {
  if (day < 1 || day > 31) return std::nullopt;
  CalendarDate d{today.year, today.month, day};
  for (int i = 0; i < 3; ++i) {
    if (day <= days_in_month(d.year, d.month) && d >= today) return d;
    d.day = day;
    if (++d.month > 12) d.month = 1, ++d.year;
  }
  return std::nullopt;
}

std::optional<CalendarDate> next_day_and_month(int day, int month, const CalendarDate& today) {
  for (int year : {today.year, today.year + 1}) {
    CalendarDate d{year, month, day};
    if (valid_date(d) && d >= today) return d;
  }
  return std::nullopt;
}

std::optional<int> number(std::string_view digits) {
  int v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return v;
}

}  // namespace

bool valid_date(const CalendarDate& d) {
  return d.year >= 1900 && d.year <= 9999 && d.month >= 1 && d.month <= 12 && d.day >= 1 &&
         d.day <= days_in_month(d.year, d.month);
}

std::optional<CalendarDate> parse_iso_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto y = number(text.substr(0, 4)), m = number(text.substr(5, 2)), d = number(text.substr(8, 2));
  if (!y || !m || !d) return std::nullopt;
  CalendarDate date{*y, *m, *d};
  if (!valid_date(date)) return std::nullopt;
  return date;
}

std::string iso_date(const CalendarDate& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

int weekday(const CalendarDate& d) {
  long z = days_from_civil(d);
  return static_cast<int>(((z % 7) + 7 + 4) % 7);  // 1970-01-01 was a Thursday
}

CalendarDate add_days(const CalendarDate& d, int days) {
  return civil_from_days(days_from_civil(d) + days);
}

std::string date_words(const CalendarDate& d, Language language) {
  if (!valid_date(d)) return "";
  if (language == Language::kPortuguese) {
    std::string day = d.day == 1 ? "primeiro" : spoken_number(d.day, language);
    return std::string(kPtWeekdays[weekday(d)]) + ", " + day + " de " + kPtMonths[d.month - 1];
  }
  std::string weekday_name = kEnWeekdays[weekday(d)];
  std::string month = kEnMonths[d.month - 1];
  weekday_name[0] = static_cast<char>(weekday_name[0] - 'a' + 'A');
  month[0] = static_cast<char>(month[0] - 'a' + 'A');
  return weekday_name + ", " + month + " " + english_ordinal(d.day);
}

std::optional<CalendarDate> resolve_spoken_date(std::string_view said, const CalendarDate& today) {
  if (!valid_date(today) || said.size() > 200) return std::nullopt;
  std::vector<std::string> words = turn::normalized_words(said);
  if (words.empty() || words.size() > 12) return std::nullopt;
  auto has = [&](std::string_view w) {
    return std::find(words.begin(), words.end(), w) != words.end();
  };

  if ((has("after") && has("tomorrow")) || (has("depois") && has("amanha"))) {
    return add_days(today, 2);
  }
  if (has("today") || has("hoje")) return today;
  if (has("tomorrow") || has("amanha")) return add_days(today, 1);

  std::string rest;  // the words left once weekday, month and fillers are taken out
  int weekday_said = -1, month_said = -1;
  for (const std::string& w : words) {
    int i;
    if ((i = index_of(kEnWeekdays, w)) >= 0 || (i = index_of(kPtWeekdayWords, w)) >= 0) {
      if (weekday_said >= 0 && weekday_said != i) return std::nullopt;  // two different days
      weekday_said = i;
      continue;
    }
    if ((i = index_of(kEnMonths, w)) >= 0 || (i = index_of(kPtMonthWords, w)) >= 0) {
      if (month_said >= 0 && month_said != i) return std::nullopt;
      month_said = i;
      continue;
    }
    if (std::find(std::begin(kFillers), std::end(kFillers), w) != std::end(kFillers)) continue;
    std::string word = w;
    // "10th", "1st": the number without its suffix.
    if (word.size() > 2 && word[0] >= '0' && word[0] <= '9') {
      std::string_view tail = std::string_view(word).substr(word.size() - 2);
      if (tail == "st" || tail == "nd" || tail == "rd" || tail == "th")
        word.resize(word.size() - 2);
    }
    for (const auto& [ordinal, cardinal] : kOrdinals) {
      if (word == ordinal) word = cardinal;
    }
    rest += (rest.empty() ? "" : " ") + word;
  }
  if (rest.empty()) {
    if (weekday_said < 0 || month_said >= 0) return std::nullopt;
    int ahead = (weekday_said - weekday(today) + 7) % 7;
    return add_days(today, ahead == 0 ? 7 : ahead);  // "friday" said on a Friday: next week
  }
  auto digits = turn::words_to_digits(rest);
  if (!digits || digits->empty() || digits->size() > 4) return std::nullopt;
  std::optional<CalendarDate> date;
  if (month_said >= 0) {
    if (digits->size() > 2) return std::nullopt;
    date = next_day_and_month(*number(*digits), month_said + 1, today);
  } else if (digits->size() <= 2) {
    date = next_day_of_month(*number(*digits), today);
  } else if (digits->size() == 4) {  // typed DDMM
    date = next_day_and_month(*number(digits->substr(0, 2)), *number(digits->substr(2, 2)), today);
  }
  // A weekday said with the day ("friday the tenth") must agree with it.
  if (date && weekday_said >= 0 && weekday(*date) != weekday_said) return std::nullopt;
  return date;
}

std::vector<std::string> date_phrases(Language language) {
  std::vector<std::string> out;
  if (language == Language::kPortuguese) {
    out = {"hoje", "amanhã", "depois de amanhã"};
    for (const char* w : kPtWeekdays) out.emplace_back(w);
    for (int d = 1; d <= 31; ++d) out.push_back("dia " + std::to_string(d));
    return out;
  }
  out = {"today", "tomorrow", "day after tomorrow"};
  for (const char* w : kEnWeekdays) {
    out.emplace_back(w);
    out.push_back(std::string("next ") + w);
  }
  for (int d = 1; d <= 31; ++d) {
    out.push_back("day " + std::to_string(d));
    out.push_back("the " + english_ordinal(d));
  }
  return out;
}

}  // namespace atende::flow
