// Upgrades from every earlier schema version: each old schema is built from the migration
// list itself (migrate_schema to version v), every table of it is filled with rows made
// from its own column list, and then the database is opened the way the server opens it.
// No row may be lost and no old column's value may change; the call store must read the
// old calls. Also `db migrate --dry-run`, and the online backup, with a writer running.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "store/call_store.h"
#include "store/db_admin.h"
#include "store/schema.h"
#include "store/sqlite_db.h"

namespace atende::store {
namespace {

namespace fs = std::filesystem;

constexpr int kRowsPerTable = 7;

struct Column {
  std::string name;
  std::string type;
  bool not_null = false;
};

std::vector<std::string> tables(Database& db) {
  std::vector<std::string> out;
  Statement s(db.handle(),
              "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
              "AND name != 'schema_version' ORDER BY name");
  while (s.step()) out.push_back(s.column_text(0));
  return out;
}

std::vector<Column> columns(Database& db, const std::string& table) {
  std::vector<Column> out;
  Statement s(db.handle(), "PRAGMA table_info(" + table + ")");
  while (s.step()) out.push_back({s.column_text(1), s.column_text(2), s.column_int(3) != 0});
  return out;
}

// A value of the column's type that differs per row; ids and times stay plausible so the
// call store can read the rows back (started_at in unix ms, 'c...' ids).
std::string value_for(const Column& c, int row) {
  if (c.type == "INTEGER") {
    if (c.name == "id") return std::to_string(row + 1);
    return std::to_string(1'700'000'000'000LL + row * 1000);
  }
  if (c.name == "direction") return "'inbound'";
  return "'" + c.name + "-" + std::to_string(row) + "'";
}

// Inserts up to kRowsPerTable rows; a table whose constraints allow fewer (store_heartbeat
// holds one row) keeps what it took. Returns the rows inserted.
int fill(Database& db, const std::string& table) {
  const auto cols = columns(db, table);
  int inserted = 0;
  for (int row = 0; row < kRowsPerTable; ++row) {
    std::string names, values;
    for (const auto& c : cols) {
      names += (names.empty() ? "" : ", ") + c.name;
      values += (values.empty() ? "" : ", ") + value_for(c, row);
    }
    try {
      db.exec("INSERT INTO " + table + " (" + names + ") VALUES (" + values + ")");
      ++inserted;
    } catch (const StoreError&) {
      break;  // a CHECK or UNIQUE constraint: this table holds no more
    }
  }
  return inserted;
}

// Every row of `table`, the given columns only, in a stable order, as text.
std::vector<std::string> dump(Database& db, const std::string& table,
                              const std::vector<Column>& cols) {
  std::string list;
  for (const auto& c : cols)
    list += (list.empty() ? "" : " || '|' || ") + ("quote(" + c.name + ")");
  std::vector<std::string> rows;
  Statement s(db.handle(), "SELECT " + list + " FROM " + table + " ORDER BY 1");
  while (s.step()) rows.push_back(s.column_text(0));
  return rows;
}

class MigrationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("atende-migrations-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

TEST_F(MigrationsTest, ListMatchesTheSchemaVersion) {
  ASSERT_EQ(migrations().size(), static_cast<size_t>(kSchemaVersion));
  for (const auto& m : migrations()) {
    EXPECT_NE(std::string(m.summary), "");
    EXPECT_NE(std::string(m.sql), "");
  }
}

TEST_F(MigrationsTest, UpgradesFromEveryEarlierVersionWithoutLosingARow) {
  for (int from = 1; from < kSchemaVersion; ++from) {
    SCOPED_TRACE("from schema version " + std::to_string(from));
    const std::string db_path = path("v" + std::to_string(from) + ".db");
    std::map<std::string, std::vector<Column>> old_columns;
    std::map<std::string, std::vector<std::string>> before;
    {
      Database db(db_path, true);
      ASSERT_EQ(migrate_schema(db, from), 0);
      ASSERT_EQ(read_schema_version(db), from);
      for (const auto& t : tables(db)) {
        old_columns[t] = columns(db, t);
        EXPECT_GT(fill(db, t), 0) << t;
        before[t] = dump(db, t, old_columns[t]);
      }
    }
    const auto status = migration_status(db_path);
    EXPECT_EQ(status.current, from);
    EXPECT_EQ(status.pending.size(), static_cast<size_t>(kSchemaVersion - from));
    {
      Database db(db_path, false);
      open_schema(db, 1000);  // what the server does at start-up
      EXPECT_EQ(read_schema_version(db), kSchemaVersion);
      for (const auto& [t, cols] : old_columns) {
        EXPECT_EQ(dump(db, t, cols), before[t]) << "table " << t << " changed";
      }
    }
    // The call store reads the old calls (newer columns get their defaults).
    CallStore store({.path = db_path});
    const auto calls = store.list_calls(1000, 0);
    EXPECT_EQ(calls.size(), before["calls"].size());
    ASSERT_FALSE(calls.empty());
    EXPECT_TRUE(store.get_call(calls.front().id).has_value());
  }
}

TEST_F(MigrationsTest, MigrateDatabaseAppliesPendingAndIsIdempotent) {
  const std::string db_path = path("old.db");
  {
    Database db(db_path, true);
    migrate_schema(db, 2);
  }
  auto first = migrate_database(db_path);
  EXPECT_EQ(first.current, 2);
  std::vector<int> pending;  // every version after 2, however many there are
  for (int v = 3; v <= kSchemaVersion; ++v) pending.push_back(v);
  EXPECT_EQ(first.pending, pending);
  auto again = migrate_database(db_path);
  EXPECT_EQ(again.current, kSchemaVersion);
  EXPECT_TRUE(again.pending.empty());
}

TEST_F(MigrationsTest, DryRunChangesNothing) {
  const std::string db_path = path("old.db");
  {
    Database db(db_path, true);
    migrate_schema(db, 1);
  }
  const auto status = migration_status(db_path);
  EXPECT_EQ(status.current, 1);
  Database db(db_path, false);
  EXPECT_EQ(read_schema_version(db), 1);
}

TEST_F(MigrationsTest, RefusesMissingFilesNonDatabasesAndNewerSchemas) {
  EXPECT_THROW(migration_status(path("missing.db")), StoreError);
  EXPECT_FALSE(fs::exists(path("missing.db")));  // never created by looking
  {
    std::ofstream junk(path("junk.db"));
    junk << "this is not a database, just text long enough to have a header.........";
  }
  EXPECT_THROW(migration_status(path("junk.db")), StoreError);
  {
    Database db(path("future.db"), true);
    migrate_schema(db, kSchemaVersion);
    db.exec("INSERT INTO schema_version(version) VALUES (999)");
  }
  try {
    migrate_database(path("future.db"));
    FAIL() << "a newer schema was accepted";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

TEST_F(MigrationsTest, BackupWhileAWriterCommitsIsConsistent) {
  const std::string db_path = path("live.db");
  CallStore store({.path = db_path, .own_database = true});
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    // Bounded: at most 5000 calls, whatever the backup does.
    for (int i = 0; i < 5000 && !stop; ++i) {
      const auto at = from_unix_ms(1'700'000'000'000 + i);
      store.call_started(CallStart{.id = "c" + std::to_string(i),
                                   .direction = CallDirection::kInbound,
                                   .from = "sip:a@x",
                                   .to = "sip:b@y",
                                   .leg_kind = "sip",
                                   .flow = "echo",
                                   .at = at});
      store.call_ended("c" + std::to_string(i), at, "caller hangup", 200);
      if (i % 50 == 0) store.flush();
      ++written;
    }
  });
  while (written < 200) std::this_thread::yield();
  const auto result = backup_database(db_path, path("copy.db"));
  stop = true;
  writer.join();

  EXPECT_EQ(result.path, path("copy.db"));
  EXPECT_EQ(result.schema_version, kSchemaVersion);
  EXPECT_GT(result.bytes, 0);
  EXPECT_FALSE(fs::exists(path("copy.db-wal")));
  Database copy(path("copy.db"), false);
  Statement check(copy.handle(), "PRAGMA integrity_check");
  ASSERT_TRUE(check.step());
  EXPECT_EQ(check.column_text(0), "ok");
  // A snapshot: every call in it is whole (its end was written in the same transaction or
  // a later one, so some may still be open, but none is missing its start).
  Statement count(copy.handle(), "SELECT count(*) FROM calls");
  ASSERT_TRUE(count.step());
  EXPECT_GT(count.column_int(0), 0);
}

TEST_F(MigrationsTest, BackupRefusesToOverwriteAndNamesFilesInADirectory) {
  const std::string db_path = path("a.db");
  { CallStore store({.path = db_path}); }
  backup_database(db_path, path("b.db"));
  EXPECT_THROW(backup_database(db_path, path("b.db")), StoreError);
  EXPECT_THROW(backup_database(db_path, path("no/such/dir/c.db")), StoreError);
  EXPECT_THROW(backup_database(path("missing.db"), path("d.db")), StoreError);
  fs::create_directories(path("backups"));
  const auto r = backup_database(db_path, path("backups"));
  EXPECT_EQ(fs::path(r.path).parent_path(), fs::path(path("backups")));
  EXPECT_EQ(fs::path(r.path).filename().string().rfind("atende-", 0), 0u);
  // No partial file is left behind by a refused or finished backup.
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().string().find(".partial-"), std::string::npos) << e.path();
  }
}

}  // namespace
}  // namespace atende::store
