#include "net/multipart.h"

#include <random>

namespace atende::net {
namespace {

std::string quoted(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c == '"' || c == '\r' || c == '\n' || c == '\\') c = '_';
  return out;
}

std::string random_boundary() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string b = "----atende-";
  for (int i = 0; i < 32; ++i) b += kHex[rng() % 16];
  return b;
}

}  // namespace

void Multipart::add_field(std::string_view name, std::string_view value) {
  parts_.push_back(
      {"Content-Disposition: form-data; name=\"" + quoted(name) + "\"\r\n", std::string(value)});
}

void Multipart::add_file(std::string_view name, std::string_view filename,
                         std::string_view content_type, std::string_view data) {
  parts_.push_back({"Content-Disposition: form-data; name=\"" + quoted(name) + "\"; filename=\"" +
                        quoted(filename) + "\"\r\nContent-Type: " + quoted(content_type) + "\r\n",
                    std::string(data)});
}

std::string Multipart::finish() {
  for (;;) {
    boundary_ = random_boundary();
    bool clash = false;
    for (const auto& p : parts_) clash = clash || p.data.find(boundary_) != std::string::npos;
    if (!clash) break;
  }
  std::string body;
  size_t size = 0;
  for (const auto& p : parts_) size += p.headers.size() + p.data.size() + boundary_.size() + 8;
  body.reserve(size + boundary_.size() + 8);
  for (const auto& p : parts_) {
    body += "--" + boundary_ + "\r\n" + p.headers + "\r\n";
    body += p.data;
    body += "\r\n";
  }
  body += "--" + boundary_ + "--\r\n";
  parts_.clear();
  return body;
}

std::string Multipart::content_type() const { return "multipart/form-data; boundary=" + boundary_; }

}  // namespace atende::net
