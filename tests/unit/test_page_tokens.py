"""Page tokens: opaque, bounded, authenticated, for one listing."""

from __future__ import annotations

import base64
import json

import pytest

from itirp.errors import InvalidArgument, Reason
from itirp.page_tokens import PageTokens, page_token_key

KEY = page_token_key(b"s" * 40)


def _refused(tokens: PageTokens, token: str, directions: tuple[str, ...] = ("after", "before")) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as info:
        tokens.decode(token, directions)
    return info.value


def test_a_token_reads_back_as_its_cursor_and_is_40_characters() -> None:
    tokens = PageTokens(KEY, "ListEvents")

    token = tokens.encode("before", 2**63 - 1)

    assert len(token) == 40
    assert tokens.decode(token, ("after", "before")) == ("before", 2**63 - 1)
    assert PageTokens(KEY, "ListEvents").decode(token, ("before",)) == ("before", 2**63 - 1)  # a restart


@pytest.mark.parametrize(
    "token",
    [
        "",
        "x",
        "A" * 40,
        "A" * 100_000,
        "é" * 40,
        base64.urlsafe_b64encode(json.dumps({"after": 10**30}).encode()).decode(),
        base64.urlsafe_b64encode(b"[" * 6667 + b"]" * 6667).decode(),
    ],
    ids=["empty", "short", "zeros", "huge", "not-ascii", "json-cursor", "nested-brackets"],
)
def test_a_token_this_server_did_not_issue_is_refused_as_such(token: str) -> None:
    error = _refused(PageTokens(KEY, "ListEvents"), token)

    assert error.reason is Reason.PAGE_TOKEN_INVALID
    assert error.field == "page_token"
    assert "not a token this server issued" in error.message


def test_an_edited_token_another_listing_another_secret_or_direction_is_refused() -> None:
    events = PageTokens(KEY, "ListEvents")
    token = events.encode("after", 7)
    raw = bytearray(base64.urlsafe_b64decode(token + "=="))
    raw[9] ^= 1  # the sequence, under the MAC
    edited = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")

    _refused(events, edited)
    _refused(PageTokens(KEY, "ListOrders"), token)
    _refused(PageTokens(page_token_key(b"t" * 40), "ListEvents"), token)
    _refused(events, token, ("before",))


def test_the_page_token_key_is_not_the_secret() -> None:
    secret = b"s" * 40
    assert page_token_key(secret) != secret
    assert len(page_token_key(secret)) == 32
