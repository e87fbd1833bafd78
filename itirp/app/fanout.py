"""Live event subscriptions: catch up from the store, then follow commits, with no gap and no
duplicate; bounded memory per subscriber.

How the switch-over is exact: the subscriber is registered (so every batch committed from now on
lands in its queue) and, in the same step, the store's head H is noted. Every event up to H is
readable from the store; every event after H arrives through the queue. Catch-up reads (from, H],
then the queue is drained, skipping anything at or below what was already delivered.

A subscriber whose queue exceeds its bound is cut off (`ResourceExhausted`, reason
SUBSCRIBER_TOO_SLOW, naming the sequence to resume from) and its queue freed at once, so one slow
reader costs nobody else anything.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from itirp.errors import InvalidArgument, Reason, ResourceExhausted, Unavailable
from itirp.store import EventQuery, EventStore, StoredEvent

__all__ = ["RECONNECT_AFTER_SECONDS", "RESUBSCRIBE_AFTER_SECONDS", "CaughtUp", "EventFanout", "Heartbeat"]

_CATCH_UP_PAGE = 1000

#: Retry hints (`google.rpc.RetryInfo`) of a stream that was ended: a subscriber cut off for being
#: slow may come back at once (a short pause lets it drain whatever made it slow); one ended by a
#: shutdown waits for the server (or another one) to be back.
RESUBSCRIBE_AFTER_SECONDS = 1.0
RECONNECT_AFTER_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class CaughtUp:
    sequence: int


@dataclass(frozen=True, slots=True)
class Heartbeat:
    head_sequence: int


class _Subscriber:
    __slots__ = ("matches", "max_queue", "overflowed", "queue", "wake")

    def __init__(self, matches: Callable[[StoredEvent], bool], max_queue: int) -> None:
        self.matches = matches
        self.max_queue = max_queue
        self.queue: collections.deque[StoredEvent] = collections.deque()
        self.wake = asyncio.Event()
        self.overflowed = False

    def offer(self, events: list[StoredEvent]) -> None:
        if self.overflowed:
            return
        matches = self.matches
        self.queue.extend(ev for ev in events if matches(ev))
        if len(self.queue) > self.max_queue:
            self.overflowed = True
            self.queue.clear()
        self.wake.set()


def _cut_off(max_queue: int, delivered: int) -> ResourceExhausted:
    """The error that ends a subscriber that fell too far behind, saying where to resume."""
    return ResourceExhausted(
        f"subscriber fell more than {max_queue} events behind and was cut off; resume with from_sequence={delivered}",
        reason=Reason.SUBSCRIBER_TOO_SLOW,
        metadata={"resume_from_sequence": str(delivered)},
        retry_after_seconds=RESUBSCRIBE_AFTER_SECONDS,
    )


def _ended(why: str, delivered: int) -> Unavailable:
    """The error that ends every stream on shutdown, saying where to resume."""
    return Unavailable(
        f"{why}; resume with from_sequence={delivered}",
        reason=Reason.SHUTTING_DOWN,
        metadata={"resume_from_sequence": str(delivered)},
        retry_after_seconds=RECONNECT_AFTER_SECONDS,
    )


class EventFanout:
    """Delivers committed events to any number of subscribers."""

    def __init__(self, store: EventStore, *, max_queue: int = 10_000) -> None:
        self._store = store
        self._max_queue = max_queue
        self._subscribers: set[_Subscriber] = set()
        self._closing = ""
        store.add_listener(self._on_commit)

    @property
    def head_sequence(self) -> int:
        """The newest sequence every subscriber has been offered."""
        return self._store.head_sequence

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def queued_events(self) -> list[int]:
        """Events committed but not yet sent, per subscriber (for the metrics). Safe to call from
        another thread: it only reads, and retries if the set of subscribers changes meanwhile."""
        for _ in range(5):
            try:
                return [len(s.queue) for s in tuple(self._subscribers)]
            except RuntimeError:  # "set changed size during iteration"
                continue
        return []

    async def order_events(self, order_id: str, after: int, upto: int) -> list[StoredEvent]:
        """One order's events with `after` < sequence <= `upto`, ascending (for `OrderHistory`)."""
        found: list[StoredEvent] = []
        while True:
            page = await self._store.query(filter=EventQuery(order_id=order_id, after_sequence=after), limit=500)
            for event in page:
                if event.sequence > upto:
                    return found
                found.append(event)
            if len(page) < 500:
                return found
            after = page[-1].sequence

    def close(self) -> None:
        self._store.remove_listener(self._on_commit)

    def end_streams(self, reason: str) -> None:
        """End every subscription (server shutting down): each stream ends UNAVAILABLE with the
        sequence to resume from, so clients reconnect elsewhere or later and lose nothing."""
        self._closing = reason
        for subscriber in self._subscribers:
            subscriber.wake.set()

    def _on_commit(self, events: list[StoredEvent]) -> None:
        for subscriber in self._subscribers:
            subscriber.offer(events)

    async def subscribe(
        self,
        *,
        after: int,
        matches: Callable[[StoredEvent], bool],
        heartbeat_seconds: float,
        check: Callable[[], None] = lambda: None,
        max_queue: int | None = None,
    ) -> AsyncIterator[StoredEvent | CaughtUp | Heartbeat]:
        """Events with sequence > `after` that `matches`, then `CaughtUp`, then live events, with a
        `Heartbeat` after `heartbeat_seconds` of quiet. `check()` runs at every wake-up and may raise
        to end the stream (e.g. a revoked token). A resume point beyond the newest event is refused:
        it comes from another event log, and following it would silently skip events."""
        head = self._store.head_sequence
        if after > head:
            raise InvalidArgument(
                "from_sequence",
                f"{after} is beyond the newest event of this server's log ({head});"
                " resume from a sequence this server sent",
                reason=Reason.RESUME_POINT_BEYOND_HEAD,
                metadata={"head_sequence": str(head)},
            )
        subscriber = _Subscriber(matches, max_queue or self._max_queue)
        self._subscribers.add(subscriber)
        try:
            horizon = self._store.head_sequence
            delivered = after  # the last sequence this subscriber has been given (or skipped)

            def overflow() -> ResourceExhausted:
                return _cut_off(subscriber.max_queue, delivered)

            def closing() -> None:
                if self._closing:
                    raise _ended(self._closing, delivered)

            while delivered < horizon:
                page = await self._store.read(after=delivered, limit=min(_CATCH_UP_PAGE, horizon - delivered))
                if not page:
                    break
                for event in page:
                    if matches(event):
                        yield event
                    delivered = event.sequence
                check()
                closing()
                if subscriber.overflowed:
                    raise overflow()
            delivered = max(delivered, horizon)
            yield CaughtUp(delivered)

            queue = subscriber.queue
            while True:
                while queue:
                    event = queue.popleft()
                    if event.sequence > delivered:
                        yield event
                        delivered = event.sequence
                if subscriber.overflowed:
                    raise overflow()
                check()
                closing()
                subscriber.wake.clear()
                try:  # asyncio.timeout, not wait_for: 3.11's wait_for can lose a cancellation (gh-86296)
                    async with asyncio.timeout(heartbeat_seconds):
                        await subscriber.wake.wait()
                except TimeoutError:
                    check()
                    yield Heartbeat(self._store.head_sequence)
        finally:
            self._subscribers.discard(subscriber)
