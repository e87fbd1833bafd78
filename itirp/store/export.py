"""JSON-lines export of the event log, and its verification from the file alone.

An auditor receives the export and checks it without trusting the server: every hash is
recomputed from the exported fields (`canonical_bytes` documents the encoding). An export that
does not start at sequence 1 takes its first event's `prev_hash` as given; one that does must
start from `GENESIS_HASH`.

One JSON object per line with exactly these keys: sequence, event_id, event_type,
correlation_id, causation_id, order_id, user_id, symbol, timestamp_us, schema_version,
payload (standard base64 of the payload bytes), prev_hash, hash.

These are the event lines; the file `itirp audit export` writes wraps them in a header that states
the export's claim (its range, bound to the chain at both ends) and the signed checkpoints in
range, and `itirp.audit.export` checks that claim.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TextIO

from itirp.store.records import GENESIS_HASH, StoredEvent, VerifyResult, verify_chain

__all__ = ["dump_events", "event_from_json", "event_to_json", "is_json_int", "require_fields", "verify_export"]

_TEXT = (
    "event_id",
    "event_type",
    "correlation_id",
    "causation_id",
    "order_id",
    "user_id",
    "symbol",
)
_INT = ("sequence", "timestamp_us", "schema_version")


def event_to_json(ev: StoredEvent) -> dict[str, Any]:
    """All fields of `ev` as JSON-ready values (payload as base64)."""
    return {
        "sequence": ev.sequence,
        "event_id": ev.event_id,
        "event_type": ev.event_type,
        "correlation_id": ev.correlation_id,
        "causation_id": ev.causation_id,
        "order_id": ev.order_id,
        "user_id": ev.user_id,
        "symbol": ev.symbol,
        "timestamp_us": ev.timestamp_us,
        "schema_version": ev.schema_version,
        "payload": base64.b64encode(ev.payload).decode("ascii"),
        "prev_hash": ev.prev_hash,
        "hash": ev.hash,
    }


def is_json_int(value: object) -> bool:
    """A JSON integer (Python's bool is an int, and is not one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def require_fields(obj: Mapping[str, Any], keys: Iterable[str], kind: type[int] | type[str], what: str = "") -> None:
    """ValueError naming the first of `keys` that `obj` lacks ("missing key 'k'") or holds with
    another type than `kind` ("k must be an integer"); `what` names the object in the message."""
    for key in keys:
        if key not in obj:
            raise ValueError(f"{what}: missing key {key!r}" if what else f"missing key {key!r}")
        value = obj[key]
        if not (is_json_int(value) if kind is int else isinstance(value, str)):
            expected = "an integer" if kind is int else "a string"
            raise ValueError(f"{what} {key} must be {expected}" if what else f"{key} must be {expected}")


def event_from_json(obj: dict[str, Any]) -> StoredEvent:
    """The inverse of `event_to_json`; ValueError when a key is missing or mistyped."""
    require_fields(obj, (*_TEXT, "prev_hash", "hash", "payload"), str)
    require_fields(obj, _INT, int)
    try:
        payload = base64.b64decode(obj["payload"], validate=True)
    except binascii.Error as exc:
        raise ValueError(f"payload is not base64 ({exc})") from None
    return StoredEvent(
        sequence=obj["sequence"],
        prev_hash=obj["prev_hash"],
        hash=obj["hash"],
        event_id=obj["event_id"],
        event_type=obj["event_type"],
        correlation_id=obj["correlation_id"],
        causation_id=obj["causation_id"],
        order_id=obj["order_id"],
        user_id=obj["user_id"],
        symbol=obj["symbol"],
        timestamp_us=obj["timestamp_us"],
        schema_version=obj["schema_version"],
        payload=payload,
    )


def dump_events(events: Iterable[StoredEvent], out: TextIO) -> int:
    """Write `events` as JSON lines to `out`; returns how many were written."""
    n = 0
    for ev in events:
        out.write(json.dumps(event_to_json(ev), separators=(",", ":")))
        out.write("\n")
        n += 1
    return n


def verify_export(lines: Iterable[str | bytes | dict[str, Any]]) -> VerifyResult:
    """Recompute the chain of an exported file (lines, or already parsed objects).

    Blank lines are skipped. A line that does not parse stops the walk and is reported as the
    event after the last good one.
    """
    problem: list[str] = []

    def parse() -> Iterator[StoredEvent]:
        for lineno, line in enumerate(lines, start=1):
            if isinstance(line, dict):
                obj = line
            else:
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as exc:
                    problem.append(f"line {lineno}: not valid JSON ({exc})")
                    return
            try:
                if not isinstance(obj, dict):
                    raise ValueError("not a JSON object")
                ev = event_from_json(obj)
            except ValueError as exc:
                problem.append(f"line {lineno}: {exc}")
                return
            yield ev

    events = parse()
    first = next(events, None)
    if first is None:
        if problem:
            return _bad(1, problem[0], 0, GENESIS_HASH)
        return verify_chain([], GENESIS_HASH)
    start_prev = GENESIS_HASH if first.sequence == 1 else None
    result = verify_chain(
        itertools.chain([first], events), start_prev, expected_first_sequence=first.sequence
    )
    if result.ok and problem:
        nxt = result.head_sequence + 1
        return _bad(nxt, problem[0], result.events_checked, result.head_hash, result.head_sequence)
    return result


def _bad(seq: int, why: str, checked: int, head_hash: str, head_seq: int = 0) -> VerifyResult:
    return VerifyResult(
        ok=False,
        events_checked=checked,
        head_sequence=head_seq,
        head_hash=head_hash,
        first_bad_sequence=seq,
        message=f"event {seq}: {why}",
    )
