// A hostile streaming-STT server's text messages (OpenAI Realtime transcription events and
// Deepgram-style listen results): the parsers must never crash, and what they accept stays
// within their bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "speech/stt_wire.h"

using namespace atende::speech::wire;

namespace {
void check(const std::optional<Event>& e, const std::string& why) {
  if (!e) {
    if (why.empty()) std::abort();
    return;
  }
  if (e->type_name.empty() || e->type_name.size() > kMaxIdBytes) std::abort();
  if (e->item_id.size() > kMaxIdBytes || e->code.size() > kMaxIdBytes) std::abort();
  if (e->text.size() > kMaxTranscriptBytes || e->message.size() > kMaxTranscriptBytes) std::abort();
  if (!(e->confidence >= 0 && e->confidence <= 1)) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string why;
  check(parse_openai_stt_event(text, &why), why);
  why.clear();
  check(parse_listen_event(text, &why), why);
  return 0;
}
