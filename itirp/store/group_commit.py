"""Group commit, shared by every backend: sequencing, batching, failure and listeners.

Why this shape:
- Sequences and hashes are assigned synchronously in `append`, on the event loop, so the order
  of events is the order of calls and a caller knows its sequences at once (`PendingAppend.events`).
- One writer, one batch in flight. Appends that arrive while a commit is in flight wait in
  `_pending` and all go into the next transaction: a single fsync acknowledges many callers,
  which is what makes thousands of durable events per second possible. Batches therefore
  commit strictly in sequence order.
- A failed commit is fatal. Later events are already chained onto the failed ones, so nothing
  after a failure may be acknowledged; the store refuses every further append and tells the
  owner once through `on_failure` (the server then turns NOT_SERVING).

Backends implement `_start_commit(batch, inject)` and report back, on the loop thread, through
`_commit_done()` or `_commit_failed(exc)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Callable, Sequence

from itirp.store.base import CommitListener
from itirp.store.errors import StoreError
from itirp.store.records import GENESIS_HASH, NewEvent, StoredEvent, VerifyResult, seal

__all__ = ["DEFAULT_MAX_BATCH", "GroupCommitStore", "PendingAppend"]

_logger = logging.getLogger("itirp.store")

DEFAULT_MAX_BATCH = 8192
"""Most events per transaction (a single larger append still goes alone, whole)."""

FailureCallback = Callable[[StoreError], None]


class PendingAppend(asyncio.Future[list[StoredEvent]]):
    """The awaitable `append` returns: resolves to `events` once they are durable.

    `events` are known at once (sequences and hashes are assigned at call time) but are not
    durable, nor visible to reads, until the future resolves.
    """

    events: list[StoredEvent]


def _like(failure: StoreError, message: str) -> StoreError:
    """A new error saying `message`, of the failure's own class with its attributes: an append
    refused because the store was fenced still raises `FencedError`, which a caller can tell apart."""
    err = type(failure).__new__(type(failure))
    err.__dict__.update(failure.__dict__)
    err.args = (message,)
    return err


class _State(enum.Enum):
    NEW = "new"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class GroupCommitStore:
    """Base class of the backends; see the module docstring."""

    def __init__(
        self,
        *,
        on_failure: FailureCallback | None = None,
        max_batch: int = DEFAULT_MAX_BATCH,
        read_only: bool = False,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        self._on_failure = on_failure
        self._max_batch = max_batch
        self._read_only = read_only
        self._state = _State.NEW
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failure: StoreError | None = None
        # Committed head (what reads and listeners have seen) and assigned tail.
        self._head_seq = 0
        self._head_hash = GENESIS_HASH
        self._tail_seq = 0
        self._tail_hash = GENESIS_HASH
        self._pending: list[PendingAppend] = []
        self._pending_events = 0
        self._inflight: list[PendingAppend] | None = None
        self._inflight_batch: list[StoredEvent] = []
        self._flush_scheduled = False
        self._inject: BaseException | None = None
        self._drained: asyncio.Future[None] | None = None
        self._listeners: list[CommitListener] = []
        self.commits = 0
        """Transactions committed since open (each one fsync)."""
        self.committed_events = 0
        """Events committed since open."""
        self._commit_started = 0.0
        self.last_commit_seconds = 0.0
        """Duration of the last commit, from hand-off to the backend until `_commit_done` on the
        loop; set before the listeners run, so a listener (the metrics) can read it per batch."""

    # ------------------------------------------------------------------ state

    @property
    def head_sequence(self) -> int:
        return self._head_seq

    @property
    def head_hash(self) -> str:
        return self._head_hash

    @property
    def failed(self) -> bool:
        return self._failure is not None

    @property
    def failure(self) -> StoreError | None:
        """The error that failed the store, if any."""
        return self._failure

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def is_open(self) -> bool:
        return self._state is _State.OPEN

    def _activate(self, head_sequence: int, head_hash: str) -> None:
        """Called by a backend's `open` once the head is known."""
        self._loop = asyncio.get_running_loop()
        self._head_seq = self._tail_seq = head_sequence
        self._head_hash = self._tail_hash = head_hash
        self._state = _State.OPEN
        self.commits = 0
        self.committed_events = 0

    def _require_open(self) -> None:
        if self._state is not _State.OPEN and self._state is not _State.CLOSING:
            raise StoreError(f"event store is {self._state.value}")

    # ------------------------------------------------------------------ listeners

    def add_listener(self, listener: CommitListener) -> None:
        """Call `listener(batch)` on the loop after each durable batch, in sequence order."""
        self._listeners.append(listener)

    def remove_listener(self, listener: CommitListener) -> None:
        """Stop calling `listener`; unknown listeners are ignored."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    # ------------------------------------------------------------------ test hook

    def fail_next_commit(self, exc: BaseException | None = None) -> None:
        """Test hook: make the next transaction fail (rolled back) with `exc`."""
        self._inject = exc if exc is not None else OSError(28, "No space left on device")

    # ------------------------------------------------------------------ append

    def _refuse(self, error: StoreError) -> PendingAppend:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise error from None
        fut = PendingAppend(loop=loop)
        fut.events = []
        fut.set_exception(error)
        return fut

    def refusal(self) -> StoreError | None:
        """The error an append would be refused with now (failed, read-only or not open), or None.
        A command that changes state before it appends (the internal venue's book) asks first."""
        if self._failure is not None:
            return _like(self._failure, f"event store failed, appends refused: {self._failure}")
        if self._state is not _State.OPEN:
            return StoreError(f"event store is {self._state.value}")
        if self._read_only:
            return StoreError("event store is read-only")
        return None

    def append(self, events: Sequence[NewEvent]) -> PendingAppend:
        """Assign sequences and hashes now; the future resolves once they are durable.

        The events of one call are contiguous and committed atomically. Invalid events raise
        TypeError/ValueError here and change nothing. A store that failed, is read-only or is
        not open returns an already failed future (StoreError). Cancelling the future does not
        withdraw the events. Must be called on the loop thread the store was opened on.
        """
        refusal = self.refusal()
        if refusal is not None:
            return self._refuse(refusal)
        loop = self._loop
        assert loop is not None
        stored = seal(events, last_sequence=self._tail_seq, last_hash=self._tail_hash)
        fut = PendingAppend(loop=loop)
        fut.events = stored
        if not stored:
            fut.set_result(stored)
            return fut
        last = stored[-1]
        self._tail_seq = last.sequence
        self._tail_hash = last.hash
        self._pending.append(fut)
        self._pending_events += len(stored)
        if self._inflight is None and not self._flush_scheduled:
            # Wait one loop iteration so that appends made in this one join the batch.
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return fut

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._inflight is not None or not self._pending or self._failure is not None:
            return
        pending = self._pending
        if self._pending_events <= self._max_batch:
            calls = pending
            self._pending = []
            self._pending_events = 0
        else:
            n = total = 0
            limit = self._max_batch
            while n < len(pending) and (n == 0 or total + len(pending[n].events) <= limit):
                total += len(pending[n].events)
                n += 1
            calls = pending[:n]
            del pending[:n]
            self._pending_events -= total
        batch = calls[0].events if len(calls) == 1 else [e for c in calls for e in c.events]
        self._inflight = calls
        self._inflight_batch = batch
        inject, self._inject = self._inject, None
        self._commit_started = time.perf_counter()
        try:
            self._start_commit(batch, inject)
        except BaseException as exc:  # noqa: BLE001 - whatever stops the commit fails the store and every waiting append
            self._commit_failed(exc)

    def _start_commit(self, batch: list[StoredEvent], inject: BaseException | None) -> None:
        """Backend: make `batch` durable in one transaction (raising `inject` before COMMIT
        when it is set), then call `_commit_done` or `_commit_failed` on the loop thread."""
        raise NotImplementedError

    def _commit_done(self) -> None:
        calls = self._inflight
        if calls is None or self._failure is not None:
            return
        batch = self._inflight_batch
        self._inflight = None
        self._inflight_batch = []
        last = batch[-1]
        self._head_seq = last.sequence
        self._head_hash = last.hash
        self.commits += 1
        self.committed_events += len(batch)
        self.last_commit_seconds = time.perf_counter() - self._commit_started
        for listener in tuple(self._listeners):
            try:
                listener(batch)
            except Exception:
                _logger.exception("event store listener %r failed", listener)
        for fut in calls:
            if not fut.done():
                fut.set_result(fut.events)
        if self._pending:
            self._flush()  # everything that arrived during the commit: one transaction
        else:
            self._notify_drained()

    def _adopt(self, batch: list[StoredEvent]) -> None:
        """Events another writer committed (a follower reading the leader's log), already checked
        to link onto the head: head and tail move to them and the listeners hear them, exactly as
        after a commit of our own (once, in order, on the loop)."""
        if not batch:
            return
        last = batch[-1]
        self._head_seq = self._tail_seq = last.sequence
        self._head_hash = self._tail_hash = last.hash
        for listener in tuple(self._listeners):
            try:
                listener(batch)
            except Exception:
                _logger.exception("event store listener %r failed", listener)

    def _commit_failed(self, exc: BaseException) -> None:
        if self._failure is not None:
            return
        failure = exc if isinstance(exc, StoreError) else StoreError(f"commit failed: {exc!r}")
        if failure is not exc:
            failure.__cause__ = exc
        self._failure = failure
        calls = (self._inflight or []) + self._pending
        self._inflight = None
        self._inflight_batch = []
        self._pending = []
        self._pending_events = 0
        _logger.error("event store failed; refusing all further appends: %s", failure)
        for fut in calls:
            if not fut.done():
                err = _like(failure, f"event store failed, append not committed: {failure}")
                err.__cause__ = exc
                fut.set_exception(err)
        self._notify_drained()
        if self._on_failure is not None:
            try:
                self._on_failure(failure)
            except Exception:
                _logger.exception("event store on_failure callback failed")

    def _notify_drained(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    async def _drain(self) -> None:
        """Refuse new appends and wait until pending ones are committed (or failed)."""
        if self._state is _State.OPEN:
            self._state = _State.CLOSING
        await self.settle()

    async def settle(self) -> None:
        """Wait until every append staged so far is committed (or the log failed); new appends
        stay open. What a last checkpoint signs must not leave an append in flight behind it."""
        while self._failure is None and (self._inflight is not None or self._pending):
            if self._inflight is None:
                self._flush()
                continue
            self._drained = asyncio.get_running_loop().create_future()
            await self._drained
            self._drained = None

    def _mark_closed(self) -> None:
        self._state = _State.CLOSED

    @staticmethod
    def _verify_against_head(result: VerifyResult, head_seq: int, head_hash: str) -> VerifyResult:
        """Extend a chain walk with what this process knows: the committed head.

        Catches what a walk alone cannot: deleted trailing rows, or a rewritten last row.
        """
        if not result.ok:
            return result
        if result.head_sequence < head_seq:
            missing = result.head_sequence + 1
            return VerifyResult(
                ok=False,
                events_checked=result.events_checked,
                head_sequence=result.head_sequence,
                head_hash=result.head_hash,
                first_bad_sequence=missing,
                message=(
                    f"event {missing}: missing (log truncated; {head_seq} events were committed)"
                ),
            )
        if result.head_sequence == head_seq and result.head_hash != head_hash:
            return VerifyResult(
                ok=False,
                events_checked=result.events_checked,
                head_sequence=result.head_sequence,
                head_hash=result.head_hash,
                first_bad_sequence=head_seq,
                message=f"event {head_seq}: hash differs from the one committed (row rewritten?)",
            )
        return result
