// Any bytes as a persona file (with its http_tools: JSON Schemas written as YAML, ${ENV}
// references, headers): must load or throw std::invalid_argument with a message, never
// crash, hang, leak or throw anything else. Anything that loads has valid tool specs.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "agent/persona.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const atende::agent::Persona p = atende::agent::parse_persona(text);
    for (const auto& t : p.settings.http_tools) {
      if (!atende::llm::validate_tool_spec(t.spec).empty()) std::abort();
      if (t.url.rfind("http", 0) != 0) std::abort();
    }
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
