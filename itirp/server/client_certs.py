"""Who a call's verified client certificate names (mutual TLS): its subject's CN, and when it
expires. grpc has verified the chain against `tls.client_ca` before any call arrives."""

from __future__ import annotations

import grpc
from cryptography import x509

__all__ = ["certificate_identity"]


def certificate_identity(context: grpc.aio.ServicerContext) -> tuple[str, int] | None:
    """(subject CN, not-after as epoch seconds) of the peer's certificate; None without one."""
    auth = context.auth_context()
    names = auth.get("x509_common_name") or ()
    pems = auth.get("x509_pem_cert") or ()
    if not names or not pems:
        return None
    common_name = names[0].decode("utf-8", "replace")
    try:
        expires_at = int(x509.load_pem_x509_certificate(pems[0]).not_valid_after_utc.timestamp())
    except ValueError:
        return None
    return common_name, expires_at
