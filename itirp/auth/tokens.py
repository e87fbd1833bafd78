"""Access tokens: JWT signed with HS256, and nothing else.

Every registered claim is checked by PyJWT's own options (`require`, `verify_exp`, `verify_nbf`,
`verify_iat`, `leeway`) against the wall clock: a token not yet valid (`nbf` or `iat` in the
future) or expired is refused, and so is any time PyJWT cannot read as an integer (infinity, NaN,
a string). What PyJWT cannot know is ours: a lifetime longer than this server issues (an `exp` of
1e19) is not a token we signed. Revocation is not checked here; the authenticator holds the
revoked token ids and the users' credential versions (`ver`).
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
#: Clock difference tolerated between the server that issued a token and the one checking it, s.
LEEWAY_SECONDS = 5


@dataclass(frozen=True, slots=True)
class Claims:
    sub: str  # username
    user_id: str
    role: Role
    iat: int  # seconds since the epoch
    exp: int
    jti: str  # token id, the handle for revocation
    ver: int = 0  # the user's credential version when issued: a password change or a disable bumps it

    def to_payload(self) -> dict[str, object]:
        return {
            "sub": self.sub,
            "user_id": self.user_id,
            "role": self.role.name,
            "iat": self.iat,
            "exp": self.exp,
            "jti": self.jti,
            "ver": self.ver,
        }


class TokenCodec:
    """Issues and verifies tokens with one shared secret."""

    def __init__(self, secret: bytes, *, ttl_seconds: int) -> None:
        if len(secret) < 32:
            raise ValueError("HS256 secret must be at least 32 bytes")
        self._secret = secret
        self.ttl_seconds = ttl_seconds

    def issue(self, *, username: str, user_id: str, role: Role, now: float, version: int = 0) -> tuple[str, Claims]:
        issued = int(now)
        claims = Claims(
            sub=username,
            user_id=user_id,
            role=role,
            iat=issued,
            exp=issued + self.ttl_seconds,
            jti=str(uuid.uuid4()),
            ver=version,
        )
        token = jwt.encode(claims.to_payload(), self._secret, algorithm=ALGORITHM)
        return token, claims

    def verify(self, token: str) -> Claims:
        """Claims of a well-formed, HS256-signed token valid now; otherwise `Unauthenticated` with a
        message that says which check failed (reason TOKEN_EXPIRED for an expired one)."""
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
                leeway=LEEWAY_SECONDS,
                options={"verify_exp": True, "verify_iat": True, "verify_nbf": True, "require": list(_REQUIRED)},
            )
        except jwt.InvalidSignatureError:
            raise Unauthenticated("token signature is invalid") from None
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired; log in again", reason=Reason.TOKEN_EXPIRED) from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("token is not valid yet (issued or valid from a time in the future)") from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthenticated(f"token lacks the {exc.claim!r} claim") from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("malformed token: the payload cannot be decoded") from None
        return self._claims_of(payload)

    def _claims_of(self, payload: dict[str, object]) -> Claims:
        try:
            claims = Claims(
                sub=str(payload["sub"]),
                user_id=str(payload["user_id"]),
                role=Role.parse(str(payload["role"])),
                iat=int(payload["iat"]),  # type: ignore[call-overload]  # PyJWT checked it reads as one
                exp=int(payload["exp"]),  # type: ignore[call-overload]
                jti=str(payload["jti"]),
                ver=int(payload.get("ver", 0)),  # type: ignore[call-overload]
            )
        except (ValueError, TypeError, OverflowError):
            raise Unauthenticated("token claims are invalid") from None
        if claims.exp - claims.iat > self.ttl_seconds + LEEWAY_SECONDS:
            raise Unauthenticated("token claims are invalid: it lives longer than this server's tokens do")
        return claims
