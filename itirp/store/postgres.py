"""PostgreSQL event store: one shared log, one writer at a time (leader), followers reading it.

Why this shape:
- Same engine as SQLite (`GroupCommitStore`, `Worker`): the event loop never touches the
  database. One writer thread owns the writing connection (psycopg 3, synchronous: libpq
  releases the GIL while it waits; see docs/architecture.md for the measured choice of driver);
  reader threads own their own connections. One transaction per batch, acknowledged once COMMIT
  returns, which with `synchronous_commit = on` means the WAL is flushed on the server.
- Several nodes share the database, so exactly one may write. A store opens as a *follower*: it
  reads, verifies, announces what the leader commits (LISTEN/NOTIFY for speed, a poll every
  `poll_seconds` so that a lost notification never stalls it) and refuses appends with
  `NotLeaderError`. `promote(term)` reads the log to its end and turns it into the writer under
  the fencing token `term` (from `itirp.store.lease.PostgresLease.acquire`).
- Fencing: every commit transaction first reads the lease row `FOR SHARE`. A takeover's UPDATE of
  that row waits for a commit in flight, and every commit after it sees the new term, rolls back
  and fails the store with `FencedError`. So an old leader that wakes up (GC pause, partition)
  can never append behind the new one's back; the chain cannot fork (and the primary key on
  `sequence` would refuse a fork anyway).
- A follower checks that each row it reads links onto its head (sequence, prev_hash, hash): a
  broken link is a `TamperedLogError`, and it fails the follower.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from collections.abc import Iterator
from operator import attrgetter
from typing import Any

import psycopg

from itirp.store.base import EventQuery, query_sql
from itirp.store.errors import FencedError, LeaderInfo, NotLeaderError, StoreError, TamperedLogError
from itirp.store.group_commit import DEFAULT_MAX_BATCH, FailureCallback
from itirp.store.postgres_schema import (
    COLUMNS,
    GRANTS_SQL,
    SCHEMA_VERSION,
    check_version,
    migrate,
    schema_version,
)
from itirp.store.records import GENESIS_HASH, StoredEvent, VerifyResult, make_stored_event, verify_chain
from itirp.store.sql_reads import ReadJobs, SqlReads
from itirp.store.workers import Worker

__all__ = [
    "GRANTS_SQL",
    "NOTIFY_CHANNEL",
    "SCHEMA_VERSION",
    "PostgresEventStore",
    "iter_events_pg",
]

_logger = logging.getLogger("itirp.store")

NOTIFY_CHANNEL = "itirp_events"
"""The leader's `pg_notify(NOTIFY_CHANNEL, head)` in every commit wakes the followers."""

_SELECT = f"SELECT {', '.join(COLUMNS)} FROM events"
_INSERT = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"
_row_of = attrgetter(*COLUMNS)
_FOLLOW_PAGE = 5000
_LISTEN_WAIT = 0.2
#: how long stop_following waits for the follow loop before cancelling it again, s
_STOP_WAIT = 0.5
_Conn = psycopg.Connection[Any]


def _event_of(r: tuple[Any, ...]) -> StoredEvent:
    """A row in `COLUMNS` order → StoredEvent (rows come from our own table)."""
    return make_stored_event(
        r[0], r[11], r[12], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], bytes(r[10])
    )


def _connect(url: str, application_name: str) -> _Conn:
    return psycopg.connect(url, autocommit=True, connect_timeout=10, application_name=application_name)


def broken(conn: _Conn) -> bool:
    """A connection the server closed (restart, failover, terminated backend): connect again."""
    return bool(conn.closed or conn.broken)


def iter_events_pg(url: str, after: int = 0) -> Iterator[StoredEvent]:
    """Every stored event with sequence > `after`, ascending, synchronous (export, offline
    verification): one REPEATABLE READ, read-only transaction, so a consistent snapshot, read
    through a server-side cursor, so memory stays flat whatever the log's size."""
    with _connect(url, "itirp-export") as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction(), conn.cursor(name="itirp_export") as cur:
            cur.itersize = 2000
            cur.execute(f"{_SELECT} WHERE sequence > %s ORDER BY sequence", (after,))
            for row in cur:
                yield _event_of(row)


# ---------------------------------------------------------------------------- jobs (threads)


def _open_writer(conn: _Conn) -> tuple[int, str]:
    migrate(conn)
    return _load_head(conn)


