"""Access tokens: JWT signed with HS256, and nothing else.

Verification is pure: it takes the current time as an argument (the expiry check is ours, not
PyJWT's wall clock), so tests drive it with a fixed clock. Revocation is not checked here; the
authenticator holds the set of revoked token ids.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import jwt

from itirp.auth.roles import Role
from itirp.errors import Reason, Unauthenticated

__all__ = ["ALGORITHM", "Claims", "TokenCodec"]

ALGORITHM = "HS256"
_REQUIRED = ("sub", "user_id", "role", "iat", "exp", "jti")


@dataclass(frozen=True, slots=True)
class Claims:
    sub: str  # username
    user_id: str
    role: Role
    iat: int  # seconds since the epoch
    exp: int
    jti: str  # token id, the handle for revocation

    def to_payload(self) -> dict[str, object]:
        return {
            "sub": self.sub,
            "user_id": self.user_id,
            "role": self.role.name,
            "iat": self.iat,
            "exp": self.exp,
            "jti": self.jti,
        }


class TokenCodec:
    """Issues and verifies tokens with one shared secret."""

    def __init__(self, secret: bytes, *, ttl_seconds: int) -> None:
        if len(secret) < 32:
            raise ValueError("HS256 secret must be at least 32 bytes")
        self._secret = secret
        self.ttl_seconds = ttl_seconds

    def issue(self, *, username: str, user_id: str, role: Role, now: float) -> tuple[str, Claims]:
        issued = int(now)
        claims = Claims(
            sub=username,
            user_id=user_id,
            role=role,
            iat=issued,
            exp=issued + self.ttl_seconds,
            jti=str(uuid.uuid4()),
        )
        token = jwt.encode(claims.to_payload(), self._secret, algorithm=ALGORITHM)
        return token, claims

    def verify(self, token: str, *, now: float) -> Claims:
        """Claims of a well-formed, HS256-signed, unexpired token; otherwise `Unauthenticated`
        with a message that says which check failed."""
        if token.count(".") != 2:
            raise Unauthenticated("malformed token: expected a JWT (header.payload.signature)")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise Unauthenticated("malformed token: the header cannot be decoded") from None
        alg = header.get("alg")
        if alg != ALGORITHM:
            raise Unauthenticated(f"token algorithm {alg!r} is not accepted; only {ALGORITHM} is")
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "require": list(_REQUIRED)},
            )
        except jwt.InvalidSignatureError:
            raise Unauthenticated("token signature is invalid") from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthenticated(f"token lacks the {exc.claim!r} claim") from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("malformed token: the payload cannot be decoded") from None
        try:
            claims = Claims(
                sub=str(payload["sub"]),
                user_id=str(payload["user_id"]),
                role=Role.parse(str(payload["role"])),
                iat=int(payload["iat"]),
                exp=int(payload["exp"]),
                jti=str(payload["jti"]),
            )
        except (ValueError, TypeError):
            raise Unauthenticated("token claims are invalid") from None
        if now >= claims.exp:
            raise Unauthenticated("token expired; log in again", reason=Reason.TOKEN_EXPIRED)
        return claims
