"""Page tokens: opaque, bounded and authenticated.

A token is the listing it belongs to, a cursor (a direction and a sequence) and an HMAC-SHA256
over both, keyed by a key derived from the server's token secret with its own label (so a page
token is never a JWT signature, nor the reverse). It is 30 bytes in URL-safe base64: 40
characters. A token this server did not issue — forged, edited, too long, from another listing
or signed with another secret — is INVALID_ARGUMENT `PAGE_TOKEN_INVALID` before anything in it is
read. The same secret after a restart accepts the same tokens.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct

from itirp.errors import InvalidArgument, Reason
from itirp.limits import STRING_LIMITS

__all__ = ["PAGE_TOKEN_LABEL", "PageTokens", "page_token_key"]

#: The label of the page-token key derived from the server's token secret.
PAGE_TOKEN_LABEL = b"itirp page tokens v1"

_VERSION = 1
_DIRECTIONS = ("after", "before")
_BODY = struct.Struct(">BBQ")  # version, direction, sequence
_MAC_BYTES = 20
_MAX_CHARS = STRING_LIMITS["page_token"]


def page_token_key(secret: bytes) -> bytes:
    """The page-token key of a server secret (the JWT secret), distinct from any other use of it."""
    return hmac.new(secret, PAGE_TOKEN_LABEL, hashlib.sha256).digest()


def _refused() -> InvalidArgument:
    return InvalidArgument(
        "page_token",
        "not a token this server issued; start again without one",
        reason=Reason.PAGE_TOKEN_INVALID,
    )


class PageTokens:
    """Issues and reads the page tokens of one listing (`listing` names it: "ListEvents")."""

    def __init__(self, key: bytes, listing: str) -> None:
        if len(key) < 32:
            raise ValueError("a page-token key must be at least 32 bytes")
        self._key = key
        self._listing = listing.encode()

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, self._listing + b"\0" + body, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, direction: str, sequence: int) -> str:
        body = _BODY.pack(_VERSION, _DIRECTIONS.index(direction), sequence)
        return base64.urlsafe_b64encode(body + self._mac(body)).decode().rstrip("=")

    def decode(self, token: str, directions: tuple[str, ...]) -> tuple[str, int]:
        """(direction, sequence) of a token this server issued for this listing, in one of
        `directions`; otherwise INVALID_ARGUMENT `PAGE_TOKEN_INVALID`."""
        if len(token) > _MAX_CHARS:
            raise _refused()
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, binascii.Error):
            raise _refused() from None
        body, mac = raw[: _BODY.size], raw[_BODY.size :]
        if len(raw) != _BODY.size + _MAC_BYTES or not hmac.compare_digest(mac, self._mac(body)):
            raise _refused()
        version, direction, sequence = _BODY.unpack(body)
        if version != _VERSION or direction >= len(_DIRECTIONS) or _DIRECTIONS[direction] not in directions:
            raise _refused()
        return _DIRECTIONS[direction], sequence
