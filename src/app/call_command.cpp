#include "app/call_command.h"

#include <curl/curl.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace atende::app {
namespace {

size_t append(char* data, size_t size, size_t n, void* out) {
  auto* s = static_cast<std::string*>(out);
  if (s->size() < 64 * 1024) s->append(data, size * n);
  return size * n;
}

}  // namespace

int run_call_command(const CallCommand& cmd) {
  std::string token = cmd.token;
  if (token.empty()) {
    const char* env = std::getenv("ATENDE_TOKEN");
    token = env ? env : "";
  }
  if (token.empty()) {
    std::fprintf(stderr, "atende call: no API token (--token or ATENDE_TOKEN)\n");
    return 2;
  }
  if (cmd.flow.empty() == cmd.persona.empty()) {
    std::fprintf(stderr, "atende call: give exactly one of --flow and --persona\n");
    return 2;
  }
  nlohmann::json body = {{"to", cmd.to}};
  if (!cmd.flow.empty()) body["flow"] = cmd.flow;
  if (!cmd.persona.empty()) body["persona"] = cmd.persona;
  if (!cmd.trunk.empty()) body["trunk"] = cmd.trunk;
  if (!cmd.caller_id.empty()) body["caller_id"] = cmd.caller_id;
  if (cmd.ring_timeout > 0) body["ring_timeout"] = cmd.ring_timeout;
  if (!cmd.variables.empty()) body["variables"] = cmd.variables;
  const std::string text = body.dump();
  const std::string url = cmd.api + "/api/calls";
  const std::string auth = "Authorization: Bearer " + token;

  CURL* curl = curl_easy_init();
  if (!curl) return 1;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, auth.c_str());
  std::string reply;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, text.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    std::fprintf(stderr, "atende call: cannot reach %s: %s\n", url.c_str(), curl_easy_strerror(rc));
    return 1;
  }
  auto json = nlohmann::json::parse(reply, nullptr, false);
  if (status == 202 && json.is_object() && json.contains("id")) {
    std::printf("%s\n", json["id"].get<std::string>().c_str());
    return 0;
  }
  const std::string why = json.is_object() && json.contains("error") && json["error"].is_string()
                              ? json["error"].get<std::string>()
                              : reply.substr(0, 300);
  std::fprintf(stderr, "atende call: refused (%ld): %s\n", status, why.c_str());
  return 1;
}

}  // namespace atende::app
