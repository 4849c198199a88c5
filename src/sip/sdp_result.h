// Result type shared by the SDP parser, negotiator and builders: a value or an error that
// says what was wrong and how the SIP layer should answer it. No exceptions cross this API.
#pragma once
#include <string>
#include <utility>
#include <variant>

namespace atende::sip {

enum class SdpErrc {
  kMalformed,      // not valid SDP (or a value out of range): answer 400
  kTooLarge,       // over a size/count limit: answer 400 (or 413 for the whole body)
  kNotAcceptable,  // valid SDP but nothing we can use (no audio, no common codec): 488
  kBadLocal,       // our own parameters are wrong (e.g. local address not an IP literal)
};

struct SdpError {
  SdpErrc code = SdpErrc::kMalformed;
  // Fixed text plus, at most, a line number. Never echoes the hostile input.
  std::string message;
};

template <typename T>
class SdpResult {
 public:
  SdpResult(T value) : state_(std::move(value)) {}         // NOLINT: implicit by design
  SdpResult(SdpError error) : state_(std::move(error)) {}  // NOLINT
  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<0>(state_); }
  T& value() & { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  const SdpError& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, SdpError> state_;
};

inline SdpError sdp_error(SdpErrc code, std::string message) {
  return SdpError{code, std::move(message)};
}

}  // namespace atende::sip
