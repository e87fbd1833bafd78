"""Fixtures for the event store tests: one harness per backend, so the contract is written once.

A harness creates stores on one storage (a list for memory, a file for SQLite), reopens them
and tampers with what is stored the way an attacker with access to the storage would.
"""

from __future__ import annotations

import itertools
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from itirp.store import MemoryEventStore, NewEvent, SqliteEventStore
from itirp.store.group_commit import GroupCommitStore

BACKENDS = ("memory", "sqlite")
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


@pytest_asyncio.fixture(params=BACKENDS)
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    h: Harness = MemoryHarness() if request.param == "memory" else SqliteHarness(tmp_path / "ev.db")
    yield h
    await h.close_all()


@pytest_asyncio.fixture
async def sqlite_harness(tmp_path: Path) -> AsyncIterator[SqliteHarness]:
    h = SqliteHarness(tmp_path / "ev.db")
    yield h
    await h.close_all()
