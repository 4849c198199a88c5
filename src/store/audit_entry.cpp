#include "store/audit_entry.h"

#include <nlohmann/json.hpp>

namespace atende::store {

nlohmann::json to_json(const AuditEntry& e) {
  return {{"id", e.id},         {"at", format_iso8601(e.at)}, {"token", e.token_name},
          {"source", e.source}, {"method", e.method},         {"path", e.path},
          {"status", e.status}, {"detail", e.detail}};
}

}  // namespace atende::store
