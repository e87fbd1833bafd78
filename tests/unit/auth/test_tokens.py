"""TokenCodec: HS256 only, exact reasons for every refusal, expiry against an injected clock."""

from __future__ import annotations

import base64
import json

import jwt
import pytest

from itirp.auth.roles import Role
from itirp.auth.tokens import TokenCodec
from itirp.errors import Unauthenticated

SECRET = b"k" * 32
NOW = 1_800_000_000.0


@pytest.fixture
def codec() -> TokenCodec:
    return TokenCodec(SECRET, ttl_seconds=1800)


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def test_issued_token_round_trips_with_all_claims(codec: TokenCodec) -> None:
    token, claims = codec.issue(username="trader1", user_id="u1", role=Role.TRADER, now=NOW)

    verified = codec.verify(token, now=NOW + 1)

    assert verified == claims
    assert (verified.sub, verified.user_id, verified.role) == ("trader1", "u1", Role.TRADER)
    assert verified.exp - verified.iat == 1800
    payload = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False})
    assert set(payload) == {"sub", "user_id", "role", "iat", "exp", "jti"}
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_each_token_has_its_own_id(codec: TokenCodec) -> None:
    _, a = codec.issue(username="t", user_id="u", role=Role.TRADER, now=NOW)
    _, b = codec.issue(username="t", user_id="u", role=Role.TRADER, now=NOW)
    assert a.jti != b.jti


def test_expired_token_is_refused_at_exp(codec: TokenCodec) -> None:
    token, claims = codec.issue(username="t", user_id="u", role=Role.TRADER, now=NOW)
    codec.verify(token, now=claims.exp - 1)
    with pytest.raises(Unauthenticated, match="expired"):
        codec.verify(token, now=claims.exp)


def test_alg_none_token_is_refused_naming_the_algorithm(codec: TokenCodec) -> None:
    _, claims = codec.issue(username="admin", user_id="u", role=Role.ADMIN, now=NOW)
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims.to_payload())}."
    with pytest.raises(Unauthenticated, match="'none' is not accepted"):
        codec.verify(forged, now=NOW)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_other_algorithm_is_refused_even_with_the_right_secret(codec: TokenCodec) -> None:
    _, claims = codec.issue(username="t", user_id="u", role=Role.TRADER, now=NOW)
    hs512 = jwt.encode(claims.to_payload(), SECRET, algorithm="HS512")
    with pytest.raises(Unauthenticated, match="'HS512' is not accepted"):
        codec.verify(hs512, now=NOW)


def test_token_signed_with_another_secret_is_refused(codec: TokenCodec) -> None:
    _, claims = codec.issue(username="t", user_id="u", role=Role.TRADER, now=NOW)
    other = jwt.encode(claims.to_payload(), b"x" * 32, algorithm="HS256")
    with pytest.raises(Unauthenticated, match="signature is invalid"):
        codec.verify(other, now=NOW)


def test_tampered_payload_is_refused(codec: TokenCodec) -> None:
    token, claims = codec.issue(username="t", user_id="u", role=Role.TRADER, now=NOW)
    header, _, signature = token.split(".")
    promoted = {**claims.to_payload(), "role": "ADMIN"}
    with pytest.raises(Unauthenticated, match="signature is invalid"):
        codec.verify(f"{header}.{_b64(promoted)}.{signature}", now=NOW)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b", "a.b.c", "!!.??.**"])
def test_garbled_tokens_are_refused_as_malformed(codec: TokenCodec, garbage: str) -> None:
    with pytest.raises(Unauthenticated, match="malformed"):
        codec.verify(garbage, now=NOW)


def test_missing_claim_is_named(codec: TokenCodec) -> None:
    incomplete = jwt.encode({"sub": "t", "user_id": "u", "role": "TRADER", "iat": 1, "exp": 2**40}, SECRET, "HS256")
    with pytest.raises(Unauthenticated, match="'jti' claim"):
        codec.verify(incomplete, now=NOW)


def test_unknown_role_is_refused(codec: TokenCodec) -> None:
    payload = {"sub": "t", "user_id": "u", "role": "GOD", "iat": 1, "exp": 2**40, "jti": "x"}
    with pytest.raises(Unauthenticated, match="claims are invalid"):
        codec.verify(jwt.encode(payload, SECRET, "HS256"), now=NOW)


def test_short_secret_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        TokenCodec(b"short", ttl_seconds=10)