def _load_head(conn: _Conn) -> tuple[int, str]:
    row = conn.execute("SELECT sequence, hash FROM events ORDER BY sequence DESC LIMIT 1").fetchone()
    return (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))


def _open_reader(conn: _Conn) -> tuple[int, str]:
    with conn.cursor() as cur:
        version = schema_version(cur)
    if version is None:
        raise StoreError("the database holds no event store (no itirp_schema table)")
    check_version(version)
    return _load_head(conn)


def _current_term(conn: _Conn, lock: bool) -> int | None:
    row = conn.execute(f"SELECT term FROM itirp_leader{' FOR SHARE' if lock else ''}").fetchone()
    return None if row is None else int(row[0])


def _fenced(term: int, current: int | None) -> FencedError:
    return FencedError(
        f"fenced: this node writes under term {term} but the lease is at term {current}; "
        "another node took over, this store takes no more appends",
        term=term,
        current_term=current,
    )


def _become_writer(conn: _Conn, term: int, application_name: str) -> None:
    current = _current_term(conn, lock=False)
    if current != term:
        raise _fenced(term, current)
    # The name a takeover looks for (`PostgresLease.acquire` terminates other nodes' writers).
    conn.execute("SELECT set_config('application_name', %s, false)", (application_name,))


def _write_batch(
    conn: _Conn, batch: list[StoredEvent], inject: BaseException | None, term: int, url: str
) -> None:
    try:
        with conn.transaction(), conn.cursor() as cur:
            current = _current_term(conn, lock=True)
            if current != term:
                raise _fenced(term, current)
            cur.executemany(_INSERT, map(_row_of, batch))
            if inject is not None:
                raise inject
            cur.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, str(batch[-1].sequence)))
    except psycopg.OperationalError as exc:
        # The connection went away mid-commit: most likely a takeover terminated this backend
        # (`PostgresLease.acquire`). Say so when a fresh connection shows the term moved on.
        with contextlib.suppress(psycopg.Error):
            with psycopg.connect(url, autocommit=True, connect_timeout=3) as probe:
                current = _current_term(probe, lock=False)
            if current != term:
                raise _fenced(term, current) from exc
        raise


def _read(conn: _Conn, after: int, head: int, limit: int | None) -> list[StoredEvent]:
    rows = conn.execute(
        f"{_SELECT} WHERE sequence > %s AND sequence <= %s ORDER BY sequence LIMIT %s",
        (after, head, limit),
    ).fetchall()
    return [_event_of(r) for r in rows]


def _read_after(conn: _Conn, after: int, limit: int) -> list[StoredEvent]:
    rows = conn.execute(
        f"{_SELECT} WHERE sequence > %s ORDER BY sequence LIMIT %s", (after, limit)
    ).fetchall()
    return [_event_of(r) for r in rows]


def _query(conn: _Conn, sql: str, args: list[Any]) -> list[StoredEvent]:
    return [_event_of(r) for r in conn.execute(sql, args).fetchall()]


def _verify(conn: _Conn, head: int) -> VerifyResult:
    with conn.transaction(), conn.cursor(name="itirp_verify") as cur:
        cur.itersize = 2000
        cur.execute(f"{_SELECT} WHERE sequence <= %s ORDER BY sequence", (head,))
        return verify_chain(map(_event_of, cur), expected_first_sequence=1)


def _hashes_at(conn: _Conn, sequences: list[int]) -> dict[int, str]:
    rows = conn.execute("SELECT sequence, hash FROM events WHERE sequence = ANY(%s)", (sequences,))
    return {int(seq): str(h) for seq, h in rows}


def _build_query(flt: EventQuery, limit: int, head: int) -> tuple[str, list[Any]]:
    return query_sql(_SELECT, flt, limit, head, mark="%s", any_type=lambda types: ("event_type = ANY(%s)", [types]))


# ---------------------------------------------------------------------------- the store


