// The client side of TLS for net/ws_connection (wss://): one OpenSSL context per CA file,
// made once and shared by every connection that trusts it (loading the system store costs
// milliseconds: not per connection), the per-connection checks (the peer's certificate
// must name the host we dialled) and readable reasons when a handshake fails.
#pragma once
#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <string>

typedef struct ssl_st SSL;

namespace atende::net {

// A client context that verifies the peer against `ca_file` (PEM), or against the system's
// store when it is empty; TLS 1.2 at least. Null with `error` set when the CAs cannot be
// loaded. Any thread.
std::shared_ptr<boost::asio::ssl::context> client_tls_context(const std::string& ca_file,
                                                              std::string& error);

// Before the handshake: SNI and the name (or address) the certificate must carry. Empty
// string on success, else why not.
std::string expect_peer(SSL* ssl, const std::string& host);

// Why the handshake of `ssl` failed with `ec`, for the connection's end reason: the
// certificate check's verdict when it was that, else OpenSSL's error.
std::string describe_tls_failure(SSL* ssl, const boost::system::error_code& ec);

}  // namespace atende::net
