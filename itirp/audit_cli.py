"""`itirp audit export|verify|public-key`: evidence an auditor can check without the server.

Export reads the event log directly (read-only; safe while the server runs): the SQLite file
`DATA_DIR/events.db`, or, given a database URL (`--database-url`, or ITIRP_STORE=postgres with
ITIRP_DATABASE_URL), the PostgreSQL log (`iter_events_pg`, one snapshot per pass). It writes a
header stating what the export claims (a range of sequences, or a correlation id's events), the
events with every field and both hashes, and the signed checkpoints that fall in the range
(`itirp.audit.export` describes the file). Verify recomputes every hash from the file alone and
checks the header's claim and the checkpoints; with `--public-key` it also checks every
checkpoint's signature. `public-key` prints the checkpoint key's public half for auditors.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from itirp.audit.checkpoints import Checkpoint, checkpoint_to_json
from itirp.audit.export import ExportHeader, ExportReport, header_to_json, verify_export_file
from itirp.audit.keyfile import (
    CHECKPOINT_FILE,
    KEY_FILE,
    CheckpointKeyError,
    load_public_key,
    public_key_pem,
    read_checkpoints,
)
from itirp.store import GENESIS_HASH, StoredEvent, iter_events_sync
from itirp.store.export import dump_events

__all__ = ["export_events", "log_reader", "verify_file"]

LogReader = Callable[[int], Iterator[StoredEvent]]
"""Every stored event with sequence > the argument, ascending: the one place the backend shows."""


def log_reader(data_dir: Path, database_url: str | None = None) -> LogReader:
    """The event log's iterator, chosen here at the edge: PostgreSQL when a URL is given, else
    the SQLite file (FileNotFoundError when it does not exist)."""
    if database_url:
        from itirp.store.postgres import iter_events_pg

        return lambda after: iter_events_pg(database_url, after)
    path = data_dir / "events.db"
    if not path.exists():
        raise FileNotFoundError(f"no event log at {path}")
    return lambda after: iter_events_sync(path, after)


def _select(
    read: LogReader, *, from_sequence: int, to_sequence: int | None, correlation_id: str | None
) -> Iterator[StoredEvent]:
    for event in read(max(0, from_sequence - 1)):
        if to_sequence is not None and event.sequence > to_sequence:
            return
        if correlation_id and event.correlation_id != correlation_id:
            continue
        yield event


def _header(
    read: LogReader, *, from_sequence: int, to_sequence: int | None, correlation_id: str | None
) -> ExportHeader:
    """The first pass: what the export will claim. The log only grows, so the second pass,
    bounded by this header's `to_sequence`, writes exactly these events."""
    first = last = None
    count = 0
    sequences: list[int] = []
    for event in _select(read, from_sequence=from_sequence, to_sequence=to_sequence, correlation_id=correlation_id):
        first = first or event
        last = event
        count += 1
        if correlation_id:
            sequences.append(event.sequence)
    head = last.sequence if last is not None else from_sequence - 1
    if correlation_id:
        return ExportHeader(
            kind="correlation", from_sequence=from_sequence, to_sequence=to_sequence or head, events=count,
            correlation_id=correlation_id, sequences=tuple(sequences),
        )  # fmt: skip
    return ExportHeader(
        kind="range",
        from_sequence=from_sequence,
        to_sequence=head,
        to_head=to_sequence is None or to_sequence > head,
        prev_hash=first.prev_hash if first is not None else (GENESIS_HASH if from_sequence == 1 else ""),
        last_hash=last.hash if last is not None else "",
        events=count,
    )


