// The call-store schema and its migrations. Each migration runs once, in its own
// transaction, and bumps schema_version; a database from a newer atende is refused
// rather than written with a schema we do not understand.
#pragma once
#include <span>

#include "store/sqlite_db.h"

namespace atende::store {

constexpr int kSchemaVersion = 7;

// One step of the schema: migrations()[i] brings version i to i + 1.
struct Migration {
  const char* summary;  // one line for `atende db migrate --dry-run`
  const char* sql;
};
std::span<const Migration> migrations();

// Applies the migrations from the recorded version up to `target` in one transaction and
// returns the version found before. Throws StoreError for a database newer than
// kSchemaVersion or a target outside 0..kSchemaVersion. Tests use a lower target to build
// the schema of an earlier release from this very list.
int migrate_schema(Database& db, int target);

// Sets the connection pragmas (WAL, synchronous=NORMAL, busy timeout) and migrates to
// kSchemaVersion. Throws StoreError.
void open_schema(Database& db, int busy_timeout_ms);

// Reads the version recorded in schema_version (0 for an empty database or one without
// the table).
int read_schema_version(Database& db);

}  // namespace atende::store
