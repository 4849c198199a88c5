#include "net/tls_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <map>
#include <mutex>

namespace atende::net {

namespace ssl = boost::asio::ssl;

std::shared_ptr<ssl::context> client_tls_context(const std::string& ca_file, std::string& error) {
  // Keyed by CA file: as many entries as configured files, never per connection.
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<ssl::context>> contexts;
  std::lock_guard lock(mu);
  if (auto it = contexts.find(ca_file); it != contexts.end()) return it->second;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->set_verify_mode(ssl::verify_peer);
  boost::system::error_code ec;
  if (ca_file.empty()) {
    ctx->set_default_verify_paths(ec);
    if (ec) {
      error = "cannot load the system's CA certificates: " + ec.message();
      return nullptr;
    }
  } else {
    ctx->load_verify_file(ca_file, ec);
    if (ec) {
      error = "cannot load the CA file " + ca_file + ": " + ec.message();
      return nullptr;
    }
  }
  contexts.emplace(ca_file, ctx);
  return ctx;
}

std::string expect_peer(SSL* ssl, const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  if (!ec) {
    // An address: no SNI (RFC 6066 allows names only); the certificate must list it.
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) != 1) {
      return "cannot check the address " + host;
    }
    return {};
  }
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) return "cannot set SNI to " + host;
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (SSL_set1_host(ssl, host.c_str()) != 1) return "cannot check the name " + host;
  return {};
}

std::string describe_tls_failure(SSL* ssl, const boost::system::error_code& ec) {
  const long verdict = SSL_get_verify_result(ssl);
  if (verdict != X509_V_OK) {
    return std::string("tls: certificate rejected: ") + X509_verify_cert_error_string(verdict);
  }
  return "tls handshake: " + ec.message();
}

}  // namespace atende::net
