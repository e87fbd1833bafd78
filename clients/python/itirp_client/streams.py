"""Server streams that survive dropped connections, server restarts, expired tokens and
slow-consumer cut-offs: one reconnect loop (`Resumable`) serves the order, audit, trade and book
streams.

`Resumable` opens a call from its resume point (`position`), hands out what the call sends, and
when the call fails with something worth retrying it waits (the server's `RetryInfo`, else
exponential backoff with jitter) and opens a new call: from the `resume_from_sequence` the server
named, or from the last sequence the reader recorded. With a `follow` hook (the client's: several
addresses, a two-node layout), a failure another node may not have moves the client's current
address first, and the new call opens there (the event log's sequences are the same on every node,
so the stream goes on with no gap and no duplicate). A stream the server ended because its
token expired or its user's role changed is opened again with a renewed token (refreshed, else a
fresh login); one ended by a logout, a disable or a password change is not. Attempts are
bounded: after `RetryPolicy.attempts * 4` failures in a row (none of them followed by a message)
the error is raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import grpc

from itirp_client.book import LiveBook, OrderBook
from itirp_client.errors import ItirpError, NotAuthenticated, Reason, from_rpc_error
from itirp_client.failover import Move

__all__ = ["Resumable", "RetryPolicy", "StreamCall", "StreamObserver", "follow_book", "follow_sequenced"]

log = logging.getLogger("itirp_client")

Sleep = Callable[[float], Awaitable[object]]

#: An expired (or, after a server restart with new keys, unreadable) token, or a role changed while
#: the stream was open: a renewed token helps. A revoked one (a logout), a disabled user or a
#: changed password: it does not.
RELOGIN_REASONS = frozenset({Reason.TOKEN_EXPIRED, Reason.TOKEN_INVALID, Reason.ROLE_CHANGED})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries of UNAVAILABLE: exponential backoff with jitter. A stream gives up after
    `attempts * 4` failed calls in a row, or never with `forever` (a terminal's live view).

    `failover_seconds`: how long a unary call keeps looking for a node that answers (a leader
    being replaced: NOT_LEADER naming no leader, or a connection failure with several addresses),
    counted as the waits between attempts; enough to cover a takeover (a 5 s lease by default)."""

    attempts: int = 6
    base_delay: float = 0.1
    max_delay: float = 3.0
    forever: bool = False
    failover_seconds: float = 15.0

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Between half and all of `base_delay * 2**(attempt-1)`, capped at `max_delay`."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return ceiling / 2 + rng() * ceiling / 2


class StreamObserver(Protocol):
    """Told when a stream loses its server and when it is back (e.g. to tell a human)."""

    def lost(self, name: str, error: ItirpError, retry_in: float) -> None: ...

    def resumed(self, name: str, position: int) -> None: ...


class StreamCall(Protocol):
    """What `Resumable` needs of a call: a `grpc.aio.UnaryStreamCall`, or a fake in tests."""

    async def read(self) -> Any:
        """The next message, or `grpc.aio.EOF`; raises `grpc.aio.AioRpcError` when the call fails."""

    def cancel(self) -> bool: ...


def resumable(error: ItirpError) -> bool:
    """Whether opening the stream again can help: the server was unreachable or going away, or it
    cut a slow reader off and said where to resume."""
    return (
        error.code == "UNAVAILABLE"
        or error.reason == Reason.SUBSCRIBER_TOO_SLOW
        or error.resume_from_sequence is not None
    )


