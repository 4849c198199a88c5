#include "app/db_command.h"

#include "store/db_admin.h"
#include "store/schema.h"

namespace atende::app {

int run_db_migrate(const std::string& db_path, bool dry_run, std::ostream& out, std::ostream& err) {
  try {
    const auto status =
        dry_run ? store::migration_status(db_path) : store::migrate_database(db_path);
    if (status.pending.empty()) {
      out << db_path << ": schema version " << status.current << ", up to date\n";
      return 0;
    }
    if (dry_run) {
      out << db_path << ": schema version " << status.current << "; " << status.pending.size()
          << " pending migration(s) to version " << status.latest << ":\n";
      for (int v : status.pending) {
        out << "  " << v << ": " << store::migrations()[static_cast<size_t>(v - 1)].summary << "\n";
      }
      return 0;
    }
    out << db_path << ": schema version " << status.current << " -> " << status.latest
        << " (applied";
    for (int v : status.pending) out << " " << v;
    out << ")\n";
    return 0;
  } catch (const std::exception& e) {
    err << "atende db migrate: " << e.what() << "\n";
    return 1;
  }
}

int run_db_backup(const std::string& db_path, const std::string& dest, std::ostream& out,
                  std::ostream& err) {
  try {
    const auto r = store::backup_database(db_path, dest);
    out << db_path << " -> " << r.path << " (" << r.bytes << " bytes, schema version "
        << r.schema_version << ")\n";
    return 0;
  } catch (const std::exception& e) {
    err << "atende db backup: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace atende::app
