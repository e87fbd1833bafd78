"""Salted scrypt hashes."""

from __future__ import annotations

import pytest

from itirp.auth.passwords import hash_password, verify_password


def test_right_password_verifies_and_wrong_one_does_not() -> None:
    stored = hash_password("trader123", n=2**10)
    assert verify_password("trader123", stored)
    assert not verify_password("trader124", stored)
    assert not verify_password("", stored)


def test_same_password_gets_a_different_salt_each_time() -> None:
    assert hash_password("same", n=2**10) != hash_password("same", n=2**10)


def test_stored_form_records_its_cost_so_old_hashes_stay_verifiable() -> None:
    stored = hash_password("pw", n=2**11)
    scheme, n, r, p, _salt, _digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "2048", "8", "1")
    assert verify_password("pw", stored)


@pytest.mark.parametrize("stored", ["", "plain", "sha256$abc", "scrypt$1024$8$1$!!$!!", "scrypt$x$8$1$AA==$AA=="])
def test_unreadable_hashes_never_verify(stored: str) -> None:
    assert not verify_password("pw", stored)


def test_empty_password_cannot_be_hashed() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        hash_password("")
