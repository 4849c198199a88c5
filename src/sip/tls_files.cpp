#include "sip/tls_files.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/config.h"

namespace atende::sip {
namespace {

constexpr const char* kSystemCa = "/etc/ssl/certs/ca-certificates.crt";

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

// The whole file, or a ConfigError "key: path: why".
std::string read_file(const std::string& key, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigError(key + ": " + path + ": cannot read (" + std::strerror(errno) + ")");
  }
  std::ostringstream out;
  out << in.rdbuf();
  std::string text = out.str();
  if (text.empty()) throw ConfigError(key + ": " + path + ": the file is empty");
  if (text.size() > 1024 * 1024)
    throw ConfigError(key + ": " + path + ": over 1 MB, not a PEM file");
  return text;
}

std::unique_ptr<BIO, BioFree> memory_bio(const std::string& text) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Refuse to prompt for a passphrase: an encrypted key fails to load instead.
int no_passphrase(char*, int, int, void*) { return -1; }

void write_private(const std::filesystem::path& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    throw ConfigError("data_dir: cannot write " + path.string() + " (" + std::strerror(errno) +
                      ")");
  }
  ::fchmod(fd, mode);  // an older file with looser bits
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      throw ConfigError("data_dir: cannot write " + path.string() + " (" + std::strerror(err) +
                        ")");
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

std::string subject_of(X509* cert) {
  char buf[256] = {};
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
  return buf;
}

}  // namespace

TlsCheck prepare_tls_dir(const TlsFiles& files, const std::filesystem::path& dir) {
  TlsCheck check;
  const std::string cert_text = read_file("sip_tls_certificate", files.certificate);
  std::unique_ptr<X509, X509Free> cert(
      PEM_read_bio_X509(memory_bio(cert_text).get(), nullptr, no_passphrase, nullptr));
  if (!cert) {
    ERR_clear_error();
    throw ConfigError("sip_tls_certificate: " + files.certificate +
                      ": no PEM certificate in it (-----BEGIN CERTIFICATE-----)");
  }
  check.subject = subject_of(cert.get());
  check.expired = X509_cmp_current_time(X509_get0_notAfter(cert.get())) < 0;

  std::string key_text = read_file("sip_tls_key", files.key);
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(memory_bio(key_text).get(), nullptr, no_passphrase, nullptr));
  OPENSSL_cleanse(key_text.data(), key_text.size());
  if (!key) {
    ERR_clear_error();
    throw ConfigError("sip_tls_key: " + files.key +
                      ": no usable PEM private key in it (an encrypted key is not supported)");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    throw ConfigError("sip_tls_key: " + files.key + " is not the key of sip_tls_certificate " +
                      files.certificate);
  }

  std::string ca_text;
  if (!files.ca.empty()) {
    ca_text = read_file("sip_tls_ca", files.ca);
    std::unique_ptr<X509, X509Free> first(
        PEM_read_bio_X509(memory_bio(ca_text).get(), nullptr, no_passphrase, nullptr));
    if (!first) {
      ERR_clear_error();
      throw ConfigError("sip_tls_ca: " + files.ca + ": no PEM certificate in it");
    }
    check.ca_source = files.ca;
  } else if (std::ifstream system(kSystemCa); system) {
    ca_text = read_file("sip_tls_ca", kSystemCa);
    check.ca_source = kSystemCa;
  } else {
    ca_text = cert_text;  // sofia needs some CA file; trust nobody but ourselves
    check.ca_source = files.certificate + " (no system CA bundle)";
  }

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw ConfigError("data_dir: cannot create " + dir.string() + " (" + ec.message() + ")");
  }
  ::chmod(dir.c_str(), 0700);

  // agent.pem: the key (re-encoded, PKCS#8) then the certificate file as given (its chain).
  std::unique_ptr<BIO, BioFree> out(BIO_new(BIO_s_secmem()));
  if (!out ||
      PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    ERR_clear_error();
    throw ConfigError("sip_tls_key: " + files.key + ": cannot re-encode the key");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(out.get(), &data);
  std::string agent(data, static_cast<size_t>(len));
  if (agent.back() != '\n') agent += '\n';
  agent += cert_text;
  write_private(dir / "agent.pem", agent, 0600);
  OPENSSL_cleanse(agent.data(), agent.size());
  write_private(dir / "cafile.pem", ca_text, 0644);
  return check;
}

}  // namespace atende::sip
