// Certificates for TLS tests, made at test time by the `openssl` CLI in a temporary
// directory (no private key is committed): a test CA, a server certificate it signed for
// localhost and 127.0.0.1, and one it signed for another name only (a name mismatch).
// EC P-256 keys: quick to make.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace atende::testing {

class TestCerts {
 public:
  TestCerts() {
    char dir_template[] = "/tmp/atende-tls-XXXXXX";
    if (!mkdtemp(dir_template)) throw std::runtime_error("mkdtemp");
    dir_ = dir_template;
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
        " -keyout ca.key -out ca.pem -days 2 -subj '/CN=atende test CA'");
    issue("server", "subjectAltName=DNS:localhost,IP:127.0.0.1");
    issue("elsewhere", "subjectAltName=DNS:elsewhere.example");
  }
  ~TestCerts() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  TestCerts(const TestCerts&) = delete;
  TestCerts& operator=(const TestCerts&) = delete;

  std::string ca() const { return dir_ + "/ca.pem"; }
  // For localhost and 127.0.0.1.
  std::string server_cert() const { return dir_ + "/server.pem"; }
  std::string server_key() const { return dir_ + "/server.key"; }
  // For elsewhere.example only.
  std::string elsewhere_cert() const { return dir_ + "/elsewhere.pem"; }
  std::string elsewhere_key() const { return dir_ + "/elsewhere.key"; }

 private:
  void issue(const std::string& name, const std::string& san) {
    std::ofstream(dir_ + "/" + name + ".ext")
        << san << "\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
    run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + name +
        ".key -out " + name + ".csr -subj '/CN=" + name + "'");
    run("openssl x509 -req -in " + name + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -out " +
        name + ".pem -days 2 -extfile " + name + ".ext");
  }
  void run(const std::string& command) {
    const std::string line = "cd '" + dir_ + "' && " + command + " >/dev/null 2>&1";
    if (std::system(line.c_str()) != 0) throw std::runtime_error("failed: " + command);
  }

  std::string dir_;
};

}  // namespace atende::testing
