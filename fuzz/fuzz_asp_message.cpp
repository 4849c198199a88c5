// The ASP control-message parser (docs/asp.md) on arbitrary text, and the checks that run on
// what it accepts (version, session id); a message it accepts must survive being written
// back by our own writers and parsed again.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "asp/message.h"

using namespace atende::asp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Message m;
  const ParseResult r = parse_message(text, m);
  if (!r.ok()) {
    (void)error_code(r.error);
    (void)close_code(r.error);
    return 0;
  }
  (void)version_major(m.version);
  std::string id;
  (void)parse_session_id(m.session_id, id);
  if (m.type == Type::kSessionStart) {
    // Round trip: what we would send for it parses back to the same audio.
    Message again;
    if (!parse_message(
             session_start_json(m.session_id, m.audio, m.silence_threshold_ms, m.from, m.to), again)
             .ok()) {
      // Our own writer may exceed the size limit only with long strings it cuts; never else.
      if (m.session_id.size() + m.from.size() + m.to.size() + m.audio.encoding.size() < 1024) {
        __builtin_trap();
      }
    } else if (again.audio.sample_rate != m.audio.sample_rate) {
      __builtin_trap();
    }
  }
  if (m.type == Type::kDtmf && !valid_digit(m.digit)) __builtin_trap();
  (void)error_json(Error::kInvalidMessage, m.reason);
  (void)session_end_json(m.reason);
  return 0;
}
