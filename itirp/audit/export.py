"""The export file: a header that states what the export claims, the events, their checkpoints.

Pure (no I/O). One JSON object per line:

- line 1, the header: `{"itirp_export": 2, "kind": "range" | "correlation", "from_sequence": A,
  "to_sequence": B, "to_head": bool, "prev_hash": ..., "last_hash": ..., "events": N,
  "correlation_id": ..., "sequences": [...]}`. A range export claims every event A..B; its
  `prev_hash` is event A's `prev_hash` (the link the first event hangs from, 64 zeros when A is
  1) and `last_hash` is event B's hash, so the header is bound into the chain at both ends.
  `to_head` says B was the log's head when exported. A correlation export claims exactly the
  events listed in `sequences`.
- then the events (`itirp.store.export.event_to_json`), ascending;
- then `{"checkpoint": {...}}` lines (`itirp.audit.checkpoints.checkpoint_to_json`): the signed
  checkpoints at or after A (at or before B unless `to_head`).

`verify_export_file` checks the claim: an event missing from the claimed range or list is
TAMPERED naming the first missing sequence; so is a hash that differs from a carried checkpoint,
and (for a `to_head` export) a checkpoint past B: the log ended before it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from itirp.audit.checkpoints import Checkpoint, CheckpointReport, check_checkpoints, checkpoint_from_json
from itirp.store.export import event_from_json, is_json_int
from itirp.store.records import GENESIS_HASH, StoredEvent, VerifyResult, verify_chain

__all__ = [
    "EXPORT_FORMAT",
    "ExportHeader",
    "ExportReport",
    "header_from_json",
    "header_to_json",
    "verify_export_file",
]

EXPORT_FORMAT = 2
ExportKind = Literal["range", "correlation"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportHeader:
    kind: ExportKind
    from_sequence: int
    to_sequence: int
    to_head: bool = False
    prev_hash: str = ""
    last_hash: str = ""
    events: int = 0
    correlation_id: str = ""
    sequences: tuple[int, ...] = field(default=())


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportReport:
    """The chain's result (the first bad sequence of chain and checkpoints together), how many
    contiguous runs the events formed, and the checkpoints' own report."""

    result: VerifyResult
    runs: int
    checkpoints: CheckpointReport
    latest_checkpoint: Checkpoint | None


def header_to_json(header: ExportHeader) -> dict[str, Any]:
    return {
        "itirp_export": EXPORT_FORMAT,
        "kind": header.kind,
        "from_sequence": header.from_sequence,
        "to_sequence": header.to_sequence,
        "to_head": header.to_head,
        "prev_hash": header.prev_hash,
        "last_hash": header.last_hash,
        "events": header.events,
        "correlation_id": header.correlation_id,
        "sequences": list(header.sequences),
    }


def header_from_json(obj: dict[str, Any]) -> ExportHeader:
    """ValueError when the header is not one this code writes."""
    if obj.get("itirp_export") != EXPORT_FORMAT:
        raise ValueError(f"export format {obj.get('itirp_export')!r} is not {EXPORT_FORMAT}")
    ints = ("from_sequence", "to_sequence", "events")
    if not all(is_json_int(obj.get(k)) for k in ints):
        raise ValueError(f"the header's {', '.join(ints)} must be integers")
    if obj.get("kind") not in ("range", "correlation") or not isinstance(obj.get("to_head"), bool):
        raise ValueError("the header's kind must be range or correlation, to_head a boolean")
    if any(not isinstance(obj.get(k), str) for k in ("prev_hash", "last_hash", "correlation_id")):
        raise ValueError("the header's prev_hash, last_hash and correlation_id must be strings")
    sequences = obj.get("sequences")
    if not isinstance(sequences, list) or not all(is_json_int(s) for s in sequences):
        raise ValueError("the header's sequences must be a list of integers")
    return ExportHeader(
        kind=obj["kind"],
        from_sequence=obj["from_sequence"],
        to_sequence=obj["to_sequence"],
        to_head=obj["to_head"],
        prev_hash=obj["prev_hash"],
        last_hash=obj["last_hash"],
        events=obj["events"],
        correlation_id=obj["correlation_id"],
        sequences=tuple(sequences),
    )


def _bad(seq: int, why: str, checked: int = 0) -> VerifyResult:
    return VerifyResult(
        ok=False, events_checked=checked, head_sequence=0, head_hash="", first_bad_sequence=seq,
        message=f"event {seq}: {why}",
    )  # fmt: skip


