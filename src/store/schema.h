// The call-store schema and its migrations. Each migration runs once, in its own
// transaction, and bumps schema_version; a database from a newer atende is refused
// rather than written with a schema we do not understand.
#pragma once
#include "store/sqlite_db.h"

namespace atende::store {

constexpr int kSchemaVersion = 5;

// Sets the connection pragmas (WAL, synchronous=NORMAL, busy timeout) and migrates to
// kSchemaVersion. Throws StoreError.
void open_schema(Database& db, int busy_timeout_ms);

// Reads the version recorded in schema_version (0 for an empty database).
int read_schema_version(Database& db);

}  // namespace atende::store
