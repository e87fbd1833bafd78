"""The executor: takes approved orders to the venue with retries, backoff, a per-attempt timeout
and the core's circuit breaker. Driven here with a real Sequencer over a StoreSink on a
MemoryEventStore (durability awaited by sequence, as the application wires it), a scripted venue
and a `sleep` that records the delays instead of waiting."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator, Callable

import pytest

from itirp.app.sink import StoreSink
from itirp.core.journal import Journal
from itirp.core.sequencer import Sequencer
from itirp.domain.orders import OrderStatus
from itirp.events import decode_payload
from itirp.execution.executor import Executor
from itirp.execution.policy import RetryPolicy
from itirp.execution.venue import Fill, PermanentVenueError, TransientVenueError, VenueOrder
from itirp.store import MemoryEventStore, StoredEvent
from itirp.v1 import events_pb2

from ..core.harness import BREAKER_THRESHOLD, Harness, make_breaker, open_harness, seed_instruments

SEED = 20240301


class ScriptedVenue:
    """Answers each call with the next step of its script: "fill", "transient", "permanent", "bug"
    (an exception the adapter did not classify) or "hang" (never answers). Past the end of the
    script it fills."""

    name = "scripted"

    def __init__(self, *script: str) -> None:
        self.script = list(script)
        self.calls: list[VenueOrder] = []
        self.cancelled = 0
        self.entered = asyncio.Event()

    async def execute(self, order: VenueOrder) -> Fill:
        self.calls.append(order)
        self.entered.set()
        step = self.script.pop(0) if self.script else "fill"
        if step == "transient":
            raise TransientVenueError("scripted: connection reset")
        if step == "permanent":
            raise PermanentVenueError("scripted: symbol halted")
        if step == "bug":
            raise KeyError("adapter bug")
        if step == "hang":
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
        return Fill(order.quantity, order.price, f"x-{order.order_id[:8]}-{order.attempt}")


class RecordingSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
async def store() -> AsyncIterator[MemoryEventStore]:
    backend = MemoryEventStore()
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()


@pytest.fixture
def sink(store: MemoryEventStore) -> StoreSink:
    return StoreSink(store)


@pytest.fixture
def h(sink: StoreSink) -> Harness:
    """The harness, its core staging with the StoreSink instead of the harness's MemorySink."""
    harness = open_harness()
    harness.core = seed_instruments(Sequencer(Journal(clock_us=lambda: harness.now_us), sink, breaker=make_breaker()))
    return harness


def make_executor(
    h: Harness, sink: StoreSink, venue: ScriptedVenue, policy: RetryPolicy, sleep: RecordingSleep
) -> Executor:
    return Executor(
        h.core, venue, policy, durable=sink.durable, clock_us=lambda: h.now_us, rng=random.Random(SEED), sleep=sleep
    )


async def approved(h: Harness, sink: StoreSink, **kwargs: object) -> str:
    order, committed = h.submit(**kwargs)  # type: ignore[arg-type]
    await sink.durable(committed.last_sequence)
    assert order.status is OrderStatus.APPROVED
    return order.order_id


async def until(condition: Callable[[], bool]) -> None:
    """Let the loop run until `condition` holds (at most 2 s)."""
    async with asyncio.timeout(2):
        for _ in itertools.count():
            if condition():
                return
            await asyncio.sleep(0)


async def run_to_completion(executor: Executor) -> None:
    await executor.drain(timeout=5.0)  # returns as soon as every execution has finished
    assert executor.in_flight == 0


async def durable_events(store: MemoryEventStore) -> list[StoredEvent]:
    """What the store committed (every step the executor took was awaited durable)."""
    return await store.read()


async def order_events(store: MemoryEventStore, order_id: str) -> list[str]:
    events = await durable_events(store)
    return [e.event_type for e in events if e.order_id == order_id and e.event_type.startswith("EXECUTION")]


async def last_payload(store: MemoryEventStore, order_id: str) -> object:
    event = [e for e in await durable_events(store) if e.order_id == order_id][-1]
    return decode_payload(event.event_type, event.schema_version, event.payload)


async def test_executor_sends_an_approved_order_and_records_the_fill(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange
    order_id = await approved(h, sink, symbol="MSFT", quantity=25, price="401.10")
    venue, sleep = ScriptedVenue("fill"), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=3), sleep)

    # Act
    executor.execute(order_id)
    await run_to_completion(executor)

    # Assert
    (call,) = venue.calls
    assert (call.order_id, call.symbol, call.side, call.quantity, str(call.price), call.attempt) == (
        order_id, "MSFT", "BUY", 25, "401.10", 1,
    )  # fmt: skip
    assert await order_events(store, order_id) == ["EXECUTION_STARTED", "EXECUTION_COMPLETED"]
    order = h.core.state.orders[order_id]
    assert (order.status, order.filled_quantity) == (OrderStatus.EXECUTED, 25)
    assert sleep.delays == []


