// Which destinations an API client may dial. Pure functions, no I/O: the REST API checks a
// request's `to` against the calling token's patterns before anything reaches CallControl.
//
// Patterns (docs/api.md "Allow-list"):
//   2302                      exactly that number
//   +5511*                    a trailing '*' is a prefix match ("+5511" and anything after)
//   2xxx                      'x' stands for one digit (0-9)
//   sip:support@pbx.example   a SIP URI, matched exactly
//   sip:support@*             a SIP URI prefix (only a trailing '*'); "sip:*" is any URI
//   *                         any number (not SIP URIs): an explicit, deliberate choice
// Spaces, dashes, parentheses and dots are ignored in numbers and number patterns alike.
// An empty list allows nothing: that is the default for a token.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace atende::api {

constexpr size_t kMaxNumberDigits = 64;        // after normalisation
constexpr size_t kMaxDestinationLength = 256;  // as received (a URI or a formatted number)

// A destination in the one form matching uses: a number reduced to '+' (first only), digits,
// '*' and '#', or a SIP URI ("sip:" / "sips:", scheme lower-cased) kept as is.
// nullopt with `error` set (a message for a 400 reply; it never echoes the input) when the
// destination is empty, too long, has other characters, or a URI holds spaces or controls.
std::optional<std::string> normalize_destination(std::string_view raw, std::string& error);

bool is_sip_uri(std::string_view s);          // starts with "sip:" or "sips:" (any case)
bool is_uri_destination(std::string_view s);  // a SIP URI or "audiosocket:HOST:PORT"

class NumberAllowList {
 public:
  NumberAllowList() = default;  // allows nothing

  // Throws std::invalid_argument naming the bad pattern and why.
  static NumberAllowList compile(const std::vector<std::string>& patterns);

  // `destination` must come from normalize_destination().
  bool allows(std::string_view destination) const;
  bool empty() const { return patterns_.empty(); }

 private:
  struct Pattern {
    std::string text;     // normalised; for numbers 'x' is "any digit"
    bool prefix = false;  // had a trailing '*'
    bool uri = false;
  };
  static bool matches(const Pattern& p, std::string_view destination);

  std::vector<Pattern> patterns_;
};

}  // namespace atende::api
