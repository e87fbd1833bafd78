"""EventFanout over a MemoryEventStore: catch-up then live with no gap and no duplicate, the slow
subscriber cut off with where to resume, shutdown ending streams, a resume point beyond the head."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from itirp.app.fanout import RECONNECT_AFTER_SECONDS, RESUBSCRIBE_AFTER_SECONDS, CaughtUp, EventFanout, Heartbeat
from itirp.errors import InvalidArgument, Reason, ResourceExhausted, Unauthenticated, Unavailable
from itirp.store import MemoryEventStore, NewEvent, StoredEvent

QUIET = 3600.0  # heartbeat interval long enough never to fire in a test
STEP = 5.0  # generous bound on one step of a stream, so a bug fails instead of hanging

_clock = itertools.count(1_700_000_000_000_000, 1_000)


def event(symbol: str = "AAPL") -> NewEvent:
    return NewEvent(
        event_id=str(uuid.uuid4()),
        event_type="ORDER_CREATED",
        correlation_id="c",
        causation_id="",
        order_id="o",
        user_id="u",
        symbol=symbol,
        timestamp_us=next(_clock),
        schema_version=1,
        payload=b"",
    )


async def commit(store: MemoryEventStore, n: int, symbol: str = "AAPL") -> list[StoredEvent]:
    return await store.append([event(symbol) for _ in range(n)])


async def step(stream: AsyncIterator[Any]) -> Any:
    return await asyncio.wait_for(anext(stream), STEP)


def everything(_: StoredEvent) -> bool:
    return True


@pytest.fixture
async def store() -> AsyncIterator[MemoryEventStore]:
    s = MemoryEventStore()
    await s.open()
    yield s
    await s.close()


@pytest.fixture
def fanout(store: MemoryEventStore) -> EventFanout:
    return EventFanout(store, max_queue=100)


def sequences(items: list[Any]) -> list[int]:
    return [i.sequence for i in items if isinstance(i, StoredEvent)]


async def test_catch_up_then_live_with_no_gap_and_no_duplicate(store: MemoryEventStore, fanout: EventFanout) -> None:
    # Arrange: five stored events
    await commit(store, 5)
    stream = fanout.subscribe(after=2, matches=everything, heartbeat_seconds=QUIET)

    # Act: read the first catch-up event, then commit three more while catching up
    items = [await step(stream)]
    await commit(store, 3)
    while not isinstance(items[-1], CaughtUp):
        items.append(await step(stream))
    await commit(store, 2)
    live = [await step(stream) for _ in range(5)]

    # Assert: 3..5 from the store, the marker at the head noted when subscribing, 6..10 live
    assert sequences(items) == [3, 4, 5]
    assert items[-1] == CaughtUp(5)
    assert sequences(live) == [6, 7, 8, 9, 10]
    await stream.aclose()
    assert fanout.subscriber_count == 0


async def test_only_matching_events_are_delivered(store: MemoryEventStore, fanout: EventFanout) -> None:
    await commit(store, 1, "AAPL")
    await commit(store, 1, "MSFT")
    stream = fanout.subscribe(after=0, matches=lambda e: e.symbol == "MSFT", heartbeat_seconds=QUIET)

    first, marker = await step(stream), await step(stream)
    await commit(store, 1, "AAPL")
    await commit(store, 1, "MSFT")
    live = await step(stream)

    assert (first.sequence, first.symbol) == (2, "MSFT")
    assert marker == CaughtUp(2)
    assert (live.sequence, live.symbol) == (4, "MSFT")
    await stream.aclose()


async def test_a_slow_subscriber_is_cut_off_with_where_to_resume(store: MemoryEventStore, fanout: EventFanout) -> None:
    # Arrange: caught up at 3, then more than its queue of 2 commits while it does not read
    await commit(store, 3)
    stream = fanout.subscribe(after=0, matches=everything, heartbeat_seconds=QUIET, max_queue=2)
    delivered = [await step(stream) for _ in range(4)]
    assert delivered[-1] == CaughtUp(3)
    await commit(store, 5)

    # Act
    with pytest.raises(ResourceExhausted) as cut:
        await step(stream)

    # Assert
    error = cut.value
    assert error.reason is Reason.SUBSCRIBER_TOO_SLOW
    assert error.metadata == {"resume_from_sequence": "3"}
    assert error.retry_after_seconds == RESUBSCRIBE_AFTER_SECONDS
    assert str(error) == "subscriber fell more than 2 events behind and was cut off; resume with from_sequence=3"
    assert fanout.subscriber_count == 0

    # ... and resuming from there misses nothing and repeats nothing
    again = fanout.subscribe(after=3, matches=everything, heartbeat_seconds=QUIET)
    resumed = [await step(again) for _ in range(6)]
    assert sequences(resumed) == [4, 5, 6, 7, 8]
    assert resumed[-1] == CaughtUp(8)
    await again.aclose()


async def test_shutdown_ends_every_stream_with_where_to_resume(store: MemoryEventStore, fanout: EventFanout) -> None:
    # Arrange: two subscribers, both caught up and waiting for live events
    await commit(store, 2)
    first = fanout.subscribe(after=0, matches=everything, heartbeat_seconds=QUIET)
    second = fanout.subscribe(after=1, matches=everything, heartbeat_seconds=QUIET)
    assert [await step(first) for _ in range(3)][-1] == CaughtUp(2)
    assert [await step(second) for _ in range(2)][-1] == CaughtUp(2)
    waiting = asyncio.ensure_future(step(first))
    await asyncio.sleep(0)  # let it start waiting

    # Act
    fanout.end_streams("the server is shutting down")

    # Assert
    with pytest.raises(Unavailable) as ended:
        await waiting
    error = ended.value
    assert str(error) == "the server is shutting down; resume with from_sequence=2"
    assert error.reason is Reason.SHUTTING_DOWN
    assert error.metadata == {"resume_from_sequence": "2"}
    assert error.retry_after_seconds == RECONNECT_AFTER_SECONDS
    with pytest.raises(Unavailable):
        await step(second)
    assert fanout.subscriber_count == 0


async def test_a_resume_point_beyond_the_head_is_refused(store: MemoryEventStore, fanout: EventFanout) -> None:
    await commit(store, 4)
    stream = fanout.subscribe(after=9, matches=everything, heartbeat_seconds=QUIET)

    with pytest.raises(InvalidArgument) as refused:
        await step(stream)

    error = refused.value
    assert error.reason is Reason.RESUME_POINT_BEYOND_HEAD
    assert error.metadata == {"head_sequence": "4"}
    assert [(v.field, v.description) for v in error.violations] == [
        (
            "from_sequence",
            "9 is beyond the newest event of this server's log (4); resume from a sequence this server sent",
        )
    ]
    assert fanout.subscriber_count == 0


async def test_the_head_itself_is_a_valid_resume_point(store: MemoryEventStore, fanout: EventFanout) -> None:
    await commit(store, 4)
    stream = fanout.subscribe(after=4, matches=everything, heartbeat_seconds=QUIET)

    assert await step(stream) == CaughtUp(4)
    await stream.aclose()


async def test_a_failing_check_ends_the_stream_with_its_error(store: MemoryEventStore, fanout: EventFanout) -> None:
    revoked = False

    def check() -> None:
        if revoked:
            raise Unauthenticated("token has been revoked (logged out); the stream ends", reason=Reason.TOKEN_REVOKED)

    stream = fanout.subscribe(after=0, matches=everything, heartbeat_seconds=QUIET, check=check)
    assert await step(stream) == CaughtUp(0)
    revoked = True
    await commit(store, 1)

    delivered = await step(stream)  # the event already queued is still sent
    with pytest.raises(Unauthenticated) as ended:
        await step(stream)

    assert delivered.sequence == 1
    assert ended.value.reason is Reason.TOKEN_REVOKED


async def test_an_idle_stream_gets_heartbeats_with_the_head(store: MemoryEventStore, fanout: EventFanout) -> None:
    await commit(store, 2)
    stream = fanout.subscribe(after=2, matches=everything, heartbeat_seconds=0.01)

    assert await step(stream) == CaughtUp(2)
    assert await step(stream) == Heartbeat(2)
    await stream.aclose()
