"""Fixtures for the event store tests: one harness per backend, so the contract is written once.

A harness creates stores on one storage (a list for memory, a file for SQLite, a fresh database
for PostgreSQL), reopens them and tampers with what is stored the way an attacker with access to
the storage would (for PostgreSQL: a superuser who switches the append-only trigger off).
"""

from __future__ import annotations

import itertools
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest
import pytest_asyncio

from itirp.store import MemoryEventStore, NewEvent, PostgresEventStore, PostgresLease, SqliteEventStore
from itirp.store.group_commit import GroupCommitStore

BACKENDS = ("memory", "sqlite", "postgres")
EventFactory = Callable[..., NewEvent]


@pytest.fixture
def make_event() -> EventFactory:
    """`make_event(**overrides)` → a valid NewEvent with a fresh id and a later timestamp."""
    clock = itertools.count(1_700_000_000_000_000, 1_000)

    def make(**overrides: Any) -> NewEvent:
        fields: dict[str, Any] = {
            "event_id": str(uuid.uuid4()),
            "event_type": "ORDER_CREATED",
            "correlation_id": "corr-1",
            "causation_id": "",
            "order_id": "order-1",
            "user_id": "alice",
            "symbol": "AAPL",
            "timestamp_us": next(clock),
            "schema_version": 1,
            "payload": b"\x08\x01payload",
        }
        fields.update(overrides)
        return NewEvent(**fields)

    return make


class Harness:
    """Creates, reopens and tampers with stores of one backend on one storage."""

    kind: str

    def __init__(self) -> None:
        self.stores: list[GroupCommitStore] = []

    async def new_store(self, **kwargs: Any) -> Any:
        store = self._create(**kwargs)
        self.stores.append(store)
        await store.open()
        return store

    async def reopen(self, store: Any) -> Any:
        await store.close()
        return await self.new_store()

    def _create(self, **kwargs: Any) -> GroupCommitStore:
        raise NotImplementedError

    def edit(self, sequence: int, payload: bytes) -> None:
        raise NotImplementedError

    def delete(self, sequence: int) -> None:
        raise NotImplementedError

    def swap(self, a: int, b: int) -> None:
        raise NotImplementedError

    async def close_all(self) -> None:
        for store in self.stores:
            await store.close()


class MemoryHarness(Harness):
    kind = "memory"

    def __init__(self) -> None:
        super().__init__()
        self.store: MemoryEventStore | None = None

    def _create(self, **kwargs: Any) -> GroupCommitStore:
        if self.store is None or kwargs:
            self.store = MemoryEventStore(**kwargs)
        return self.store

    async def reopen(self, store: Any) -> Any:
        await store.close()
        await store.open()  # the same list, as a file would be
        return store

    def edit(self, sequence: int, payload: bytes) -> None:
        assert self.store is not None
        self.store.tamper_edit(sequence, payload=payload)

    def delete(self, sequence: int) -> None:
        assert self.store is not None
        self.store.tamper_delete(sequence)

    def swap(self, a: int, b: int) -> None:
        assert self.store is not None
        self.store.tamper_swap(a, b)


