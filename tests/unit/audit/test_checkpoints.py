"""Signed checkpoints, pure: the signed bytes, signatures, and the check against a log."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from itirp.audit.checkpoints import (
    Checkpoint,
    check_checkpoints,
    checkpoint_from_json,
    checkpoint_message,
    checkpoint_to_json,
    key_id,
    sign_checkpoint,
    signature_ok,
)

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
H = {n: f"{n:064x}" for n in range(1, 21)}  # a log's hashes by sequence


def _cp(sequence: int, head_hash: str | None = None, key: Ed25519PrivateKey = KEY) -> Checkpoint:
    return sign_checkpoint(key, sequence=sequence, head_hash=head_hash or H[sequence], time_us=1_700_000_000_000_000)


def test_the_signed_bytes_are_magic_sequence_raw_hash_and_time_big_endian() -> None:
    message = checkpoint_message(sequence=258, head_hash="ab" * 32, time_us=-1)

    assert message == b"ITIRPCP1" + (258).to_bytes(8, "big") + b"\xab" * 32 + b"\xff" * 8
    assert len(message) == 56


@pytest.mark.parametrize("head_hash", ["ab" * 31, "zz" * 32, ""])
def test_a_head_hash_that_is_not_32_hex_bytes_cannot_be_signed(head_hash: str) -> None:
    with pytest.raises(ValueError, match=r"hex"):
        checkpoint_message(sequence=1, head_hash=head_hash, time_us=0)


def test_a_checkpoint_verifies_under_its_key_only() -> None:
    cp = _cp(5)

    assert signature_ok(cp, KEY.public_key())
    assert not signature_ok(cp, OTHER.public_key())
    assert cp.key_id == key_id(KEY.public_key()) != key_id(OTHER.public_key())
    assert len(cp.key_id) == 16


@pytest.mark.parametrize(
    "change", [{"sequence": 6}, {"head_hash": "00" * 32}, {"time_us": 1}, {"signature": bytes(64)}]
)
def test_any_change_to_a_signed_checkpoint_breaks_its_signature(change: dict[str, object]) -> None:
    fields = {**checkpoint_to_json(_cp(5)), "signature": _cp(5).signature}
    fields.update(change)
    changed = Checkpoint(**fields)  # type: ignore[arg-type]

    assert not signature_ok(changed, KEY.public_key())


def test_a_checkpoint_round_trips_through_json() -> None:
    cp = _cp(7)

    assert checkpoint_from_json(json.loads(json.dumps(checkpoint_to_json(cp)))) == cp


@pytest.mark.parametrize(
    "obj",
    [
        [],
        {"sequence": 1},
        {**checkpoint_to_json(_cp(1)), "sequence": "1"},
        {**checkpoint_to_json(_cp(1)), "signature": "!"},
    ],
)
def test_a_malformed_checkpoint_is_a_value_error(obj: object) -> None:
    with pytest.raises(ValueError, match="checkpoint"):
        checkpoint_from_json(obj)


def test_checkpoints_that_match_the_log_are_ok() -> None:
    report = check_checkpoints([_cp(5), _cp(12), _cp(20)], H, head_sequence=20, public_key=KEY.public_key())

    assert (report.ok, report.matched, report.first_bad_sequence) == (True, 3, 0)


def test_a_log_that_ends_before_its_latest_checkpoint_is_bad_at_the_first_missing_sequence() -> None:
    short = {n: h for n, h in H.items() if n <= 14}

    report = check_checkpoints([_cp(5), _cp(12), _cp(20)], short, head_sequence=14, public_key=None)

    assert (report.ok, report.first_bad_sequence) == (False, 15)
    assert "ends at sequence 14, before its signed checkpoint at 20" in report.message


def test_a_rewritten_log_is_bad_at_the_first_checkpoint_after_the_rewrite() -> None:
    rewritten = {n: (h if n < 9 else "ff" * 32) for n, h in H.items()}

    report = check_checkpoints([_cp(5), _cp(12), _cp(20)], rewritten, head_sequence=20, public_key=None)

    assert (report.ok, report.first_bad_sequence) == (False, 12)
    assert report.message.startswith("event 12: hash differs from the signed checkpoint")


def test_a_checkpoint_signed_by_another_key_is_bad_when_the_key_is_given() -> None:
    forged = _cp(12, key=OTHER)

    assert check_checkpoints([_cp(5), forged], H, head_sequence=20, public_key=None).ok
    report = check_checkpoints([_cp(5), forged], H, head_sequence=20, public_key=KEY.public_key())
    assert (report.ok, report.first_bad_sequence) == (False, 12)
    assert "signature does not verify" in report.message


def test_a_checkpoint_whose_sequence_the_partial_log_lacks_is_not_checked() -> None:
    partial = {n: h for n, h in H.items() if n >= 10}

    report = check_checkpoints([_cp(5), _cp(12)], partial, head_sequence=20, public_key=None)

    assert (report.ok, report.matched) == (True, 1)
