"""The core's event sink over the event store, and durability awaited by sequence.

`stage` appends to the store (which assigns sequences and hashes at once and commits in groups)
and keeps the append's future by its last sequence; `durable(sequence)` waits for that future, or,
for a sequence it does not hold (an event another writer appended, such as authentication), for
the store's commit listeners to pass it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Sequence

from itirp.store import EventStore, NewEvent, PendingAppend, StoredEvent

__all__ = ["StoreSink"]


class StoreSink:
    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._pending: dict[int, asyncio.Future[list[StoredEvent]]] = {}
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._tie = itertools.count()
        self._failure: BaseException | None = None
        store.add_listener(self._on_commit)

    def refusal(self) -> Exception | None:
        """The store's error if it would refuse an append now (it failed, or is read-only)."""
        return self._store.refusal()

    def stage(self, events: Sequence[NewEvent]) -> list[StoredEvent]:
        """Sequences assigned now; raises the store's `StoreError` when it refuses the append (it
        failed, or is read-only): the command then records nothing and the caller hears why."""
        pending = self._store.append(events)
        # the store's append returns a `PendingAppend`: a future whose events are known at once
        assert isinstance(pending, PendingAppend)
        refusal = pending.exception() if pending.done() and not pending.cancelled() else None
        if refusal is not None:
            raise refusal
        stored: list[StoredEvent] = pending.events
        if stored:
            self._pending[stored[-1].sequence] = pending
        return stored

    async def durable(self, sequence: int) -> None:
        """Return once every event up to `sequence` is durable; raise the store's error if the
        commit failed (nothing behind it may then be acknowledged)."""
        pending = self._pending.pop(sequence, None)
        if pending is not None:
            await pending
            return
        if sequence <= self._store.head_sequence:
            return
        if self._failure is not None:
            raise self._failure
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (sequence, next(self._tie), future))
        await future

    def _on_commit(self, events: list[StoredEvent]) -> None:
        if not events:
            return
        head = events[-1].sequence
        pending = self._pending
        # futures nobody awaits (an execution step's events): forget them once committed
        for sequence in [s for s in pending if s <= head]:
            del pending[sequence]
        waiters = self._waiters
        while waiters and waiters[0][0] <= head:
            _, _, future = heapq.heappop(waiters)
            if not future.done():
                future.set_result(None)

    def fail(self, error: BaseException) -> None:
        """The store failed: release every waiter with the error. The appends nobody awaits (a day
        roll inside another command) fail too; their error is reported once, by the store's failure
        callback, so it is marked retrieved here rather than logged again as never retrieved."""
        self._failure = error
        for pending in self._pending.values():
            pending.add_done_callback(_retrieved)
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_exception(error)

    def close(self) -> None:
        self._store.remove_listener(self._on_commit)


def _retrieved(future: asyncio.Future[list[StoredEvent]]) -> None:
    """A failed append that nobody awaits (a day roll inside another command) must not be logged as
    an unretrieved exception: the failure is reported once, by the store's failure callback."""
    if not future.cancelled():
        future.exception()
