#include "speech/extra_words.h"

namespace atende::speech {

namespace {
constexpr ExtraWord kWords[] = {
    // flows/ura.yaml's menu words
    {"vendas", "V EH N D AH S"},
    {"venda", "V EH N D AH"},
    {"suporte", "S UW P AO R CH IY"},
    {"ajuda", "AH ZH UW D AH"},
    {"teste", "T EH S CH IY"},
    {"telefonista", "T EH L EH F OW N IY S T AH"},
    {"atendente", "AH T EH N D EH N CH IY"},
    // Portuguese digit words cmudict lacks (it has "zero", "um", "uma", "cinco", "seis")
    {"dois", "D OY S"},
    {"duas", "D UW AH S"},
    {"tres", "T R EY S"},
    {"quatro", "K W AA T R UW"},
    {"sete", "S EH CH IY"},
    {"oito", "OY T UW"},
    {"nove", "N AO V IY"},
};
}  // namespace

std::span<const ExtraWord> builtin_extra_words() { return kWords; }

}  // namespace atende::speech
