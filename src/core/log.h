// Logging set-up: spdlog, plain text or one JSON object per line (--log-format json).
// Call events are logged as "call=<id> event=<name> key=value ..." so both formats carry
// the call id in a greppable way.
#pragma once
#include <spdlog/spdlog.h>

#include <string_view>

namespace atende {

enum class LogFormat { text, json };

// Installs the default logger on stderr in the given format and level ("info", "debug"...).
void setup_logging(LogFormat format, std::string_view level);

}  // namespace atende
