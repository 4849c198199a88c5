// A hostile Realtime server's text messages: the event parser must never crash, and what it
// accepts stays within its bounds (ids, texts, audio as whole samples).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "realtime/realtime_events.h"

using namespace atende::realtime;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string why;
  const auto e = parse_server_event(text, &why);
  if (!e) {
    if (why.empty()) std::abort();
    return 0;
  }
  if (e->type_name.empty() || e->type_name.size() > kMaxIdBytes) std::abort();
  for (const auto* s :
       {&e->response_id, &e->item_id, &e->call_id, &e->name, &e->status, &e->code}) {
    if (s->size() > kMaxIdBytes) std::abort();
  }
  if (e->text.size() > kMaxTextBytes) std::abort();
  if (e->pcm.size() * 2 > size) std::abort();
  if (e->type == EventType::kFunctionCall && (e->call_id.empty() || e->name.empty())) std::abort();
  return 0;
}
