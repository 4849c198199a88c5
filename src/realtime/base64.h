// Base64 for the Realtime API's audio payloads: the shared codec of net/base64.h.
#pragma once
#include "net/base64.h"

namespace atende::realtime {
using net::base64_append;
using net::base64_decode;
}  // namespace atende::realtime
