// Small bounded text helpers shared by the SDP parser and builders (internal to sip/).
#pragma once
#include <optional>
#include <string_view>

#include "core/ascii.h"
#include "sip/sdp.h"

namespace atende::sip::sdp_text {

// Decimal digits only (no sign, no spaces), value within [min, max], at most 10 digits.
std::optional<long long> parse_int(std::string_view s, long long min, long long max);
// Splits off the first space-separated token; `rest` gets what follows the single space.
std::string_view next_token(std::string_view& rest);
// "IP4"/"IP6" plus a numeric literal of that family; nullopt when not exactly that.
std::optional<ConnectionAddress> parse_address(std::string_view addrtype, std::string_view addr);
// Guesses the family from a numeric literal (':' means IPv6); nullopt if not a literal.
std::optional<ConnectionAddress> address_from_literal(std::string_view addr);

}  // namespace atende::sip::sdp_text
