#include "core/call_id.h"

#include <atomic>
#include <chrono>
#include <cstdio>

namespace atende {

std::string new_call_id() {
  static std::atomic<unsigned long long> counter{0};
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  char buf[48];
  std::snprintf(buf, sizeof buf, "c%011llx%05llx", static_cast<unsigned long long>(ms),
                counter.fetch_add(1) & 0xfffff);
  return buf;
}

}  // namespace atende