def _verify_range(header: ExportHeader, events: Sequence[StoredEvent]) -> VerifyResult:
    a, b = header.from_sequence, header.to_sequence
    if a == 1 and header.prev_hash != GENESIS_HASH:
        return _bad(1, "the header's prev_hash is not the genesis hash")
    result = verify_chain(events, header.prev_hash, expected_first_sequence=a)
    if not result.ok:
        return result
    if result.head_sequence < b:
        return _bad(
            result.head_sequence + 1,
            f"missing: the header claims every event from {a} to {b}",
            result.events_checked,
        )
    if result.head_sequence > b:
        return _bad(b + 1, f"beyond the range {a}..{b} the header claims", result.events_checked)
    if b >= a and result.head_hash != header.last_hash:
        return _bad(b, "hash differs from the header's last_hash", result.events_checked)
    return result


def _runs(events: Sequence[StoredEvent]) -> Iterator[list[StoredEvent]]:
    for _, group in itertools.groupby(enumerate(events), key=lambda pair: pair[1].sequence - pair[0]):
        yield [ev for _, ev in group]


def _verify_correlation(header: ExportHeader, events: Sequence[StoredEvent]) -> tuple[VerifyResult, int]:
    claimed, present = list(header.sequences), [ev.sequence for ev in events]
    if claimed != present:
        differ = sorted(set(claimed) ^ set(present))
        if differ:
            seq = differ[0]
            why = "missing" if seq in claimed else "not among the sequences the header lists"
        else:  # the same sequences, repeated or out of order
            seq = next((p for c, p in zip(claimed, present, strict=False) if c != p), present[-1])
            why = "repeated or out of order"
        return _bad(seq, f"{why} (correlation id {header.correlation_id!r})"), 0
    stray = next((ev for ev in events if ev.correlation_id != header.correlation_id), None)
    if stray is not None:
        return _bad(stray.sequence, f"correlation id is not {header.correlation_id!r}"), 0
    checked, runs, last = 0, 0, verify_chain([], GENESIS_HASH)
    for run in _runs(events):
        runs += 1
        start = GENESIS_HASH if run[0].sequence == 1 else None
        last = verify_chain(run, start, expected_first_sequence=run[0].sequence)
        checked += last.events_checked
        if not last.ok:
            return last, runs
    return VerifyResult(
        ok=True, events_checked=checked, head_sequence=last.head_sequence, head_hash=last.head_hash,
        first_bad_sequence=0, message=last.message,
    ), runs  # fmt: skip


def _parse(objects: Iterable[Any]) -> tuple[ExportHeader | None, list[StoredEvent], list[Checkpoint]]:
    header: ExportHeader | None = None
    events: list[StoredEvent] = []
    checkpoints: list[Checkpoint] = []
    for i, obj in enumerate(objects):
        if not isinstance(obj, dict):
            raise ValueError(f"object {i + 1} is not a JSON object")
        if "itirp_export" in obj:
            if i != 0:
                raise ValueError("a header after the first line")
            header = header_from_json(obj)
        elif "checkpoint" in obj:
            checkpoints.append(checkpoint_from_json(obj["checkpoint"]))
        else:
            events.append(event_from_json(obj))
    return header, events, checkpoints


def verify_export_file(objects: Iterable[Any], public_key: Ed25519PublicKey | None = None) -> ExportReport:
    """Check an export (its lines parsed as JSON) against the claim its header makes.

    ValueError when a line is not a header, an event or a checkpoint this code writes.
    """
    header, events, checkpoints = _parse(objects)
    latest = max(checkpoints, key=lambda cp: cp.sequence, default=None)
    none = CheckpointReport(ok=True, matched=0, first_bad_sequence=0, message="")
    if header is None:
        first = events[0].sequence if events else 1
        return ExportReport(
            result=_bad(first, "the export has no header, so its range cannot be checked"),
            runs=0, checkpoints=none, latest_checkpoint=latest,
        )  # fmt: skip
    if header.kind == "range":
        result, runs = _verify_range(header, events), 1
    else:
        result, runs = _verify_correlation(header, events)
    good_below = result.first_bad_sequence or 2**64
    verified = {ev.sequence: ev.hash for ev in events if ev.sequence < good_below}
    applicable = [cp for cp in checkpoints if header.to_head or cp.sequence <= header.to_sequence]
    report = check_checkpoints(
        applicable, verified, head_sequence=header.to_sequence if header.to_head else 2**64, public_key=public_key
    )
    if not report.ok and (result.ok or report.first_bad_sequence < result.first_bad_sequence):
        result = _bad(report.first_bad_sequence, report.message.split(": ", 1)[1], result.events_checked)
    return ExportReport(result=result, runs=runs, checkpoints=report, latest_checkpoint=latest)
