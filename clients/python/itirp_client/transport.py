"""How a client reaches the server: plaintext (the default, for a server on 127.0.0.1) or TLS,
with the server's CA and, for mutual TLS, the client's own certificate and key.

    AsyncClient.connect("desk.example:50051", "trader1", "...", ca="ca.pem")
    connect("127.0.0.1:50051", "trader1", "...", ca="ca.pem", cert="me.pem", key="me.key")

`ca`, `cert` and `key` each take a path to a PEM file or the PEM bytes themselves. Giving any of
them turns TLS on; `tls=True` alone trusts the system's CA certificates.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc

__all__ = ["Pem", "channel", "channel_credentials"]

#: A PEM file's path, or its contents.
Pem = str | Path | bytes


def _pem(value: Pem, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    try:
        return Path(value).expanduser().read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read the {what} {value}: {exc.strerror or exc}") from None


def channel_credentials(
    *, ca: Pem | None = None, cert: Pem | None = None, key: Pem | None = None, tls: bool | None = None
) -> grpc.ChannelCredentials | None:
    """TLS credentials for a channel, or None for plaintext (no `ca`, `cert` or `key`, and `tls`
    not set). A certificate needs its key, and the other way round."""
    if (cert is None) != (key is None):
        raise ValueError("a client certificate needs its key, and a key its certificate (cert=..., key=...)")
    wanted = tls if tls is not None else any(v is not None for v in (ca, cert, key))
    if not wanted:
        if ca is not None or cert is not None:
            raise ValueError("tls=False with a CA or a client certificate: leave tls unset, or drop them")
        return None
    return grpc.ssl_channel_credentials(
        root_certificates=_pem(ca, "CA certificate") if ca is not None else None,
        private_key=_pem(key, "client key") if key is not None else None,
        certificate_chain=_pem(cert, "client certificate") if cert is not None else None,
    )


def channel(
    address: str, credentials: grpc.ChannelCredentials | None, options: Sequence[tuple[str, Any]] = ()
) -> grpc.aio.Channel:
    """An asyncio channel to `address`: TLS with `credentials`, else plaintext."""
    if credentials is None:
        return grpc.aio.insecure_channel(address, options=list(options))
    return grpc.aio.secure_channel(address, credentials, options=list(options))