async def test_transient_failures_are_retried_after_the_policys_delays(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange
    order_id = await approved(h, sink)
    venue, sleep = ScriptedVenue("transient", "transient", "fill"), RecordingSleep()
    policy = RetryPolicy(attempts=3, base_delay=1.0, max_delay=30.0)
    executor = make_executor(h, sink, venue, policy, sleep)
    same_rng = random.Random(SEED)
    expected = [policy.delay(1, same_rng), policy.delay(2, same_rng)]

    # Act
    executor.execute(order_id)
    await run_to_completion(executor)

    # Assert
    assert [c.attempt for c in venue.calls] == [1, 2, 3]
    assert sleep.delays == expected
    assert 0.5 <= expected[0] <= 1.0
    assert 1.0 <= expected[1] <= 2.0
    assert await order_events(store, order_id) == [
        "EXECUTION_STARTED", "EXECUTION_RETRIED",
        "EXECUTION_STARTED", "EXECUTION_RETRIED",
        "EXECUTION_STARTED", "EXECUTION_COMPLETED",
    ]  # fmt: skip
    retried = [
        decode_payload(e.event_type, e.schema_version, e.payload)
        for e in await durable_events(store)
        if e.event_type == "EXECUTION_RETRIED"
    ]
    assert [r.delay_ms for r in retried] == [int(d * 1000) for d in expected]  # type: ignore[attr-defined]
    assert h.core.state.orders[order_id].status is OrderStatus.EXECUTED
    assert h.core.state.breaker.consecutive_failures == 0  # the success reset it


async def test_executor_gives_up_after_the_last_attempt(h: Harness, sink: StoreSink, store: MemoryEventStore) -> None:
    # Arrange
    order_id = await approved(h, sink)
    venue, sleep = ScriptedVenue("transient", "transient"), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=2), sleep)

    # Act
    executor.execute(order_id)
    await run_to_completion(executor)

    # Assert
    assert len(venue.calls) == 2
    assert len(sleep.delays) == 1
    failed = await last_payload(store, order_id)
    assert isinstance(failed, events_pb2.ExecutionFailed)
    assert (failed.attempts, failed.permanent) == (2, False)
    assert h.core.state.orders[order_id].status is OrderStatus.FAILED
    assert h.core.queries.metrics().working_exposure == 0


async def test_permanent_rejection_is_not_retried(h: Harness, sink: StoreSink, store: MemoryEventStore) -> None:
    # Arrange
    order_id = await approved(h, sink)
    venue, sleep = ScriptedVenue("permanent", "fill"), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=3), sleep)

    # Act
    executor.execute(order_id)
    await run_to_completion(executor)

    # Assert
    assert len(venue.calls) == 1
    assert sleep.delays == []
    failed = await last_payload(store, order_id)
    assert isinstance(failed, events_pb2.ExecutionFailed)
    assert (failed.permanent, failed.reason, failed.attempts) == (True, "scripted: symbol halted", 1)
    assert h.core.state.orders[order_id].status is OrderStatus.FAILED


async def test_an_attempt_that_times_out_counts_as_a_transient_failure(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange
    order_id = await approved(h, sink)
    venue, sleep = ScriptedVenue("hang", "fill"), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=2, attempt_timeout=0.01), sleep)

    # Act
    executor.execute(order_id)
    await run_to_completion(executor)

    # Assert
    assert [c.attempt for c in venue.calls] == [1, 2]
    assert venue.cancelled == 1  # the hung call was abandoned
    assert len(sleep.delays) == 1
    retried = [e for e in await durable_events(store) if e.event_type == "EXECUTION_RETRIED"]
    (payload,) = [decode_payload(e.event_type, e.schema_version, e.payload) for e in retried]
    assert payload.reason == "no answer within 0.01 s"  # type: ignore[attr-defined]
    assert h.core.state.orders[order_id].status is OrderStatus.EXECUTED


async def test_an_order_cancelled_before_the_executor_runs_is_never_sent(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange
    order_id = await approved(h, sink)
    venue, sleep = ScriptedVenue(), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(), sleep)
    executor.execute(order_id)  # scheduled, not yet running
    _, committed = h.cancel(order_id, reason="changed my mind")

    # Act
    await sink.durable(committed.last_sequence)
    await run_to_completion(executor)

    # Assert
    assert venue.calls == []
    assert await order_events(store, order_id) == []
    assert h.core.state.orders[order_id].status is OrderStatus.CANCELLED


