"""Throw-away TLS material for tests: a self-signed certificate made with the openssl CLI
at test time (never a committed private key). The certificate names localhost and
127.0.0.1, so a peer that checks the server's name against what it dialled accepts it."""
import pathlib
import subprocess


def self_signed(directory, name="server", days=2, common_name="localhost",
                alt_names="DNS:localhost,IP:127.0.0.1"):
    """(certificate, key, combined) paths: PEM certificate, PEM private key (unencrypted),
    and both in one file (key first), as baresip's sip_certificate wants. sofia-sip (1.12)
    checks the host it dialled against the certificate's DNS and URI alternative names, not
    IP ones: a peer it dials as 127.0.0.1 needs alt_names with "DNS:127.0.0.1"."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
                    "-days", str(days), "-keyout", str(key), "-out", str(cert),
                    "-subj", f"/CN={common_name}",
                    "-addext", f"subjectAltName={alt_names}"],
                   check=True, capture_output=True, timeout=60)
    combined = directory / f"{name}.pem"
    combined.write_text(key.read_text() + cert.read_text())
    key.chmod(0o600)
    combined.chmod(0o600)
    return cert, key, combined


def ca_signed(directory, name="server", alt_names="DNS:localhost,IP:127.0.0.1"):
    """(ca, certificate, key) paths: a throw-away CA and a server certificate it signed for
    alt_names (EC P-256 keys: quick to make), as a peer configured with that CA file trusts
    it."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / "ca.pem", directory / "ca.key"
    cert, key, csr = directory / f"{name}.crt", directory / f"{name}.key", directory / f"{name}.csr"
    ext = directory / f"{name}.ext"
    ext.write_text(f"subjectAltName={alt_names}\nbasicConstraints=CA:FALSE\n"
                   "extendedKeyUsage=serverAuth\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for cmd in (["openssl", "req", "-x509", *ec, "-keyout", str(ca_key), "-out", str(ca),
                 "-days", "2", "-subj", "/CN=atende test CA"],
                ["openssl", "req", *ec, "-keyout", str(key), "-out", str(csr),
                 "-subj", f"/CN={name}"],
                ["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey",
                 str(ca_key), "-CAcreateserial", "-out", str(cert), "-days", "2",
                 "-extfile", str(ext)]):
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    key.chmod(0o600)
    return ca, cert, key
