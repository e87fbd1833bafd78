"""The canonical encoding and the chain walk, as an auditor re-implementing them would check."""

from __future__ import annotations

import dataclasses
import hashlib
import struct

import pytest

from itirp.store import (
    GENESIS_HASH,
    NewEvent,
    StoredEvent,
    TamperedLogError,
    canonical_bytes,
    compute_hash,
    verify_chain,
)
from itirp.store.records import make_stored_event, seal

SAMPLE = NewEvent(
    event_id="e1",
    event_type="ORDER_CREATED",
    correlation_id="c1",
    causation_id="",
    order_id="o1",
    user_id="alice",
    symbol="AAPL",
    timestamp_us=1_700_000_000_000_000,
    schema_version=1,
    payload=b"\x01\x02",
)
# Known answer: pins the layout; changing it would orphan every stored chain.
SAMPLE_HASH_AT_1 = "ddcf8a6f63e67f06520589d004eae559ef0f24f4d8936de47a05aca96936a5a5"


def auditor_bytes(seq: int, ev: NewEvent) -> bytes:
    """The layout exactly as the `canonical_bytes` docstring specifies it, written afresh."""

    def text(s: str) -> bytes:
        b = s.encode("utf-8")
        return struct.pack(">I", len(b)) + b

    return (
        b"ITIRPEV1"
        + struct.pack(">Q", seq)
        + text(ev.event_id)
        + text(ev.event_type)
        + text(ev.correlation_id)
        + text(ev.causation_id)
        + text(ev.order_id)
        + text(ev.user_id)
        + text(ev.symbol)
        + struct.pack(">q", ev.timestamp_us)
        + struct.pack(">I", ev.schema_version)
        + struct.pack(">I", len(ev.payload))
        + ev.payload
    )


def chain(n: int) -> list[StoredEvent]:
    events = [dataclasses.replace(SAMPLE, event_id=f"e{i}") for i in range(1, n + 1)]
    return seal(events, last_sequence=0, last_hash=GENESIS_HASH)


def test_canonical_bytes_follow_the_documented_layout():
    assert canonical_bytes(SAMPLE, sequence=1) == auditor_bytes(1, SAMPLE)


def test_the_hash_is_sha256_over_the_raw_previous_hash_and_the_canonical_bytes():
    expected = hashlib.sha256(bytes(32) + auditor_bytes(1, SAMPLE)).hexdigest()

    stored = seal([SAMPLE], last_sequence=0, last_hash=GENESIS_HASH)[0]

    assert stored.hash == expected == SAMPLE_HASH_AT_1
    assert compute_hash(GENESIS_HASH, SAMPLE, sequence=1) == expected
    assert compute_hash(stored.prev_hash, stored) == expected


def test_length_prefixes_keep_field_boundaries_unambiguous():
    a = dataclasses.replace(SAMPLE, order_id="ab", user_id="c")
    b = dataclasses.replace(SAMPLE, order_id="a", user_id="bc")

    assert canonical_bytes(a, sequence=1) != canonical_bytes(b, sequence=1)


def test_every_field_and_the_sequence_are_covered_by_the_hash():
    base = compute_hash(GENESIS_HASH, SAMPLE, sequence=1)
    changes = {
        "event_id": "x", "event_type": "x", "correlation_id": "x", "causation_id": "x",
        "order_id": "x", "user_id": "x", "symbol": "x", "timestamp_us": 1, "schema_version": 2,
        "payload": b"x",
    }  # fmt: skip

    for field, value in changes.items():
        changed = dataclasses.replace(SAMPLE, **{field: value})
        assert compute_hash(GENESIS_HASH, changed, sequence=1) != base, field
    assert compute_hash(GENESIS_HASH, SAMPLE, sequence=2) != base


def test_seal_continues_from_a_given_head():
    first = chain(3)

    more = seal([SAMPLE], last_sequence=3, last_hash=first[-1].hash)

    assert (more[0].sequence, more[0].prev_hash) == (4, first[-1].hash)
    assert verify_chain(first + more).ok


def test_a_good_chain_verifies():
    result = verify_chain(chain(5), expected_first_sequence=1)

    assert result.ok
    assert result.events_checked == 5
    assert result.first_bad_sequence == 0
    assert result.head_sequence == 5
    result.raise_if_tampered()


@pytest.mark.parametrize(
    ("tamper", "first_bad", "message"),
    [
        (
            lambda ev: [*ev[:2], dataclasses.replace(ev[2], payload=b"forged"), *ev[3:]],
            3,
            "event 3: hash mismatch (row edited?)",
        ),
        (lambda ev: ev[:2] + ev[3:], 3, "event 3: sequence gap, expected 3 got 4"),
        (lambda ev: [*ev[:1], ev[2], ev[1], *ev[3:]], 2, "event 2: sequence gap, expected 2 got 3"),
        (
            lambda ev: [*ev[:3], ev[1], *ev[3:]],
            4,
            "event 4: sequence out of order, expected 4 got 2",
        ),
        (
            lambda ev: [*ev[:3], dataclasses.replace(ev[3], prev_hash="ab" * 32), *ev[4:]],
            4,
            "event 4: prev_hash does not match the previous event's hash",
        ),
        (
            lambda ev: [*ev[:1], dataclasses.replace(ev[1], payload="text"), *ev[2:]],
            2,
            "event 2: malformed row",
        ),
        (lambda ev: ev[1:], 1, "event 1: sequence gap, expected 1 got 2"),
    ],
    ids=["edited", "deleted", "reordered", "repeated", "relinked", "malformed", "first-missing"],
)
def test_verify_chain_names_the_first_bad_event_and_why(tamper, first_bad, message):
    events = chain(5)

    result = verify_chain(tamper(events), expected_first_sequence=1)

    assert not result.ok
    assert result.first_bad_sequence == first_bad
    assert result.message.startswith(message)
    assert result.head_sequence == first_bad - 1
    with pytest.raises(TamperedLogError) as caught:
        result.raise_if_tampered()
    assert caught.value.first_bad_sequence == first_bad


def test_a_partial_chain_can_take_its_start_as_given():
    tail = chain(6)[3:]

    assert not verify_chain(tail).ok  # must start from genesis by default
    result = verify_chain(tail, None)
    assert result.ok
    assert (result.events_checked, result.head_sequence) == (3, 6)


def test_invalid_events_are_refused_whole():
    with pytest.raises(ValueError, match="event_id and event_type are required"):
        seal(
            [SAMPLE, dataclasses.replace(SAMPLE, event_type="")],
            last_sequence=0,
            last_hash=GENESIS_HASH,
        )
    with pytest.raises(ValueError, match="field out of range"):
        canonical_bytes(dataclasses.replace(SAMPLE, schema_version=-1), sequence=1)
    with pytest.raises(TypeError):
        canonical_bytes(dataclasses.replace(SAMPLE, user_id=None), sequence=1)


def test_the_fast_constructor_builds_ordinary_frozen_events():
    fields = dict(
        sequence=7, prev_hash="p", hash="h", event_id="e", event_type="t", correlation_id="c",
        causation_id="x", order_id="o", user_id="u", symbol="s", timestamp_us=-1,
        schema_version=2, payload=b"\x00",
    )  # fmt: skip

    fast = make_stored_event(*fields.values())

    assert fast == StoredEvent(**fields)
    assert hash(fast) == hash(StoredEvent(**fields))
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.sequence = 8  # type: ignore[misc]