async def test_drain_waits_for_quick_executions_and_cancels_those_still_in_flight(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: one order the venue answers, one it never answers
    quick = await approved(h, sink, symbol="QUICK")
    stuck = await approved(h, sink, symbol="STUCK")
    venue, sleep = ScriptedVenue("fill", "hang"), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(attempt_timeout=60.0), sleep)
    executor.execute(quick)
    executor.execute(stuck)
    await until(lambda: len(venue.calls) == 2)

    # Act
    await executor.drain(timeout=0.05)

    # Assert
    assert executor.in_flight == 0
    assert venue.cancelled == 1
    assert h.core.state.orders[quick].status is OrderStatus.EXECUTED
    # the stuck one stays EXECUTING: its outcome is unknown, recovery fails it at the next start
    assert h.core.state.orders[stuck].status is OrderStatus.EXECUTING


async def test_a_drained_executor_takes_no_new_work(h: Harness, sink: StoreSink, store: MemoryEventStore) -> None:
    # Arrange
    order_id = await approved(h, sink)
    venue, sleep = ScriptedVenue(), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(), sleep)
    await executor.drain(timeout=0.01)

    # Act
    executor.execute(order_id)
    await asyncio.sleep(0.01)

    # Assert
    assert executor.in_flight == 0
    assert venue.calls == []
    assert h.core.state.orders[order_id].status is OrderStatus.APPROVED


async def test_once_the_breaker_opens_further_orders_fail_fast_without_reaching_the_venue(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: BREAKER_THRESHOLD orders, one attempt each, all failing
    venue, sleep = ScriptedVenue(*["transient"] * BREAKER_THRESHOLD), RecordingSleep()
    executor = make_executor(h, sink, venue, RetryPolicy(attempts=1), sleep)
    for i in range(BREAKER_THRESHOLD):
        order_id = await approved(h, sink, symbol=f"F{i}")
        executor.execute(order_id)
        await asyncio.sleep(0)
    await until(lambda: len(venue.calls) == BREAKER_THRESHOLD and not executor.in_flight)
    late = await approved(h, sink, symbol="LATE")

    # Act
    executor.execute(late)
    await run_to_completion(executor)

    # Assert
    assert len(venue.calls) == BREAKER_THRESHOLD
    failed = await last_payload(store, late)
    assert isinstance(failed, events_pb2.ExecutionFailed)
    assert (failed.circuit_open, failed.attempts) == (True, 0)
    assert h.core.state.orders[late].status is OrderStatus.FAILED


async def test_an_unclassified_venue_error_is_retried_like_a_transient_one(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    venue, sleep = ScriptedVenue("bug", "fill"), RecordingSleep()
    order_id = await approved(h, sink)

    await make_executor(h, sink, venue, RetryPolicy(attempts=3, base_delay=0.001), sleep)._execute(order_id)

    assert h.core.state.orders[order_id].status is OrderStatus.EXECUTED
    assert len(venue.calls) == 2
    assert len(sleep.delays) == 1
    retried = [ev for ev in await store.read() if ev.event_type == "EXECUTION_RETRIED"]
    assert "venue error KeyError" in decode_payload("EXECUTION_RETRIED", 1, retried[0].payload).reason


async def test_each_execution_started_is_durable_before_the_venue_is_called(
    h: Harness, sink: StoreSink, store: MemoryEventStore
) -> None:
    # Arrange: a venue that looks at the log when it is called
    committed_at_call: list[list[str]] = []

    class Watching(ScriptedVenue):
        async def execute(self, order: VenueOrder) -> Fill:
            mine = [e.event_type for e in await store.read() if e.order_id == order.order_id]
            committed_at_call.append(mine)
            return await super().execute(order)

    order_id = await approved(h, sink)
    venue, sleep = Watching("transient", "fill"), RecordingSleep()

    # Act
    await make_executor(h, sink, venue, RetryPolicy(attempts=2), sleep)._execute(order_id)

    # Assert: each attempt's EXECUTION_STARTED was committed before its call
    assert [types.count("EXECUTION_STARTED") for types in committed_at_call] == [1, 2]
    assert h.core.state.orders[order_id].status is OrderStatus.EXECUTED


async def test_the_executor_runs_over_the_harness_sink_with_a_trivial_durable_wait() -> None:
    # Arrange: the harness's in-memory sink holds every staged event; nothing to wait for
    harness = open_harness()
    waited: list[int] = []

    async def durable(sequence: int) -> None:
        waited.append(sequence)

    order, _ = harness.submit()
    executor = Executor(
        harness.core, ScriptedVenue("fill"), RetryPolicy(), durable=durable, clock_us=lambda: harness.now_us
    )

    # Act
    executor.execute(order.order_id)
    await run_to_completion(executor)

    # Assert: every step's last sequence was awaited, in order
    assert harness.event_types()[-2:] == ["EXECUTION_STARTED", "EXECUTION_COMPLETED"]
    assert waited == [harness.events()[-2].sequence, harness.events()[-1].sequence]
    assert order.status is OrderStatus.EXECUTED
