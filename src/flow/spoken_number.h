// Numbers and amounts of money as words, for prompts that read them aloud. espeak-ng reads
// "1234.56" as "one thousand two hundred thirty four point five six" and "R$ 1.234,56" no
// better, so a collections flow that states a debt writes the words itself:
//   money_words(123456, kPortuguese) == "mil duzentos e trinta e quatro reais e cinquenta e
//                                        seis centavos"
//   money_words(123456, kEnglish)    == "one thousand two hundred thirty-four dollars and
//                                        fifty-six cents"
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace atende::flow {

enum class Language { kEnglish, kPortuguese };

// The language a flow speaks, from its espeak-ng voice: "pt", "pt-br", "pt-pt" -> Portuguese,
// anything else English.
Language language_of_voice(std::string_view voice);

// Largest number read in words; larger ones are left as digits by the callers.
constexpr int64_t kMaxSpokenNumber = 999'999'999'999;

// 0..kMaxSpokenNumber in words ("um milhão e duzentos mil", "one million two hundred
// thousand"); "" outside that range.
std::string spoken_number(int64_t n, Language language);

// An amount as written in a table or typed by a person, in cents: "1234.56", "1234,56",
// "1.234,56", "1,234.56", "R$ 1.234,56", "$ 20", "-" and other text -> nullopt. A single
// separator followed by exactly three digits is a thousands separator ("1.234" = 1234),
// otherwise it is the decimal mark; at most two decimals. Bounded by kMaxSpokenNumber units.
std::optional<int64_t> parse_amount_cents(std::string_view text);

// Cents as money words in the language's currency (reais/centavos, dollars/cents).
// "" when the amount is negative or too large.
std::string money_words(int64_t cents, Language language);

}  // namespace atende::flow
