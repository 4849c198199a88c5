// A hostile provider's chat stream: bytes → SSE parser → chat-completion decoder → sentence
// splitter. Must never crash or grow beyond the limits, must give the same events however
// the bytes are chunked, and the splitter must neither lose nor invent text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "llm/chat_stream.h"
#include "llm/sentence_splitter.h"
#include "llm/sse_parser.h"

namespace {

using namespace atende::llm;

std::vector<std::string> events(std::string_view input, size_t chunk) {
  SseParser p({.max_line_bytes = 4096, .max_event_bytes = 8192});
  std::vector<std::string> out;
  for (size_t i = 0; i < input.size(); i += chunk) {
    p.feed(input.substr(i, chunk), [&](const SseEvent& e) {
      if (e.data.size() > 8192) std::abort();
      out.push_back(e.data);
    });
  }
  p.finish();
  return out;
}

std::string without_space(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') out.push_back(c);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t chunk = 1 + data[0] % 17;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto whole = events(input, input.size() + 1);
  if (events(input, chunk) != whole) std::abort();

  ChatStreamLimits limits{.max_text_bytes = 2048, .max_tool_calls = 4, .max_argument_bytes = 1024};
  SentenceSplitter splitter({.soft_max_chars = 40, .hard_max_chars = 80, .abbreviations = {}});
  std::string spoken;
  auto emit = [&](std::string s) {
    if (s.empty()) std::abort();
    spoken += s;
  };
  ChatStreamDecoder decoder({[&](std::string_view d) { splitter.push(d, emit); },
                             [&](const ToolCall& c) {
                               if (c.name.empty() || c.arguments.size() > 1024) std::abort();
                               (void)parse_arguments(c);
                             }},
                            limits);
  for (const auto& e : whole) {
    if (decoder.on_data(e) != ChatStreamDecoder::Status::Continue) break;
  }
  decoder.on_end();
  splitter.flush(emit);
  if (decoder.text().size() > 2048 || decoder.tool_calls().size() > 4) std::abort();
  if (without_space(spoken) != without_space(decoder.text())) std::abort();
  return 0;
}
