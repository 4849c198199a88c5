// Spoken numbers, money and dates for flow prompts, the dates callers say, {slot:format}
// placeholders and the caller's number from the From URI.
#include <gtest/gtest.h>

#include "flow/caller_id.h"
#include "flow/spoken_date.h"
#include "flow/spoken_number.h"
#include "flow/spoken_value.h"

namespace atende::flow {
namespace {

constexpr Language kPt = Language::kPortuguese;
constexpr Language kEn = Language::kEnglish;

TEST(SpokenNumber, Portuguese) {
  EXPECT_EQ(spoken_number(0, kPt), "zero");
  EXPECT_EQ(spoken_number(1, kPt), "um");
  EXPECT_EQ(spoken_number(16, kPt), "dezesseis");
  EXPECT_EQ(spoken_number(21, kPt), "vinte e um");
  EXPECT_EQ(spoken_number(100, kPt), "cem");
  EXPECT_EQ(spoken_number(101, kPt), "cento e um");
  EXPECT_EQ(spoken_number(999, kPt), "novecentos e noventa e nove");
  EXPECT_EQ(spoken_number(1000, kPt), "mil");
  EXPECT_EQ(spoken_number(1001, kPt), "mil e um");
  EXPECT_EQ(spoken_number(1100, kPt), "mil e cem");
  EXPECT_EQ(spoken_number(1200, kPt), "mil e duzentos");
  EXPECT_EQ(spoken_number(1234, kPt), "mil duzentos e trinta e quatro");
  EXPECT_EQ(spoken_number(2050, kPt), "dois mil e cinquenta");
  EXPECT_EQ(spoken_number(21000, kPt), "vinte e um mil");
  EXPECT_EQ(spoken_number(1000000, kPt), "um milhão");
  EXPECT_EQ(spoken_number(2000000, kPt), "dois milhões");
  EXPECT_EQ(spoken_number(1200000, kPt), "um milhão e duzentos mil");
  EXPECT_EQ(spoken_number(1200300, kPt), "um milhão duzentos mil e trezentos");
  EXPECT_EQ(spoken_number(3000000000, kPt), "três bilhões");
}

TEST(SpokenNumber, English) {
  EXPECT_EQ(spoken_number(0, kEn), "zero");
  EXPECT_EQ(spoken_number(13, kEn), "thirteen");
  EXPECT_EQ(spoken_number(40, kEn), "forty");
  EXPECT_EQ(spoken_number(56, kEn), "fifty-six");
  EXPECT_EQ(spoken_number(100, kEn), "one hundred");
  EXPECT_EQ(spoken_number(1234, kEn), "one thousand two hundred thirty-four");
  EXPECT_EQ(spoken_number(1000001, kEn), "one million one");
  EXPECT_EQ(spoken_number(kMaxSpokenNumber, kEn),
            "nine hundred ninety-nine billion nine hundred ninety-nine million nine hundred "
            "ninety-nine thousand nine hundred ninety-nine");
}

TEST(SpokenNumber, OutOfRangeIsEmpty) {
  EXPECT_EQ(spoken_number(-1, kEn), "");
  EXPECT_EQ(spoken_number(kMaxSpokenNumber + 1, kPt), "");
}

TEST(SpokenNumber, LanguageOfVoice) {
  EXPECT_EQ(language_of_voice("pt-br"), kPt);
  EXPECT_EQ(language_of_voice("pt"), kPt);
  EXPECT_EQ(language_of_voice("PT-PT"), kPt);
  EXPECT_EQ(language_of_voice("en-us"), kEn);
  EXPECT_EQ(language_of_voice("pta"), kEn);
  EXPECT_EQ(language_of_voice(""), kEn);
}

TEST(Amount, ParsesCommonWritings) {
  EXPECT_EQ(parse_amount_cents("1234.56"), 123456);
  EXPECT_EQ(parse_amount_cents("1234,56"), 123456);
  EXPECT_EQ(parse_amount_cents("1.234,56"), 123456);
  EXPECT_EQ(parse_amount_cents("1,234.56"), 123456);
  EXPECT_EQ(parse_amount_cents("R$ 1.234,56"), 123456);
  EXPECT_EQ(parse_amount_cents("  $20 "), 2000);
  EXPECT_EQ(parse_amount_cents("1.234"), 123400);  // three digits after: grouping
  EXPECT_EQ(parse_amount_cents("1,234,567"), 123456700);
  EXPECT_EQ(parse_amount_cents("89.9"), 8990);
  EXPECT_EQ(parse_amount_cents("0,05"), 5);
  EXPECT_EQ(parse_amount_cents("999999999999.99"), 99999999999999);
}

TEST(Amount, RejectsEverythingElse) {
  for (const char* bad :
       {"", "R$", "-5", "1..2", "1.,2", "1.2.3,4", "1,2345", "12.345,6789", "1,23.45", "12,34.567",
        "1 234", "abc", "1e5", "12.", ".5", "1000000000000", "1.23,45", "12345.678.90", "R$ -1"}) {
    EXPECT_EQ(parse_amount_cents(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(parse_amount_cents(std::string(100, '1')), std::nullopt);
}

TEST(Money, PortugueseReais) {
  EXPECT_EQ(money_words(123456, kPt),
            "mil duzentos e trinta e quatro reais e cinquenta e seis centavos");
  EXPECT_EQ(money_words(100, kPt), "um real");
  EXPECT_EQ(money_words(101, kPt), "um real e um centavo");
  EXPECT_EQ(money_words(56, kPt), "cinquenta e seis centavos");
  EXPECT_EQ(money_words(0, kPt), "zero reais");
  EXPECT_EQ(money_words(100000000, kPt), "um milhão de reais");
  EXPECT_EQ(money_words(120000000, kPt), "um milhão e duzentos mil reais");
}

TEST(Money, EnglishDollars) {
  EXPECT_EQ(money_words(123456, kEn),
            "one thousand two hundred thirty-four dollars and fifty-six cents");
  EXPECT_EQ(money_words(100, kEn), "one dollar");
  EXPECT_EQ(money_words(1, kEn), "one cent");
  EXPECT_EQ(money_words(250000, kEn), "two thousand five hundred dollars");
  EXPECT_EQ(money_words(-1, kEn), "");
}

TEST(SpokenDate, IsoRoundTripAndWeekday) {
  auto d = parse_iso_date("2026-12-04");
  ASSERT_TRUE(d);
  EXPECT_EQ(iso_date(*d), "2026-12-04");
  EXPECT_EQ(weekday(*d), 5);  // a Friday
  EXPECT_EQ(weekday({1970, 1, 1}), 4);
  EXPECT_EQ(weekday({1969, 12, 31}), 3);
  EXPECT_EQ(weekday({2000, 2, 29}), 2);
  EXPECT_EQ(add_days({2026, 12, 31}, 1), (CalendarDate{2027, 1, 1}));
  EXPECT_EQ(add_days({2028, 2, 28}, 1), (CalendarDate{2028, 2, 29}));
  for (const char* bad : {"2026-02-30", "2026-13-01", "2026-1-01", "20261201", "2026-12-0x", "",
                          "2026-12-04 ", "0000-01-01"}) {
    EXPECT_EQ(parse_iso_date(bad), std::nullopt) << bad;
  }
}

TEST(SpokenDate, Words) {
  EXPECT_EQ(date_words({2026, 12, 4}, kEn), "Friday, December fourth");
  EXPECT_EQ(date_words({2026, 12, 21}, kEn), "Monday, December twenty-first");
  EXPECT_EQ(date_words({2026, 12, 30}, kEn), "Wednesday, December thirtieth");
  EXPECT_EQ(date_words({2026, 12, 4}, kPt), "sexta-feira, quatro de dezembro");
  EXPECT_EQ(date_words({2027, 1, 1}, kPt), "sexta-feira, primeiro de janeiro");
  EXPECT_EQ(date_words({2026, 2, 30}, kPt), "");
}

// Today is Wednesday 2026-11-25 in these tests.
constexpr CalendarDate kToday{2026, 11, 25};

std::string resolved(std::string_view said) {
  auto d = resolve_spoken_date(said, kToday);
  return d ? iso_date(*d) : "none";
}

TEST(SpokenDate, RelativeDaysAndWeekdays) {
  EXPECT_EQ(resolved("today"), "2026-11-25");
  EXPECT_EQ(resolved("hoje"), "2026-11-25");
  EXPECT_EQ(resolved("tomorrow"), "2026-11-26");
  EXPECT_EQ(resolved("amanhã"), "2026-11-26");
  EXPECT_EQ(resolved("the day after tomorrow"), "2026-11-27");
  EXPECT_EQ(resolved("depois de amanhã"), "2026-11-27");
  EXPECT_EQ(resolved("friday"), "2026-11-27");
  EXPECT_EQ(resolved("I will pay on Friday"), "2026-11-27");
  EXPECT_EQ(resolved("sexta-feira"), "2026-11-27");
  EXPECT_EQ(resolved("next monday"), "2026-11-30");
  EXPECT_EQ(resolved("wednesday"), "2026-12-02");  // said on a Wednesday: next week
  EXPECT_EQ(resolved("sábado"), "2026-11-28");
}

TEST(SpokenDate, DaysOfTheMonth) {
  EXPECT_EQ(resolved("day 10"), "2026-12-10");  // the 10th has passed this month
  EXPECT_EQ(resolved("day ten"), "2026-12-10");
  EXPECT_EQ(resolved("the tenth"), "2026-12-10");
  EXPECT_EQ(resolved("the 10th"), "2026-12-10");
  EXPECT_EQ(resolved("dia 10"), "2026-12-10");
  EXPECT_EQ(resolved("10"), "2026-12-10");
  EXPECT_EQ(resolved("30"), "2026-11-30");
  EXPECT_EQ(resolved("the twenty fifth"), "2026-11-25");
  EXPECT_EQ(resolved("twenty first"), "2026-12-21");
  EXPECT_EQ(resolved("31"), "2026-12-31");  // November has no 31st
  EXPECT_EQ(resolved("december tenth"), "2026-12-10");
  EXPECT_EQ(resolved("10 de dezembro"), "2026-12-10");
  EXPECT_EQ(resolved("1012"), "2026-12-10");  // typed DDMM
  EXPECT_EQ(resolved("0101"), "2027-01-01");
  EXPECT_EQ(resolved("november 1"), "2027-11-01");  // past this year: next year
  EXPECT_EQ(resolved("friday the fourth"), "2026-12-04");
}

TEST(SpokenDate, RejectsWhatIsNotADate) {
  for (const char* bad : {"", "banana", "day 32", "day 0", "3002", "123", "12345", "friday monday",
                          "thursday the fourth", "february 30",
                          "the the the the the the the the "
                          "the the the the the 10",
                          "december", "yes"}) {
    EXPECT_EQ(resolved(bad), "none") << bad;
  }
  EXPECT_EQ(resolve_spoken_date("today", {2026, 2, 30}), std::nullopt);
}

TEST(SpokenDate, PhrasesForTheGrammar) {
  auto en = date_phrases(kEn);
  EXPECT_NE(std::find(en.begin(), en.end(), "friday"), en.end());
  EXPECT_NE(std::find(en.begin(), en.end(), "day 10"), en.end());
  EXPECT_NE(std::find(en.begin(), en.end(), "the twenty-first"), en.end());
  // Every phrase offered to the recogniser resolves to a date.
  for (const auto& p : en) EXPECT_NE(resolved(p), "none") << p;
  for (const auto& p : date_phrases(kPt)) EXPECT_NE(resolved(p), "none") << p;
}

TEST(SpokenValue, Formats) {
  EXPECT_EQ(speak_value("1234.56", "money", kPt),
            "mil duzentos e trinta e quatro reais e cinquenta e seis centavos");
  EXPECT_EQ(speak_value("89.90", "money", kEn), "eighty-nine dollars and ninety cents");
  EXPECT_EQ(speak_value("12", "number", kEn), "twelve");
  EXPECT_EQ(speak_value("12.5", "number", kEn), std::nullopt);
  EXPECT_EQ(speak_value("2026-12-04", "date", kEn), "Friday, December fourth");
  EXPECT_EQ(speak_value("1204", "digits", kEn), "1 2 0 4");
  EXPECT_EQ(speak_value("12a", "digits", kEn), std::nullopt);
  EXPECT_EQ(speak_value("soon", "date", kEn), std::nullopt);
  EXPECT_EQ(speak_value("lots", "money", kEn), std::nullopt);
  EXPECT_TRUE(known_format("money"));
  EXPECT_TRUE(known_format(""));
  EXPECT_FALSE(known_format("currency"));
  auto parts = split_placeholder("debtor_amount:money");
  EXPECT_EQ(parts.slot, "debtor_amount");
  EXPECT_EQ(parts.format, "money");
  EXPECT_EQ(split_placeholder("name").format, "");
}

TEST(CallerId, UserPartOfTheFromUri) {
  EXPECT_EQ(caller_user("sip:alice@10.0.0.1"), "alice");
  EXPECT_EQ(caller_user("sip:+5511987654321@carrier.example;user=phone"), "+5511987654321");
  EXPECT_EQ(caller_user("SIPS:+15550100;isub=1@host"), "+15550100");
  EXPECT_EQ(caller_user("sip:bob:secret@host"), "bob");
  EXPECT_EQ(caller_user("\"Bob\" <sip:bob@host>;tag=1"), "bob");
  EXPECT_EQ(caller_user("tel:+55-11-98765-4321"), "+5511987654321");
  EXPECT_EQ(caller_user("tel:(11)5550100;phone-context=+55"), "115550100");
}

TEST(CallerId, HostileOrMissingUserIsEmpty) {
  for (const char* bad :
       {"", "sip:host.example", "http://x@y", "sip:a b@host", "sip:a%40b@host", "sip:a'--@host",
        "<sip:alice@host", "sip:{caller}@host", "sip:\xc3\xa9@host"}) {
    EXPECT_EQ(caller_user(bad), "") << bad;
  }
  EXPECT_EQ(caller_user("sip:" + std::string(65, '1') + "@host"), "");
  EXPECT_EQ(caller_user("sip:" + std::string(64, '1') + "@host"), std::string(64, '1'));
  EXPECT_EQ(caller_user(std::string(5000, '<')), "");
}

}  // namespace
}  // namespace atende::flow
