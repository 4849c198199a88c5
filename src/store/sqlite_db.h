// Thin RAII wrapper over the SQLite C API: a connection, prepared statements, and errors
// as StoreError exceptions carrying SQLite's message. Not thread-safe: one owner at a time.
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace atende::store {

class StoreError : public std::runtime_error {
 public:
  explicit StoreError(const std::string& what, int code = SQLITE_ERROR)
      : std::runtime_error(what), code_(code) {}
  // SQLite's (extended) result code; SQLITE_ERROR when the error is not SQLite's.
  int code() const { return code_; }
  // The database could not be written for now (locked, busy, disk full, I/O error, read
  // only): the same writes may succeed later, so the writer keeps them and tries again.
  bool transient() const;

 private:
  int code_;
};

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Bind by 1-based index. Text is copied by SQLite (SQLITE_TRANSIENT).
  Statement& bind(int i, std::string_view text);
  Statement& bind(int i, int64_t v);
  Statement& bind_null(int i);
  Statement& bind(int i, const std::optional<int64_t>& v);

  // Steps once: true when a row is available, false when done. Throws on error.
  bool step();
  // Runs to completion (for INSERT/UPDATE) and resets for reuse.
  void run();
  void reset();

  int64_t column_int(int col) const;
  std::string column_text(int col) const;
  bool column_is_null(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Database {
 public:
  // Opens (creating if asked) the file; throws StoreError with the path and reason.
  Database(const std::string& path, bool create);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(std::string_view sql);
  sqlite3* handle() const { return db_; }
  int changes() const { return sqlite3_changes(db_); }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace atende::store
