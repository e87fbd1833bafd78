"""Event store benchmark: durable appends/s, group commit, and listener fan-out.

Run: .venv/bin/python bench/bench_store.py [--events N] [--seconds S] [--dir PATH]
         [--backends sqlite,postgres] [--database-url URL]

`--backends postgres` runs the same append scenarios on the PostgreSQL store, on a throwaway
server started in a temp dir by tests/pg_server.py (fsync on), or on `--database-url` (a fresh
database is best: the store continues whatever log it finds). `orders/s` is events/s / 3: an
order is about three events in one append.

Every scenario runs on a fresh file in a temp dir (or --dir, to measure a particular disk) and
is bounded by both an event count and a time limit. For comparison it also times plain
`sqlite3` committing one event per transaction (WAL, synchronous=FULL) on the same disk, in
the same run: that is what the store would cost without group commit.

Fan-out: the server's subscription code is not part of this module, so "fan-out" here measures
listener callback delivery only (each listener pushes every event into its own deque, standing
in for a subscriber's queue).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/pg_server.py

from itirp.store import (
    MemoryEventStore,
    NewEvent,
    PostgresEventStore,
    PostgresLease,
    SqliteEventStore,
    StoredEvent,
)
from itirp.store.group_commit import GroupCommitStore

PAYLOAD = b"\x0a\x24" + b"x" * 80  # about the size of an OrderCreated message


def new_event(n: int) -> NewEvent:
    return NewEvent(
        event_id=str(uuid.uuid4()),
        event_type="ORDER_CREATED",
        correlation_id=f"corr-{n}",
        causation_id="",
        order_id=f"order-{n}",
        user_id="bench",
        symbol="AAPL",
        timestamp_us=1_700_000_000_000_000 + n,
        schema_version=1,
        payload=PAYLOAD,
    )


@dataclass
class Row:
    name: str
    events: int
    seconds: float
    calls: int = 0
    batches: list[int] = field(default_factory=list)
    append_us: float = 0.0  # event-loop time inside append() per call
    note: str = ""

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def drive(
    store: GroupCommitStore,
    *,
    callers: int,
    per_call: int,
    max_events: int,
    max_seconds: float,
    name: str,
    note: str = "",
) -> Row:
    """`callers` tasks each awaiting appends of `per_call` events, until a bound is hit."""
    batches: list[int] = []
    store.add_listener(lambda batch: batches.append(len(batch)))
    calls = 0
    in_append = 0.0
    counter = 0
    t0 = time.perf_counter()
    deadline = t0 + max_seconds

    async def caller() -> None:
        nonlocal calls, in_append, counter
        while counter < max_events and time.perf_counter() < deadline:
            events = [new_event(counter + i) for i in range(per_call)]
            counter += per_call
            a = time.perf_counter()
            fut = store.append(events)
            in_append += time.perf_counter() - a
            calls += 1
            await fut

    await asyncio.gather(*(caller() for _ in range(callers)))
    elapsed = time.perf_counter() - t0
    return Row(
        name,
        store.committed_events,
        elapsed,
        calls=calls,
        batches=batches,
        append_us=in_append / calls * 1e6 if calls else 0.0,
        note=note,
    )


def plain_sqlite(path: Path, max_events: int, max_seconds: float) -> Row:
    """The baseline: one INSERT + COMMIT per event, WAL, synchronous=FULL."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        db.execute(
            "CREATE TABLE events (sequence INTEGER PRIMARY KEY, event_id TEXT UNIQUE NOT NULL,"
            " payload BLOB NOT NULL, hash TEXT NOT NULL)"
        )
        n = 0
        t0 = time.perf_counter()
        deadline = t0 + max_seconds
        while n < max_events and time.perf_counter() < deadline:
            n += 1
            db.execute("BEGIN")
            db.execute(
                "INSERT INTO events VALUES (?, ?, ?, ?)", (n, str(uuid.uuid4()), PAYLOAD, "0" * 64)
            )
            db.execute("COMMIT")
        return Row("plain sqlite3, 1 commit/event", n, time.perf_counter() - t0, calls=n)
    finally:
        db.close()


async def fanout(path: Path, listeners: int, max_events: int, max_seconds: float) -> Row:
    store = SqliteEventStore(path)
    await store.open()
    queues = [collections.deque[StoredEvent]() for _ in range(listeners)]
    for q in queues:
        store.add_listener(q.extend)
    try:
        row = await drive(
            store,
            callers=64,
            per_call=3,
            max_events=max_events,
            max_seconds=max_seconds,
            name=f"fan-out to {listeners} listener(s), 64 callers",
            note="listener callback delivery only",
        )
    finally:
        await store.close()
    delivered = sum(len(q) for q in queues)
    row.note += f"; {delivered / row.seconds:,.0f} deliveries/s"
    return row


