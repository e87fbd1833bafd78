"""TokenCodec: HS256 only, exact reasons for every refusal; times checked by PyJWT against the wall clock."""

from __future__ import annotations

import base64
import json
import math
import time

import jwt
import pytest

from itirp.auth.roles import Role
from itirp.auth.tokens import LEEWAY_SECONDS, TokenCodec
from itirp.errors import Unauthenticated

SECRET = b"k" * 32
NOW = float(int(time.time()))  # PyJWT checks exp, nbf and iat against the wall clock (tokens live 30 min)


@pytest.fixture
def codec() -> TokenCodec:
    return TokenCodec(SECRET, ttl_seconds=1800)


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def test_issued_token_round_trips_with_all_claims(codec: TokenCodec) -> None:
    token, claims = codec.issue(username="trader1", user_id="u1", role=Role.TRADER, now=NOW)

    verified = codec.verify(token)

    assert verified == claims
    assert (verified.sub, verified.user_id, verified.role) == ("trader1", "u1", Role.TRADER)
    assert verified.exp - verified.iat == 1800
    payload = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False})
    assert set(payload) == {"sub", "user_id", "role", "iat", "exp", "jti", "ver"}
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_each_token_has_its_own_id(codec: TokenCodec) -> None:
    _, a = codec.issue(username="t", user_id="u", role=Role.TRADER, now=NOW)
    _, b = codec.issue(username="t", user_id="u", role=Role.TRADER, now=NOW)
    assert a.jti != b.jti


def test_expired_token_is_refused_past_exp_and_the_leeway(codec: TokenCodec) -> None:
    now = time.time()
    fresh, _ = codec.issue(username="t", user_id="u", role=Role.TRADER, now=now - 1800 + 60)
    codec.verify(fresh)
    stale, _ = codec.issue(username="t", user_id="u", role=Role.TRADER, now=now - 1800 - LEEWAY_SECONDS - 2)
    with pytest.raises(Unauthenticated, match="expired") as info:
        codec.verify(stale)
    assert info.value.reason == "TOKEN_EXPIRED"


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"nbf": NOW + 3600}, "not valid yet"),
        ({"iat": NOW + 3600, "exp": NOW + 3600 + 1800}, "not valid yet"),
        ({"exp": 1e19}, "lives longer"),
        ({"exp": math.inf}, "malformed"),
        ({"exp": -math.inf}, "malformed"),
        ({"iat": math.nan}, "malformed"),
        ({"exp": "tomorrow"}, "malformed"),
        ({"ver": "x"}, "claims are invalid"),
    ],
)
def test_impossible_times_are_refused_as_invalid_never_raised(
    codec: TokenCodec, claims: dict[str, object], message: str
) -> None:
    now = float(int(time.time()))
    payload = {"sub": "t", "user_id": "u", "role": "TRADER", "iat": now, "exp": now + 600, "jti": "x", **claims}
    with pytest.raises(Unauthenticated, match=message) as info:
        codec.verify(jwt.encode(payload, SECRET, "HS256"))
    assert info.value.reason == "TOKEN_INVALID"


def test_alg_none_token_is_refused_naming_the_algorithm(codec: TokenCodec) -> None:
    _, claims = codec.issue(username="admin", user_id="u", role=Role.ADMIN, now=NOW)
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims.to_payload())}."
    with pytest.raises(Unauthenticated, match="'none' is not accepted"):
        codec.verify(forged)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_other_algorithm_is_refused_even_with_the_right_secret(codec: TokenCodec) -> None:
    _, claims = codec.issue(username="t", user_id="u", role=Role.TRADER, now=NOW)
    hs512 = jwt.encode(claims.to_payload(), SECRET, algorithm="HS512")
    with pytest.raises(Unauthenticated, match="'HS512' is not accepted"):
        codec.verify(hs512)


def test_token_signed_with_another_secret_is_refused(codec: TokenCodec) -> None:
    _, claims = codec.issue(username="t", user_id="u", role=Role.TRADER, now=NOW)
    other = jwt.encode(claims.to_payload(), b"x" * 32, algorithm="HS256")
    with pytest.raises(Unauthenticated, match="signature is invalid"):
        codec.verify(other)


def test_tampered_payload_is_refused(codec: TokenCodec) -> None:
    token, claims = codec.issue(username="t", user_id="u", role=Role.TRADER, now=NOW)
    header, _, signature = token.split(".")
    promoted = {**claims.to_payload(), "role": "ADMIN"}
    with pytest.raises(Unauthenticated, match="signature is invalid"):
        codec.verify(f"{header}.{_b64(promoted)}.{signature}")


@pytest.mark.parametrize("garbage", ["", "abc", "a.b", "a.b.c", "!!.??.**"])
def test_garbled_tokens_are_refused_as_malformed(codec: TokenCodec, garbage: str) -> None:
    with pytest.raises(Unauthenticated, match="malformed"):
        codec.verify(garbage)


def test_missing_claim_is_named(codec: TokenCodec) -> None:
    now = int(time.time())
    payload = {"sub": "t", "user_id": "u", "role": "TRADER", "iat": now, "exp": now + 600}
    incomplete = jwt.encode(payload, SECRET, "HS256")
    with pytest.raises(Unauthenticated, match="'jti' claim"):
        codec.verify(incomplete)


def test_unknown_role_is_refused(codec: TokenCodec) -> None:
    now = int(time.time())
    payload = {"sub": "t", "user_id": "u", "role": "GOD", "iat": now, "exp": now + 600, "jti": "x"}
    with pytest.raises(Unauthenticated, match="claims are invalid"):
        codec.verify(jwt.encode(payload, SECRET, "HS256"))


def test_short_secret_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        TokenCodec(b"short", ttl_seconds=10)
