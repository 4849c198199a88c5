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
