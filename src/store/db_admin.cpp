#include "store/db_admin.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>

#include "store/schema.h"

namespace atende::store {
namespace {

namespace fs = std::filesystem;

constexpr int kBusyTimeoutMs = 5000;
constexpr int kBackupRetries = 50;  // of 100 ms each, while the source is locked

// Opens an existing database: a missing file is an error here, never a new empty database
// (a typo in --data-dir must not look like a fresh install).
std::unique_ptr<Database> open_existing(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw StoreError("no call database at " + path + " (wrong --data-dir?)");
  }
  auto db = std::make_unique<Database>(path, false);
  sqlite3_busy_timeout(db->handle(), kBusyTimeoutMs);
  // Reading the schema is what tells a database from any other file.
  db->exec("SELECT count(*) FROM sqlite_master");
  return db;
}

MigrationStatus status_of(Database& db) {
  MigrationStatus s;
  s.current = read_schema_version(db);
  s.latest = kSchemaVersion;
  if (s.current > s.latest) {
    throw StoreError("call store schema version " + std::to_string(s.current) +
                     " is newer than this atende understands (" + std::to_string(s.latest) + ")");
  }
  for (int v = s.current + 1; v <= s.latest; ++v) s.pending.push_back(v);
  return s;
}

std::string utc_stamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

MigrationStatus migration_status(const std::string& path) {
  auto db = open_existing(path);
  return status_of(*db);
}

MigrationStatus migrate_database(const std::string& path) {
  auto db = open_existing(path);
  const MigrationStatus before = status_of(*db);
  if (!before.pending.empty()) open_schema(*db, kBusyTimeoutMs);
  return before;
}

BackupResult backup_database(const std::string& source, const std::string& dest) {
  auto src = open_existing(source);
  std::error_code ec;
  fs::path target = dest;
  if (fs::is_directory(target, ec)) target /= "atende-" + utc_stamp() + ".db";
  if (fs::exists(target, ec)) {
    throw StoreError("backup: " + target.string() + " exists; not overwriting it");
  }
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (!fs::is_directory(parent, ec)) {
    throw StoreError("backup: " + parent.string() + " is not a directory");
  }
  const fs::path partial = target.string() + ".partial-" + std::to_string(::getpid());
  fs::remove(partial, ec);

  BackupResult result;
  try {
    {
      Database out(partial.string(), true);
      sqlite3_backup* backup = sqlite3_backup_init(out.handle(), "main", src->handle(), "main");
      if (!backup) {
        throw StoreError("backup: " + std::string(sqlite3_errmsg(out.handle())),
                         sqlite3_extended_errcode(out.handle()));
      }
      // -1: every page in one step, so the copy is one read snapshot of the source. Steps
      // of a few pages would restart whenever the server commits (its heartbeat commits
      // every second), and a large database might never finish.
      int rc = sqlite3_backup_step(backup, -1);
      for (int tries = 0; (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && tries < kBackupRetries;
           ++tries) {
        sqlite3_sleep(100);
        rc = sqlite3_backup_step(backup, -1);
      }
      sqlite3_backup_finish(backup);
      if (rc != SQLITE_DONE) {
        throw StoreError("backup: copying " + source + " failed: " + sqlite3_errstr(rc), rc);
      }
      // The copy's header says WAL like the source: make it one self-contained file.
      out.exec("PRAGMA journal_mode=DELETE");
      Statement check(out.handle(), "PRAGMA quick_check");
      if (!check.step() || check.column_text(0) != "ok") {
        throw StoreError("backup: the copy fails quick_check: " + check.column_text(0));
      }
      result.schema_version = read_schema_version(out);
    }
    fs::rename(partial, target);
  } catch (...) {
    fs::remove(partial, ec);
    throw;
  }
  result.path = target.string();
  result.bytes = static_cast<int64_t>(fs::file_size(target, ec));
  return result;
}

}  // namespace atende::store