def export_events(
    data_dir: Path,
    out: TextIO,
    *,
    from_sequence: int = 1,
    to_sequence: int | None = None,
    correlation_id: str | None = None,
    database_url: str | None = None,
) -> int:
    """Header, events, checkpoints; returns the number of events. FileNotFoundError: no SQLite
    log; ValueError: an unreadable checkpoint file; psycopg.Error: PostgreSQL unreachable.
    The signed checkpoints are this node's (`DATA_DIR/checkpoints.jsonl`) whichever the store."""
    read = log_reader(data_dir, database_url)
    from_sequence = max(1, from_sequence)
    # The checkpoints first: each is of a committed head, so a running server cannot have signed
    # past the head the header then finds (the claim "the log ends here" stays true).
    signed = read_checkpoints(data_dir / CHECKPOINT_FILE)
    header = _header(read, from_sequence=from_sequence, to_sequence=to_sequence, correlation_id=correlation_id)
    checkpoints = [
        cp for cp in signed if cp.sequence >= from_sequence and (header.to_head or cp.sequence <= header.to_sequence)
    ]
    out.write(json.dumps(header_to_json(header), separators=(",", ":")) + "\n")
    events = _select(read, from_sequence=from_sequence, to_sequence=header.to_sequence, correlation_id=correlation_id)
    n = dump_events(events, out)
    for cp in checkpoints:
        out.write(json.dumps({"checkpoint": checkpoint_to_json(cp)}, separators=(",", ":")) + "\n")
    return n


def verify_file(path: Path, public_key_file: Path | None = None) -> ExportReport:
    """OSError, ValueError (a line that is not JSON or not a known object), CheckpointKeyError."""
    public_key = load_public_key(public_key_file) if public_key_file is not None else None
    objects = []
    with path.open() as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                objects.append(json.loads(line))
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: not valid JSON ({exc})") from None
    return verify_export_file(objects, public_key)


def main_export(args: argparse.Namespace) -> int:
    with contextlib.ExitStack() as stack:
        out: TextIO = stack.enter_context(open(args.output, "w")) if args.output else sys.stdout
        try:
            n = export_events(
                args.data_dir,
                out,
                from_sequence=args.from_sequence,
                to_sequence=args.to_sequence,
                correlation_id=args.correlation_id,
                database_url=args.database_url,
            )
        except (FileNotFoundError, ValueError, _db_errors()) as exc:
            print(f"itirp: {exc}", file=sys.stderr)
            return 1
    print(f"exported {n} events", file=sys.stderr)
    return 0


def _db_errors() -> type[Exception]:
    """psycopg's base error (connection refused, no table...), imported only when it is needed."""
    import psycopg

    return psycopg.Error


def _when(cp: Checkpoint) -> str:
    at = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(microseconds=cp.time_us)
    return at.isoformat().replace("+00:00", "Z")


def main_verify(args: argparse.Namespace) -> int:
    key_file = Path(args.public_key) if args.public_key else None
    try:
        report = verify_file(Path(args.file), key_file)
    except (OSError, ValueError) as exc:  # CheckpointKeyError is a ValueError
        print(f"itirp: {exc}", file=sys.stderr)
        return 1
    result = report.result
    if not result.ok:
        print(f"TAMPERED: first bad sequence {result.first_bad_sequence}: {result.message}")
        return 3
    print(
        f"OK: {result.events_checked} events verified in {report.runs} contiguous run(s); "
        f"last sequence {result.head_sequence}, hash {result.head_hash}"
    )
    signed = "signatures checked" if key_file is not None else "signatures NOT checked (give --public-key)"
    latest = report.latest_checkpoint
    if latest is None:
        print("checkpoints: none in this export")
    else:
        print(
            f"checkpoints: {report.checkpoints.matched} matched, {signed}; latest at sequence {latest.sequence}, "
            f"signed {_when(latest)} by key {latest.key_id}"
        )
    return 0


def main_public_key(args: argparse.Namespace) -> int:
    path = Path(args.key_file) if args.key_file else args.data_dir / KEY_FILE
    try:
        key = load_public_key(path)
    except CheckpointKeyError as exc:
        print(f"itirp: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(public_key_pem(key))
    return 0
