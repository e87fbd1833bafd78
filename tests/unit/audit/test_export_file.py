"""The export file's claim (its header) and its checkpoints, checked from the file alone."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from itirp.audit.checkpoints import checkpoint_to_json, sign_checkpoint
from itirp.audit.export import ExportHeader, header_from_json, header_to_json, verify_export_file
from itirp.store import GENESIS_HASH, NewEvent, StoredEvent
from itirp.store.export import event_to_json
from itirp.store.records import seal

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def _event(i: int) -> NewEvent:
    return NewEvent(
        event_id=f"e{i}", event_type="USER_LOGGED_IN", correlation_id=f"c{i % 3}", causation_id="",
        order_id="", user_id="u", symbol="", timestamp_us=1_700_000_000_000_000 + i, schema_version=1,
        payload=bytes([i]),
    )  # fmt: skip


def _log(n: int) -> list[StoredEvent]:
    new = [_event(i) for i in range(1, n + 1)]
    return seal(new, last_sequence=0, last_hash=GENESIS_HASH)


LOG = _log(20)


def _range_export(a: int, b: int, *, to_head: bool = False, checkpoints: tuple[int, ...] = ()) -> list[dict[str, Any]]:
    events = [ev for ev in LOG if a <= ev.sequence <= b]
    header = ExportHeader(
        kind="range", from_sequence=a, to_sequence=b, to_head=to_head, prev_hash=events[0].prev_hash,
        last_hash=events[-1].hash, events=len(events),
    )  # fmt: skip
    cps = [sign_checkpoint(KEY, sequence=s, head_hash=LOG[s - 1].hash, time_us=s) for s in checkpoints]
    return [
        header_to_json(header),
        *(event_to_json(ev) for ev in events),
        *({"checkpoint": checkpoint_to_json(cp)} for cp in cps),
    ]


def _without(objects: list[dict[str, Any]], sequence: int) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj.get("sequence") != sequence or "event_id" not in obj]


def test_a_whole_range_verifies() -> None:
    report = verify_export_file(_range_export(1, 20, to_head=True, checkpoints=(10, 19)), KEY.public_key())

    assert report.result.ok, report.result.message
    assert (report.result.events_checked, report.runs, report.checkpoints.matched) == (20, 1, 2)
    assert report.latest_checkpoint is not None
    assert report.latest_checkpoint.sequence == 19


@pytest.mark.parametrize("missing", [1, 2, 11, 19, 20])
def test_an_event_missing_from_the_claimed_range_is_named(missing: int) -> None:
    report = verify_export_file(_without(_range_export(1, 20), missing))

    assert (report.result.ok, report.result.first_bad_sequence) == (False, missing)


def test_a_partial_range_is_bound_to_the_chain_at_both_ends() -> None:
    objects = _range_export(5, 12)
    assert verify_export_file(objects).result.ok

    objects[0]["prev_hash"] = LOG[0].hash  # the header no longer hangs from event 5's link
    assert verify_export_file(objects).result.first_bad_sequence == 5

    objects = _range_export(5, 12)
    objects[0]["to_sequence"] = 13  # claims more than it holds
    assert verify_export_file(objects).result.first_bad_sequence == 13

    objects = _range_export(5, 12)
    objects[0]["last_hash"] = "ab" * 32
    assert verify_export_file(objects).result.first_bad_sequence == 12


def test_an_event_beyond_the_claimed_range_is_bad() -> None:
    objects = _range_export(5, 12)
    objects[0]["to_sequence"] = 11

    assert verify_export_file(objects).result.first_bad_sequence == 12


def test_a_file_without_its_header_is_bad() -> None:
    report = verify_export_file(_range_export(3, 8)[1:])

    assert (report.result.ok, report.result.first_bad_sequence) == (False, 3)
    assert "no header" in report.result.message


def test_a_correlation_export_claims_exactly_its_listed_events() -> None:
    events = [ev for ev in LOG if ev.correlation_id == "c1"]
    header = ExportHeader(
        kind="correlation", from_sequence=1, to_sequence=20, events=len(events), correlation_id="c1",
        sequences=tuple(ev.sequence for ev in events),
    )  # fmt: skip
    objects = [header_to_json(header), *(event_to_json(ev) for ev in events)]
    ok = verify_export_file(objects)
    assert ok.result.ok
    assert ok.runs == len(events)

    assert verify_export_file(_without(objects, 7)).result.first_bad_sequence == 7
    other = event_to_json(LOG[1])
    assert verify_export_file([*objects[:2], other, *objects[2:]]).result.first_bad_sequence == 2


def test_a_full_export_whose_log_ends_before_a_carried_checkpoint_is_bad_after_its_end() -> None:
    objects = _range_export(1, 14, to_head=True, checkpoints=(10, 18))

    report = verify_export_file(objects, KEY.public_key())

    assert (report.result.ok, report.result.first_bad_sequence) == (False, 15)


def test_a_rewritten_chain_is_caught_at_the_carried_checkpoint() -> None:
    rewritten = seal(
        [NewEvent(**{**{f: getattr(ev, f) for f in NewEvent.__slots__}, "user_id": "x"}) for ev in LOG[7:]],  # type: ignore[arg-type]
        last_sequence=7,
        last_hash=LOG[6].hash,
    )
    objects = _range_export(1, 20, to_head=True, checkpoints=(5, 12, 19))
    header, events, cps = objects[0], objects[1:21], objects[21:]
    events = events[:7] + [event_to_json(ev) for ev in rewritten]
    header["last_hash"] = rewritten[-1].hash

    report = verify_export_file([header, *events, *cps])

    assert (report.result.ok, report.result.first_bad_sequence) == (False, 12)


def test_an_edited_checkpoint_fails_its_signature_only_when_the_key_is_given() -> None:
    objects = _range_export(1, 20, to_head=True, checkpoints=(12,))
    objects[-1]["checkpoint"]["time_us"] += 1

    assert verify_export_file(objects).result.ok
    assert verify_export_file(objects, KEY.public_key()).result.first_bad_sequence == 12


@pytest.mark.parametrize(
    "change", [{"itirp_export": 1}, {"kind": "all"}, {"from_sequence": "1"}, {"sequences": ["1"]}, {"to_head": 1}]
)
def test_a_header_this_code_does_not_write_is_a_value_error(change: dict[str, Any]) -> None:
    header = {**_range_export(1, 2)[0], **change}

    with pytest.raises(ValueError, match=r"header|format"):
        header_from_json(json.loads(json.dumps(header)))