@asynccontextmanager
async def postgres_writer(url: str) -> AsyncIterator[PostgresEventStore]:
    """A PostgreSQL store promoted under a fresh lease term, released and closed afterwards."""
    store = PostgresEventStore(url, node_id="bench")
    await store.open()
    lease = PostgresLease(url, node_id="bench", address="bench", ttl_seconds=600)
    term = await lease.acquire()
    if term is None:
        raise SystemExit(f"the lease on {url} is held by another node: {await lease.current()}")
    try:
        await store.promote(term)
        yield store
    finally:
        await store.close()
        await lease.release(term)
        await lease.close()


async def run_postgres(database: Callable[[], str], events: int, seconds: float) -> list[Row]:
    rows: list[Row] = []
    async with postgres_writer(database()) as store:
        rows.append(
            await drive(store, callers=1, per_call=1, max_events=min(events, 2_000),
                        max_seconds=seconds, name="postgres, 1 caller, await each")
        )  # fmt: skip
    for per_call, label in ((1, "64 callers x 1 event"), (3, "64 callers x 3 events (orders)")):
        async with postgres_writer(database()) as store:
            rows.append(
                await drive(store, callers=64, per_call=per_call, max_events=events,
                            max_seconds=seconds, name=f"postgres, {label}",
                            note=f"{per_call}-event calls")
            )  # fmt: skip
    return rows


async def run(base: Path, events: int, seconds: float) -> list[Row]:
    rows: list[Row] = []

    def fresh(name: str) -> Path:
        return base / f"{name}.db"

    store = SqliteEventStore(fresh("seq"))
    await store.open()
    try:
        rows.append(
            await drive(
                store,
                callers=1,
                per_call=1,
                max_events=min(events, 2_000),
                max_seconds=seconds,
                name="store, 1 caller, await each",
            )
        )
    finally:
        await store.close()

    rows.append(await asyncio.to_thread(plain_sqlite, fresh("plain"), min(events, 2_000), seconds))

    for per_call, label in ((1, "64 callers x 1 event"), (3, "64 callers x 3 events (orders)")):
        store = SqliteEventStore(fresh(f"c64-{per_call}"))
        await store.open()
        try:
            rows.append(
                await drive(
                    store,
                    callers=64,
                    per_call=per_call,
                    max_events=events,
                    max_seconds=seconds,
                    name=f"store, {label}",
                    note=f"{per_call}-event calls",
                )
            )
        finally:
            await store.close()

    mem = MemoryEventStore()
    await mem.open()
    rows.append(
        await drive(
            mem,
            callers=64,
            per_call=3,
            max_events=events,
            max_seconds=seconds,
            name="memory store, 64 callers x 3 events",
            note="CPU ceiling, no disk",
        )
    )
    await mem.close()

    for n in (1, 10):
        rows.append(await fanout(fresh(f"fan{n}"), n, events, seconds))
    return rows


def report(rows: list[Row]) -> None:
    head = (
        f"{'scenario':44} {'events':>7} {'secs':>6} {'events/s':>10} {'orders/s':>9} {'calls/s':>9}"
        f" {'us/append':>9}  commits: batch mean/p50/max"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        if r.batches:
            mean, p50 = statistics.fmean(r.batches), statistics.median(r.batches)
            b = f"{len(r.batches)}: {mean:.1f}/{p50:.0f}/{max(r.batches)}"
        else:
            b = "1 per event"
        print(
            f"{r.name:44} {r.events:7d} {r.seconds:6.2f} {r.rate:10,.0f} {r.rate / 3:9,.0f}"
            f" {r.calls / r.seconds:9,.0f} {r.append_us:9.1f}  {b}"
        )
        if r.note:
            print(f"{'':44}   ({r.note})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=30_000, help="cap per scenario")
    parser.add_argument("--seconds", type=float, default=10.0, help="time cap per scenario")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the files")
    parser.add_argument("--backends", default="sqlite", help="comma-separated: sqlite, postgres")
    parser.add_argument("--database-url", default=None, help="postgres: this database, not a throwaway server")
    args = parser.parse_args()
    backends = {b.strip() for b in args.backends.split(",") if b.strip()}
    if unknown := backends - {"sqlite", "postgres"}:
        parser.error(f"unknown backends: {', '.join(sorted(unknown))}")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        cpus = os.cpu_count()
        print(f"event store benchmark in {tmp}: sqlite {sqlite3.sqlite_version}, {cpus} CPUs")
        if "sqlite" in backends:
            rows += asyncio.run(run(Path(tmp), args.events, args.seconds))
        if "postgres" in backends:
            rows += postgres_rows(args.database_url, args.events, args.seconds, args.dir)
    report(rows)


def postgres_rows(url: str | None, events: int, seconds: float, parent: Path | None) -> list[Row]:
    if url is not None:
        return asyncio.run(run_postgres(lambda: url, events, seconds))
    import psycopg

    from tests.pg_server import start_server

    server = start_server(fsync=True, parent=str(parent) if parent else None)
    try:
        with psycopg.connect(server.url) as db:
            version = db.execute("SHOW server_version").fetchone()[0]
        print(f"postgres {version} on {server.root} (fsync on, synchronous_commit on)")
        return asyncio.run(run_postgres(server.create_database, events, seconds))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
