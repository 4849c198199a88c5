// The files sofia-sip's TLS transport reads. Its tport takes a *directory* (TPTAG_CERTIFICATE)
// holding agent.pem (private key, then certificate) and cafile.pem (the CAs it trusts), not
// separate paths, and it fails without a CA file. So at start-up we check the configured
// files and assemble that directory under the data dir: key and certificate must be readable
// PEM, the key unencrypted and matching the certificate; the CA bundle is sip_tls_ca, else
// the system's (/etc/ssl/certs/ca-certificates.crt), else our own certificate.
#pragma once
#include <filesystem>
#include <string>

namespace atende::sip {

struct TlsFiles {
  std::string certificate;  // PEM, ours first then any chain
  std::string key;          // PEM private key, unencrypted
  std::string ca;           // PEM bundle; empty: the system's
};

struct TlsCheck {
  std::string subject;    // of our certificate, for the start-up log
  bool expired = false;   // notAfter is past (we start anyway and warn)
  std::string ca_source;  // which CA bundle went into cafile.pem
};

// Checks `files` and writes `dir`/agent.pem (mode 0600) and `dir`/cafile.pem (dir is made
// with mode 0700). Throws ConfigError naming the setting, the file and the problem; never
// key material.
TlsCheck prepare_tls_dir(const TlsFiles& files, const std::filesystem::path& dir);

}  // namespace atende::sip
