// One row of the API audit log: who asked for what over the REST API and what they got.
// Written for every API write, refused or not (docs/api.md "Audit log").
#pragma once
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "store/call_record.h"

namespace atende::store {

struct AuditEntry {
  int64_t id = 0;  // set when read back; ignored on write
  WallTime at;
  std::string token_name;  // empty: no valid token was presented
  std::string source;      // the client's IP address
  std::string method;
  std::string path;    // without the query string
  int status = 0;      // the HTTP status we answered
  std::string detail;  // what was asked ("to=+5511... flow=menu"), never a secret or a body
};

// {"id", "at" (ISO-8601), "token", "source", "method", "path", "status", "detail"}
nlohmann::json to_json(const AuditEntry& entry);

}  // namespace atende::store
