// Call ids: ours, not SIP's. Sortable by start time, unique within the process and across
// restarts ("c" + 11 hex digits of unix ms + 5 of a process-wide counter). Every leg gets
// one, whichever transport brought it; it is the store's key.
#pragma once
#include <string>

namespace atende {

std::string new_call_id();

}  // namespace atende
