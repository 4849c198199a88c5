#include "call/call_host.h"

#include <spdlog/spdlog.h>

namespace atende::call {

void CallHost::post(std::function<void()> fn) {
  call_.leg->worker().post([alive = alive_, fn = std::move(fn)] {
    if (*alive) fn();
  });
}

void CallHost::record_event(std::string_view kind, std::string_view detail) {
  // Flow events are in the call record; the log keeps them at debug so a busy server logs
  // two lines per call (answered, ended) at info.
  spdlog::debug("call={} event={} {}", call_.info.id, kind, detail);
  store_.add_event(call_.info.id, std::chrono::system_clock::now(), std::string(kind),
                   std::string(detail));
}

void CallHost::record_digits(std::string_view digits) {
  store_.set_digits(call_.info.id, std::string(digits));
}

}  // namespace atende::call
