"""In-memory event store: the same contract as the durable backends, for tests.

It batches exactly like the SQLite store (the "commit" happens one loop iteration after the
flush, so appends made meanwhile queue up for the next batch), survives close/open on the same
object (as a file would), and has hooks to fail a commit and to tamper with stored events.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left, bisect_right
from operator import attrgetter
from typing import Any

from itirp.store.base import EventQuery
from itirp.store.errors import StoreError
from itirp.store.group_commit import DEFAULT_MAX_BATCH, FailureCallback, GroupCommitStore
from itirp.store.records import GENESIS_HASH, StoredEvent, VerifyResult, verify_chain

__all__ = ["MemoryEventStore"]

_seq = attrgetter("sequence")


class MemoryEventStore(GroupCommitStore):
    """Events in a list, ascending by sequence. Not durable, obviously."""

    def __init__(
        self, *, on_failure: FailureCallback | None = None, max_batch: int = DEFAULT_MAX_BATCH
    ) -> None:
        super().__init__(on_failure=on_failure, max_batch=max_batch)
        self._events: list[StoredEvent] = []

    async def open(self) -> None:
        if self.is_open:
            return
        if self.failed:
            raise StoreError("a failed event store cannot be reopened; create a new one")
        if self._events:
            last = self._events[-1]
            self._activate(last.sequence, last.hash)
        else:
            self._activate(0, GENESIS_HASH)

    async def close(self) -> None:
        await self._drain()
        self._mark_closed()

    # ------------------------------------------------------------------ commit

    def _start_commit(self, batch: list[StoredEvent], inject: BaseException | None) -> None:
        assert self._loop is not None
        self._loop.call_soon(self._apply, batch, inject)

    def _apply(self, batch: list[StoredEvent], inject: BaseException | None) -> None:
        if inject is not None:
            self._commit_failed(inject)
            return
        self._events.extend(batch)
        self._commit_done()

    # ------------------------------------------------------------------ reads

    async def read(self, *, after: int = 0, limit: int | None = None) -> list[StoredEvent]:
        self._require_open()
        events = self._events
        start = bisect_right(events, after, key=_seq)
        end = bisect_right(events, self._head_seq, key=_seq)
        if limit is not None:
            end = min(end, start + max(limit, 0))
        return events[start:end]

    async def query(self, *, filter: EventQuery, limit: int) -> list[StoredEvent]:
        self._require_open()
        if limit < 1:
            raise ValueError("limit must be >= 1")
        events = self._events
        out: list[StoredEvent] = []
        if filter.ascending:
            start = bisect_right(events, filter.after_sequence, key=_seq)
            end = bisect_right(events, self._head_seq, key=_seq)
            candidates: Any = (events[i] for i in range(start, end))
        else:
            bound = self._head_seq + 1
            if filter.before_sequence is not None:
                bound = min(bound, filter.before_sequence)
            end = bisect_left(events, bound, key=_seq)
            candidates = (events[i] for i in range(end - 1, -1, -1))
        for ev in candidates:
            if filter.matches(ev):
                out.append(ev)
                if len(out) >= limit:
                    break
        return out

    async def verify(self) -> VerifyResult:
        self._require_open()
        head_seq, head_hash = self._head_seq, self._head_hash
        end = bisect_right(self._events, head_seq, key=_seq)
        result = verify_chain(self._events[:end], expected_first_sequence=1)
        return self._verify_against_head(result, head_seq, head_hash)

    # ------------------------------------------------------------------ tamper hooks (tests)

    def _index(self, sequence: int) -> int:
        i = bisect_left(self._events, sequence, key=_seq)
        if i == len(self._events) or self._events[i].sequence != sequence:
            raise KeyError(sequence)
        return i

    def tamper_edit(self, sequence: int, **changes: Any) -> None:
        """Test hook: overwrite fields of a stored event, leaving its hashes alone."""
        i = self._index(sequence)
        self._events[i] = dataclasses.replace(self._events[i], **changes)

    def tamper_delete(self, sequence: int) -> None:
        """Test hook: remove a stored event."""
        del self._events[self._index(sequence)]

    def tamper_swap(self, a: int, b: int) -> None:
        """Test hook: swap two events' contents, each keeping its slot's sequence (what an
        UPDATE of every column but the primary key does)."""
        i, j = self._index(a), self._index(b)
        ea, eb = self._events[i], self._events[j]
        self._events[i] = dataclasses.replace(eb, sequence=a)
        self._events[j] = dataclasses.replace(ea, sequence=b)
