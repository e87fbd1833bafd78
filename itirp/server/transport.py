"""The transport security of the server's ports, from `config.tls`: gRPC server credentials, the
metrics endpoint's TLS files, and what the start says about it (see docs/operations.md, "TLS")."""

from __future__ import annotations

import ssl
from pathlib import Path

import grpc

from itirp.config import Config, ConfigError

__all__ = ["describe", "server_credentials"]


def _read(path: Path, what: str, flag: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} {path} ({flag}): {exc.strerror or exc}") from None
    if b"-----BEGIN" not in data:
        raise ConfigError(f"the {what} {path} ({flag}) is not PEM")
    return data


def server_credentials(config: Config) -> grpc.ServerCredentials | None:
    """TLS credentials for the gRPC port (mutual TLS: a client certificate that chains to
    `tls.client_ca` is required); None for plaintext. A file that cannot be read, or is not
    PEM, is a `ConfigError` naming it."""
    tls = config.tls
    if tls.cert is None or tls.key is None:
        return None
    chain = _read(tls.cert, "TLS certificate", "--tls-cert")
    key = _read(tls.key, "TLS private key", "--tls-key")
    client_ca = _read(tls.client_ca, "client CA", "--tls-client-ca") if tls.client_ca is not None else None
    # grpc checks nothing until the first handshake: let OpenSSL check now that the key fits the
    # certificate and the client CA parses, so that a mistake stops the start, not every call
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(tls.cert, tls.key)
    except ssl.SSLError as exc:
        raise ConfigError(f"the TLS key {tls.key} does not fit the certificate {tls.cert}: {exc.reason}") from None
    if client_ca is not None:
        try:
            context.load_verify_locations(cadata=client_ca.decode("ascii", "replace"))
        except ssl.SSLError as exc:
            raise ConfigError(f"the client CA {tls.client_ca} cannot be read: {exc.reason}") from None
    return grpc.ssl_server_credentials(
        [(key, chain)], root_certificates=client_ca, require_client_auth=client_ca is not None
    )


def describe(config: Config) -> str:
    """`plaintext`, `tls` or `mtls`, for the start's log line."""
    if not config.tls.enabled:
        return "plaintext"
    return "mtls" if config.tls.mutual else "tls"
