"""Salted scrypt password hashes (hashlib), compared in constant time.

Stored form: ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>``. The cost parameters travel with each
hash, so raising the cost later leaves old hashes verifiable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["hash_password", "verify_password"]

_R = 8
_P = 1
_DKLEN = 32
_SALT_BYTES = 16


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # maxmem: 128 * n * r * p bytes plus headroom; the default 32 MiB cap is too tight above n=2**14.
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=_DKLEN, maxmem=256 * n * r * p + (1 << 20)
    )


def hash_password(password: str, *, n: int = 2**14) -> str:
    if not password:
        raise ValueError("password must not be empty")
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(password, salt, n, _R, _P)
    b64 = base64.b64encode
    return f"scrypt${n}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches `stored`; False for a mismatch or an unreadable hash."""
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt = base64.b64decode(salt_b64, validate=True)
        expected = base64.b64decode(digest_b64, validate=True)
        actual = _scrypt(password, salt, int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
