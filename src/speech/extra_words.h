// Words the embedded recogniser's en-us dictionary lacks but the shipped flows listen for:
// the Portuguese words of the URA menu (flows/ura.yaml) and the Portuguese digit words.
// Debian has no pt-br acoustic model, so they are written in the en-us model's phones, as
// close as its phone set allows (Brazilian "te" as CH IY, "j" as ZH). An approximation:
// docs/stt.md has what it measured.
#pragma once
#include <span>
#include <string_view>

namespace atende::speech {

struct ExtraWord {
  std::string_view word;    // lowercase ASCII, as grammar phrases are written ("tres")
  std::string_view phones;  // en-us phones ("T R EY S")
};

std::span<const ExtraWord> builtin_extra_words();

}  // namespace atende::speech