class SqliteHarness(Harness):
    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def _create(self, **kwargs: Any) -> GroupCommitStore:
        return SqliteEventStore(self.path, **kwargs)

    def raw(self) -> sqlite3.Connection:
        """A plain connection on the file, bypassing the store (as an attacker would)."""
        return sqlite3.connect(self.path, isolation_level=None)

    def edit(self, sequence: int, payload: bytes) -> None:
        with closing(self.raw()) as db:
            db.execute("UPDATE events SET payload = ? WHERE sequence = ?", (payload, sequence))

    def delete(self, sequence: int) -> None:
        with closing(self.raw()) as db:
            db.execute("DELETE FROM events WHERE sequence = ?", (sequence,))

    def swap(self, a: int, b: int) -> None:
        with closing(self.raw()) as db:
            cols = [r[1] for r in db.execute("PRAGMA table_info(events)") if r[1] != "sequence"]
            row_a = db.execute(f"SELECT {', '.join(cols)} FROM events WHERE sequence = ?", (a,))
            values_a = row_a.fetchone()
            values_b = db.execute(
                f"SELECT {', '.join(cols)} FROM events WHERE sequence = ?", (b,)
            ).fetchone()
            assignments = ", ".join(f"{c} = ?" for c in cols)
            db.execute("BEGIN")
            db.execute("UPDATE events SET event_id = 'swap-tmp' WHERE sequence = ?", (a,))
            db.execute(f"UPDATE events SET {assignments} WHERE sequence = ?", (*values_a, b))
            db.execute(f"UPDATE events SET {assignments} WHERE sequence = ?", (*values_b, a))
            db.execute("COMMIT")


class PostgresHarness(Harness):
    """Stores on one fresh database; each new store is promoted under a fresh lease term."""

    kind = "postgres"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.lease = PostgresLease(url, node_id="harness", address="127.0.0.1:0", ttl_seconds=60)
        self.term: int | None = None

    def _create(self, **kwargs: Any) -> GroupCommitStore:
        kwargs.setdefault("node_id", "harness")
        return PostgresEventStore(self.url, **kwargs)

    async def new_store(self, **kwargs: Any) -> Any:
        store = await super().new_store(**kwargs)
        if not store.read_only:
            await store.promote(await self.take_lease())
        return store

    async def take_lease(self) -> int:
        if self.term is not None:
            await self.lease.release(self.term)
        term = await self.lease.acquire()
        assert term is not None
        self.term = term
        return term

    def raw(self) -> psycopg.Connection[Any]:
        """A superuser connection with triggers off (`session_replication_role = replica`)."""
        conn = psycopg.connect(self.url, autocommit=True)
        conn.execute("SET session_replication_role = replica")
        return conn

    def edit(self, sequence: int, payload: bytes) -> None:
        with self.raw() as db:
            db.execute("UPDATE events SET payload = %s WHERE sequence = %s", (payload, sequence))

    def delete(self, sequence: int) -> None:
        with self.raw() as db:
            db.execute("DELETE FROM events WHERE sequence = %s", (sequence,))

    def swap(self, a: int, b: int) -> None:
        with self.raw() as db, db.transaction():
            cur = db.execute("SELECT * FROM events WHERE sequence = %s", (a,))
            cols = [d.name for d in cur.description or () if d.name != "sequence"]
            select = f"SELECT {', '.join(cols)} FROM events WHERE sequence = %s"
            values_a = db.execute(select, (a,)).fetchone()
            values_b = db.execute(select, (b,)).fetchone()
            assert values_a is not None
            assert values_b is not None
            assignments = ", ".join(f"{c} = %s" for c in cols)
            db.execute(f"UPDATE events SET {assignments} WHERE sequence = %s", (*values_a, b))
            db.execute(f"UPDATE events SET {assignments} WHERE sequence = %s", (*values_b, a))

    async def close_all(self) -> None:
        await super().close_all()
        await self.lease.close()


@pytest_asyncio.fixture(params=BACKENDS)
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    h: Harness
    if request.param == "memory":
        h = MemoryHarness()
    elif request.param == "sqlite":
        h = SqliteHarness(tmp_path / "ev.db")
    else:
        h = PostgresHarness(request.getfixturevalue("pg_url"))
    yield h
    await h.close_all()


@pytest_asyncio.fixture
async def pg_harness(pg_url: str) -> AsyncIterator[PostgresHarness]:
    h = PostgresHarness(pg_url)
    yield h
    await h.close_all()


@pytest_asyncio.fixture
async def sqlite_harness(tmp_path: Path) -> AsyncIterator[SqliteHarness]:
    h = SqliteHarness(tmp_path / "ev.db")
    yield h
    await h.close_all()