class PostgresEventStore(SqlReads):
    """The event store on a shared PostgreSQL database; see the module docstring."""

    JOBS = ReadJobs(_read, _query, _hashes_at, _verify, _build_query, no_limit=None)

    def __init__(
        self,
        url: str,
        *,
        on_failure: FailureCallback | None = None,
        max_batch: int = DEFAULT_MAX_BATCH,
        read_only: bool = False,
        readers: int = 2,
        node_id: str = "",
        poll_seconds: float = 0.5,
    ) -> None:
        super().__init__(on_failure=on_failure, max_batch=max_batch, read_only=read_only)
        if readers < 1:
            raise ValueError("readers must be >= 1")
        if poll_seconds <= 0:
            raise ValueError("poll_seconds must be > 0")
        self._url = url
        self._n_readers = readers
        self.node_id = node_id
        self._poll_seconds = poll_seconds
        self._writer: Worker[_Conn] | None = None
        self._readers: Worker[_Conn] | None = None
        self._term: int | None = None
        self._write_term = 0  # the term commits run under: kept by `demote` for appends accepted before
        self.leader_hint: LeaderInfo | None = None
        """Who leads, as the owner last learnt it (the lease); named by `NotLeaderError`."""
        self.drop_notifications = False
        """Test hook: ignore NOTIFY, so that only the poll brings new events."""
        self._follow_lock = asyncio.Lock()
        self._follow_task: asyncio.Task[None] | None = None
        self._listen_thread: threading.Thread | None = None
        #: set to have the follow loop read now (what each NOTIFY does); a new one per start_following
        self.follow_wake = asyncio.Event()
        self._listen_stop = threading.Event()

    @property
    def url(self) -> str:
        return self._url

    @property
    def term(self) -> int | None:
        """The fencing token this store writes under; None while it follows."""
        return self._term

    @property
    def is_leader(self) -> bool:
        return self._term is not None

    # ------------------------------------------------------------------ lifecycle

    async def open(self) -> None:
        if self.is_open:
            return
        if self.failed:
            raise StoreError("a failed event store cannot be reopened; create a new one")
        self._term = None  # every open starts as a follower
        name = f"itirp-reader:{self.node_id}"
        try:
            self._readers = Worker("itirp-pg-reader", functools.partial(_connect, self._url, name),
                                   self._n_readers, broken=broken)  # fmt: skip
            if self.read_only:
                head = await self._readers.call(_open_reader)
            else:
                connect = functools.partial(_connect, self._url, f"itirp-follower:{self.node_id}")
                self._writer = Worker("itirp-pg-writer", connect, 1, broken=broken)
                head = await self._writer.call(_open_writer)
        except BaseException as exc:
            await self._stop_threads()
            if isinstance(exc, psycopg.Error):
                raise StoreError(f"cannot open the PostgreSQL event store: {exc}") from exc
            raise
        self._activate(*head)

    async def close(self) -> None:
        if not self.is_open and self._writer is None and self._readers is None:
            return
        await self.stop_following()
        await self._drain()
        self._mark_closed()
        await self._stop_threads()

    async def _stop_threads(self) -> None:
        writer, readers = self._writer, self._readers
        self._writer = self._readers = None
        if readers is not None:
            await readers.stop()
        if writer is not None:
            await writer.stop()

    def refusal(self) -> StoreError | None:
        """A follower's, a demoted or a fenced leader's refusal names the leader (`leader_hint`):
        a client sends the request there. Any other failure is the store's own."""
        refusal = super().refusal()
        if not isinstance(refusal, FencedError) and (refusal is not None or self._term is not None):
            return refusal
        hint = self.leader_hint
        where = f": the leader is {hint.node_id} at {hint.address} (term {hint.term})" if hint else ""
        return NotLeaderError(f"this node follows, appends go to the leader{where}", leader=hint)

    # ------------------------------------------------------------------ leadership

    async def promote(self, term: int) -> None:
        """Read the log to its end, then write under fencing token `term`.

        Call it with the term `PostgresLease.acquire` just returned: every commit of an older
        term that could still land was over before that acquire committed (a takeover waits for
        commits in flight), so reading to the end now misses nothing. FencedError when the lease
        is no longer at `term`; the store then stays a follower."""
        base = super().refusal()
        if base is not None:
            raise base
        if self._term is not None:
            raise StoreError(f"already the writer (term {self._term})")
        await self.stop_following()
        while await self.follow_once():
            pass
        assert self._writer is not None
        try:
            # may run twice: it checks the term and names the connection
            await self._writer.call(_become_writer, term, f"itirp-writer:{self.node_id}:{term}", again=True)
        except psycopg.Error as exc:
            raise StoreError(f"cannot become the writer: {exc}") from exc
        self._term = self._write_term = term

    def demote(self) -> None:
        """Stop writing (the lease was lost or given up): new appends are refused with
        `NotLeaderError` from now on. Appends accepted before still commit under the old term, or
        fail with `FencedError` if a newer term began. The store does not follow afterwards
        unless told (`start_following`, once `settle` has returned)."""
        self._term = None

    async def follow_once(self) -> int:
        """Read what the leader committed after the head, check it links on, announce it."""
        read = 0
        async with self._follow_lock:
            # Not while our own appends are still in flight (after `demote`): they would be read
            # back and announced twice.
            while self._term is None and not self.failed and self._tail_seq == self._head_seq:
                page: list[StoredEvent] = await self._call_reader(
                    _read_after, self._head_seq, _FOLLOW_PAGE
                )
                if not page:
                    break
                check = verify_chain(
                    page, self._head_hash, expected_first_sequence=self._head_seq + 1
                )
                if not check.ok:
                    raise TamperedLogError(check.first_bad_sequence, check.message)
                self._adopt(page)
                read += len(page)
                if len(page) < _FOLLOW_PAGE:
                    break
        return read

    def start_following(self) -> None:
        """Follow the leader in the background: on each NOTIFY and every `poll_seconds`."""
        self._require_open()
        if self._follow_task is not None or self._term is not None:
            return
        loop = asyncio.get_running_loop()
        wake = self.follow_wake = asyncio.Event()
        self._listen_stop.clear()
        self._listen_thread = threading.Thread(
            target=self._listen, args=(loop, wake), name="itirp-pg-listen", daemon=True
        )
        self._listen_thread.start()
        self._follow_task = loop.create_task(self._follow_loop(wake), name="itirp-pg-follow")

    async def stop_following(self) -> None:
        task, thread = self._follow_task, self._listen_thread
        self._follow_task = self._listen_thread = None
        self._listen_stop.set()
        if task is not None:
            # Cancelled again until it has ended: a test once saw this wait forever (not reproduced
            # since), and a loop that misses one cancellation must not hold up a step-down.
            while not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=_STOP_WAIT)
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if thread is not None:
            # it looks at the stop flag every _LISTEN_WAIT; a daemon thread stuck in a connect is
            # left to end on its own rather than hold up the step-down
            await asyncio.to_thread(thread.join, _STOP_WAIT * 10)
            if thread.is_alive():
                _logger.warning("the LISTEN thread did not stop within %.0f s; left to end on its own", _STOP_WAIT * 10)

    async def _follow_loop(self, wake: asyncio.Event) -> None:
        while True:
            # asyncio.timeout, not wait_for: 3.11's wait_for loses a cancellation that comes as the
            # event is set (gh-86296), and stop_following then waits for this loop forever
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_seconds):
                    await wake.wait()
            wake.clear()
            try:
                await self.follow_once()
            except TamperedLogError as exc:
                self._commit_failed(exc)  # fatal: the owner hears it through on_failure
                return
            except StoreError:
                _logger.warning("following the event log failed; retrying", exc_info=True)

    def _listen(self, loop: asyncio.AbstractEventLoop, wake: asyncio.Event) -> None:
        """Thread: LISTEN on its own connection; each notification wakes the follow loop."""
        while not self._listen_stop.is_set():
            try:
                with _connect(self._url, f"itirp-listen:{self.node_id}") as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    while not self._listen_stop.is_set():
                        # a short wait, so that stop_following is not held up by a long poll
                        for _ in conn.notifies(timeout=_LISTEN_WAIT, stop_after=1):
                            if not self.drop_notifications:
                                loop.call_soon_threadsafe(wake.set)
            except psycopg.Error:
                _logger.warning("LISTEN connection lost; polling until it is back", exc_info=True)
                self._listen_stop.wait(self._poll_seconds)
            except RuntimeError:  # the loop is closed
                return

    # ------------------------------------------------------------------ commit

    def _start_commit(self, batch: list[StoredEvent], inject: BaseException | None) -> None:
        assert self._writer is not None
        self._writer.submit(_write_batch, (batch, inject, self._write_term, self._url), self._written)

    def _written(self, _result: None, exc: BaseException | None) -> None:
        if exc is None:
            self._commit_done()
        else:
            self._commit_failed(exc)

    # ------------------------------------------------------------------ reads

    async def _call_reader(self, fn: Any, *args: Any) -> Any:
        self._require_open()
        assert self._readers is not None
        try:
            return await self._readers.call(fn, *args, again=True)  # reads may run twice
        except psycopg.Error as exc:
            raise StoreError(f"event store read failed: {exc}") from exc
