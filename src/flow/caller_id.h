// The caller's number (or user name) from the SIP From URI, so a flow can find the caller
// in a table before asking anything: a collections flow looks the debtor up by "{caller}".
#pragma once
#include <string>
#include <string_view>

namespace atende::flow {

// The user part of a SIP/SIPS/tel URI: "sip:+5511987654321@host;user=phone" ->
// "+5511987654321", "tel:+55-11-98765-4321" -> "+5511987654321" (visual separators
// dropped), "sip:alice@host" -> "alice". "" when there is no user part, or it is longer
// than 64 characters or holds anything but letters, digits and + * # . _ - (a hostile From
// must not reach a prompt or a table lookup as it is). Percent-escapes are not decoded.
std::string caller_user(std::string_view from_uri);

}  // namespace atende::flow
