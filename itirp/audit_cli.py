"""`itirp audit export` and `itirp audit verify`: evidence an auditor can check without the server.

Export reads the event log file directly (read-only; safe while the server runs) and writes JSON
lines with every field and both hashes. Verify recomputes every hash from the file alone. An
export by sequence range is one contiguous chain and is checked link by link; an export by
correlation id holds scattered sequences, so each contiguous run is checked as a chain and each
event's hash is recomputed from its own fields and recorded `prev_hash`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from itirp.store import StoredEvent, VerifyResult, iter_events_sync
from itirp.store.export import dump_events, verify_export

__all__ = ["export_events", "verify_file"]


def _select(
    path: Path, *, from_sequence: int, to_sequence: int | None, correlation_id: str | None
) -> Iterator[StoredEvent]:
    for event in iter_events_sync(path, after=max(0, from_sequence - 1)):
        if to_sequence is not None and event.sequence > to_sequence:
            return
        if correlation_id and event.correlation_id != correlation_id:
            continue
        yield event


def export_events(
    data_dir: Path,
    out: TextIO,
    *,
    from_sequence: int = 1,
    to_sequence: int | None = None,
    correlation_id: str | None = None,
) -> int:
    path = data_dir / "events.db"
    if not path.exists():
        raise FileNotFoundError(f"no event log at {path}")
    events = _select(path, from_sequence=from_sequence, to_sequence=to_sequence, correlation_id=correlation_id)
    return dump_events(events, out)


def _runs(lines: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Split exported JSON objects (as parsed: values of any JSON type) into runs of consecutive sequences."""
    run: list[dict[str, Any]] = []
    for obj in lines:
        if run and obj.get("sequence") != run[-1].get("sequence", 0) + 1:
            yield run
            run = []
        run.append(obj)
    if run:
        yield run


def verify_file(path: Path) -> tuple[VerifyResult, int]:
    """(result, number of contiguous runs). The result is that of the first failing run, if any."""
    objects = []
    with path.open() as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                objects.append(json.loads(line))
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: not valid JSON ({exc})") from None
    checked = 0
    last: VerifyResult | None = None
    runs = 0
    for run in _runs(objects):
        runs += 1
        result = verify_export(run)
        checked += result.events_checked
        if not result.ok:
            return result, runs
        last = result
    if last is None:
        last = verify_export([])
    return VerifyResult(
        ok=True,
        events_checked=checked,
        head_sequence=last.head_sequence,
        head_hash=last.head_hash,
        first_bad_sequence=0,
        message=last.message,
    ), runs


def main_export(args: argparse.Namespace) -> int:
    with contextlib.ExitStack() as stack:
        out: TextIO = stack.enter_context(open(args.output, "w")) if args.output else sys.stdout
        try:
            n = export_events(
                args.data_dir, out, from_sequence=args.from_sequence, to_sequence=args.to_sequence,
                correlation_id=args.correlation_id,
            )
        except FileNotFoundError as exc:
            print(f"itirp: {exc}", file=sys.stderr)
            return 1
    print(f"exported {n} events", file=sys.stderr)
    return 0


def main_verify(args: argparse.Namespace) -> int:
    try:
        result, runs = verify_file(Path(args.file))
    except (OSError, ValueError) as exc:
        print(f"itirp: {exc}", file=sys.stderr)
        return 1
    if result.ok:
        print(
            f"OK: {result.events_checked} events verified in {runs} contiguous run(s); "
            f"last sequence {result.head_sequence}, hash {result.head_hash}"
        )
        return 0
    print(f"TAMPERED: first bad sequence {result.first_bad_sequence}: {result.message}")
    return 3

