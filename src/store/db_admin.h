// Offline and online care of the call database, for `atende db migrate` and `atende db
// backup` (docs/operations.md). Both work while a server runs on the same file: migrations
// take SQLite's write lock (BEGIN IMMEDIATE) like the server's own start-up, and a backup
// copies one consistent snapshot through SQLite's online backup API.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "store/sqlite_db.h"

namespace atende::store {

struct MigrationStatus {
  int current = 0;           // the version recorded in the file
  int latest = 0;            // what this atende brings it to (kSchemaVersion)
  std::vector<int> pending;  // target versions still to apply, in order (current+1..latest)
};

// Reads the version without changing anything. Throws StoreError when the file is missing
// or not a database, or is newer than this atende.
MigrationStatus migration_status(const std::string& path);

// Applies the pending migrations (the same code the server runs at start-up) and returns
// the status as it was before. Throws StoreError as migration_status does.
MigrationStatus migrate_database(const std::string& path);

struct BackupResult {
  std::string path;  // the file written
  int64_t bytes = 0;
  int schema_version = 0;
};

// Copies the database at `source` to `dest` in one pass of sqlite3_backup_step, which reads
// a single snapshot: writers (a running server) go on meanwhile, in WAL mode unblocked. The
// copy is written beside `dest` and renamed into place once it passed quick_check, so
// `dest` is never a half-written file; it is a self-contained file (no -wal). `dest` may be
// a directory: the file is then atende-YYYYMMDDTHHMMSSZ.db in it. An existing file is never
// overwritten. Throws StoreError naming what went wrong.
BackupResult backup_database(const std::string& source, const std::string& dest);

}  // namespace atende::store
