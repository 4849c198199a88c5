// The `atende calls` table: the newest calls, one line each, for a terminal.
#pragma once
#include <ostream>

#include "store/call_store.h"

namespace atende::store {

// Prints up to `limit` calls, newest first, as a fixed-width table. Long fields are cut
// with "~" and control bytes from the network are shown as '?', so a hostile From header
// cannot mess up the terminal.
void print_calls(CallStore& store, std::ostream& out, int limit);

}  // namespace atende::store
