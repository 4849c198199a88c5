// `atende db migrate [--dry-run]` and `atende db backup DEST` (docs/operations.md): thin
// command-line faces of store/db_admin.h that print what they did and return the exit code
// (0 done, 1 failed with a message on `err`).
#pragma once
#include <ostream>
#include <string>

namespace atende::app {

int run_db_migrate(const std::string& db_path, bool dry_run, std::ostream& out, std::ostream& err);
int run_db_backup(const std::string& db_path, const std::string& dest, std::ostream& out,
                  std::ostream& err);

}  // namespace atende::app
