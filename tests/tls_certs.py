"""Throwaway X.509 for the TLS tests: a CA, a server certificate for 127.0.0.1 / ::1 / localhost,
and client certificates, issued with `cryptography` into a folder as PEM files.

    certs = issue_certs(tmp_path / "tls")          # ca.pem, server.pem, server.key, client.pem, client.key
    certs.client("risk1")                          # another client certificate, CN=risk1

Also a command (docs/operations.md uses it): `python -m tests.tls_certs DIR [CLIENT_CN ...]`.
"""

from __future__ import annotations

import datetime
import ipaddress
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["Certs", "issue_certs"]

_DAY = datetime.timedelta(days=1)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ITIRP test"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> Path:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.write_bytes(pem)
    path.chmod(0o600)
    return path


def _write_cert(cert: x509.Certificate, path: Path) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


@dataclass(frozen=True)
class Certs:
    """PEM files in `folder`, signed by the throwaway CA (its key kept here to issue more)."""

    folder: Path
    ca_key: ec.EllipticCurvePrivateKey
    ca_cert: x509.Certificate

    @property
    def ca(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def server_cert(self) -> Path:
        return self.folder / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.folder / "server.key"

    @property
    def client_cert(self) -> Path:
        return self.folder / "client.pem"

    @property
    def client_key(self) -> Path:
        return self.folder / "client.key"

    def _issue(
        self, common_name: str, usage: x509.ObjectIdentifier, sans: list[x509.GeneralName]
    ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(self.ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _DAY)
            .not_valid_after(now + 30 * _DAY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return key, builder.sign(self.ca_key, hashes.SHA256())

    def server(self, name: str = "server") -> tuple[Path, Path]:
        """A server certificate for 127.0.0.1, ::1 and localhost: (NAME.pem, NAME.key)."""
        sans: list[x509.GeneralName] = [
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]
        key, cert = self._issue("localhost", ExtendedKeyUsageOID.SERVER_AUTH, sans)
        return _write_cert(cert, self.folder / f"{name}.pem"), _write_key(key, self.folder / f"{name}.key")

    def client(self, common_name: str, name: str | None = None) -> tuple[Path, Path]:
        """A client certificate with subject CN=`common_name`: (NAME.pem, NAME.key), NAME defaulting
        to the common name."""
        key, cert = self._issue(common_name, ExtendedKeyUsageOID.CLIENT_AUTH, [])
        stem = name or common_name
        return _write_cert(cert, self.folder / f"{stem}.pem"), _write_key(key, self.folder / f"{stem}.key")


def new_ca(folder: Path, common_name: str = "ITIRP test CA") -> Certs:
    """A self-signed CA in `folder`/ca.pem (its key stays in memory)."""
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _DAY)
        .not_valid_after(now + 30 * _DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    certs = Certs(folder, key, cert)
    _write_cert(cert, certs.ca)
    return certs


def issue_certs(folder: Path, client_cn: str = "trader1") -> Certs:
    """A CA, a server certificate (server.pem/.key) and a client certificate (client.pem/.key,
    CN=`client_cn`) in `folder`."""
    certs = new_ca(folder)
    certs.server()
    certs.client(client_cn, name="client")
    return certs


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m tests.tls_certs DIR [CLIENT_CN ...]", file=sys.stderr)
        return 2
    folder = Path(argv[0])
    certs = issue_certs(folder)
    for cn in argv[1:]:
        certs.client(cn)
    print("\n".join(sorted(p.name for p in folder.iterdir())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