class Resumable:
    """The messages of a stream across as many calls as it takes (see the module docstring).

    The reader records its progress: `position`, the sequence the next call resumes after;
    `resubscribe()` to drop the call and open a new one (e.g. the book skipped an update);
    `progress()` when that helped. `resubscriptions` counts the calls opened after the first."""

    def __init__(
        self,
        open_call: Callable[[int], StreamCall],
        position: int = 0,
        *,
        retry: RetryPolicy,
        sleep: Sleep = asyncio.sleep,
        relogin: Callable[[], Awaitable[bool]] | None = None,
        name: str = "the stream",
        observer: StreamObserver | None = None,
        follow: Callable[[ItirpError], Move | None] | None = None,
    ) -> None:
        self.position = position
        self.resubscriptions = 0
        self._open = open_call
        self._retry = retry
        self._sleep = sleep
        self._relogin = relogin
        self._name = name
        self._observer = observer
        self._follow = follow
        self._hopped = False  # the last failure sent the stream straight to a named leader
        self._lost = False  # the last call failed; the next message says it is back
        self._failures = 0  # failed calls in a row (reset by a message)
        self._resyncs = 0  # resubscriptions asked for in a row (reset by progress())
        self._resync = False

    @property
    def _limit(self) -> float:
        return float("inf") if self._retry.forever else self._retry.attempts * 4

    def resubscribe(self) -> None:
        """End the current call after this message and open a new one."""
        self._resync = True

    def progress(self) -> None:
        """The resubscription worked: the next one is not a repeat."""
        self._resyncs = 0

    async def messages(self) -> AsyncGenerator[Any, None]:
        """Every message of every call, in order (close it to end the current call)."""
        while True:
            call = self._open(self.position)
            try:
                while (item := await call.read()) is not grpc.aio.EOF:
                    self._failures, self._hopped = 0, False
                    if self._lost:
                        self._lost = False
                        if self._observer is not None:
                            self._observer.resumed(self._name, self.position)
                    yield item
                    if self._resync:
                        break
                if not self._resync:
                    return
                await self._resubscribed()
            except grpc.aio.AioRpcError as exc:
                await self._recover(from_rpc_error(exc))
            finally:
                call.cancel()
            self.resubscriptions += 1

    async def _resubscribed(self) -> None:
        self._resync = False
        self._resyncs += 1
        if self._resyncs > self._limit:
            raise ItirpError(f"{self._name} keeps skipping updates", code="DATA_LOSS")
        if self._resyncs > 1:  # the first time at once, then back off
            await self._sleep(self._retry.delay(min(self._resyncs, self._retry.attempts)))

    async def _recover(self, error: ItirpError) -> None:
        """Return when a new call is worth opening (after a wait, or a fresh login); else raise."""
        self._failures += 1
        if self._failures > self._limit:
            raise error from None
        if isinstance(error, NotAuthenticated) and error.reason in RELOGIN_REASONS and self._relogin is not None:
            log.info("%s: %s, renewing the token", self._name, error.reason)
            if await self._relogin():
                return
        if not resumable(error):
            raise error from None
        if error.resume_from_sequence is not None:
            self.position = max(self.position, error.resume_from_sequence)
        # another node may serve it (a connection failure, a node going away, NOT_LEADER): the
        # client moves its current address, and the next call opens there
        moved = self._follow(error) if self._follow is not None else None
        delay = error.retry_after
        # the node named the leader: straight there, once in a row (nodes naming each other wait)
        hop = self._hopped = moved is Move.LEADER and not self._hopped
        if hop:
            delay = 0.0
        elif moved is not None or delay is None:  # the wait a node asked for is its own
            delay = self._retry.delay(min(self._failures, self._retry.attempts))
        log.info("%s: %s (%s); reconnecting in %.2f s", self._name, error.code, error.reason or "-", delay)
        if self._observer is not None:
            self._observer.lost(self._name, error, delay)
        self._lost = True
        await self._sleep(delay)


async def follow_sequenced(
    stream: Resumable,
    sequence_of: Callable[[Any], int | None],
    markers: bool,
) -> AsyncGenerator[Any, None]:
    """The items of a stream whose items carry an event sequence (orders, audit, trades): each
    delivered once, in order, across reconnects. `sequence_of` gives an item's sequence (None: not
    a resume point, e.g. an open order's current state). Caught-up markers and heartbeats are
    yielded only with `markers`."""
    async with contextlib.aclosing(stream.messages()) as items:
        async for item in items:
            kind = item.WhichOneof("kind")
            if kind == "caught_up":
                stream.position = max(stream.position, item.caught_up.sequence)
            elif kind != "heartbeat":
                seq = sequence_of(item)
                if seq is not None:
                    if seq <= stream.position:
                        continue  # already delivered before a reconnect
                    stream.position = seq
                yield item
                continue
            if markers:
                yield item


async def follow_book(stream: Resumable, symbol: str) -> AsyncGenerator[OrderBook, None]:
    """The book built from the snapshot and kept up to date with the updates; a gap (an update
    that does not follow the last one applied) resubscribes, for a fresh snapshot."""
    book: LiveBook | None = None
    calls = -1
    async with contextlib.aclosing(stream.messages()) as items:
        async for item in items:
            if stream.resubscriptions != calls:  # a new subscription: its book starts from its snapshot
                calls, book = stream.resubscriptions, None
            kind = item.WhichOneof("kind")
            if kind == "snapshot":
                book = LiveBook(item.snapshot)
                yield book.freeze(resubscriptions=stream.resubscriptions)
            elif kind == "update":
                if book is None or not book.follows(item.update):
                    log.info(
                        "order book gap, resubscribing",
                        extra={
                            "symbol": symbol,
                            "have": book.sequence if book else None,
                            "previous_sequence": item.update.previous_sequence,
                        },
                    )
                    stream.resubscribe()
                    continue
                stream.progress()
                book.apply(item.update)
                yield book.freeze(update=item.update, resubscriptions=stream.resubscriptions)
