"""SQLite event store: one file, WAL, synchronous=FULL, group commit in a writer thread.

Why this shape:
- The event loop never touches the disk. One dedicated writer thread owns the only writing
  connection and receives one hand-off per batch (`call_soon_threadsafe` back when durable);
  reads run on separate read-only connections in reader threads (WAL lets them proceed while
  the writer commits).
- One transaction per batch (`executemany` + one COMMIT, fsynced by synchronous=FULL), so a
  kill -9 at any moment leaves exactly the committed transactions: an acknowledged event is
  never lost and a batch is never half there.
- `open` loads the head from the last row but does not walk the chain; the server decides
  whether to verify at start-up (`verify`), and can open a suspect file read-only to look; a
  read-only store writes nothing beside the file (`itirp.store.sqlite_files`).
- A sidecar `<path>.lock` (flock) keeps a second writer process off the file: two writers
  would fork the chain.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import os
import sqlite3
from collections.abc import Callable, Iterator
from operator import attrgetter
from pathlib import Path
from typing import Any

from itirp.store.base import EventQuery, query_sql
from itirp.store.errors import StoreError
from itirp.store.group_commit import DEFAULT_MAX_BATCH, FailureCallback
from itirp.store.records import (
    GENESIS_HASH,
    StoredEvent,
    VerifyResult,
    make_stored_event,
    verify_chain,
)
from itirp.store.sql_reads import ReadJobs, SqlReads
from itirp.store.sqlite_files import ReadOnlyFile
from itirp.store.workers import Worker as _Worker

__all__ = ["SCHEMA_VERSION", "SqliteEventStore", "iter_events_sync"]

SCHEMA_VERSION = 1
"""Stored in `PRAGMA user_version`; a file from a newer version is refused."""

_COLUMNS = (
    "sequence",
    "event_id",
    "event_type",
    "correlation_id",
    "causation_id",
    "order_id",
    "user_id",
    "symbol",
    "timestamp_us",
    "schema_version",
    "payload",
    "prev_hash",
    "hash",
)
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM events"
_INSERT = f"INSERT INTO events ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
_row_of = attrgetter(*_COLUMNS)

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS events (
        sequence INTEGER PRIMARY KEY,
        -- event_id: a random uuid4 minted by the one journal. No UNIQUE index: keeping a B-tree of
        -- random keys cost ~40% of durable throughput, for a collision chance of ~2^-122.
        event_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        correlation_id TEXT NOT NULL,
        causation_id TEXT NOT NULL,
        order_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        symbol TEXT NOT NULL,
        timestamp_us INTEGER NOT NULL,
        schema_version INTEGER NOT NULL,
        payload BLOB NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS events_correlation_id ON events (correlation_id)",
    "CREATE INDEX IF NOT EXISTS events_order_id ON events (order_id)",
    "CREATE INDEX IF NOT EXISTS events_user_id ON events (user_id)",
    "CREATE INDEX IF NOT EXISTS events_event_type ON events (event_type)",
    # No index on symbol or timestamp_us: each secondary index costs ~20 us of CPU per order on the
    # hot path. Those filters scan back from the head (events are in time order), which is quick for
    # recent windows; order, correlation, user and type lookups keep their indexes.
)


def _event_of(r: tuple[Any, ...]) -> StoredEvent:
    """A row in `_COLUMNS` order → StoredEvent (fast path: rows come from our own table)."""
    return make_stored_event(
        r[0], r[11], r[12], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10]
    )


def _connect_read_only(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
        check_same_thread=False,
    )  # fmt: skip
    conn.execute("PRAGMA query_only = ON")
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def _load_head(conn: sqlite3.Connection) -> tuple[int, str]:
    row = conn.execute(
        "SELECT sequence, hash FROM events ORDER BY sequence DESC LIMIT 1"
    ).fetchone()
    return (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))


def iter_events_sync(path: str | os.PathLike[str], after: int = 0) -> Iterator[StoredEvent]:
    """Every stored event with sequence > `after`, ascending, read-only and synchronous.

    For offline tools (export, forensic verification) that do not run an event loop. One read
    transaction for the whole walk, so the result is a consistent snapshot. Nothing is written
    beside the file (`ReadOnlyFile`: no `-wal` or `-shm` left behind in the data folder).
    """
    path = Path(path)
    source = ReadOnlyFile.open(path, lock=path.with_name(f"{path.name}.lock"))
    conn = source.connect()
    try:
        for row in conn.execute(f"{_SELECT} WHERE sequence > ? ORDER BY sequence", (after,)):
            yield _event_of(row)
    finally:
        conn.close()
        source.close()


# ---------------------------------------------------------------------------- jobs (threads)


def _init_writer(conn: sqlite3.Connection) -> tuple[int, str]:
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StoreError(f"cannot switch the event store to WAL (journal_mode={mode})")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA busy_timeout = 5000")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(f"event store schema {version} is newer than this code ({SCHEMA_VERSION})")
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _SCHEMA:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return _load_head(conn)


def _write_batch(
    conn: sqlite3.Connection, batch: list[StoredEvent], inject: BaseException | None
) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(_INSERT, map(_row_of, batch))
        if inject is not None:
            raise inject
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise


def _read(conn: sqlite3.Connection, after: int, head: int, limit: int) -> list[StoredEvent]:
    rows = conn.execute(
        f"{_SELECT} WHERE sequence > ? AND sequence <= ? ORDER BY sequence LIMIT ?",
        (after, head, limit),
    ).fetchall()
    return [_event_of(r) for r in rows]


def _query(conn: sqlite3.Connection, sql: str, args: list[Any]) -> list[StoredEvent]:
    return [_event_of(r) for r in conn.execute(sql, args).fetchall()]


def _verify(conn: sqlite3.Connection, head: int) -> VerifyResult:
    rows = conn.execute(f"{_SELECT} WHERE sequence <= ? ORDER BY sequence", (head,))
    return verify_chain(map(_event_of, rows), expected_first_sequence=1)


def _hashes_at(conn: sqlite3.Connection, sequences: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for i in range(0, len(sequences), 500):
        chunk = sequences[i : i + 500]
        sql = f"SELECT sequence, hash FROM events WHERE sequence IN ({', '.join('?' * len(chunk))})"
        out.update((int(seq), str(h)) for seq, h in conn.execute(sql, chunk))
    return out


def _build_query(flt: EventQuery, limit: int, head: int) -> tuple[str, list[Any]]:
    return query_sql(_SELECT, flt, limit, head, mark="?", any_type=_in_list)


def _in_list(types: list[str]) -> tuple[str, list[Any]]:
    return f"event_type IN ({', '.join('?' * len(types))})", list(types)


# ---------------------------------------------------------------------------- the store


class SqliteEventStore(SqlReads):
    """The durable event store on one SQLite file; see the module docstring."""

    JOBS = ReadJobs(_read, _query, _hashes_at, _verify, _build_query, no_limit=-1)

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        on_failure: FailureCallback | None = None,
        max_batch: int = DEFAULT_MAX_BATCH,
        read_only: bool = False,
        readers: int = 2,
    ) -> None:
        super().__init__(on_failure=on_failure, max_batch=max_batch, read_only=read_only)
        if readers < 1:
            raise ValueError("readers must be >= 1")
        self._path = Path(path)
        self._n_readers = readers
        self._writer: _Worker[sqlite3.Connection] | None = None
        self._readers: _Worker[sqlite3.Connection] | None = None
        self._lock_fd: int | None = None
        self._source: ReadOnlyFile | None = None  # where a read-only store reads

    @classmethod
    async def open_read_only(cls, path: str | os.PathLike[str]) -> SqliteEventStore:
        """An opened store that reads and verifies `path` but refuses appends (forensics)."""
        store = cls(path, read_only=True)
        await store.open()
        return store

    @property
    def path(self) -> Path:
        return self._path

    # ------------------------------------------------------------------ lifecycle

    async def open(self) -> None:
        if self.is_open:
            return
        if self.failed:
            raise StoreError("a failed event store cannot be reopened; create a new one")
        try:
            connect: Callable[[], sqlite3.Connection] = functools.partial(_connect_read_only, self._path)
            if self.read_only:
                try:
                    self._source = await asyncio.to_thread(
                        ReadOnlyFile.open, self._path, lock=Path(f"{self._path}.lock")
                    )
                except FileNotFoundError:
                    raise StoreError(f"event store {self._path} does not exist") from None
                connect = self._source.connect
            else:
                self._writer = _Worker("itirp-store-writer", self._connect_writer, 1)
                head = await self._writer.call(_init_writer)
            self._readers = _Worker("itirp-store-reader", connect, self._n_readers)
            if self.read_only:
                head = await self._readers.call(_load_head)
        except BaseException as exc:
            await self._stop_threads()
            if isinstance(exc, sqlite3.Error | OSError):
                raise StoreError(f"cannot open event store {self._path}: {exc}") from exc
            raise
        self._activate(*head)

    async def close(self) -> None:
        if not self.is_open and self._writer is None and self._readers is None:
            return
        await self._drain()
        self._mark_closed()
        await self._stop_threads()

    def _connect_writer(self) -> sqlite3.Connection:
        """Runs in the writer thread: take the single-writer lock, then connect."""
        fd = os.open(f"{self._path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreError(f"event store {self._path} is open for writing elsewhere") from None
        self._lock_fd = fd
        return sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)

    async def _stop_threads(self) -> None:
        writer, readers = self._writer, self._readers
        self._writer = self._readers = None
        # Readers first: the writer's connection, closing last, checkpoints and removes the WAL.
        if readers is not None:
            await readers.stop()
        if writer is not None:
            await writer.stop()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None
        if self._source is not None:
            await asyncio.to_thread(self._source.close)
            self._source = None

    # ------------------------------------------------------------------ commit

    def _start_commit(self, batch: list[StoredEvent], inject: BaseException | None) -> None:
        assert self._writer is not None
        self._writer.submit(_write_batch, (batch, inject), self._written)

    def _written(self, _result: None, exc: BaseException | None) -> None:
        if exc is None:
            self._commit_done()
        else:
            self._commit_failed(exc)

    # ------------------------------------------------------------------ reads

    async def _call_reader(self, fn: Callable[..., Any], *args: Any) -> Any:
        self._require_open()
        assert self._readers is not None
        try:
            return await self._readers.call(fn, *args)
        except sqlite3.Error as exc:
            raise StoreError(f"event store read failed: {exc}") from exc
