// Base64 (RFC 4648, standard alphabet, padded): the audio payloads of the OpenAI Realtime
// API (speech-to-speech and transcription sessions).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace atende::net {

// Appends the encoding of `bytes` to `out`.
void base64_append(std::span<const uint8_t> bytes, std::string& out);

// Decodes `text` into `out` (replacing it). False for a character outside the alphabet, a
// length that is not a multiple of 4 or misplaced padding: untrusted input is refused, not
// guessed at.
bool base64_decode(std::string_view text, std::vector<uint8_t>& out);

}  // namespace atende::net
